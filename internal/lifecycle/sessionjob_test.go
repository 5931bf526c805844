package lifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
)

func newSessionJob() *v1beta1.FlinkSessionJob {
	return &v1beta1.FlinkSessionJob{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "streaming", UID: "uid-2", Generation: 1},
		Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "shared", Job: &v1beta1.JobSpec{
			JarURI: "https://repo.example.com/orders.jar", Parallelism: 2, UpgradeMode: v1beta1.UpgradeModeSavepoint, State: v1beta1.JobStateRunning,
		}},
	}
}

func decideJob(t *testing.T, sj *v1beta1.FlinkSessionJob, obs Observation) SessionJobDecision {
	t.Helper()
	before := sj.DeepCopy()
	d := NextSessionJob(sj, obs, DefaultSettings())
	require.Equal(t, before, sj, "NextSessionJob must not modify its input")
	require.Equal(t, d, NextSessionJob(sj, obs, DefaultSettings()), "the same input must give the same decision")
	return d
}

func thenJob(sj *v1beta1.FlinkSessionJob, d SessionJobDecision) *v1beta1.FlinkSessionJob {
	next := sj.DeepCopy()
	next.Status = d.Status
	return next
}

func jobCondition(d SessionJobDecision, kind string) *metav1.Condition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == kind {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// inSession is a session cluster that has job id (Missing when it has no such job or
// it ended), as the session job controller observes it.
func inSession(j *Job) Observation {
	obs := Observation{Now: t0, Cluster: ClusterMissing, Job: j, Checkpointing: true}
	if j != nil && !globallyTerminal(j.State) {
		obs.Cluster = ClusterReady
	}
	return obs
}

// runningSessionJob is newSessionJob submitted and STABLE.
func runningSessionJob(t *testing.T) *v1beta1.FlinkSessionJob {
	sj := newSessionJob()
	d := decideJob(t, sj, inSession(nil))
	require.Equal(t, ActionDeploy, d.Action.Type, "a first round submits the job")
	sj = thenJob(sj, d)
	id := sj.Status.JobStatus.JobID
	d = decideJob(t, sj, inSession(running(id).Job))
	require.Equal(t, v1beta1.LifecycleStable, d.Status.LifecycleState, "a job found running with all its tasks is STABLE at once")
	sj = thenJob(sj, d)
	return sj
}

// TestSessionJobSavepointUpgrade: the job is stopped with a savepoint, its stopped job
// counts as gone, and a new job is submitted from the savepoint.
func TestSessionJobSavepointUpgrade(t *testing.T) {
	sj := runningSessionJob(t)
	old := sj.Status.JobStatus.JobID
	sj.Spec.Job.Parallelism = 4
	sj.Generation++
	d := decideJob(t, sj, inSession(running(old).Job))
	require.Equal(t, ActionStopWithSavepoint, d.Action.Type)

	sj = thenJob(sj, d)
	stopped := running(old).Job
	stopped.State = JobFinished
	obs := inSession(stopped)
	obs.Savepoint = &SnapshotResult{Done: true, Path: savepointA}
	d = decideJob(t, sj, obs)
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	sj = thenJob(sj, d)

	obs.Savepoint, obs.Now = nil, t0.Add(time.Minute)
	d = decideJob(t, sj, obs)
	require.Equal(t, ActionDeploy, d.Action.Type, "the stopped job is gone: submit the new one")
	require.Equal(t, savepointA, d.Action.RestorePath)
	require.NotEqual(t, old, d.Action.JobID)
	require.Equal(t, int32(4), d.Action.Spec.Job.Parallelism)
}

// TestSessionJobLastStateCancels: last-state without HA cancels the job and submits
// it again from its latest checkpoint.
func TestSessionJobLastStateCancels(t *testing.T) {
	sj := runningSessionJob(t)
	sj.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
	sj.Spec.Job.Parallelism = 3
	sj.Generation++
	j := running(sj.Status.JobStatus.JobID).Job
	j.LatestCheckpoint = checkpointA
	d := decideJob(t, sj, inSession(j))
	require.Equal(t, ActionRemoveCluster, d.Action.Type)
	require.Equal(t, checkpointA, d.Status.Operation.RestorePath)

	// A checkpoint completed while the job was being cancelled subsumed checkpointA: the
	// job as it ended names the one to restore.
	sj = thenJob(sj, d)
	ended := *j
	ended.State, ended.EndTime = JobCanceled, t0.UnixMilli()
	d = decideJob(t, sj, inSession(&ended))
	require.Equal(t, ActionNone, d.Action.Type, "Flink's checkpoint statistics of a job that just ended may be cached from before: wait")
	require.Equal(t, checkpointA, d.Status.Operation.RestorePath)
	ended.EndTime = t0.Add(-time.Minute).UnixMilli()
	ended.LatestCheckpoint, ended.CheckpointsUnread = "", true
	d = decideJob(t, sj, inSession(&ended))
	require.Equal(t, ActionNone, d.Action.Type, "Flink did not tell the ended job's checkpoints: wait for them")
	require.Equal(t, checkpointA, d.Status.Operation.RestorePath)
	ended.CheckpointsUnread = false
	d = decideJob(t, sj, inSession(&ended))
	require.Equal(t, ActionNone, d.Action.Type, "Flink answered without the ended job's checkpoint (archiving it): wait for it")
	d = decideJob(t, sj, inSession(nil))
	require.Equal(t, ActionNone, d.Action.Type, "the ended job is not listed yet: wait for it")
	ended.LatestCheckpoint = checkpointB
	d = decideJob(t, sj, inSession(&ended))
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, checkpointB, d.Action.RestorePath)
	require.Equal(t, checkpointB, d.Status.JobStatus.UpgradeSavepointPath)

	// Never listed again: after a while, the checkpoint seen before is all there is.
	late := inSession(nil)
	late.Now = sj.Status.Operation.StartTime.Add(endedJobGrace + time.Second)
	d = decideJob(t, sj, late)
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, checkpointA, d.Action.RestorePath)
}

