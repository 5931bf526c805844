//go:build tools

// Package tools pins the Prometheus server the observability tests run (built by
// test/promtest into ~/.cache/flok/prometheus).
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
