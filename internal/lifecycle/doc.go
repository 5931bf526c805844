// Package lifecycle decides, for a FlinkDeployment, what happens next: from its spec,
// its status (which records every operation under way before any irreversible step)
// and what the controller observed this round, Next returns the status to record and
// at most one action — deploy, stop with a savepoint, remove the cluster, trigger a
// snapshot. It is pure: no clients, no clock of its own, no randomness, so every
// decision is a row in a table test and a restarted operator decides the same again.
package lifecycle
