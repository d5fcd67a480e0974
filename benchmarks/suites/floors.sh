# Suite `floors`: what it costs to start one worker, measured on the whole
# program: squares with FLOOR_WORKERS bare tasks on 1 worker and on
# FLOOR_WORKERS workers (pools start their workers lazily, so each worker
# gets one task).  scripts/derive divides the difference of the two times
# by the difference of the workers created (from --stats): the start-up,
# join or reap cost of one more thread (pthreads), process (fork), team
# member (openmp) or pool worker (thread-pool, process-pool).  These stand
# in for the create+join and fork+wait floors until build/micro/ prints
# them; the micro-benchmarks (condvar hand-off, pipe round trip, ...) run
# in the same report.
floors_cells() {
	local m
	case " $SEL_WORKLOADS " in *" squares "*) ;; *) return 0 ;; esac
	group floors
	for m in $SEL_MODELS; do
		[ "$m" = serial ] && continue
		cell floors squares "$m" 1 "$FLOOR_WORKERS" 0 1
		cell floors squares "$m" "$FLOOR_WORKERS" "$FLOOR_WORKERS" 0 1
	done
}
