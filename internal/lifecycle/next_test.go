package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
)

func TestFirstDeployment(t *testing.T) {
	fd := newDeployment()
	fd.Spec.Job.InitialSavepointPath = savepointA
	d := decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, savepointA, d.Action.RestorePath, "the first deployment starts from initialSavepointPath")
	require.Len(t, d.Action.JobID, 32)
	require.Equal(t, d.Action.JobID, d.Status.JobStatus.JobID, "the job id is recorded before it is deployed")
	require.Equal(t, v1beta1.OperationDeploy, d.Status.Operation.Kind)
	require.Equal(t, v1beta1.StepDeploying, d.Status.Operation.Step)
	require.Equal(t, v1beta1.LifecycleCreated, d.Status.LifecycleState)
	require.NotEmpty(t, d.Status.ReconciliationStatus.LastReconciledSpec)
	require.Equal(t, metav1.ConditionTrue, condition(d, ConditionProgressing).Status)
	require.Equal(t, DefaultSettings().ProgressInterval, d.RequeueAfter)

	// The objects are applied but the JobManager is not up yet: apply again only when
	// the live objects differ.
	fd = then(fd, d)
	obs := Observation{Now: t0, Cluster: ClusterStarting, DeployedHash: "h1", DesiredHash: "h1"}
	require.Equal(t, ActionNone, decide(t, fd, obs).Action.Type)
	obs.DeployedHash = "old"
	require.Equal(t, ActionDeploy, decide(t, fd, obs).Action.Type)

	// Flink reports the job, its tasks still deploying: the deployment is done, and
	// the job is soon looked at again.
	deploying := running(fd.Status.JobStatus.JobID)
	deploying.Job.TasksRunning = false
	d = decide(t, fd, deploying)
	require.Nil(t, d.Status.Operation)
	require.Equal(t, v1beta1.LifecycleDeployed, d.Status.LifecycleState)
	require.Equal(t, "JobDeployed", d.Events[0].Reason)
	require.Equal(t, DefaultSettings().ProgressInterval, d.RequeueAfter, "a deployed job is soon looked at again to be found STABLE")

	// Next round: running with all its tasks means STABLE, and this spec becomes the
	// rollback target.
	d = decide(t, then(fd, d), running(fd.Status.JobStatus.JobID))
	require.Equal(t, v1beta1.LifecycleStable, d.Status.LifecycleState)
	require.Equal(t, d.Status.ReconciliationStatus.LastReconciledSpec, d.Status.ReconciliationStatus.LastStableSpec)
	require.Equal(t, metav1.ConditionTrue, condition(d, ConditionReady).Status)
	require.Equal(t, DefaultSettings().ObserveInterval, d.RequeueAfter)

	// A job that already runs with all its tasks when it is found is STABLE at once.
	d = decide(t, fd, running(fd.Status.JobStatus.JobID))
	require.Nil(t, d.Status.Operation)
	require.Equal(t, v1beta1.LifecycleStable, d.Status.LifecycleState)
	require.Equal(t, []string{"JobDeployed", "Stable"}, []string{d.Events[0].Reason, d.Events[1].Reason})
}

func TestFirstDeploymentSuspended(t *testing.T) {
	fd := newDeployment()
	fd.Spec.Job.State = v1beta1.JobStateSuspended
	d := decide(t, fd, missing())
	require.Equal(t, ActionNone, d.Action.Type)
	require.Equal(t, v1beta1.LifecycleSuspended, d.Status.LifecycleState)

	// Resumed before it ever ran: deployed from initialSavepointPath.
	fd = then(fd, d)
	fd.Spec.Job.State, fd.Spec.Job.InitialSavepointPath = v1beta1.JobStateRunning, savepointA
	d = decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, savepointA, d.Action.RestorePath)
}

