package lifecycle

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
)

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

// startChange begins the operation a spec change needs, carrying the job's state as
// the upgrade mode says.
func (d *decider) startChange(c change) {
	kind := map[change]v1beta1.OperationKind{
		changeUpgrade: v1beta1.OperationUpgrade, changeRestart: v1beta1.OperationRestart,
		changeRedeploy: v1beta1.OperationUpgrade, changeSuspend: v1beta1.OperationSuspend,
		changeResume: v1beta1.OperationDeploy,
	}[c]
	switch c {
	case changeResume:
		d.resume()
	case changeRedeploy:
		// The user chose the snapshot: the current state is dropped on purpose.
		d.event(reasonRedeploy, "redeploying from %s as savepointRedeployNonce asks", d.spec().Job.InitialSavepointPath)
		d.beginRemoval(kind, d.spec().Job.InitialSavepointPath, false)
	default:
		d.carryState(kind)
	}
}

// carryState starts an upgrade, restart or suspension in the spec's upgrade mode.
func (d *decider) carryState(kind v1beta1.OperationKind) {
	if d.isSession() {
		d.stopSessionJobs(kind)
		return
	}
	switch d.upgradeMode() {
	case v1beta1.UpgradeModeSavepoint:
		if d.jobRunning() {
			d.beginSnapshot(kind)
			return
		}
		if d.flinkSilent() {
			return
		}
		d.fromRecordedState(kind, "the job is not running, so no savepoint can be taken")
	case v1beta1.UpgradeModeLastState:
		d.lastState(kind)
	default:
		d.beginRemoval(kind, "", false)
	}
}

// flinkSilent reports, and waits on, a running cluster whose REST API did not answer:
// whether its job runs and which checkpoint is its latest are unknown then, and a
// state-carrying change taken on a guess — the job "not running", so continuing from
// an older recorded snapshot — could rewind the job's state. The change is taken once
// Flink answers (or the cluster stops running).
func (d *decider) flinkSilent() bool {
	if d.obs.FlinkUnanswered == "" || d.obs.Cluster != ClusterReady {
		return false
	}
	d.waiting = "waiting for Flink's REST API to answer before carrying the job's state: " + d.obs.FlinkUnanswered
	d.out.RequeueAfter = d.progressAfter()
	return true
}

// lastState carries the job's latest state: HA metadata when there is some, else the
// latest completed checkpoint.
func (d *decider) lastState(kind v1beta1.OperationKind) {
	if d.obs.HighAvailability && d.obs.HAData {
		d.beginRemoval(kind, "", true)
		return
	}
	if j := d.ourJob(); j != nil && j.LatestCheckpoint != "" {
		d.beginRemoval(kind, j.LatestCheckpoint, false)
		return
	}
	if d.flinkSilent() {
		return
	}
	d.fromRecordedState(kind, "there is no high-availability metadata and Flink reports no completed checkpoint")
}

// fromRecordedState continues from the newest snapshot the status records, or blocks
// the change: a stateful job never silently starts empty.
func (d *decider) fromRecordedState(kind v1beta1.OperationKind, why string) {
	if path := d.latestState(); path != "" {
		d.warn(reasonRecordedState, "%s; %s continues from the latest recorded snapshot %s", why, kind, path)
		d.beginRemoval(kind, path, false)
		return
	}
	d.degrade(reasonNoState, fmt.Sprintf("%s cannot carry the job's state: %s, and no savepoint or checkpoint is recorded. "+
		"Set job.upgradeMode: stateless to start without state, or job.initialSavepointPath with a new job.savepointRedeployNonce to start from a snapshot", kind, why))
}

// resume restarts a suspended job from the state its suspension kept.
func (d *decider) resume() {
	switch {
	case d.upgradeMode() == v1beta1.UpgradeModeStateless:
		d.beginDeploy(v1beta1.OperationDeploy, "", false)
	case d.obs.HighAvailability && d.obs.HAData:
		d.beginDeploy(v1beta1.OperationDeploy, "", true)
	case d.status.JobStatus.UpgradeSavepointPath != "":
		d.beginDeploy(v1beta1.OperationDeploy, d.status.JobStatus.UpgradeSavepointPath, false)
	case d.status.JobStatus.JobID == "":
		// Suspended before it ever ran.
		d.beginDeploy(v1beta1.OperationDeploy, d.spec().Job.InitialSavepointPath, false)
	default:
		d.fromRecordedState(v1beta1.OperationDeploy, "the suspension kept no savepoint")
	}
}

