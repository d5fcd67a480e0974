# make targets: issue 7's table of targets for the cf library, measured
# side by side in one run (scripts/report --profile targets) into
# reports/targets-DATE-TIME-PID/, then printed (scripts/targets).  Runs the
# micro-benchmarks and the peers (scripts/run-micro), the granularity sweep
# of thread-pool, thread-pool-auto, thread-pool-array, thread-pool-batches,
# openmp-tasks and pthreads on 2 workers, and the sleepeff cells; serial is the baseline.  A peer that is not built, or no python3,
# leaves its rows "not measured".  docs/report.md explains the table.
TARGETS_MODELS ?= serial,thread-pool,thread-pool-auto,thread-pool-array,thread-pool-batches,openmp-tasks,pthreads
.PHONY: targets
targets:
	@scripts/deps report
	@$(MAKE) --no-print-directory all
	@id=targets-$$(date +%Y%m%d-%H%M%S)-$$$$; \
	out=$${PARLAB_REPORTS:-reports}; \
	PARLAB_BUILD=$(BUILD) scripts/report --profile targets --models '$(TARGETS_MODELS)' \
		--workloads squares,sleep --jobs 2 --run-id $$id && \
	echo && scripts/targets "$$out/$$id"
