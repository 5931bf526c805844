//go:build tools

// Package tools pins kwok, which simulates nodes for scale tests on the local control
// plane. It has a module of its own because kwok needs client-go releases that need not
// match the Kubernetes release built in ../k8s.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