// TestSavepointUpgrade walks a savepoint upgrade step by step: each step's status
// names what the next one needs before anything irreversible happens.
func TestSavepointUpgrade(t *testing.T) {
	fd := changed(runningDeployment())
	d := decide(t, fd, running(runningJobID))
	require.Equal(t, ActionStopWithSavepoint, d.Action.Type)
	require.Equal(t, runningJobID, d.Action.JobID)
	op := d.Status.Operation
	require.Equal(t, v1beta1.OperationUpgrade, op.Kind)
	require.Equal(t, v1beta1.StepSnapshotting, op.Step)
	require.Equal(t, op.TriggerID, d.Action.TriggerID, "the trigger id is recorded before the savepoint is asked for")
	require.Equal(t, v1beta1.LifecycleUpgrading, d.Status.LifecycleState)
	require.NotEqual(t, encodeSpec(&fd.Spec), d.Status.ReconciliationStatus.LastReconciledSpec, "the new spec is not deployed yet")

	// Still in progress: wait; if Flink has no answer (a restarted JobManager), ask
	// again with the same trigger id.
	fd = then(fd, d)
	pending := running(runningJobID)
	pending.Savepoint = &SnapshotResult{}
	waiting := decide(t, fd, pending)
	require.Equal(t, ActionNone, waiting.Action.Type)
	require.Equal(t, DefaultSettings().ProgressInterval/4, waiting.RequeueAfter, "a savepoint under way is asked after more often than other progress")
	again := decide(t, fd, running(runningJobID))
	require.Equal(t, ActionStopWithSavepoint, again.Action.Type)
	require.Equal(t, op.TriggerID, again.Action.TriggerID)

	// The savepoint completes: its path is recorded, then the cluster goes.
	done := Observation{Now: t0, Cluster: ClusterReady, Job: &Job{ID: runningJobID, State: JobFinished}, Savepoint: &SnapshotResult{Done: true, Path: savepointA}}
	d = decide(t, fd, done)
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.False(t, d.Action.KeepHAData, "the savepoint, not HA metadata, is the state to start from")
	require.Equal(t, savepointA, d.Status.Operation.RestorePath)
	require.Equal(t, v1beta1.StepRemovingCluster, d.Status.Operation.Step)
	require.Equal(t, savepointA, d.Status.JobStatus.SavepointInfo.LastSavepoint.Location)
	require.Equal(t, "UPGRADE", d.Status.JobStatus.SavepointInfo.SavepointHistory[0].TriggerType)

	// Pods still there: keep removing. Gone: deploy the new spec from the savepoint,
	// as a new job.
	fd = then(fd, d)
	require.Equal(t, ActionRemoveCluster, decide(t, fd, Observation{Now: t0, Cluster: ClusterTerminating}).Action.Type)
	require.Equal(t, ActionRemoveCluster, decide(t, fd, Observation{Now: t0, Cluster: ClusterMissing, HighAvailability: true, HAData: true}).Action.Type,
		"HA data written again by the JobManager as it went is removed before the new job starts")
	d = decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, savepointA, d.Action.RestorePath)
	require.Equal(t, int32(4), d.Action.Spec.Job.Parallelism)
	require.NotEqual(t, runningJobID, d.Action.JobID)
	require.Equal(t, d.Action.JobID, d.Status.JobStatus.JobID)
	require.Equal(t, encodeSpec(&fd.Spec), d.Status.ReconciliationStatus.LastReconciledSpec)
	require.Equal(t, fd.Generation, d.Status.ObservedGeneration)
}

func TestSavepointFoundAfterFlinkForgotTheTrigger(t *testing.T) {
	fd := withOperation(changed(runningDeployment()), v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepSnapshotting, JobID: runningJobID, TriggerID: "t1"})
	obs := Observation{Now: t0, Cluster: ClusterReady, Job: &Job{ID: runningJobID, State: JobFinished, LatestSavepoint: savepointA}}
	d := decide(t, fd, obs)
	require.Equal(t, savepointA, d.Status.Operation.RestorePath)
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
}

// TestSavepointFailureIsStrict: a failed savepoint stops the upgrade with the job
// running, and the same generation is not tried again; fallback only when allowed.
func TestSavepointFailureIsStrict(t *testing.T) {
	op := v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepSnapshotting, JobID: runningJobID, TriggerID: "t1"}
	failed := running(runningJobID)
	failed.Savepoint = &SnapshotResult{Done: true, Failure: "Checkpoint Coordinator is suspending."}
	failed.HAData, failed.HighAvailability = true, true

	// A failure is tried again with a new trigger id, a few times, each attempt
	// waiting twice as long as the one before.
	fd := withOperation(changed(runningDeployment()), op)
	d := decide(t, fd, failed)
	require.Equal(t, int32(1), d.Status.Operation.Attempt)
	require.NotEqual(t, "t1", d.Status.Operation.TriggerID)
	require.Equal(t, ActionNone, d.Action.Type, "not at once")
	require.Equal(t, firstSavepointRetry, d.RequeueAfter)
	require.Equal(t, t0.Add(firstSavepointRetry), d.Status.Operation.NextAttemptTime.Time)
	require.Contains(t, d.Events[0].Message, "trying again in 15s")
	fd = then(fd, d)
	early := running(runningJobID)
	early.Now = t0.Add(firstSavepointRetry - time.Second)
	d = decide(t, fd, early)
	require.Equal(t, ActionNone, d.Action.Type, "still waiting")
	require.Equal(t, time.Second, d.RequeueAfter)
	due := running(runningJobID)
	due.Now = t0.Add(firstSavepointRetry)
	d = decide(t, fd, due)
	require.Equal(t, ActionStopWithSavepoint, d.Action.Type)
	require.Equal(t, d.Status.Operation.TriggerID, d.Action.TriggerID)
	failedAgain := failed
	failedAgain.Now = due.Now
	d = decide(t, then(fd, d), failedAgain)
	require.Equal(t, int32(2), d.Status.Operation.Attempt)
	require.Equal(t, 2*firstSavepointRetry, d.RequeueAfter, "the wait doubles")

	op.Attempt = maxSavepointAttempts - 1
	fd = withOperation(changed(runningDeployment()), op)
	d = decide(t, fd, failed)
	require.Nil(t, d.Status.Operation)
	require.Equal(t, ActionNone, d.Action.Type)
	deg := condition(d, ConditionDegraded)
	require.Equal(t, metav1.ConditionTrue, deg.Status)
	require.Equal(t, "SavepointFailed", deg.Reason)
	require.Contains(t, deg.Message, "Checkpoint Coordinator is suspending")
	require.True(t, d.Events[0].Warning)
	d = decide(t, then(fd, d), running(runningJobID))
	require.Equal(t, ActionNone, d.Action.Type, "the failed generation is not retried")
	require.Equal(t, metav1.ConditionTrue, condition(d, ConditionDegraded).Status)

	// The user changes the spec again: a new generation, a new attempt.
	next := changed(then(fd, d))
	require.Equal(t, ActionStopWithSavepoint, decide(t, next, running(runningJobID)).Action.Type)

	// With the fallback allowed, it goes on from HA metadata.
	d = decide(t, withOperation(changed(runningDeployment()), op), failed, func(s *Settings) { s.LastStateFallback = true })
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.True(t, d.Action.KeepHAData)

	// A savepoint that never completes fails after the timeout.
	slow := running(runningJobID)
	slow.Savepoint = &SnapshotResult{}
	fd = withOperation(changed(runningDeployment()), op)
	fd.Status.Operation.StartTime = metav1.NewTime(t0.Add(-11 * time.Minute))
	require.Equal(t, "SavepointFailed", condition(decide(t, fd, slow), ConditionDegraded).Reason)
}

