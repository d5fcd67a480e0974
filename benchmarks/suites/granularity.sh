# Suite `granularity`: squares with a sweep of task sizes (--work-us in
# GRAIN_WORK_US) at the same total work GRAIN_TOTAL_US per point (tasks =
# total / size, at most GRAIN_MAX_TASKS), on CORE_JOBS workers.
# Efficiency = T_serial / (j * T_model) per point; a model's minimum
# effective task granularity is the smallest size at which its efficiency
# reaches 50 % (scripts/derive interpolates between sweep points).
# A size below 1 µs or with a fraction (0.1, 0.3) cannot be said with
# --work-us, a whole number: scripts/run-cells runs such a cell with
# --work-us 1 and the spin rate PARLAB_SPIN_PER_US multiplied by the size,
# so that one "microsecond" of spin is 0.1 µs of work (docs/report.md).
granularity_cells() {
	local m u n j
	case " $SEL_WORKLOADS " in *" squares "*) ;; *) return 0 ;; esac
	for u in $GRAIN_WORK_US; do
		n=$(awk -v t="$GRAIN_TOTAL_US" -v u="$u" -v max="$GRAIN_MAX_TASKS" \
			'BEGIN { n = int(t / u); if (n > max) n = max; if (n < 1) n = 1; print n }')
		group "granularity-w$u"
		for m in $SEL_MODELS; do
			j=$CORE_JOBS
			[ "$m" = serial ] && j=1
			cell granularity squares "$m" "$j" "$n" "$u" 1
		done
	done
}
