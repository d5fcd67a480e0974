# Suite `sleepeff`: how much of its workers' time the thread pool spends
# sleeping, with tasks of a few milliseconds (issue 7, target 6).  The
# sleep workload with SLEEPEFF_TASKS tasks at --scale SLEEPEFF_SCALE (3, 1,
# 2, ... ms at the defaults 200 and 0.001) on each worker count of
# SLEEPEFF_JOBS, and serial once as a check of the ideal.
#   sleep_efficiency = ideal / (workers x T_model), where the ideal is the
#   sum of every task's *measured* sleep: its nominal duration plus what
#   a nanosleep of that length (1, 2, 3 ms) overshoots in
#   build/micro/floors of the same run (timer slack and wake-up latency;
#   scripts/derive).  Serial's own
#   sleep_efficiency (1 worker) shows how well that ideal fits.
# Models: thread-pool (the target) and serial; SLEEPEFF_MODELS overrides.
sleepeff_cells() {
	local m j
	case " $SEL_WORKLOADS " in *" sleep "*) ;; *) return 0 ;; esac
	group sleepeff
	for m in ${SLEEPEFF_MODELS:-serial thread-pool}; do
		case " $SEL_MODELS " in *" $m "*) ;; *) continue ;; esac
		if [ "$m" = serial ]; then
			cell sleepeff sleep serial 1 "${SLEEPEFF_TASKS:-200}" 0 "${SLEEPEFF_SCALE:-0.001}"
			continue
		fi
		for j in ${SLEEPEFF_JOBS:-2 4 8}; do
			cell sleepeff sleep "$m" "$j" "${SLEEPEFF_TASKS:-200}" 0 "${SLEEPEFF_SCALE:-0.001}"
		done
	done
}