func TestLastStateUpgrade(t *testing.T) {
	lastState := func() *v1beta1.FlinkDeployment {
		fd := changed(runningDeployment())
		fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
		return fd
	}
	withHA := running(runningJobID)
	withHA.HighAvailability, withHA.HAData = true, true
	d := decide(t, lastState(), withHA)
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.True(t, d.Action.KeepHAData)
	d = decide(t, then(lastState(), d), Observation{Now: t0, Cluster: ClusterMissing, HighAvailability: true, HAData: true})
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, runningJobID, d.Action.JobID, "HA metadata recovers the same job")
	require.Empty(t, d.Action.RestorePath)

	withCheckpoint := running(runningJobID)
	withCheckpoint.Job.LatestCheckpoint = checkpointA
	d = decide(t, lastState(), withCheckpoint)
	require.Equal(t, checkpointA, d.Status.Operation.RestorePath)
	require.False(t, d.Action.KeepHAData)

	d = decide(t, lastState(), running(runningJobID))
	require.Equal(t, ActionNone, d.Action.Type)
	require.Equal(t, "NoStateToCarry", condition(d, ConditionDegraded).Reason)
	require.Contains(t, condition(d, ConditionDegraded).Message, "upgradeMode: stateless")
}

func TestStatelessUpgrade(t *testing.T) {
	fd := changed(runningDeployment())
	fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
	d := decide(t, fd, running(runningJobID))
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.False(t, d.Action.KeepHAData)
	d = decide(t, then(fd, d), missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Empty(t, d.Action.RestorePath)
}

func TestSavepointUpgradeOfAStoppedJob(t *testing.T) {
	fd := changed(runningDeployment())
	obs := running(runningJobID)
	obs.Job.State = JobFailed
	d := decide(t, fd, obs)
	require.Equal(t, "NoStateToCarry", condition(d, ConditionDegraded).Reason, "no savepoint possible and nothing recorded")

	fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastCheckpoint: &v1beta1.Snapshot{Location: checkpointA, TimeStamp: 5}}
	d = decide(t, fd, obs)
	require.Equal(t, checkpointA, d.Status.Operation.RestorePath)
	require.Equal(t, "FromRecordedState", d.Events[0].Reason)
}

func TestSuspendAndResume(t *testing.T) {
	fd := runningDeployment()
	fd.Spec.Job.State = v1beta1.JobStateSuspended
	fd.Generation++
	d := decide(t, fd, running(runningJobID))
	require.Equal(t, ActionStopWithSavepoint, d.Action.Type)
	require.Equal(t, v1beta1.OperationSuspend, d.Status.Operation.Kind)

	fd = then(fd, d)
	fd.Status.Operation.RestorePath, fd.Status.Operation.Step = savepointA, v1beta1.StepRemovingCluster
	d = decide(t, fd, missing())
	require.Equal(t, ActionNone, d.Action.Type)
	require.Nil(t, d.Status.Operation)
	require.Equal(t, v1beta1.LifecycleSuspended, d.Status.LifecycleState)
	require.Equal(t, savepointA, d.Status.JobStatus.UpgradeSavepointPath)
	require.Equal(t, "Suspended", condition(d, ConditionReady).Reason)
	require.Contains(t, d.Events[0].Message, savepointA)

	// Suspended and missing is what it should be: no recovery.
	fd = then(fd, d)
	require.Equal(t, ActionNone, decide(t, fd, missing()).Action.Type)

	fd.Spec.Job.State = v1beta1.JobStateRunning
	fd.Generation++
	d = decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, savepointA, d.Action.RestorePath)
}

