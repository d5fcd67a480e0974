#!/usr/bin/env bash
# The folders benchmark: every model on the same list and the same server,
# side by side, against the bounds that latency and rate set.
#
#   unlimited: IDS ids with DUP % repeats, server --latency-ms LATENCY,
#              -j JOBS, no client rate limit.
#              bound = distinct ids x latency / workers (serial: / 1)
#   rate:      the same with --rate RATE.  bound = distinct ids / rate
#
# For each model: hyperfine's median wall time over RUNS runs (SERIAL_RUNS
# for serial, which takes distinct x latency), its ratio to the bound, and
# the requests the server saw per distinct id (from GET /stats after one
# more run; 1.00 and no id asked twice means the cache is single-flight).
# One server serves every run; POST /stats/reset before each.
#
# Usage: benchmarks/folders_bench.sh [OUTDIR]   (default /tmp/folders-bench)
# Environment (defaults): IDS=1000 DUP=30 LATENCY=20 JOBS=16 RATE=200
#   RUNS=5 SERIAL_RUNS=1 PARLAB_BUILD=build.  The list has no failing ids
#   (--bad-percent 0), so that every run exits 0.
# Writes OUTDIR/folders_<phase>_<model>.json (hyperfine's export),
# OUTDIR/folders_bench.txt (the tables printed) and OUTDIR/commands.txt.
set -euo pipefail

case "${1:-}" in -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
out=${1:-/tmp/folders-bench}
build=${PARLAB_BUILD:-build}
IDS=${IDS:-1000} DUP=${DUP:-30} LATENCY=${LATENCY:-20} JOBS=${JOBS:-16}
RATE=${RATE:-200} RUNS=${RUNS:-5} SERIAL_RUNS=${SERIAL_RUNS:-1}

for tool in hyperfine jq curl; do
	command -v "$tool" >/dev/null || { echo "folders_bench.sh: error: $tool is missing (scripts/deps report)" >&2; exit 1; }
done
for prog in serial executors raw_threads raw_processes openmp; do
	[ -x "$build/$prog/folders" ] || { echo "folders_bench.sh: error: $build/$prog/folders is not built (make)" >&2; exit 1; }
done
mkdir -p "$out"
: >"$out/commands.txt"

# The server, once, on a free port.
port_file=$(mktemp)
"$build/workloads/folder-api-server" --port 0 --port-file "$port_file" \
	--latency-ms "$LATENCY" >/dev/null 2>"$out/folder-server.log" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$port_file"' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
[ -s "$port_file" ] || { echo "folders_bench.sh: error: the server did not start" >&2; exit 1; }
api="http://127.0.0.1:$(tr -dc 0-9 <"$port_file")"

list=(--api "$api" -n "$IDS" --dup-percent "$DUP" --bad-percent 0)
distinct=$("$build/openmp/folders" "${list[@]}" --scale 0 -j "$JOBS" |
	   sed -n 's/.* ids, \([0-9]*\) distinct,.*/\1/p')

models=(
	"serial" "serial/folders"
	"thread-pool" "executors/folders --executor thread"
	"process-pool" "executors/folders --executor process"
	"pthreads" "raw_threads/folders"
	"fork" "raw_processes/folders"
	"openmp" "openmp/folders"
)

reset() { curl -s -X POST -o /dev/null "$api/stats/reset"; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

{
echo "folders: $IDS ids ($distinct distinct, $DUP % repeats), server latency $LATENCY ms, -j $JOBS, $(nproc) cores"
echo "server: $api; $(date -u +%Y-%m-%dT%H:%M:%SZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/folders_bench.txt"

for phase in unlimited rate; do
	if [ "$phase" = unlimited ]; then
		extra=() bound=$(calc "$distinct * $LATENCY / 1000 / $JOBS")
		what="bound = $distinct x $LATENCY ms / $JOBS = $(printf '%.3f' "$bound") s"
	else
		extra=(--rate "$RATE") bound=$(calc "$distinct / $RATE")
		what="bound = $distinct / $RATE per s = $(printf '%.3f' "$bound") s"
	fi
	{
	echo
	echo "## $phase: ${extra[*]:-no client rate limit}; $what"
	printf '%-13s %10s %10s %7s %12s %10s\n' model median_s bound_s ratio req/distinct ids_twice
	} | tee -a "$out/folders_bench.txt"
	for ((m = 0; m < ${#models[@]}; m += 2)); do
		name=${models[m]} prog=${models[m + 1]}
		runs=$RUNS warmup=1 b=$bound
		if [ "$name" = serial ]; then
			# One worker: the bound is every latency in a row (or
			# the rate, when that is slower).
			[ "$phase" = rate ] && continue
			runs=$SERIAL_RUNS warmup=0
			b=$(calc "$distinct * $LATENCY / 1000")
		fi
		read -ra cmd <<<"$build/$prog"
		cmd+=("${list[@]}" -j "$JOBS" "${extra[@]}")
		hyperfine -N --style none --runs "$runs" --warmup "$warmup" \
			--prepare "curl -s -X POST -o /dev/null $api/stats/reset" \
			--export-json "$out/folders_${phase}_$name.json" "${cmd[*]}" >/dev/null
		echo "${cmd[*]}" >>"$out/commands.txt"
		median=$(jq -r '.results[0].median' "$out/folders_${phase}_$name.json")
		reset
		"${cmd[@]}" >/dev/null
		stats=$(curl -s "$api/stats")
		total=$(jq -r '.requests_total' <<<"$stats")
		twice=$(jq -r '.ids_requested_more_than_once' <<<"$stats")
		LC_ALL=C printf '%-13s %10.3f %10.3f %7.2f %12.2f %10d\n' "$name" "$median" "$b" \
			"$(calc "$median / $b")" "$(calc "$total / $distinct")" "$twice" |
			tee -a "$out/folders_bench.txt"
	done
done
