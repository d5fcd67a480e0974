#!/usr/bin/env bash
# The hand-written models side by side on squares, in one hyperfine run per
# setting, and each model's speedup over serial:
#   work: --work-us 100 -n 2000 -j 2   (CPU-bound: does -j 2 give ~2x?)
#   bare: --work-us 0 -n 100000 -j 2   (no work: only the model's overhead)
# Usage: benchmarks/raw_models.sh [OUTDIR]   (default /tmp)
# Writes OUTDIR/raw_models_work.json and OUTDIR/raw_models_bare.json
# (hyperfine's export) and prints one speedup table per setting.
# PARLAB_BUILD picks the build tree (default build); the programs must be
# built already (make).
set -euo pipefail

out=${1:-/tmp}
build=${PARLAB_BUILD:-build}
case "$out" in -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

for tool in hyperfine jq; do
	command -v "$tool" >/dev/null || { echo "raw_models.sh: error: $tool is missing (scripts/deps report)" >&2; exit 1; }
done
for prog in serial/squares raw_threads/squares raw_processes/squares openmp/squares workloads/spin-calibrate; do
	[ -x "$build/$prog" ] || { echo "raw_models.sh: error: $build/$prog is not built (make)" >&2; exit 1; }
done
mkdir -p "$out"

# Measure the spin rate once: every run then does the same work per task
# and none pays its own 20 ms calibration.
PARLAB_SPIN_PER_US=$("$build/workloads/spin-calibrate")
export PARLAB_SPIN_PER_US

# name and program of every model; the executor library's backends only
# when they are built and run.
models=(
	"serial" "serial/squares"
	"pthreads-static" "raw_threads/squares --partition static"
	"pthreads-dynamic" "raw_threads/squares --partition dynamic"
	"fork" "raw_processes/squares"
	"openmp-static" "openmp/squares --schedule static"
	"openmp-dynamic" "openmp/squares --schedule dynamic"
)
for backend in thread process; do
	if [ -x "$build/executors/squares" ] &&
	   "$build/executors/squares" --executor $backend -n 10 >/dev/null 2>&1; then
		models+=("$backend-pool" "executors/squares --executor $backend")
	else
		echo "(skipping $backend-pool: $build/executors/squares --executor $backend does not run)"
	fi
done

# run NAME ARGS: one hyperfine run of every model with ARGS, then speedups.
run() {
	local name=$1 args=$2 json="$out/raw_models_$1.json" cmds=()

	for ((i = 0; i < ${#models[@]}; i += 2)); do
		cmds+=(--command-name "${models[i]}" "$build/${models[i + 1]} $args")
	done
	echo "== squares $args"
	hyperfine -N --warmup 3 --min-runs 15 --style basic \
		--export-json "$json" "${cmds[@]}" >/dev/null
	# Speedup from the medians: robust against the odd run disturbed by
	# another process; the min column shows the undisturbed best case.
	jq -r '
		def ms: . * 1000 | . * 100 | round / 100;
		def x: . * 100 | round / 100;
		(.results[] | select(.command == "serial")) as $s
		| (["model", "mean ms", "± ms", "median ms", "min ms",
		    "speedup (median)", "speedup (min)"] | join("\t")),
		  (.results[]
		   | [.command, (.mean | ms), (.stddev | ms), (.median | ms),
		      (.min | ms), "\($s.median / .median | x)x",
		      "\($s.min / .min | x)x"] | map(tostring) | join("\t"))
	' "$json" | column -t -s $'\t'
	echo "(hyperfine JSON: $json)"
}

run work "--work-us 100 -n 2000 -j 2"
run bare "--work-us 0 -n 100000 -j 2"
