package lifecycle

import (
	"fmt"
	"time"

	"github.com/flok-dev/flok/api/v1beta1"
)

// health looks after a deployed job with no operation under way: STABLE once it runs;
// a lost JobManager is recovered from the latest state; a failed job is FAILED (and
// restarted from its latest state if asked); a job that does not run in time is rolled
// back if allowed. It reports whether it started an operation.
func (d *decider) health() bool {
	j := d.ourJob()
	// A session job's ended job is reported before its "cluster" counts as missing.
	switch {
	case j != nil && j.State == JobFailed:
		return d.failed(j)
	case j != nil && globallyTerminal(j.State):
		// FINISHED or CANCELED outside Flok: reported, not acted on.
	case d.obs.Cluster == ClusterMissing:
		d.recover()
		return true
	case j != nil && j.State == JobRunning && j.TasksRunning:
		d.stable()
	case j != nil && j.State == JobRunning:
		// Tasks are still being deployed: look again soon, not a whole observation
		// interval later.
		d.out.RequeueAfter = d.progressAfter()
	default:
		return d.checkReadiness()
	}
	return false
}

func (d *decider) stable() {
	switch d.status.LifecycleState {
	case v1beta1.LifecycleStable:
		return
	case v1beta1.LifecycleRollingBack:
		d.status.LifecycleState = v1beta1.LifecycleRolledBack
		return
	case v1beta1.LifecycleRolledBack:
		return
	}
	d.status.LifecycleState = v1beta1.LifecycleStable
	d.status.ReconciliationStatus.LastStableSpec = d.status.ReconciliationStatus.LastReconciledSpec
	if d.isSession() {
		d.event(reasonStable, "the session cluster is ready")
		return
	}
	d.event(reasonStable, "job %s is running", d.status.JobStatus.JobID)
}

// recover redeploys a cluster whose JobManager Deployment vanished, from HA metadata
// or the latest recorded snapshot. A stateful job with neither is FAILED, never
// restarted empty.
func (d *decider) recover() {
	js := d.status.JobStatus
	if suspended(d.spec()) {
		// A suspension that could not finish (its savepoint failed): the cluster is
		// gone now, so the job is suspended, to resume from its latest state — not
		// redeployed, which would record the suspended spec as running it.
		keepHA := d.obs.HighAvailability && d.obs.HAData
		d.warn(reasonClusterLost, "%s while the spec asks for a suspension: suspended", d.lostPhrase())
		d.suspended(&v1beta1.Operation{Kind: v1beta1.OperationSuspend, RestorePath: d.latestState(), KeepHAData: keepHA})
		return
	}
	switch {
	case d.obs.HighAvailability && d.obs.HAData:
		d.warn(reasonClusterLost, "%s; redeploying, the job recovers from its high-availability metadata", d.lostPhrase())
		d.beginDeploy(v1beta1.OperationRecover, "", true)
	case d.latestState() != "":
		d.warn(reasonClusterLost, "%s; redeploying from the latest recorded snapshot %s", d.lostPhrase(), d.latestState())
		d.beginDeploy(v1beta1.OperationRecover, d.latestState(), false)
	case d.upgradeMode() == v1beta1.UpgradeModeStateless || js.StartTime == "":
		d.warn(reasonClusterLost, "%s; redeploying (the job had no state to keep)", d.lostPhrase())
		d.beginDeploy(v1beta1.OperationRecover, js.UpgradeSavepointPath, false)
	default:
		d.status.LifecycleState = v1beta1.LifecycleFailed
		d.degrade(reasonStateLost, fmt.Sprintf("%s and no savepoint or checkpoint of job %s is recorded, so Flok does not restart it without state. "+
			"To restore it, set job.initialSavepointPath to a retained checkpoint or savepoint (checkpoints are under the checkpoint directory, in %s/chk-<n>) and change job.savepointRedeployNonce; "+
			"to start without state, set job.upgradeMode: stateless", d.lostPhrase(), js.JobID, js.JobID))
	}
}

// lostPhrase says what was lost: the cluster of an application, the job of a
// session job.
func (d *decider) lostPhrase() string {
	if d.sessionJob {
		return "the session cluster no longer has job " + d.status.JobStatus.JobID
	}
	return "the JobManager Deployment is gone"
}

