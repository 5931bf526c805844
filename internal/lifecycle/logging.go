package lifecycle

// updateLogging takes a spec whose only change is the contents of its logging files
// into the running cluster: the files are written into its ConfigMap, which the
// kubelet brings into every Pod, and Flink's log4j reads them again within its
// monitorInterval — no restart, no lost state. The spec is recorded as deployed once
// the JobManager Deployment carries their hash, so an operator that stops between
// the write and the record writes them again. Without a cluster to take them, the
// change waits for the next deployment, which renders them (false: go on as steady).
func (d *decider) updateLogging() bool {
	if d.obs.Cluster == ClusterMissing || d.obs.Cluster == ClusterTerminating {
		return false
	}
	if d.obs.DesiredLoggingHash != "" && d.obs.DeployedLoggingHash == d.obs.DesiredLoggingHash {
		rs := &d.status.ReconciliationStatus
		stable := rs.LastStableSpec != "" && rs.LastStableSpec == rs.LastReconciledSpec
		d.accept()
		if stable {
			// A stable spec with other logging is as stable: a rollback keeps it.
			rs.LastStableSpec = rs.LastReconciledSpec
		}
		d.event(reasonLoggingUpdated, "logging configuration updated in the running cluster: Flink reads it again within its monitorInterval, without a restart")
		return true
	}
	d.out.Action = Action{Type: ActionUpdateLogging, Spec: d.spec()}
	d.out.RequeueAfter = d.progressAfter()
	return true
}

// loggingDrifted says the running cluster's logging files are not the deployed spec's:
// a logging change reverted before it was recorded, or a write cut short (the
// reconciler clears the mark before it writes the files).
func (d *decider) loggingDrifted() bool {
	return d.obs.DesiredLoggingHash != "" && d.obs.DeployedLoggingHash != d.obs.DesiredLoggingHash &&
		(d.obs.Cluster == ClusterReady || d.obs.Cluster == ClusterStarting)
}