// beginSnapshot records a stop-with-savepoint and asks for it.
func (d *decider) beginSnapshot(kind v1beta1.OperationKind) {
	d.status.Operation = &v1beta1.Operation{
		Kind: kind, Step: v1beta1.StepSnapshotting, UpgradeMode: d.upgradeMode(),
		JobID: d.status.JobStatus.JobID, TriggerID: newID(d.fd.UID, "savepoint", d.now()),
		StartTime: metaTime(d.now()), Message: "stopping the job with a savepoint",
	}
	d.status.LifecycleState = lifecycleFor(kind)
	d.stopAction()
}

// beginRemoval records the state to restart from and removes the cluster.
func (d *decider) beginRemoval(kind v1beta1.OperationKind, restorePath string, keepHA bool) {
	d.status.Operation = &v1beta1.Operation{
		Kind: kind, Step: v1beta1.StepRemovingCluster, UpgradeMode: d.upgradeMode(),
		JobID: d.status.JobStatus.JobID, RestorePath: restorePath, KeepHAData: keepHA,
		StartTime: metaTime(d.now()), Message: "removing the cluster",
	}
	d.status.LifecycleState = lifecycleFor(kind)
	d.removeAction()
}

func lifecycleFor(kind v1beta1.OperationKind) v1beta1.LifecycleState {
	switch kind {
	case v1beta1.OperationDelete:
		return v1beta1.LifecycleDeleting
	case v1beta1.OperationRollback:
		return v1beta1.LifecycleRollingBack
	}
	return v1beta1.LifecycleUpgrading
}

// continueOperation takes the next step of the operation the status records.
func (d *decider) continueOperation() {
	switch op := d.status.Operation; op.Step {
	case v1beta1.StepSnapshotting:
		d.snapshotting(op)
	case v1beta1.StepRemovingCluster:
		d.removingCluster(op)
	case v1beta1.StepDeploying:
		d.deploying(op)
	default:
		d.degrade(reasonInvalidStatus, fmt.Sprintf("status.operation.step %q is unknown; remove status.operation to start over", op.Step))
	}
}

// snapshotting waits for the stop-with-savepoint; the savepoint's path is recorded the
// moment it is known, before the cluster goes.
func (d *decider) snapshotting(op *v1beta1.Operation) {
	if d.isSession() {
		d.awaitSessionJobs(op)
		return
	}
	res := d.obs.Savepoint
	switch {
	case res == nil && op.RestorePath != "":
		// Reported done while the decision waited on something else (waitForSession).
		res = &SnapshotResult{Done: true, Path: op.RestorePath}
	case res == nil:
		if j := d.obs.Job; j != nil && j.ID == op.JobID && j.State == JobFinished && j.LatestSavepoint != "" {
			// Flink forgot the trigger (a restarted JobManager, an expired cache) but
			// the stopped job's statistics keep its savepoint.
			res = &SnapshotResult{Done: true, Path: j.LatestSavepoint}
		}
	}
	switch {
	case res != nil && res.Done && res.Path != "":
		d.recordSavepoint(res.Path, "UPGRADE", nil)
		d.event(reasonSavepointCompleted, "savepoint %s taken for %s", res.Path, op.Kind)
		op.RestorePath, op.Step, op.Message = res.Path, v1beta1.StepRemovingCluster, "removing the cluster"
		d.removeAction()
	case res != nil && res.Done:
		d.savepointFailed(op, res.Failure)
	case d.now().Sub(op.StartTime.Time) > d.timeout(op):
		d.savepointFailed(op, fmt.Sprintf("no savepoint after %s", d.timeout(op)))
	case res == nil && d.jobRunning():
		if wait := d.untilNextAttempt(op); wait > 0 {
			d.out.RequeueAfter = wait
			return
		}
		d.stopAction() // asking again with the same trigger id finds the same savepoint
	default:
		d.out.RequeueAfter = d.snapshotAfter()
	}
}

