#!/usr/bin/env bash
# `make demo`: sets up Flok's local environment from nothing and shows Flok at work —
# a real Kubernetes control plane, a process node running Pods as local processes, real
# Flink — with the flok command line: run TopSpeedWindowing, list, status, a savepoint,
# a savepoint upgrade to a new parallelism, and the job restored from it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
ns=flok-demo
local_dir="$root/.local"
start=$(date +%s)

step() { printf '\n==> [%3ds] %s\n' "$(( $(date +%s) - start ))" "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "Building the pinned Kubernetes control plane (first time only: ~7 min on 2 cores)"
bin=$(hack/k8s-tools.sh)
kubectl() { "$bin/kubectl" --kubeconfig "$local_dir/kubeconfig" "$@"; }

step "Building flok and flok-operator into .local/bin"
mkdir -p "$local_dir/bin"
go build -o "$local_dir/bin/flok" ./cmd/flok
go build -o "$local_dir/bin/flok-operator" ./cmd/flok-operator
flok() { "$local_dir/bin/flok" --kubeconfig "$local_dir/kubeconfig" -n "$ns" "$@"; }

step "Starting the local cluster: control plane, kwok node, process node; Flink is provisioned on first use"
hack/cluster.sh up

step "Installing Flok's resources (CRDs) and the operator's RBAC, starting the operator"
kubectl apply --server-side --force-conflicts -f config/crd -f config/rbac >/dev/null
hack/operator.sh up

step "A namespace for the demo, with a state directory for checkpoints and savepoints"
kubectl delete namespace "$ns" --ignore-not-found --wait >/dev/null
kubectl create namespace "$ns"
state="$local_dir/state/$ns"
rm -rf "$state" && mkdir -p "$state"
cat >"$local_dir/pod-template.yaml" <<YAML
spec:
  containers:
  - name: flink-main-container
    volumeMounts:
    - {name: flink-data, mountPath: /flink-data}
  volumes:
  - name: flink-data
    hostPath: {path: $state}
YAML

run_args=(local:///opt/flink/examples/streaming/TopSpeedWindowing.jar --name top-speed --upgrade-mode savepoint
	-D taskmanager.numberOfTaskSlots=2 -D execution.checkpointing.interval=5s
	-D execution.checkpointing.dir=file:///flink-data/checkpoints
	-D execution.checkpointing.savepoint-dir=file:///flink-data/savepoints
	-D kubernetes.pod-template-file.default="$local_dir/pod-template.yaml")

step "Running TopSpeedWindowing (Flink 2.3, native mode, parallelism 1) and waiting until it runs"
show flok run "${run_args[@]}" -p 1 --wait

step "What Flok runs"
show flok list

step "Its status"
show flok status top-speed

step "Taking a savepoint"
show flok savepoint top-speed --wait

step "A savepoint upgrade: the same job at parallelism 2 — stopped with a savepoint, restarted from it"
show flok run "${run_args[@]}" -p 2 --wait

step "The job after the upgrade: a new job id, parallelism 2, the savepoints it came through"
show flok status top-speed
job=$(kubectl -n "$ns" get flinkdeployment top-speed -o jsonpath='{.status.jobStatus.jobId}')
[[ -n $job ]] || { echo "demo: top-speed has no job id in its status" >&2; exit 1; }
echo "Flink says job $job restored from:"
kubectl get --raw "/api/v1/namespaces/$ns/services/top-speed-rest:rest/proxy/jobs/$job/checkpoints" |
	sed -n 's/.*"restored":{[^}]*"external_path":"\([^"]*\)".*/  \1/p'
echo
echo "Savepoints on disk ($state/savepoints):"
ls "$state/savepoints"

step "Done in $(( $(date +%s) - start )) s. Explore it:"
echo "  export KUBECONFIG=$local_dir/kubeconfig PATH=$local_dir/bin:$bin:\$PATH"
echo "  flok -n $ns list; flok -n $ns status top-speed"
echo "  flok -n $ns ui top-speed          # the Flink web UI at http://127.0.0.1:8081/"
echo "  flok -n $ns suspend top-speed --wait; flok -n $ns resume top-speed --wait"
echo "  kubectl -n $ns get flinkdeployments,pods"
echo "Stop everything (the operator and every JVM included) with: make cluster-down"