func TestSessionJobFailedIsNotResubmitted(t *testing.T) {
	sj := runningSessionJob(t)
	j := running(sj.Status.JobStatus.JobID).Job
	j.State, j.Exception = JobFailed, "java.lang.RuntimeException: boom"
	d := decideJob(t, sj, inSession(j))
	require.Equal(t, ActionNone, d.Action.Type, "a failed job is reported, not taken for a lost one")
	require.Equal(t, v1beta1.LifecycleFailed, d.Status.LifecycleState)
	require.Contains(t, jobCondition(d, ConditionDegraded).Message, "boom")
}

// TestSessionJobStopsForSessionUpgrade: the job stops with its state while its session
// cluster is upgraded, lets the cluster go, and is submitted once it is back.
func TestSessionJobStopsForSessionUpgrade(t *testing.T) {
	sj := runningSessionJob(t)
	id := sj.Status.JobStatus.JobID
	obs := inSession(running(id).Job)
	obs.SessionUpgrading = true
	d := decideJob(t, sj, obs)
	require.Equal(t, ActionStopWithSavepoint, d.Action.Type)
	require.Equal(t, reasonSessionUpgrade, d.Events[0].Reason)
	sj = thenJob(sj, d)
	require.False(t, SessionJobReleased(sj))

	stopped := running(id).Job
	stopped.State = JobFinished
	obs = inSession(stopped)
	obs.SessionUpgrading, obs.Savepoint = true, &SnapshotResult{Done: true, Path: savepointA}
	sj = thenJob(sj, decideJob(t, sj, obs))
	obs.Savepoint = nil
	d = decideJob(t, sj, obs)
	require.Equal(t, ActionNone, d.Action.Type, "nothing is submitted to a cluster about to go")
	require.Equal(t, v1beta1.StepDeploying, d.Status.Operation.Step)
	require.Equal(t, savepointA, d.Status.Operation.RestorePath)
	sj = thenJob(sj, d)
	require.True(t, SessionJobReleased(sj))

	// The upgraded cluster is back, without the job.
	d = decideJob(t, sj, inSession(nil))
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, savepointA, d.Action.RestorePath)
}

