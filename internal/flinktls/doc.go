// Package flinktls holds the certificates of Flink clusters whose REST API or internal
// connections speak TLS: the Secret Flok generates for a cluster when asked (a CA, a
// certificate for the cluster's Service names, and Java keystores of both for Flink),
// and the material the operator reads from such a Secret to verify a JobManager — and
// to present a client certificate when Flink asks for one.
package flinktls
