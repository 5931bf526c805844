#!/usr/bin/env bash
# `make demo`: sets up the local environment from nothing and shows it working.
# Until Flok's operator exists, the demo is the environment every Flok feature is proven
# on: a real Kubernetes control plane, a process node running Pods as local processes,
# and real Flink — Flink's documented standalone session cluster, applied as plain YAML,
# running TopSpeedWindowing with checkpoints.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
ns=flok-demo
flink_version=2.3

step() { printf '\n==> %s\n' "$*"; }

step "Building the pinned Kubernetes control plane (first time only: ~7 min on 2 cores)"
bin=$(hack/k8s-tools.sh)
kubectl() { "$bin/kubectl" --kubeconfig "$root/.local/kubeconfig" "$@"; }

step "Starting the local cluster: control plane, kwok node, process node; Flink is provisioned on first use"
hack/cluster.sh up

step "The cluster's nodes"
kubectl get nodes -o wide

step "Applying Flink's documented standalone session cluster (Flink $flink_version) in namespace $ns"
kubectl delete namespace "$ns" --ignore-not-found --wait >/dev/null
kubectl create namespace "$ns"
mkdir -p "$root/.local/state"
FLINK_VERSION=$flink_version STATE_DIR="$root/.local/state" envsubst '${FLINK_VERSION} ${STATE_DIR}' \
	<examples/standalone-session.yaml | kubectl -n "$ns" apply -f -
kubectl -n "$ns" rollout status deployment/flink-jobmanager --timeout=5m
kubectl -n "$ns" rollout status deployment/flink-taskmanager --timeout=5m
kubectl -n "$ns" get pods -o wide

step "Submitting TopSpeedWindowing with Flink's own client, from a Pod"
kubectl -n "$ns" run submit --image=flink:$flink_version --restart=Never --command -- \
	flink run --detached -m flink-jobmanager:8081 -Dexecution.checkpointing.interval=5s \
	/opt/flink/examples/streaming/TopSpeedWindowing.jar
kubectl -n "$ns" wait pod/submit --for=jsonpath='{.status.phase}'=Succeeded --timeout=5m
kubectl -n "$ns" logs submit

step "The job, read through the API server's service proxy (GET /jobs/overview)"
sleep 10
kubectl get --raw "/api/v1/namespaces/$ns/services/flink-jobmanager:webui/proxy/jobs/overview"
echo
echo "Checkpoints on disk:"
ls "$root/.local/state/checkpoints/"*/ 2>/dev/null | head -5 || true

step "Done. Explore it:"
echo "  export KUBECONFIG=$root/.local/kubeconfig PATH=$bin:\$PATH"
echo "  kubectl -n $ns get all; kubectl -n $ns logs deploy/flink-taskmanager"
echo "  kubectl proxy   # then open the Flink UI at"
echo "  http://127.0.0.1:8001/api/v1/namespaces/$ns/services/flink-jobmanager:webui/proxy/"
echo "Stop everything (every JVM included) with: make cluster-down"