// failed reports a failed job and restarts it from its latest state when asked to —
// only a job that ran (STABLE) before it failed: a job that fails as it starts (a
// snapshot it cannot restore, a broken jar) would fail again, so it is reported, not
// restarted in a loop.
func (d *decider) failed(j *Job) bool {
	ranBefore := d.status.LifecycleState == v1beta1.LifecycleStable
	d.status.LifecycleState = v1beta1.LifecycleFailed
	msg := "job " + j.ID + " failed"
	if j.Exception != "" {
		msg += ": " + j.Exception
	}
	if d.set.RestartFailed && !ranBefore {
		msg += "; it never ran since it was deployed, so Flok does not restart it again. " +
			"Fix the cause, then change the spec or job.restartNonce"
	}
	d.degrade(reasonJobFailed, msg)
	if !d.set.RestartFailed || !ranBefore {
		return false
	}
	if d.upgradeMode() == v1beta1.UpgradeModeStateless {
		d.beginRemoval(v1beta1.OperationRestart, "", false)
		return true
	}
	d.fromRecordedState(v1beta1.OperationRestart, "the job failed")
	return d.status.Operation != nil
}

// checkReadiness waits for a deployed job to run; past the readiness timeout it rolls
// back to the last stable spec when allowed, else reports it.
func (d *decider) checkReadiness() bool {
	if d.status.LifecycleState != v1beta1.LifecycleDeployed {
		return false
	}
	if !d.pastReadiness() {
		d.out.RequeueAfter = d.progressAfter()
		return false
	}
	return d.notReadyInTime(nil)
}

// notReadyInTime handles a deployment whose job did not run within the readiness
// timeout: it rolls back to the last stable spec when allowed (never a rollback
// itself), else reports it. It reports whether it started the rollback.
func (d *decider) notReadyInTime(op *v1beta1.Operation) bool {
	rs := d.status.ReconciliationStatus
	canRollBack := d.set.RollbackEnabled && rs.LastStableSpec != "" && rs.LastStableSpec != rs.LastReconciledSpec
	if canRollBack && (op == nil || op.Kind != v1beta1.OperationRollback) {
		restore := d.status.JobStatus.UpgradeSavepointPath
		if restore == "" {
			restore = d.latestState()
		}
		keepHA := d.obs.HighAvailability && d.obs.HAData
		d.degrade(reasonRolledBack, fmt.Sprintf("the job did not run within %s of the upgrade; rolled back to the last stable spec. Fix the spec and change it again", d.set.ReadinessTimeout))
		d.beginRemoval(v1beta1.OperationRollback, restore, keepHA)
		return true
	}
	msg := fmt.Sprintf("the job is not running %s after it was deployed (state %q)", d.set.ReadinessTimeout, d.status.JobStatus.State)
	if d.obs.ClusterMessage != "" {
		msg += ": " + d.obs.ClusterMessage
	}
	d.degrade(reasonNotReady, msg)
	return false
}

// pastReadiness reports whether the deployment began longer ago than the readiness
// timeout.
// progressAfter is when to look again at a deployment in transition: every
// ProgressInterval at first, then less often the longer it has waited — a twentieth
// of the time since its operation (or its last deployment) began, at most
// ObserveInterval — so that what cannot progress, a JobManager that never answers say,
// does not keep the workers from what can. Watched objects (Pods, Deployments) still
// wake it at once.
func (d *decider) progressAfter() time.Duration {
	since := time.UnixMilli(d.status.ReconciliationStatus.ReconciliationTimestamp)
	if op := d.status.Operation; op != nil && !op.StartTime.IsZero() {
		since = op.StartTime.Time
	}
	return min(max(d.set.ProgressInterval, d.now().Sub(since)/20), max(d.set.ObserveInterval, d.set.ProgressInterval))
}

// snapshotAfter is when to look again at a snapshot under way: nothing Kubernetes
// watches says when Flink finished it, so it is asked four times as often as other
// progress (every 500 ms by default), backing off the same way.
func (d *decider) snapshotAfter() time.Duration { return d.progressAfter() / 4 }

func (d *decider) pastReadiness() bool {
	return d.now().UnixMilli()-d.status.ReconciliationStatus.ReconciliationTimestamp >= d.set.ReadinessTimeout.Milliseconds()
}