// TestSuspendedDuringUpgrade: a job suspended while its upgrade removes the cluster is
// not deployed with the suspended spec once the cluster is gone — that job would run
// against its spec, and resuming it would start a second one beside it (found by
// FuzzNext). It is suspended, keeping the upgrade's savepoint.
func TestSuspendedDuringUpgrade(t *testing.T) {
	fd := runningDeployment()
	fd.Status.LifecycleState = v1beta1.LifecycleUpgrading
	fd.Status.Operation = &v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepRemovingCluster,
		UpgradeMode: v1beta1.UpgradeModeSavepoint, JobID: runningJobID, RestorePath: savepointA, StartTime: metav1.NewTime(t0)}
	fd = changed(fd)
	fd.Spec.Job.State = v1beta1.JobStateSuspended
	d := decide(t, fd, missing())
	require.Equal(t, ActionNone, d.Action.Type)
	require.Nil(t, d.Status.Operation)
	require.Equal(t, v1beta1.LifecycleSuspended, d.Status.LifecycleState)
	require.Equal(t, savepointA, d.Status.JobStatus.UpgradeSavepointPath)
	require.Equal(t, encodeSpec(&fd.Spec), d.Status.ReconciliationStatus.LastReconciledSpec)

	fd = then(fd, d)
	fd.Spec.Job.State = v1beta1.JobStateRunning
	fd.Generation++
	d = decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type, "resumed, it starts from the upgrade's savepoint")
	require.Equal(t, savepointA, d.Action.RestorePath)
	require.Equal(t, int32(4), d.Action.Spec.Job.Parallelism)
}

// A resource deleted while its job stops with a savepoint keeps the savepoint Flink
// reports in its status and says so, though the deletion removes the cluster.
func TestDeletedWhileStoppingWithSavepoint(t *testing.T) {
	fd := runningDeployment()
	fd.Status.LifecycleState = v1beta1.LifecycleUpgrading
	fd.Status.Operation = &v1beta1.Operation{Kind: v1beta1.OperationSuspend, Step: v1beta1.StepSnapshotting,
		UpgradeMode: v1beta1.UpgradeModeSavepoint, JobID: runningJobID, TriggerID: "t", StartTime: metav1.NewTime(t0)}
	fd.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
	obs := running(runningJobID)
	obs.Savepoint = &SnapshotResult{Done: true, Path: savepointA}
	d := decide(t, fd, obs)
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.Equal(t, v1beta1.OperationDelete, d.Status.Operation.Kind)
	require.Equal(t, savepointA, d.Status.JobStatus.SavepointInfo.LastSavepoint.Location)
	require.Equal(t, reasonSavepointCompleted, d.Events[0].Reason)
	require.Contains(t, d.Events[0].Message, savepointA)
}

// A change that carries the job's state waits while the running cluster's REST API does
// not answer: the job is not known to have stopped, and its latest checkpoint may be
// newer than anything recorded — continuing from the recorded snapshot could rewind it.
func TestChangeWaitsForSilentFlink(t *testing.T) {
	for _, mode := range []v1beta1.UpgradeMode{v1beta1.UpgradeModeSavepoint, v1beta1.UpgradeModeLastState} {
		fd := changed(runningDeployment())
		fd.Spec.Job.UpgradeMode = mode
		fd.Status.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Snapshot{Location: savepointA, TimeStamp: 3}}
		silent := Observation{Now: t0, Cluster: ClusterReady, FlinkUnanswered: "flink GET /jobs/overview: 500"}
		d := decide(t, fd, silent)
		require.Equal(t, ActionNone, d.Action.Type, mode)
		require.Nil(t, d.Status.Operation)
		require.Empty(t, d.Events, "no fallback to %s", savepointA)
		ready := meta.FindStatusCondition(d.Status.Conditions, ConditionReady)
		require.Contains(t, ready.Message, "waiting for Flink's REST API to answer")
		require.Positive(t, d.RequeueAfter)

		obs := running(runningJobID)
		obs.Job.LatestCheckpoint = checkpointA
		d = decide(t, then(fd, d), obs)
		require.NotEqual(t, ActionNone, d.Action.Type, "%s: goes on once Flink answers", mode)
		require.Equal(t, v1beta1.OperationUpgrade, d.Status.Operation.Kind)
	}
}

// A suspension whose savepoint failed leaves the job running; if its cluster is then
// lost, the job is suspended from its latest state — not redeployed with the suspended
// spec, whose resumption would then start a second job beside it.
func TestClusterLostAfterFailedSuspension(t *testing.T) {
	fd := changed(runningDeployment())
	fd.Spec.Job.State = v1beta1.JobStateSuspended
	fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastCheckpoint: &v1beta1.Snapshot{Location: checkpointA, TimeStamp: 9}}
	fd.Status.Conditions = []metav1.Condition{{Type: ConditionDegraded, Status: metav1.ConditionTrue, Reason: reasonSavepointFailed, ObservedGeneration: fd.Generation}}
	d := decide(t, fd, missing())
	require.Equal(t, ActionNone, d.Action.Type)
	require.Equal(t, v1beta1.LifecycleSuspended, d.Status.LifecycleState)
	require.Equal(t, checkpointA, d.Status.JobStatus.UpgradeSavepointPath)

	fd = then(fd, d)
	fd.Spec.Job.State = v1beta1.JobStateRunning
	fd.Generation++
	d = decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type, "resumed from the latest state")
	require.Equal(t, checkpointA, d.Action.RestorePath)
}

