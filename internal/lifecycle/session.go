package lifecycle

import (
	"fmt"
	"strings"

	"github.com/flok-dev/flok/api/v1beta1"
)

// A session cluster is a FlinkDeployment without a job. Its jobs are FlinkSessionJobs,
// each with its own lifecycle; the cluster's decisions only coordinate with them: an
// upgrade waits until every job has stopped with its state recorded, and a deletion
// waits until no job names the cluster (unless forced).

// recordSession copies what runs in a session cluster into the status.
func (d *decider) recordSession() {
	switch {
	case !d.isSession():
	case d.obs.Session != nil:
		d.status.Session = d.obs.Session
	case d.obs.Cluster != ClusterReady:
		d.status.Session = nil
	}
}

// sessionHealth looks after a deployed session cluster: STABLE once its JobManager is
// ready; redeployed if its JobManager Deployment vanished (the session jobs resubmit
// themselves from their latest state).
func (d *decider) sessionHealth() {
	switch d.obs.Cluster {
	case ClusterMissing:
		d.warn(reasonClusterLost, "the JobManager Deployment of the session cluster is gone; redeploying it (its FlinkSessionJobs resubmit their jobs from their latest state)")
		d.beginDeploy(v1beta1.OperationRecover, "", false)
	case ClusterReady:
		if d.sessionAnswers() {
			d.stable()
		}
	default:
		d.checkReadiness()
	}
}

// sessionAnswers reports a session cluster whose REST API answered this round: a
// ready JobManager Pod may not serve it yet, and session jobs need it.
func (d *decider) sessionAnswers() bool {
	return d.obs.Cluster == ClusterReady && d.obs.Session != nil
}

// stopSessionJobs begins an upgrade or restart of a session cluster: the cluster goes
// only once every FlinkSessionJob on it has stopped with its state recorded.
func (d *decider) stopSessionJobs(kind v1beta1.OperationKind) {
	d.status.Operation = &v1beta1.Operation{Kind: kind, Step: v1beta1.StepSnapshotting, StartTime: metaTime(d.now())}
	d.status.LifecycleState = lifecycleFor(kind)
	if len(d.obs.SessionJobs) > 0 {
		d.event(reasonSessionUpgrade, "%s of the session cluster: its FlinkSessionJobs stop with their state first, and are resubmitted afterwards", kind)
	}
	d.awaitSessionJobs(d.status.Operation)
}

// awaitSessionJobs goes on with the cluster's removal once every session job is
// released; past the savepoint timeout the change stops and the cluster keeps running
// (the jobs that stopped are resubmitted to it).
func (d *decider) awaitSessionJobs(op *v1beta1.Operation) {
	var waiting []string
	for _, j := range d.obs.SessionJobs {
		if !j.Released {
			waiting = append(waiting, j.Name)
		}
	}
	switch {
	case len(waiting) == 0:
		op.Step, op.Message = v1beta1.StepRemovingCluster, "removing the cluster"
		d.removeAction()
	case d.now().Sub(op.StartTime.Time) > d.set.SavepointTimeout:
		d.status.Operation = nil
		d.status.LifecycleState = v1beta1.LifecycleStable
		d.degrade(reasonSavepointFailed, fmt.Sprintf("%s stopped: FlinkSessionJobs %s did not stop with their state within %s; the session cluster keeps running unchanged "+
			"and the jobs that stopped are resubmitted to it. See those jobs' conditions, fix the cause and change the spec again",
			op.Kind, strings.Join(waiting, ", "), d.set.SavepointTimeout))
	default:
		op.Message = "waiting for FlinkSessionJobs " + strings.Join(waiting, ", ") + " to stop with their state"
		d.out.RequeueAfter = d.progressAfter()
	}
}

// sessionDeletionBlocked refuses to delete a session cluster that FlinkSessionJobs
// still name, unless the force-deletion annotation allows it.
func (d *decider) sessionDeletionBlocked() bool {
	if len(d.obs.SessionJobs) == 0 || d.fd.Annotations[v1beta1.ForceDeletionAnnotation] == "true" {
		return false
	}
	names := make([]string, len(d.obs.SessionJobs))
	for i, j := range d.obs.SessionJobs {
		names[i] = j.Name
	}
	d.degrade(reasonDeletionBlocked, fmt.Sprintf("the session cluster is not deleted while FlinkSessionJobs run on it: %s. "+
		"Delete them first, or annotate this FlinkDeployment %s=true to delete it with them (their jobs end without a savepoint)",
		strings.Join(names, ", "), v1beta1.ForceDeletionAnnotation))
	d.out.RequeueAfter = d.set.ObserveInterval
	return true
}
