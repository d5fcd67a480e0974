# Suite `folders`: the tutorial's folder-name lookup over loopback HTTP.
#
# The hook: scripts/run-cells calls folders_start once before the first
# folders cell and folders_stop once after the last (and on any exit).
# folders_start starts the simulated folder API server
# (build/workloads/folder-api-server, issue 5) on a free port and exports
# PARLAB_FOLDER_API; each folders cell passes `--api {api}`, which
# run-cells replaces by that URL, so every model talks to the same server
# and the server's GET /stats can be read between cells.
#
# Two kinds of runs per model (docs/report.md, section 6):
#   timed cells      `cell` lines: good ids only (--bad-percent 0), so a
#                    run exits 0 and hyperfine times it; the server has no
#                    faults but its latency (FOLDER_SERVER_ARGS).
#   accounting run   one `account` line after the model's timed cells, at
#                    the largest worker count: the same list with
#                    FOLDERS_BAD_PERCENT % failing ids (403/404), against a
#                    second server that also sends transient 503s
#                    (FOLDER_SERVER_ARGS + FOLDER_ACCOUNT_SERVER_ARGS).
#                    run-cells calls folders_account: POST /stats/reset,
#                    one run with --stats, GET /stats; the program's exit
#                    status 1 (some folders failed) is expected there.  It
#                    is not timed and not a cell: it writes one JSON line
#                    to RUNDIR/folders-account.jsonl, which scripts/tidy
#                    turns into results.csv rows of suite folders-account.
#
# Until the server and build/<model>/folders exist, plan() skips the cells
# with a note and nothing here runs.
FOLDER_SERVER=${FOLDER_SERVER:-$BUILD/workloads/folder-api-server}
FOLDERS_BAD_PERCENT=${FOLDERS_BAD_PERCENT:-10}
FOLDER_ACCOUNT_SERVER_ARGS=${FOLDER_ACCOUNT_SERVER_ARGS:---error-rate 0.05}

folders_cells() {
	local m j last
	case " $SEL_WORKLOADS " in *" folders "*) ;; *) return 0 ;; esac
	if [ ! -x "$FOLDER_SERVER" ]; then
		note "folders: $FOLDER_SERVER is not built yet; the folders suite is skipped"
		return 0
	fi
	# The generated list's default share of failing ids (10 %) would make
	# every program exit 1, which run-cells counts as a failed cell: the
	# timed cells use good ids only (30 % repeats, the default); the
	# errors go to the accounting run.
	group folders
	for m in $SEL_MODELS; do
		[ "${built[$m/folders]:-}" = yes ] || continue
		if [ "$m" = serial ]; then
			cell folders folders serial 1 "$FOLDERS_TASKS" 0 1 --api '{api}' --bad-percent 0
			last=1
		else
			for j in $JOBS_GRID; do
				cell folders folders "$m" "$j" "$FOLDERS_TASKS" 0 1 --api '{api}' --bad-percent 0
			done
			last=$(tr ' ' '\n' <<<"$JOBS_GRID" | sort -n | tail -1)
		fi
		printf 'account\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
			"folders-account-$m-j$last-n$FOLDERS_TASKS" folders-account folders "$m" "$last" \
			"$FOLDERS_TASKS" 0 1 "--api {account_api} --bad-percent $FOLDERS_BAD_PERCENT"
	done
}

# folders_spawn LOGDIR NAME ARGS...: one server on a free port; sets
# spawned_pid and spawned_url, or returns 1 when no port came in 10 s.
folders_spawn() {
	local dir=$1 name=$2 i
	shift 2
	rm -f "$dir/$name.port"
	"$FOLDER_SERVER" --port 0 --port-file "$dir/$name.port" "$@" >"$dir/$name.log" 2>&1 &
	spawned_pid=$!
	for i in $(seq 100); do
		[ -s "$dir/$name.port" ] && break
		sleep 0.1
	done
	if [ ! -s "$dir/$name.port" ]; then
		kill -TERM "$spawned_pid" 2>/dev/null
		wait "$spawned_pid" 2>/dev/null
		return 1
	fi
	spawned_url="http://127.0.0.1:$(tr -dc 0-9 <"$dir/$name.port")"
}

# folders_start LOGDIR: starts the two servers (timed cells; accounting
# runs), waits for their ports (10 s at most each), exports
# PARLAB_FOLDER_API, PARLAB_FOLDER_ACCOUNT_API and their pids, and writes
# their options to LOGDIR/folder-server.args and folder-account-server.args
# (scripts/tidy reads the latency there).
folders_start() {
	local dir=$1
	# shellcheck disable=SC2086
	folders_spawn "$dir" folder-server ${FOLDER_SERVER_ARGS:-} || return 1
	PARLAB_FOLDER_SERVER_PID=$spawned_pid PARLAB_FOLDER_API=$spawned_url
	echo "${FOLDER_SERVER_ARGS:-}" >"$dir/folder-server.args"
	export PARLAB_FOLDER_API PARLAB_FOLDER_SERVER_PID
	# shellcheck disable=SC2086
	if folders_spawn "$dir" folder-account-server ${FOLDER_SERVER_ARGS:-} $FOLDER_ACCOUNT_SERVER_ARGS; then
		PARLAB_FOLDER_ACCOUNT_PID=$spawned_pid PARLAB_FOLDER_ACCOUNT_API=$spawned_url
		echo "${FOLDER_SERVER_ARGS:-} $FOLDER_ACCOUNT_SERVER_ARGS" >"$dir/folder-account-server.args"
	else
		PARLAB_FOLDER_ACCOUNT_PID= PARLAB_FOLDER_ACCOUNT_API=
		echo "folders: the accounting server did not start (logs/folder-account-server.log)" >&2
	fi
	export PARLAB_FOLDER_ACCOUNT_API PARLAB_FOLDER_ACCOUNT_PID
}

