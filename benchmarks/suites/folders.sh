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
# Until the server and build/<model>/folders exist, plan() skips the cells
# with a note and nothing here runs.
FOLDER_SERVER=${FOLDER_SERVER:-$BUILD/workloads/folder-api-server}

folders_cells() {
	local m j
	case " $SEL_WORKLOADS " in *" folders "*) ;; *) return 0 ;; esac
	if [ ! -x "$FOLDER_SERVER" ]; then
		note "folders: $FOLDER_SERVER is not built yet; the folders suite is skipped"
		return 0
	fi
	# The generated list's default share of failing ids (10 %) would make
	# every program exit 1, which run-cells counts as a failed cell: the
	# timed cells use good ids only (30 % repeats, the default).  Error
	# handling is tested in tests/test_folders_models.c.
	for m in $SEL_MODELS; do
		if [ "$m" = serial ]; then
			cell folders folders serial 1 "$FOLDERS_TASKS" 0 1 --api '{api}' --bad-percent 0
			continue
		fi
		for j in $JOBS_GRID; do
			cell folders folders "$m" "$j" "$FOLDERS_TASKS" 0 1 --api '{api}' --bad-percent 0
		done
	done
}

# folders_start LOGDIR: starts the server, waits for its port (10 s at
# most), exports PARLAB_FOLDER_API and PARLAB_FOLDER_SERVER_PID.
folders_start() {
	local dir=$1 i
	rm -f "$dir/folder-server.port"
	# shellcheck disable=SC2086
	"$FOLDER_SERVER" --port 0 --port-file "$dir/folder-server.port" \
		${FOLDER_SERVER_ARGS:-} >"$dir/folder-server.log" 2>&1 &
	PARLAB_FOLDER_SERVER_PID=$!
	for i in $(seq 100); do
		[ -s "$dir/folder-server.port" ] && break
		sleep 0.1
	done
	if [ ! -s "$dir/folder-server.port" ]; then
		folders_stop
		return 1
	fi
	PARLAB_FOLDER_API="http://127.0.0.1:$(tr -dc 0-9 <"$dir/folder-server.port")"
	export PARLAB_FOLDER_API PARLAB_FOLDER_SERVER_PID
}

# folders_stop: SIGTERM to the server we started, then reap it.
folders_stop() {
	[ -n "${PARLAB_FOLDER_SERVER_PID:-}" ] || return 0
	kill -TERM "$PARLAB_FOLDER_SERVER_PID" 2>/dev/null
	wait "$PARLAB_FOLDER_SERVER_PID" 2>/dev/null
	PARLAB_FOLDER_SERVER_PID=
}