func (d *decider) timeout(op *v1beta1.Operation) time.Duration {
	if op.Kind == v1beta1.OperationDelete {
		return min(d.set.SavepointTimeout, d.set.CleanupTimeout)
	}
	return d.set.SavepointTimeout
}

// maxSavepointAttempts is how often a failed stop-with-savepoint is tried before the
// operation gives up: a savepoint can fail for passing reasons (tasks restarting, a
// TaskManager Flink has not yet found lost). firstSavepointRetry is the wait before the
// second attempt; each later wait doubles, so the attempts span over a minute and a
// half — longer than Flink's default heartbeat timeout (50 s), after which Flink
// restarts the job without the TaskManager it lost.
const (
	maxSavepointAttempts = 4
	firstSavepointRetry  = 15 * time.Second
)

// untilNextAttempt is how long the next savepoint attempt of op waits yet.
func (d *decider) untilNextAttempt(op *v1beta1.Operation) time.Duration {
	if op.NextAttemptTime == nil {
		return 0
	}
	return op.NextAttemptTime.Sub(d.now())
}

// savepointFailed handles a failed stop-with-savepoint: it is tried again a few times;
// then a deletion goes on (the user asked for it; the event names the latest state), an
// upgrade falls back to the last state only where the user allowed it, and otherwise
// stops with the job running.
func (d *decider) savepointFailed(op *v1beta1.Operation, cause string) {
	timedOut := d.now().Sub(op.StartTime.Time) > d.timeout(op)
	switch {
	case op.Attempt+1 < maxSavepointAttempts && !timedOut:
		op.Attempt++
		op.TriggerID = newID(d.fd.UID, fmt.Sprintf("savepoint-%d", op.Attempt), d.now())
		wait := firstSavepointRetry << (op.Attempt - 1)
		next := metaTime(d.now().Add(wait))
		op.NextAttemptTime = &next
		d.warn(reasonSavepointFailed, "savepoint attempt %d of %d failed (%s); trying again in %s once the job runs", op.Attempt, maxSavepointAttempts, cause, wait)
		d.out.RequeueAfter = wait
	case op.Kind == v1beta1.OperationDelete:
		d.warn(reasonSavepointFailed, "savepoint on deletion failed (%s); deleting anyway; the latest recorded state is %q", cause, d.latestState())
		op.Step, op.Message = v1beta1.StepRemovingCluster, "removing the cluster"
		d.removeAction()
	case d.set.LastStateFallback && (d.obs.HAData || d.latestState() != ""):
		d.warn(reasonSavepointFailed, "savepoint failed (%s); falling back to the last state as %s allows", cause, keyLastStateFallback)
		d.status.Operation = nil
		d.lastState(op.Kind)
	default:
		d.status.Operation = nil
		d.status.LifecycleState = v1beta1.LifecycleStable
		d.degrade(reasonSavepointFailed, fmt.Sprintf("%s stopped: the savepoint failed (%s); the job keeps running unchanged. "+
			"Fix the cause and change the spec again, or allow %s: true", op.Kind, cause, keyLastStateFallback))
	}
}

// removingCluster waits until no JobManager is left — and, unless kept, no HA data,
// which a JobManager still shutting down may write again after it was deleted — then
// goes on.
func (d *decider) removingCluster(op *v1beta1.Operation) {
	if d.obs.Cluster != ClusterMissing || (!op.KeepHAData && d.obs.HAData) {
		d.removeAction()
		return
	}
	if !d.restoreEndedJobsCheckpoint(op) {
		return // the ended job's checkpoints next round
	}
	switch op.Kind {
	case v1beta1.OperationDelete:
		d.out.Action = Action{Type: ActionRemoveFinalizer}
	case v1beta1.OperationSuspend:
		d.suspended(op)
	default:
		if op.Kind != v1beta1.OperationRollback && suspended(d.spec()) {
			// Suspended while the cluster was going: the state it kept is recorded and
			// nothing starts — deploying the suspended spec would run a job the spec
			// says is stopped, and its resumption would start a second one.
			d.suspended(op)
			return
		}
		spec := d.spec()
		if op.Kind == v1beta1.OperationRollback {
			spec, _ = DecodeSpec(d.status.ReconciliationStatus.LastStableSpec)
		}
		if !op.KeepHAData && !d.isSession() {
			d.status.JobStatus.JobID = newID(d.fd.UID, "job", d.now())
		}
		d.status.JobStatus.State, d.status.JobStatus.StartTime = "", ""
		d.status.JobStatus.UpgradeSavepointPath = op.RestorePath
		if op.Kind != v1beta1.OperationRollback {
			d.accept()
		} else {
			d.status.ReconciliationStatus.LastReconciledSpec = d.status.ReconciliationStatus.LastStableSpec
		}
		op.JobID, op.Step, op.Message = d.status.JobStatus.JobID, v1beta1.StepDeploying, "deploying"
		d.deployActionFor(spec)
	}
}

