#!/usr/bin/env bash
# Starts or stops flok-operator out of cluster against the local cluster, in the
# background (as `make run` does in the foreground).
#
#   hack/operator.sh up     start it (log in .local/operator.log)
#   hack/operator.sh down   stop it
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
local_dir="$root/.local"
pid_file="$local_dir/operator.pid"

# shellcheck source=hack/lib.sh
. "$root/hack/lib.sh"

case "${1:-}" in
up)
	if pid=$(running_pid "$pid_file"); then
		echo "flok-operator already runs (pid $pid)."
		exit 0
	fi
	[ -x "$local_dir/bin/flok-operator" ] || (cd "$root" && go build -o "$local_dir/bin/flok-operator" ./cmd/flok-operator)
	nohup "$local_dir/bin/flok-operator" --kubeconfig "$local_dir/kubeconfig" --flink-access=proxy \
		--metrics-bind-address=0 --health-probe-bind-address=0 --progress-interval=1s \
		>"$local_dir/operator.log" 2>&1 &
	echo $! >"$pid_file"
	echo "flok-operator runs (pid $!, log .local/operator.log)."
	;;
down)
	if pid=$(running_pid "$pid_file"); then
		stop_pid "$pid" 10
		echo "flok-operator is stopped."
	fi
	rm -f "$pid_file"
	;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
