//go:build tools

// Package tools pins the Kubernetes control-plane commands that hack/k8s-tools.sh builds
// for the local test and demo cluster. This module is separate from Flok's product module
// on purpose: Flok must never depend on k8s.io/kubernetes.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
