#!/usr/bin/env bash
# `make demo`: sets up the local environment from nothing and shows it working.
# Until Flok's operator exists, the demo is the local Kubernetes cluster itself: a real
# API server, controllers and scheduler, with a simulated node.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "Building the pinned Kubernetes control plane (first time only: ~7 min on 2 cores)"
bin=$(hack/k8s-tools.sh)
kubectl() { "$bin/kubectl" --kubeconfig "$root/.local/kubeconfig" "$@"; }

step "Starting the local cluster"
hack/cluster.sh up

step "The cluster's nodes"
kubectl get nodes -o wide

step "Creating a Deployment with 3 replicas on the simulated node"
kubectl delete namespace flok-demo --ignore-not-found --wait >/dev/null
kubectl create namespace flok-demo
kubectl -n flok-demo apply -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  replicas: 3
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      tolerations: [{key: kwok.x-k8s.io/node, operator: Equal, value: fake, effect: NoSchedule}]
      containers: [{name: hello, image: example.invalid/hello:1}]
YAML
kubectl -n flok-demo rollout status deployment/hello --timeout=60s
kubectl -n flok-demo get deployment,replicaset,pods -o wide

step "Done. Explore it:"
echo "  export KUBECONFIG=$root/.local/kubeconfig PATH=$bin:\$PATH"
echo "  kubectl get all -A"
echo "Stop everything with: make cluster-down"