// suspended ends an operation whose cluster is gone as a suspension, recording the
// state the job resumes from.
func (d *decider) suspended(op *v1beta1.Operation) {
	d.status.Operation = nil
	d.status.JobStatus.UpgradeSavepointPath = op.RestorePath
	d.status.JobStatus.State = JobSuspended
	d.status.LifecycleState = v1beta1.LifecycleSuspended
	d.accept()
	d.event(reasonSuspended, "job suspended%s", statePhrase(op))
}

// endedJobGrace is how long a session job cancelled to carry its last state waits for
// its session cluster to report the ended job and its newest checkpoint: Flink 2.x
// archives an ended job, and may not list it, or its checkpoints, for a moment.
const endedJobGrace = 30 * time.Second

// checkpointStatsCache is how long after a job ended its checkpoint statistics may
// still be an answer Flink cached before (rest.cache.checkpoint-statistics-timeout,
// web.refresh-interval: 3 s by default), with a margin: a checkpoint completed just
// before the cancellation is missing from those.
const checkpointStatsCache = 5 * time.Second

// restoreEndedJobsCheckpoint makes a session job cancelled to carry its last state
// restart from the newest checkpoint of the job as it ended: one completed while it was
// being cancelled has subsumed — deleted — the one seen when the cancellation began.
// (Its session cluster still reports the ended job; an application's cluster is gone.)
// It reports false while Flink does not answer for the ended job's checkpoints, and
// for up to endedJobGrace while it answers without them — the job unlisted, or listed
// without the checkpoint it must have (one was seen before the cancellation); then the
// checkpoint seen before is all there is.
func (d *decider) restoreEndedJobsCheckpoint(op *v1beta1.Operation) bool {
	if !d.sessionJob || op.UpgradeMode != v1beta1.UpgradeModeLastState || op.KeepHAData || op.RestorePath == "" {
		return true
	}
	j := d.ourJob()
	switch {
	case j != nil && j.CheckpointsUnread:
		return false // Flink did not answer: ask again, however long it takes
	case j != nil && j.EndTime > 0 && d.now().Sub(time.UnixMilli(j.EndTime)) < checkpointStatsCache:
		op.Message = "waiting for Flink's checkpoint statistics of the cancelled job (it caches them for a few seconds)"
		return false
	case j != nil && j.LatestCheckpoint != "":
		op.RestorePath = j.LatestCheckpoint
		return true
	case d.now().Sub(op.StartTime.Time) < endedJobGrace:
		op.Message = "waiting for the session cluster to report the cancelled job's last checkpoint"
		return false
	}
	return true
}

func statePhrase(op *v1beta1.Operation) string {
	switch {
	case op.RestorePath != "":
		return "; it resumes from " + op.RestorePath
	case op.KeepHAData:
		return "; it resumes from its high-availability metadata"
	}
	return "; it resumes without state (upgradeMode: stateless)"
}

// deploying waits until the JobManager runs the rendered spec and Flink reports the
// job; it deploys again while the live objects differ.
func (d *decider) deploying(op *v1beta1.Operation) {
	// A session job's job may end as soon as it is submitted: seen once, it is deployed.
	if (!d.sessionJob && d.obs.DeployedHash != d.obs.DesiredHash) || (d.obs.Cluster == ClusterMissing && d.ourJob() == nil) {
		d.deployAction()
		return
	}
	if d.isSession() && d.sessionAnswers() {
		d.deployed(op, "session cluster deployed (%s)", op.Kind)
		return
	}
	if j := d.ourJob(); j != nil {
		d.deployed(op, "job %s deployed (%s)%s", j.ID, op.Kind, restoredPhrase(op))
		return
	}
	if d.pastReadiness() {
		if !d.notReadyInTime(op) {
			d.out.RequeueAfter = d.progressAfter()
		}
		return
	}
	if d.obs.Cluster == ClusterFailing {
		d.degrade(reasonClusterFailing, "the JobManager does not start: "+d.obs.ClusterMessage)
	}
	d.out.RequeueAfter = d.progressAfter()
}