func TestRecovery(t *testing.T) {
	// A lost JobManager Deployment is redeployed from the latest recorded state.
	fd := runningDeployment()
	fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastCheckpoint: &v1beta1.Snapshot{Location: checkpointA, TimeStamp: 9}}
	fd.Status.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Snapshot{Location: savepointA, TimeStamp: 3}}
	d := decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, checkpointA, d.Action.RestorePath, "the newer of checkpoint and savepoint")
	require.Equal(t, v1beta1.OperationRecover, d.Status.Operation.Kind)

	// With HA metadata the same job recovers from it.
	d = decide(t, runningDeployment(), Observation{Now: t0, Cluster: ClusterMissing, HighAvailability: true, HAData: true})
	require.Equal(t, runningJobID, d.Action.JobID)
	require.Empty(t, d.Action.RestorePath)

	// A stateful job with nothing recorded is FAILED, never restarted empty.
	d = decide(t, runningDeployment(), missing())
	require.Equal(t, ActionNone, d.Action.Type)
	require.Equal(t, v1beta1.LifecycleFailed, d.Status.LifecycleState)
	deg := condition(d, ConditionDegraded)
	require.Equal(t, "StateUnrecoverable", deg.Reason)
	require.Contains(t, deg.Message, "initialSavepointPath")
	require.Contains(t, deg.Message, runningJobID)

	// A stateless one just comes back.
	fd = runningDeployment()
	fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
	require.Equal(t, ActionDeploy, decide(t, fd, missing()).Action.Type)
}

func TestObservedCheckpointIsRecorded(t *testing.T) {
	obs := running(runningJobID)
	obs.Job.LatestCheckpoint, obs.Job.LatestCheckpointTime = checkpointA, 42
	d := decide(t, runningDeployment(), obs)
	require.Equal(t, checkpointA, d.Status.JobStatus.CheckpointInfo.LastCheckpoint.Location)
}

func TestFailedJob(t *testing.T) {
	obs := running(runningJobID)
	obs.Job.State, obs.Job.Exception = JobFailed, "java.lang.RuntimeException: boom"
	d := decide(t, runningDeployment(), obs)
	require.Equal(t, v1beta1.LifecycleFailed, d.Status.LifecycleState)
	require.Contains(t, condition(d, ConditionDegraded).Message, "boom")
	require.Equal(t, ActionNone, d.Action.Type)

	fd := runningDeployment()
	fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastCheckpoint: &v1beta1.Snapshot{Location: checkpointA}}
	d = decide(t, fd, obs, func(s *Settings) { s.RestartFailed = true })
	require.Equal(t, v1beta1.OperationRestart, d.Status.Operation.Kind)
	require.Equal(t, checkpointA, d.Status.Operation.RestorePath)

	// A job that fails before it ever ran after its deployment is not restarted again.
	fd.Status.LifecycleState = v1beta1.LifecycleDeployed
	d = decide(t, fd, obs, func(s *Settings) { s.RestartFailed = true })
	require.Nil(t, d.Status.Operation)
	require.Equal(t, ActionNone, d.Action.Type)
	require.Equal(t, v1beta1.LifecycleFailed, d.Status.LifecycleState)
	require.Contains(t, condition(d, ConditionDegraded).Message, "never ran since it was deployed")
	fd.Status = d.Status
	d = decide(t, fd, obs, func(s *Settings) { s.RestartFailed = true })
	require.Nil(t, d.Status.Operation, "nor in a later round")
}

func TestSnapshotsByNonceAndPeriod(t *testing.T) {
	fd := runningDeployment()
	fd.Spec.Job.SavepointTriggerNonce = ptr.To[int64](7)
	fd.Generation++
	d := decide(t, fd, running(runningJobID))
	require.Equal(t, ActionTriggerSavepoint, d.Action.Type)
	require.Equal(t, "MANUAL", d.Status.JobStatus.SavepointInfo.TriggerType)
	require.Equal(t, d.Action.TriggerID, d.Status.JobStatus.SavepointInfo.TriggerID)
	require.Nil(t, d.Status.Operation, "a savepoint of a running job is no upgrade")

	fd = then(fd, d)
	obs := running(runningJobID)
	obs.Savepoint = &SnapshotResult{Done: true, Path: savepointA}
	d = decide(t, fd, obs)
	info := d.Status.JobStatus.SavepointInfo
	require.Empty(t, info.TriggerID)
	require.Equal(t, savepointA, info.LastSavepoint.Location)
	require.Equal(t, int64(7), *info.LastSavepoint.TriggerNonce)
	require.Len(t, info.SavepointHistory, 1)
	require.Equal(t, ActionNone, decide(t, then(fd, d), running(runningJobID)).Action.Type, "a nonce is handled once")

	fd = runningDeployment()
	fd.Spec.Job.CheckpointTriggerNonce = ptr.To[int64](1)
	require.Equal(t, ActionTriggerCheckpoint, decide(t, fd, running(runningJobID)).Action.Type)

	periodic := func(s *Settings) { s.PeriodicSavepointInterval = time.Hour }
	fd = runningDeployment()
	fd.Status.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastPeriodicSavepointTimestamp: t0.Add(-30 * time.Minute).UnixMilli()}
	d = decide(t, fd, running(runningJobID), periodic)
	require.Equal(t, ActionNone, d.Action.Type)
	fd.Status.JobStatus.SavepointInfo.LastPeriodicSavepointTimestamp = t0.Add(-61 * time.Minute).UnixMilli()
	d = decide(t, fd, running(runningJobID), periodic)
	require.Equal(t, ActionTriggerSavepoint, d.Action.Type)
	require.Equal(t, "PERIODIC", d.Status.JobStatus.SavepointInfo.TriggerType)
}

