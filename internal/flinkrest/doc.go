// Package flinkrest is the only place in Flok that speaks Flink's REST API: typed
// requests and responses for the cluster, jobs, checkpoints, savepoints, jars and
// resource requirements; asynchronous operations (savepoint, stop-with-savepoint,
// checkpoint) with caller-chosen trigger ids and a wait helper; typed errors that carry
// Flink's own messages.
//
// One Client serves both transports: a base URL (the REST Service's in-cluster DNS
// name) and the Kubernetes API server's service proxy, for an operator or CLI outside
// the cluster. Field names follow Flink 1.20 and 2.x; where they differ (exception
// history, program arguments, restore mode), the client sends and reads what both
// understand.
package flinkrest
