package lifecycle

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/flok-dev/flok/api/v1beta1"
)

// SessionJobDecision is the outcome for a FlinkSessionJob: record Status (always
// first), then take Action.
type SessionJobDecision struct {
	Status       v1beta1.FlinkSessionJobStatus
	Action       Action
	Events       []Event
	RequeueAfter time.Duration
}

// NextSessionJob decides what happens to a FlinkSessionJob now. A session job lives
// the lifecycle of an application whose cluster is the job itself — upgrades in the
// three modes, suspension, nonces, periodic savepoints, failure restarts, deletion —
// with these differences: a deploy action submits the job to the session cluster, a
// remove action cancels it, and its "cluster" is missing when Flink has no such job
// or the job ended. While the session cluster is unavailable the job waits; while the
// session cluster is upgraded the job stops with its state and waits to be submitted
// again.
func NextSessionJob(job *v1beta1.FlinkSessionJob, obs Observation, set Settings) SessionJobDecision {
	view := &v1beta1.FlinkDeployment{
		ObjectMeta: job.ObjectMeta,
		Spec: v1beta1.FlinkDeploymentSpec{
			Job: job.Spec.Job, RestartNonce: job.Spec.RestartNonce, FlinkConfiguration: job.Spec.FlinkConfiguration,
		},
		Status: v1beta1.FlinkDeploymentStatus{CommonStatus: job.Status.CommonStatus, Conditions: job.Status.Conditions},
	}
	d := next(Input{Deployment: view, Observed: obs, Settings: set}, true)
	return SessionJobDecision{
		Status:       v1beta1.FlinkSessionJobStatus{CommonStatus: d.Status.CommonStatus, Conditions: d.Status.Conditions},
		Action:       d.Action,
		Events:       d.Events,
		RequeueAfter: d.RequeueAfter,
	}
}

// waitForSession handles a session job whose session cluster cannot take it now. A
// job being deleted goes at once when nothing of it can run any more — its cluster is
// gone, or it waits to be submitted, or it is suspended — and otherwise once the
// cleanup timeout has passed.
func (d *decider) waitForSession() {
	if d.fd.DeletionTimestamp != nil {
		op := d.status.Operation
		notRunning := d.obs.SessionGone || d.status.LifecycleState == v1beta1.LifecycleSuspended ||
			(op != nil && op.Step == v1beta1.StepDeploying) || d.status.JobStatus.JobID == ""
		if notRunning || d.now().Sub(d.fd.DeletionTimestamp.Time) > d.set.CleanupTimeout {
			if !notRunning {
				d.warn(reasonWaitingForSession, "deleting without stopping job %s: %s", d.status.JobStatus.JobID, d.obs.SessionUnavailable)
			}
			d.keepReportedSavepoint(op)
			d.status.LifecycleState = v1beta1.LifecycleDeleting
			d.out.Action = Action{Type: ActionRemoveFinalizer}
			return
		}
	}
	if prev := meta.FindStatusCondition(d.status.Conditions, ConditionProgressing); prev == nil || prev.Message != d.obs.SessionUnavailable {
		d.event(reasonWaitingForSession, "%s", d.obs.SessionUnavailable)
	}
	d.waiting = d.obs.SessionUnavailable
	if op := d.status.Operation; op != nil && op.Step == v1beta1.StepSnapshotting {
		// The session's change may restart its JobManager, which forgets the trigger:
		// a savepoint it reports now is kept for snapshotting to take up — the latest
		// one reported, should it report another.
		if res := d.obs.Savepoint; res != nil && res.Done && res.Path != "" {
			op.RestorePath = res.Path
		}
	}
}

// stopForSessionUpgrade stops the job, keeping its state as its upgradeMode says,
// while its session cluster is upgraded; the job is submitted again afterwards. It
// reports whether it began stopping.
func (d *decider) stopForSessionUpgrade() bool {
	j := d.ourJob()
	if j == nil || globallyTerminal(j.State) {
		return false
	}
	d.event(reasonSessionUpgrade, "the session cluster is being upgraded: job %s stops with its state and is submitted again when the cluster is back", j.ID)
	d.carryState(v1beta1.OperationUpgrade)
	return d.status.Operation != nil
}

// SessionJobReleased reports whether a session job lets its session cluster be
// removed for an upgrade: it waits to be submitted again (its state recorded in its
// operation), or it has no job that runs.
func SessionJobReleased(job *v1beta1.FlinkSessionJob) bool {
	if op := job.Status.Operation; op != nil {
		return op.Step == v1beta1.StepDeploying
	}
	switch job.Status.LifecycleState {
	case "", v1beta1.LifecycleSuspended, v1beta1.LifecycleFailed:
		return true
	}
	return job.Status.JobStatus.JobID == "" || globallyTerminal(job.Status.JobStatus.State)
}
