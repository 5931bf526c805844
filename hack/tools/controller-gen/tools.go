//go:build tools

// Package tools pins controller-gen, which generates Flok's CRDs and deepcopy code
// (make generate). A module of its own keeps its dependencies out of Flok's.
package tools

import _ "sigs.k8s.io/controller-tools/cmd/controller-gen"
