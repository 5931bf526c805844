#!/usr/bin/env bash
# The process node's stand-in for /docker-entrypoint.sh of the official Flink images
# (apache/flink-docker), written from its documented behaviour for Flink 1.19 and later:
#
#   jobmanager [args]      -> bin/jobmanager.sh start-foreground [args]
#   standalone-job [args]  -> bin/standalone-job.sh start-foreground [args]
#   taskmanager [args]     -> bin/taskmanager.sh start-foreground [args]
#   history-server         -> bin/historyserver.sh start-foreground
#   help                   -> usage
#   anything else          -> run as given (pass-through; native Kubernetes uses it)
#
# Before any of them, the configuration is prepared as the image does: the JobManager
# address (JOB_MANAGER_RPC_ADDRESS, default the FQDN), the blob and query ports, the
# slot count (TASK_MANAGER_NUMBER_OF_TASK_SLOTS) and every FLINK_PROPERTIES line
# (whitespace removed, split at the first colon, value through envsubst) are written by
# bin/config-parser-utils.sh. On a read-only configuration mount this fails, is
# reported, and start-up goes on. ENABLE_BUILT_IN_PLUGINS="a.jar;b.jar" links jars from
# opt/ into plugins/<name>/.
# It does not switch to the flink user or preload jemalloc: the node runs Pods as root
# with the host's allocator.

FLINK_HOME=${FLINK_HOME:-/opt/flink}

usage() {
	echo "Usage: $(basename "$0") (jobmanager|standalone-job|taskmanager|history-server|help) [args...]"
	echo "       anything else runs as given"
}

enable_builtin_plugins() {
	[ -n "${ENABLE_BUILT_IN_PLUGINS:-}" ] || return 0
	local jar
	for jar in ${ENABLE_BUILT_IN_PLUGINS//;/ }; do
		if [ ! -e "$FLINK_HOME/opt/$jar" ]; then
			echo "Plugin $jar does not exist in $FLINK_HOME/opt. Exiting." >&2
			exit 1
		fi
		mkdir -p "$FLINK_HOME/plugins/${jar%.jar}"
		ln -fs "$FLINK_HOME/opt/$jar" "$FLINK_HOME/plugins/${jar%.jar}/"
		echo "Linked built-in plugin $jar"
	done
}

prepare_configuration() {
	local rpc_address=${JOB_MANAGER_RPC_ADDRESS:-$(hostname -f)}
	local options=("-Djobmanager.rpc.address=$rpc_address" "-Dblob.server.port=6124" "-Dquery.server.port=6125")
	if [ -n "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-}" ]; then
		options+=("-Dtaskmanager.numberOfTaskSlots=$TASK_MANAGER_NUMBER_OF_TASK_SLOTS")
	fi
	if [ -n "${FLINK_PROPERTIES:-}" ]; then
		local line key value
		while IFS= read -r line; do
			line=${line//[[:space:]]/}
			[ -n "$line" ] && [[ $line == *:* ]] || continue
			key=${line%%:*}
			value=$(printf '%s' "${line#*:}" | envsubst)
			options+=("-D$key=$value")
		done <<<"$FLINK_PROPERTIES"
	fi
	local conf_dir=${FLINK_CONF_DIR:-$FLINK_HOME/conf}
	if ! "$FLINK_HOME/bin/config-parser-utils.sh" "$conf_dir" "$FLINK_HOME/bin" "$FLINK_HOME/lib" "${options[@]}"; then
		echo "[WARN] could not update the configuration in $conf_dir (a read-only mount?); starting with it as it is" >&2
	fi
}

enable_builtin_plugins
case "${1:-help}" in
help)
	usage
	exit 0
	;;
jobmanager)
	shift
	prepare_configuration
	echo "Starting Job Manager"
	exec "$FLINK_HOME/bin/jobmanager.sh" start-foreground "$@"
	;;
standalone-job)
	shift
	prepare_configuration
	echo "Starting Job Manager"
	exec "$FLINK_HOME/bin/standalone-job.sh" start-foreground "$@"
	;;
taskmanager)
	shift
	prepare_configuration
	echo "Starting Task Manager"
	exec "$FLINK_HOME/bin/taskmanager.sh" start-foreground "$@"
	;;
history-server)
	shift
	prepare_configuration
	echo "Starting History Server"
	exec "$FLINK_HOME/bin/historyserver.sh" start-foreground "$@"
	;;
esac
prepare_configuration
exec "$@"
