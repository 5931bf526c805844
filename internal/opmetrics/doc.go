// Package opmetrics holds the operator's Prometheus metrics that more than one
// controller shares: resources counted by lifecycle state, and the calls Flok makes to
// Flink's REST APIs.
package opmetrics
