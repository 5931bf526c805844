#!/usr/bin/env bash
# Starts or stops the local development cluster in the background.
#
#   hack/cluster.sh up     start it (or say it already runs); kubeconfig in .local/kubeconfig
#   hack/cluster.sh down   stop it and every process it started
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
local_dir="$root/.local"
pid_file="$local_dir/cluster.pid"
ready_file="$local_dir/cluster.ready"
log_file="$local_dir/cluster.log"

# shellcheck source=hack/lib.sh
. "$root/hack/lib.sh"

hint() {
	echo "Cluster is up. Use it with:"
	echo "  export KUBECONFIG=$local_dir/kubeconfig PATH=$("$root/hack/k8s-tools.sh" dir):\$PATH"
	echo "  kubectl get nodes"
	echo "Stop it with: make cluster-down"
}

up() {
	if pid=$(running_pid "$pid_file"); then
		echo "The local cluster already runs (pid $pid)."
		hint
		return
	fi
	mkdir -p "$local_dir/bin"
	FLOK_K8S_BIN=$("$root/hack/k8s-tools.sh")
	export FLOK_K8S_BIN
	(cd "$root" && go build -o "$local_dir/bin/localcluster" ./test/cmd/localcluster)
	rm -f "$ready_file"
	nohup "$local_dir/bin/localcluster" --dir "$local_dir/cluster" --kubeconfig "$local_dir/kubeconfig" \
		--ready-file "$ready_file" --crds "$root/config/crd" >"$log_file" 2>&1 &
	echo $! >"$pid_file"
	# The first start provisions Flink (downloads of a few hundred MB).
	for _ in $(seq 1 3000); do
		if [ -f "$ready_file" ]; then
			cat "$log_file"
			hint
			return
		fi
		if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
			echo "The local cluster failed to start:" >&2
			cat "$log_file" >&2
			rm -f "$pid_file"
			exit 1
		fi
		sleep 0.2
	done
	echo "The local cluster did not become ready in 10 minutes; see $log_file" >&2
	down
	exit 1
}

down() {
	# The operator the demo started goes first: it would only retry against a gone cluster.
	"$root/hack/operator.sh" down
	if ! pid=$(running_pid "$pid_file"); then
		echo "The local cluster is not running."
		rm -f "$pid_file"
		return
	fi
	# Pods get their grace period (Flink JVMs stop within seconds); should it need
	# killing, its components die with it (parent-death signal).
	stop_pid "$pid" 60
	rm -f "$pid_file" "$ready_file"
	echo "The local cluster is stopped."
}

case "${1:-}" in
up) up ;;
down) down ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