// Flink answers a checkpoint trigger with the checkpoint's id; its path is read from
// the job's statistics, which lag: a completed checkpoint without a path is waited for,
// and never reported failed.
func TestManualCheckpointCompletes(t *testing.T) {
	triggered := func() *v1beta1.FlinkDeployment {
		fd := runningDeployment()
		fd.Spec.Job.CheckpointTriggerNonce = ptr.To[int64](1)
		fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{TriggerID: "t", TriggerType: "MANUAL", TriggerTimestamp: t0.Add(-5 * time.Second).UnixMilli()}
		return fd
	}
	obs := running(runningJobID)
	obs.Checkpoint = &SnapshotResult{Done: true, CheckpointID: 7}
	d := decide(t, triggered(), obs)
	require.Equal(t, "t", d.Status.JobStatus.CheckpointInfo.TriggerID, "waits for the path")
	require.Empty(t, d.Events)

	obs.Checkpoint.Path = checkpointA
	d = decide(t, triggered(), obs)
	info := d.Status.JobStatus.CheckpointInfo
	require.Empty(t, info.TriggerID)
	require.Equal(t, checkpointA, info.LastCheckpoint.Location)
	require.Equal(t, "MANUAL", info.LastCheckpoint.TriggerType)
	require.Equal(t, int64(1), *info.LastCheckpoint.TriggerNonce)
	require.Equal(t, reasonCheckpointDone, d.Events[0].Reason)

	late := triggered()
	late.Status.JobStatus.CheckpointInfo.TriggerTimestamp = t0.Add(-checkpointPathWait).UnixMilli()
	obs.Checkpoint.Path = ""
	d = decide(t, late, obs)
	require.Empty(t, d.Status.JobStatus.CheckpointInfo.TriggerID)
	require.Nil(t, d.Status.JobStatus.CheckpointInfo.LastCheckpoint, "no location to record")
	require.Equal(t, reasonCheckpointDone, d.Events[0].Reason)
	require.Contains(t, d.Events[0].Message, "checkpoint 7 completed")

	obs.Checkpoint = &SnapshotResult{Done: true, Failure: "Checkpoint was declined"}
	d = decide(t, triggered(), obs)
	require.Equal(t, reasonCheckpointFailed, d.Events[0].Reason)
	require.Contains(t, d.Events[0].Message, "Checkpoint was declined")
}

func TestSavepointHistoryRetention(t *testing.T) {
	fd := runningDeployment()
	info := &v1beta1.SavepointInfo{TriggerID: "t", TriggerType: "MANUAL", TriggerTimestamp: t0.UnixMilli()}
	for i := range 5 {
		info.SavepointHistory = append(info.SavepointHistory, v1beta1.Snapshot{Location: string(rune('a' + i)), TimeStamp: t0.Add(-time.Duration(5-i) * time.Hour).UnixMilli()})
	}
	info.SavepointHistory[0].TimeStamp = t0.Add(-48 * time.Hour).UnixMilli()
	fd.Status.JobStatus.SavepointInfo = info
	obs := running(runningJobID)
	obs.Savepoint = &SnapshotResult{Done: true, Path: savepointA}
	d := decide(t, fd, obs, func(s *Settings) { s.SavepointHistoryMaxCount = 3 })
	var kept []string
	for _, h := range d.Status.JobStatus.SavepointInfo.SavepointHistory {
		kept = append(kept, h.Location)
	}
	require.Equal(t, []string{"d", "e", savepointA}, kept)
}

func TestDeletion(t *testing.T) {
	deleting := func() *v1beta1.FlinkDeployment {
		fd := runningDeployment()
		fd.DeletionTimestamp = &metav1.Time{Time: t0}
		return fd
	}
	d := decide(t, deleting(), running(runningJobID))
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.False(t, d.Action.KeepHAData, "a deleted deployment leaves no HA data behind")
	require.Equal(t, v1beta1.LifecycleDeleting, d.Status.LifecycleState)
	d = decide(t, then(deleting(), d), missing())
	require.Equal(t, ActionRemoveFinalizer, d.Action.Type)

	onDelete := func(s *Settings) { s.SavepointOnDeletion = true }
	d = decide(t, deleting(), running(runningJobID), onDelete)
	require.Equal(t, ActionStopWithSavepoint, d.Action.Type)
	// An unreachable JobManager does not hold the deletion past the cleanup timeout.
	fd := then(deleting(), d)
	fd.Status.Operation.StartTime = metav1.NewTime(t0.Add(-3 * time.Minute))
	d = decide(t, fd, Observation{Now: t0, Cluster: ClusterReady}, onDelete)
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.True(t, d.Events[0].Warning)
}

