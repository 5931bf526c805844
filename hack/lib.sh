# Shared by the scripts that run processes in the background (cluster.sh, operator.sh).

# running_pid PID_FILE prints the pid recorded in PID_FILE if that process still runs.
running_pid() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && cat "$1"
}

# stop_pid PID SECONDS asks the process to stop (SIGTERM), waits up to SECONDS for it,
# then kills it.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
}