// deployed ends a deployment whose job (or session cluster) is there.
func (d *decider) deployed(op *v1beta1.Operation, format string, args ...any) {
	d.status.Operation = nil
	d.status.LifecycleState = v1beta1.LifecycleDeployed
	if op.Kind == v1beta1.OperationRollback {
		d.status.LifecycleState = v1beta1.LifecycleRolledBack
	}
	d.event(reasonJobDeployed, format, args...)
	// A job that already runs with all its tasks (a session cluster that answers) is
	// STABLE at once: waiting a round to say so would only delay it.
	if d.isSession() && d.sessionAnswers() || !d.isSession() && d.jobRunning() {
		d.stable()
	}
}

func restoredPhrase(op *v1beta1.Operation) string {
	if op.RestorePath != "" {
		return ", restoring " + op.RestorePath
	}
	return ""
}

// deleting takes the optional savepoint, removes the cluster and its HA data, then
// lets the resource go. Every wait is bounded by the cleanup timeout.
func (d *decider) deleting() {
	d.status.LifecycleState = v1beta1.LifecycleDeleting
	op := d.status.Operation
	if op == nil || op.Kind != v1beta1.OperationDelete {
		d.keepReportedSavepoint(op)
		if d.isSession() && d.sessionDeletionBlocked() {
			return
		}
		if d.set.SavepointOnDeletion && d.upgradeMode() != v1beta1.UpgradeModeStateless && d.jobRunning() {
			d.beginSnapshot(v1beta1.OperationDelete)
			return
		}
		d.beginRemoval(v1beta1.OperationDelete, "", false)
		return
	}
	d.continueOperation()
}

// keepReportedSavepoint records the savepoint of op's stop-with-savepoint when Flink
// reported it done — this round, or while a session job waited for its session — as a
// deletion replaces op: the job stopped with it, so it is the job's latest state, which
// the deletion's event and the savepoint history keep.
func (d *decider) keepReportedSavepoint(op *v1beta1.Operation) {
	if op == nil || op.Step != v1beta1.StepSnapshotting || d.isSession() {
		return
	}
	path := op.RestorePath
	if res := d.obs.Savepoint; res != nil && res.Done && res.Path != "" {
		path = res.Path
	}
	if path != "" {
		d.recordSavepoint(path, "UPGRADE", nil)
		d.event(reasonSavepointCompleted, "savepoint %s taken for %s, then the resource was deleted", path, op.Kind)
	}
}

func (d *decider) deployAction() {
	spec := d.spec()
	if op := d.status.Operation; op != nil && op.Kind == v1beta1.OperationRollback {
		spec, _ = DecodeSpec(d.status.ReconciliationStatus.LastStableSpec)
	}
	d.deployActionFor(spec)
}

func (d *decider) deployActionFor(spec *v1beta1.FlinkDeploymentSpec) {
	switch {
	case d.obs.SessionUpgrading:
		d.waiting = "waiting for the session cluster's upgrade to finish before submitting the job"
		return
	case d.obs.ArtifactError != "":
		d.degrade(reasonArtifact, d.obs.ArtifactError)
		d.out.RequeueAfter = d.set.ObserveInterval
		return
	}
	op := d.status.Operation
	allow := false
	if spec.Job != nil && spec.Job.AllowNonRestoredState != nil {
		allow = *spec.Job.AllowNonRestoredState
	}
	d.out.Action = Action{Type: ActionDeploy, Spec: spec, JobID: op.JobID, RestorePath: op.RestorePath, AllowNonRestoredState: allow}
}

func (d *decider) stopAction() {
	op := d.status.Operation
	d.out.Action = Action{Type: ActionStopWithSavepoint, JobID: op.JobID, TriggerID: op.TriggerID}
}

func (d *decider) removeAction() {
	d.out.Action = Action{Type: ActionRemoveCluster, KeepHAData: d.status.Operation.KeepHAData}
}