func TestSessionJobWaitsForItsSession(t *testing.T) {
	sj := newSessionJob()
	obs := Observation{Now: t0, SessionGone: true, SessionUnavailable: "waiting for session cluster shared: there is no FlinkDeployment shared"}
	d := decideJob(t, sj, obs)
	require.Equal(t, ActionNone, d.Action.Type)
	c := jobCondition(d, ConditionProgressing)
	require.Equal(t, reasonWaitingForSession, c.Reason)
	require.Contains(t, c.Message, "no FlinkDeployment shared")
	require.Equal(t, metav1.ConditionFalse, jobCondition(d, ConditionReady).Status)
	require.Equal(t, reasonWaitingForSession, d.Events[0].Reason)
	require.Empty(t, decideJob(t, thenJob(sj, d), obs).Events, "the same wait is not announced again")

	// Deleted while its cluster is gone: nothing runs, so it goes.
	running := runningSessionJob(t)
	now := metav1.NewTime(t0)
	running.DeletionTimestamp = &now
	require.Equal(t, ActionRemoveFinalizer, decideJob(t, running, obs).Action.Type)
	// Its cluster exists but does not answer: the job may still run, so it waits.
	obs.SessionGone = false
	require.Equal(t, ActionNone, decideJob(t, running, obs).Action.Type)
}

// TestSessionJobDeletedWhileWaitingKeepsItsSavepoint: a session job deleted in the
// middle of its stop-with-savepoint, while its session is being changed, is let go after
// the cleanup timeout — with the savepoint Flink reported recorded first, whether it came
// this round or while it waited (found by FuzzNext).
func TestSessionJobDeletedWhileWaitingKeepsItsSavepoint(t *testing.T) {
	for _, keptWhileWaiting := range []bool{false, true} {
		sj := runningSessionJob(t)
		sj.Status.LifecycleState = v1beta1.LifecycleUpgrading
		sj.Status.Operation = &v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepSnapshotting,
			UpgradeMode: v1beta1.UpgradeModeSavepoint, JobID: sj.Status.JobStatus.JobID, TriggerID: "t", StartTime: metav1.NewTime(t0)}
		sj.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
		obs := Observation{Now: t0.Add(time.Hour), SessionUnavailable: "the session cluster is being changed"}
		if keptWhileWaiting {
			sj.Status.Operation.RestorePath = savepointA
		} else {
			obs.Savepoint = &SnapshotResult{Done: true, Path: savepointA}
		}
		d := decideJob(t, sj, obs)
		require.Equal(t, ActionRemoveFinalizer, d.Action.Type)
		require.Equal(t, savepointA, d.Status.JobStatus.SavepointInfo.LastSavepoint.Location, "kept while waiting: %t", keptWhileWaiting)
		require.True(t, slices.ContainsFunc(d.Events, func(e Event) bool {
			return e.Reason == reasonSavepointCompleted && strings.Contains(e.Message, savepointA)
		}), "%+v", d.Events)
	}
}

func TestSessionJobBadArtifact(t *testing.T) {
	obs := inSession(nil)
	obs.ArtifactError = "spec.job.jarURI: https://repo.example.com/orders.jar: the server answered 404 Not Found"
	d := decideJob(t, newSessionJob(), obs)
	require.Equal(t, ActionNone, d.Action.Type)
	c := jobCondition(d, ConditionDegraded)
	require.Equal(t, reasonArtifact, c.Reason)
	require.Contains(t, c.Message, "404")
	require.Equal(t, reasonArtifact, d.Events[0].Reason)
	require.Equal(t, v1beta1.StepDeploying, d.Status.Operation.Step, "the deployment waits for the jar")
}
