# Suite `granularity`: squares with a sweep of task sizes (--work-us in
# GRAIN_WORK_US) at the same total work GRAIN_TOTAL_US per point (tasks =
# total / size, at most GRAIN_MAX_TASKS), on CORE_JOBS workers.
# Efficiency = T_serial / (j * T_model) per point; a model's minimum
# effective task granularity is the smallest size at which its efficiency
# reaches 50 % (scripts/derive interpolates between sweep points).
granularity_cells() {
	local m u n j
	case " $SEL_WORKLOADS " in *" squares "*) ;; *) return 0 ;; esac
	for u in $GRAIN_WORK_US; do
		n=$((GRAIN_TOTAL_US / u))
		[ "$n" -gt "$GRAIN_MAX_TASKS" ] && n=$GRAIN_MAX_TASKS
		[ "$n" -lt 1 ] && n=1
		for m in $SEL_MODELS; do
			j=$CORE_JOBS
			[ "$m" = serial ] && j=1
			cell granularity squares "$m" "$j" "$n" "$u" 1
		done
	done
}
