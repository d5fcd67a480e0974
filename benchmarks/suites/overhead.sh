# Suite `overhead`: bare squares (--work-us 0, OVERHEAD_TASKS tasks) on
# CORE_JOBS workers.  What a model costs per task when the task does
# nothing: (T_model - T_serial / j) * j / n, in worker-nanoseconds per task
# (scripts/derive).  The floors (build/micro/floors, cf_overhead,
# cf_process_overhead) run in the same rounds: scripts/plan's probes.
overhead_cells() {
	local m j
	case " $SEL_WORKLOADS " in *" squares "*) ;; *) return 0 ;; esac
	group overhead
	probes
	for m in $SEL_MODELS; do
		j=$CORE_JOBS
		[ "$m" = serial ] && j=1
		cell overhead squares "$m" "$j" "$OVERHEAD_TASKS" 0 1
	done
}
