# Suite `scaling`: wall time and speedup over serial against worker count,
# for every selected workload (squares with CPU work, sleep), every model,
# every worker count of JOBS_GRID.  serial runs once, with -j 1.
# Sourced by scripts/plan, which defines cell() and the SEL_* variables.
scaling_cells() {
	local w m j n u s
	for w in $SEL_WORKLOADS; do
		case $w in
		squares) n=$SQUARES_TASKS u=$SQUARES_WORK_US s=1 ;;
		sleep)   n=$SLEEP_TASKS u=0 s=$SLEEP_SCALE ;;
		*) continue ;;          # folders: see folders.sh
		esac
		group "scaling-$w"
		for m in $SEL_MODELS; do
			if [ "$m" = serial ]; then
				cell scaling "$w" serial 1 "$n" "$u" "$s"
				continue
			fi
			for j in $JOBS_GRID; do
				cell scaling "$w" "$m" "$j" "$n" "$u" "$s"
			done
		done
	done
}