func TestInvalidSpecKeepsTheLastValidRunning(t *testing.T) {
	fd := changed(runningDeployment())
	obs := running(runningJobID)
	obs.RenderError = "spec.jobManager.resource.memory: Invalid value: \"2 zb\": unknown unit"
	d := decide(t, fd, obs)
	require.Equal(t, ActionNone, d.Action.Type)
	deg := condition(d, ConditionDegraded)
	require.Equal(t, "InvalidSpec", deg.Reason)
	require.Contains(t, deg.Message, "spec.jobManager.resource.memory")
	require.Equal(t, int64(1), d.Status.ObservedGeneration, "the rejected generation is not observed")
	require.Equal(t, v1beta1.LifecycleStable, d.Status.LifecycleState)
	require.Contains(t, deg.Message, "the last valid spec keeps running")

	d = decide(t, newDeployment(), Observation{Now: t0, Cluster: ClusterMissing, RenderError: "spec.job.jarURI: Required value"})
	require.Equal(t, ActionNone, d.Action.Type)
	require.Equal(t, v1beta1.LifecycleCreated, d.Status.LifecycleState)
	require.NotContains(t, condition(d, ConditionDegraded).Message, "keeps running")
}

func TestReadinessTimeout(t *testing.T) {
	deployed := func() *v1beta1.FlinkDeployment {
		fd := changed(runningDeployment())
		fd.Status.LifecycleState = v1beta1.LifecycleDeployed
		fd.Status.ReconciliationStatus.LastReconciledSpec = encodeSpec(&fd.Spec)
		fd.Status.ReconciliationStatus.ReconciliationTimestamp = t0.Add(-6 * time.Minute).UnixMilli()
		fd.Status.JobStatus.UpgradeSavepointPath = savepointA
		return fd
	}
	obs := running(runningJobID)
	obs.Job.State = "RESTARTING"
	d := decide(t, deployed(), obs)
	require.Equal(t, "NotReadyInTime", condition(d, ConditionDegraded).Reason)
	require.Nil(t, d.Status.Operation)

	d = decide(t, deployed(), obs, func(s *Settings) { s.RollbackEnabled = true })
	require.Equal(t, v1beta1.OperationRollback, d.Status.Operation.Kind)
	require.Equal(t, savepointA, d.Status.Operation.RestorePath, "the savepoint taken before the upgrade")
	require.Equal(t, v1beta1.LifecycleRollingBack, d.Status.LifecycleState)
	require.Equal(t, "RolledBack", condition(d, ConditionDegraded).Reason)
	rollback := func(s *Settings) { s.RollbackEnabled = true }
	fd := then(deployed(), d)
	d = decide(t, fd, missing(), rollback)
	require.Equal(t, int32(2), d.Action.Spec.Job.Parallelism, "the last stable spec")
	fd = then(fd, d)
	d = decide(t, fd, running(d.Action.JobID), rollback)
	require.Nil(t, d.Status.Operation)
	require.Equal(t, v1beta1.LifecycleRolledBack, d.Status.LifecycleState)
	d = decide(t, then(fd, d), running(d.Status.JobStatus.JobID), rollback)
	require.Nil(t, d.Status.Operation, "the generation that failed is not tried again")
	require.Equal(t, v1beta1.LifecycleRolledBack, d.Status.LifecycleState)
	require.Equal(t, metav1.ConditionTrue, condition(d, ConditionReady).Status)

	// The spec changed back to the one that runs: nothing to deploy, nothing blocked.
	fd = then(fd, d)
	fd.Spec.Job.Parallelism = 2
	fd.Generation++
	d = decide(t, fd, running(d.Status.JobStatus.JobID), rollback)
	require.Nil(t, d.Status.Operation)
	require.Equal(t, metav1.ConditionFalse, condition(d, ConditionDegraded).Status, condition(d, ConditionDegraded).Message)
}

// TestUpgradeThatNeverRuns: a deployment whose JobManager crashes never reports its
// job; past the readiness timeout it is rolled back (when enabled) or reported.
func TestUpgradeThatNeverRuns(t *testing.T) {
	fd := withOperation(changed(runningDeployment()), v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepDeploying, JobID: "new"})
	fd.Status.ReconciliationStatus.LastReconciledSpec = encodeSpec(&fd.Spec)
	fd.Status.ReconciliationStatus.ReconciliationTimestamp = t0.Add(-6 * time.Minute).UnixMilli()
	fd.Status.JobStatus.UpgradeSavepointPath = savepointA
	crashing := Observation{Now: t0, Cluster: ClusterFailing, ClusterMessage: "CrashLoopBackOff", DeployedHash: "h", DesiredHash: "h"}
	d := decide(t, fd, crashing)
	require.Equal(t, "NotReadyInTime", condition(d, ConditionDegraded).Reason)
	require.Equal(t, v1beta1.StepDeploying, d.Status.Operation.Step, "keeps waiting")

	d = decide(t, fd, crashing, func(s *Settings) { s.RollbackEnabled = true })
	require.Equal(t, v1beta1.OperationRollback, d.Status.Operation.Kind)
	require.Equal(t, savepointA, d.Status.Operation.RestorePath)
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
}