# folders_stop: SIGTERM to the servers we started, then reap them.
folders_stop() {
	local p
	for p in "${PARLAB_FOLDER_SERVER_PID:-}" "${PARLAB_FOLDER_ACCOUNT_PID:-}"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PARLAB_FOLDER_SERVER_PID= PARLAB_FOLDER_ACCOUNT_PID=
}

# folders_account RUNDIR ID MODEL JOBS TASKS CMD...: the accounting run of
# one model.  Resets the accounting server's statistics, runs CMD --stats
# once (CELL_TIMEOUT), reads GET /stats, and appends one JSON line to
# RUNDIR/folders-account.jsonl:
#   {model, jobs, tasks, status, exit, distinct, failed, checksum,
#    surfaced_lines, surfaced_ids, server: <GET /stats>}
# status: ok (exit 0 or 1 and /stats read), failed, timeout, no-server,
# no-curl.  Prints a one-line summary on stdout.
folders_account() {
	local dir=$1 id=$2 model=$3 jobs=$4 tasks=$5 rc status=ok stats=null
	shift 5
	local out=$dir/logs/$id.out err=$dir/logs/$id.err
	if ! command -v curl >/dev/null; then
		status=no-curl
	elif [ -z "${PARLAB_FOLDER_ACCOUNT_API:-}" ]; then
		status=no-server
	fi
	if [ "$status" = ok ]; then
		echo "curl -s -X POST $PARLAB_FOLDER_ACCOUNT_API/stats/reset" >>"$dir/commands.txt"
		echo "PARLAB_SPIN_PER_US=${PARLAB_SPIN_PER_US:-} $* --stats   # accounting run" >>"$dir/commands.txt"
		echo "curl -s $PARLAB_FOLDER_ACCOUNT_API/stats" >>"$dir/commands.txt"
		curl -s -f -X POST -o /dev/null "$PARLAB_FOLDER_ACCOUNT_API/stats/reset" || status=no-server
	fi
	if [ "$status" = ok ]; then
		timeout -k 5 "${CELL_TIMEOUT:-120}" "$@" --stats >"$out" 2>"$err" </dev/null
		rc=$?
		case $rc in 0|1) ;; 124) status=timeout ;; *) status=failed ;; esac
		stats=$(curl -s -f "$PARLAB_FOLDER_ACCOUNT_API/stats") && jq -e . >/dev/null 2>&1 <<<"$stats" ||
			{ stats=null; [ "$status" = ok ] && status=no-server; }
	fi
	# The program's summary line and its error lines (one per failed entry:
	# "PROG: folder_3_name: folder 7404: HTTP 404 ...").
	local line distinct= failed= sum= lines=0 ids=0
	line=$(grep -m1 ' ids, [0-9]* distinct, ' "$out" 2>/dev/null)
	distinct=$(sed -n 's/.* ids, \([0-9]*\) distinct,.*/\1/p' <<<"$line")
	failed=$(sed -n 's/.* distinct, \([0-9]*\) failed,.*/\1/p' <<<"$line")
	sum=$(sed -n 's/.*checksum \(0x[0-9a-f]*\).*/\1/p' <<<"$line")
	if [ -s "$err" ]; then
		lines=$(grep -cE ': folder_[0-9]+_name: ' "$err")
		ids=$(grep -E ': folder_[0-9]+_name: ' "$err" | sed -n 's/.*_name: folder \([0-9]*\):.*/\1/p' | sort -u | wc -l)
	fi
	jq -cn --arg model "$model" --argjson jobs "$jobs" --argjson tasks "$tasks" \
		--arg status "$status" --arg exit "${rc:-}" --arg distinct "$distinct" \
		--arg failed "$failed" --arg sum "$sum" --argjson lines "$lines" --argjson ids "$ids" \
		--argjson server "$stats" '
		{model: $model, jobs: $jobs, tasks: $tasks, status: $status,
		 exit: ($exit | tonumber? // null), distinct: ($distinct | tonumber? // null),
		 failed: ($failed | tonumber? // null), checksum: $sum,
		 surfaced_lines: $lines, surfaced_ids: $ids, server: $server}' >>"$dir/folders-account.jsonl"
	if [ "$status" = ok ]; then
		jq -r --argjson d "${distinct:-0}" '"\(.requests_total) requests for \($d) distinct ids, " +
			"\([.requests_per_id | keys[] | select(test("40[34]$"))] | length) bad ids and \(.by_status["503"]) 503s injected"' <<<"$stats"
	else
		echo "$status"
	fi
}