func TestSavepointRedeploy(t *testing.T) {
	fd := runningDeployment()
	fd.Spec.Job.InitialSavepointPath = savepointA
	fd.Spec.Job.SavepointRedeployNonce = ptr.To[int64](1)
	fd.Generation++
	d := decide(t, fd, running(runningJobID))
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.Equal(t, savepointA, d.Status.Operation.RestorePath)
}

func TestSettingsFrom(t *testing.T) {
	s, errs := SettingsFrom(map[string]string{
		"kubernetes.operator.periodic.savepoint.interval":             "1h",
		"kubernetes.operator.job.upgrade.last-state-fallback.enabled": "true",
		"kubernetes.operator.savepoint.history.max.count":             "3",
	}, DefaultSettings())
	require.Empty(t, errs)
	require.Equal(t, time.Hour, s.PeriodicSavepointInterval)
	require.True(t, s.LastStateFallback)
	require.Equal(t, 3, s.SavepointHistoryMaxCount)
	_, errs = SettingsFrom(map[string]string{"kubernetes.operator.job.restart.failed": "yes please"}, DefaultSettings())
	require.ErrorContains(t, errs.ToAggregate(), "spec.flinkConfiguration[kubernetes.operator.job.restart.failed]")
}

// TestWaitingBacksOff checks that a deployment that keeps waiting — a JobManager that
// never answers — is looked at less and less often: every ProgressInterval at first,
// then a twentieth of the time it has waited, at most every ObserveInterval.
func TestWaitingBacksOff(t *testing.T) {
	fd := newDeployment()
	d := decide(t, fd, missing())
	fd = then(fd, d)
	started := fd.Status.Operation.StartTime.Time
	for _, tc := range []struct {
		waited, want time.Duration
	}{
		{0, 2 * time.Second},
		{30 * time.Second, 2 * time.Second},
		{100 * time.Second, 5 * time.Second},
		{4 * time.Minute, 10 * time.Second},
	} {
		obs := Observation{Now: started.Add(tc.waited), Cluster: ClusterReady, DeployedHash: "h", DesiredHash: "h"}
		got := decide(t, fd, obs)
		require.Equal(t, ActionNone, got.Action.Type)
		require.Equal(t, tc.want, got.RequeueAfter, "after waiting %s", tc.waited)
	}
}

// A REST API Flok cannot speak TLS with (a wrong CA, say) degrades the deployment with
// the reason, once as an event, and touches nothing; fixed, it clears.
func TestFlinkTLSFailureDegrades(t *testing.T) {
	fd := runningDeployment()
	refused := "Get \"https://basic-rest.flink.svc:8081/jobs/overview\": tls: failed to verify certificate: x509: certificate signed by unknown authority"
	obs := Observation{Now: t0, Cluster: ClusterReady, FlinkUnanswered: refused, FlinkTLS: refused}
	d := decide(t, fd, obs)
	require.Equal(t, ActionNone, d.Action.Type)
	degraded := meta.FindStatusCondition(d.Status.Conditions, ConditionDegraded)
	require.Equal(t, reasonFlinkTLS, degraded.Reason)
	require.Equal(t, "Flok cannot speak TLS with Flink's REST API: "+refused, degraded.Message)
	require.Len(t, d.Events, 1)
	require.Equal(t, reasonFlinkTLS, d.Events[0].Reason)

	d = decide(t, then(fd, d), obs)
	require.Empty(t, d.Events, "told once")

	// A change that failed keeps its condition; the TLS trouble waits behind it.
	blocked := runningDeployment()
	blocked.Status.Conditions = []metav1.Condition{{Type: ConditionDegraded, Status: metav1.ConditionTrue, Reason: reasonSavepointFailed, ObservedGeneration: blocked.Generation}}
	b := decide(t, blocked, obs)
	require.Equal(t, reasonSavepointFailed, meta.FindStatusCondition(b.Status.Conditions, ConditionDegraded).Reason)
	require.Empty(t, b.Events)
	d = decide(t, then(fd, d), running(runningJobID))
	require.Equal(t, metav1.ConditionFalse, meta.FindStatusCondition(d.Status.Conditions, ConditionDegraded).Status)
}

// A job that began again under the same id, with no operation of Flok's, was recovered
// by a JobManager that took over: an event says so, once.
func TestJobRecoveredByAnotherJobManager(t *testing.T) {
	fd := runningDeployment()
	obs := running(runningJobID)
	obs.Job.StartTime = 1_000
	fd = then(fd, decide(t, fd, obs))
	obs.HighAvailability = true
	obs.Job.StartTime = 61_000
	d := decide(t, fd, obs)
	require.Len(t, d.Events, 1)
	require.Equal(t, reasonJobRecovered, d.Events[0].Reason)
	require.False(t, d.Events[0].Warning)
	require.Equal(t, "job "+runningJobID+" began again at 1970-01-01T00:01:01Z: a JobManager that took over recovered it from Flink's high-availability metadata (its latest checkpoint)", d.Events[0].Message)
	require.Empty(t, decide(t, then(fd, d), obs).Events, "told once")
}
