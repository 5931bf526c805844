package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
)

var snapshotNow = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

func savepointSnapshot(change func(*v1beta1.FlinkStateSnapshot)) *v1beta1.FlinkStateSnapshot {
	s := &v1beta1.FlinkStateSnapshot{
		ObjectMeta: metav1.ObjectMeta{Name: "sp", Namespace: "ns", UID: "uid-1"},
		Spec: v1beta1.FlinkStateSnapshotSpec{
			JobReference: &v1beta1.JobReference{Kind: v1beta1.KindFlinkDeployment, Name: "orders"},
			Savepoint:    &v1beta1.SavepointSpec{FormatType: "NATIVE"},
		},
	}
	if change != nil {
		change(s)
	}
	return s
}

func jobRunning() StateSnapshotObservation {
	return StateSnapshotObservation{Now: snapshotNow, JobID: "job-1", SavepointDir: "file:///sp"}
}

func inProgress(s *v1beta1.FlinkStateSnapshot) {
	s.Status = v1beta1.FlinkStateSnapshotStatus{State: v1beta1.SnapshotInProgress, TriggerID: "t-1",
		TriggerTimestamp: snapshotNow.Add(-10 * time.Second).Format(time.RFC3339)}
}

func TestStateSnapshotTrigger(t *testing.T) {
	d := NextStateSnapshot(savepointSnapshot(nil), jobRunning())
	require.Equal(t, v1beta1.SnapshotInProgress, d.Status.State)
	require.Len(t, d.Status.TriggerID, 32)
	require.Equal(t, "2026-12-01T03:00:00Z", d.Status.TriggerTimestamp)
	require.Equal(t, Action{Type: ActionTriggerSavepoint, JobID: "job-1", TriggerID: d.Status.TriggerID, Directory: "file:///sp", Format: "NATIVE"}, d.Action)
	require.Equal(t, snapshotMinPoll, d.RequeueAfter)
	again := NextStateSnapshot(savepointSnapshot(nil), jobRunning())
	require.Equal(t, d.Status.TriggerID, again.Status.TriggerID, "the same input decides the same trigger id")

	d = NextStateSnapshot(savepointSnapshot(func(s *v1beta1.FlinkStateSnapshot) { s.Spec.Savepoint.Path = "s3://b/custom" }), jobRunning())
	require.Equal(t, "s3://b/custom", d.Action.Directory, "the spec's path wins over the job's default")

	d = NextStateSnapshot(savepointSnapshot(func(s *v1beta1.FlinkStateSnapshot) {
		s.Spec.Savepoint, s.Spec.Checkpoint = nil, &v1beta1.CheckpointSpec{}
	}), jobRunning())
	require.Equal(t, ActionTriggerCheckpoint, d.Action.Type)
	require.Empty(t, d.Action.Directory)
}

func TestStateSnapshotNeedsDirectory(t *testing.T) {
	obs := jobRunning()
	obs.SavepointDir = ""
	d := NextStateSnapshot(savepointSnapshot(nil), obs)
	require.Equal(t, v1beta1.SnapshotFailed, d.Status.State, "a spec without directory is not tried again")
	require.Contains(t, d.Status.Error, "spec.savepoint.path is empty and FlinkDeployment orders has no default savepoint directory")
	require.Equal(t, ActionNone, d.Action.Type)
	require.True(t, d.Events[0].Warning)
}

func TestStateSnapshotRegistersExisting(t *testing.T) {
	obs := jobRunning()
	obs.NotRunning = "FlinkDeployment orders does not exist"
	d := NextStateSnapshot(savepointSnapshot(func(s *v1beta1.FlinkStateSnapshot) {
		s.Spec.Savepoint = &v1beta1.SavepointSpec{AlreadyExists: true, Path: "file:///sp/savepoint-1"}
	}), obs)
	require.Equal(t, v1beta1.SnapshotCompleted, d.Status.State)
	require.Equal(t, "file:///sp/savepoint-1", d.Status.Path)
	require.Equal(t, ActionNone, d.Action.Type)
}

func TestStateSnapshotAbandoned(t *testing.T) {
	obs := jobRunning()
	obs.NotRunning = "job job-1 of FlinkDeployment orders is SUSPENDED"
	d := NextStateSnapshot(savepointSnapshot(nil), obs)
	require.Equal(t, v1beta1.SnapshotAbandoned, d.Status.State)
	require.Equal(t, obs.NotRunning, d.Status.Error)
	require.Equal(t, reasonSnapshotAbandoned, d.Events[0].Reason)

	d = NextStateSnapshot(savepointSnapshot(inProgress), obs)
	require.Equal(t, v1beta1.SnapshotAbandoned, d.Status.State, "a job that stops while the snapshot is taken abandons it")
}

func TestStateSnapshotProgress(t *testing.T) {
	obs := jobRunning()
	obs.Result = &SnapshotResult{}
	d := NextStateSnapshot(savepointSnapshot(inProgress), obs)
	require.Equal(t, v1beta1.SnapshotInProgress, d.Status.State)
	require.Equal(t, ActionNone, d.Action.Type)
	require.Equal(t, snapshotMinPoll, d.RequeueAfter)

	obs.Result = &SnapshotResult{Done: true, Path: "file:///sp/savepoint-2"}
	d = NextStateSnapshot(savepointSnapshot(inProgress), obs)
	require.Equal(t, v1beta1.SnapshotCompleted, d.Status.State)
	require.Equal(t, "file:///sp/savepoint-2", d.Status.Path)
	require.Equal(t, "2026-12-01T03:00:00Z", d.Status.ResultTimestamp)
	require.Equal(t, "t-1", d.Status.TriggerID)

	checkpoint := savepointSnapshot(func(s *v1beta1.FlinkStateSnapshot) {
		inProgress(s)
		s.Spec.Savepoint, s.Spec.Checkpoint = nil, &v1beta1.CheckpointSpec{}
	})
	obs.Result = &SnapshotResult{Done: true, CheckpointID: 7}
	d = NextStateSnapshot(checkpoint, obs)
	require.Equal(t, v1beta1.SnapshotInProgress, d.Status.State, "a checkpoint waits for its path to show in Flink's statistics")
	require.Equal(t, snapshotMinPoll, d.RequeueAfter)
	late := obs
	late.Now = snapshotNow.Add(checkpointPathWait)
	d = NextStateSnapshot(checkpoint, late)
	require.Equal(t, v1beta1.SnapshotCompleted, d.Status.State, "but not forever")
	require.Empty(t, d.Status.Path)
	require.True(t, d.Events[0].Warning)

	obs.Result, obs.Unanswered = nil, "connection refused"
	d = NextStateSnapshot(savepointSnapshot(inProgress), obs)
	require.Equal(t, v1beta1.SnapshotInProgress, d.Status.State, "no answer: look again")
	require.Equal(t, ActionNone, d.Action.Type)
	silent := obs
	silent.Now = snapshotNow.Add(unansweredTimeout)
	d = NextStateSnapshot(savepointSnapshot(inProgress), silent)
	require.Equal(t, v1beta1.SnapshotTriggerPending, d.Status.State, "but not for ever: a failed attempt")
	require.Contains(t, d.Status.Error, "no answer from Flink on the savepoint for 10m0s: connection refused")

	obs.Unanswered, obs.Invalid = "", "spec.jobReference: FlinkDeployment shared is a session cluster"
	d = NextStateSnapshot(savepointSnapshot(inProgress), obs)
	require.Equal(t, v1beta1.SnapshotFailed, d.Status.State, "a spec changed into one that cannot be carried out ends it")
}

// A trigger recorded but unknown to Flink (the operator stopped before sending it) is
// sent again under the recorded id, so that Flink never takes two.
func TestStateSnapshotResendsUnknownTrigger(t *testing.T) {
	d := NextStateSnapshot(savepointSnapshot(inProgress), jobRunning())
	require.Equal(t, v1beta1.SnapshotInProgress, d.Status.State)
	require.Equal(t, "t-1", d.Status.TriggerID)
	require.Equal(t, "t-1", d.Action.TriggerID)
	require.Equal(t, ActionTriggerSavepoint, d.Action.Type)
	require.Equal(t, snapshotNow.Add(-10*time.Second).Format(time.RFC3339), d.Status.TriggerTimestamp)

	late := jobRunning()
	late.Now = snapshotNow.Add(triggerGracePeriod)
	d = NextStateSnapshot(savepointSnapshot(inProgress), late)
	require.Equal(t, v1beta1.SnapshotTriggerPending, d.Status.State, "a trigger Flink never took counts as a failed attempt")
	require.Equal(t, int32(1), d.Status.Failures)
	require.Contains(t, d.Status.Error, "Flink did not take the savepoint (trigger t-1) within 1m0s")
}

func TestStateSnapshotBackoff(t *testing.T) {
	obs := jobRunning()
	obs.Result = &SnapshotResult{Done: true, Failure: "CheckpointException: Checkpoint expired"}
	d := NextStateSnapshot(savepointSnapshot(inProgress), obs)
	require.Equal(t, v1beta1.SnapshotTriggerPending, d.Status.State)
	require.Equal(t, int32(1), d.Status.Failures)
	require.Equal(t, obs.Result.Failure, d.Status.Error)
	require.Equal(t, 10*time.Second, d.RequeueAfter)
	require.Equal(t, reasonSnapshotError, d.Events[0].Reason)

	waiting := savepointSnapshot(func(s *v1beta1.FlinkStateSnapshot) { s.Status = d.Status })
	early := jobRunning()
	early.Now = snapshotNow.Add(4 * time.Second)
	d = NextStateSnapshot(waiting, early)
	require.Equal(t, ActionNone, d.Action.Type, "the back-off is waited out")
	require.Equal(t, 6*time.Second, d.RequeueAfter)
	late := jobRunning()
	late.Now = snapshotNow.Add(10 * time.Second)
	d = NextStateSnapshot(waiting, late)
	require.Equal(t, ActionTriggerSavepoint, d.Action.Type)
	require.NotEqual(t, "t-1", d.Action.TriggerID, "a new attempt is a new operation")

	require.Equal(t, []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second},
		[]time.Duration{backoff(1), backoff(2), backoff(3), backoff(4)})
	require.Equal(t, snapshotMaxBackoff, backoff(30))

	limited := savepointSnapshot(func(s *v1beta1.FlinkStateSnapshot) {
		inProgress(s)
		s.Spec.BackoffLimit, s.Status.Failures = ptr.To[int32](1), 1
	})
	d = NextStateSnapshot(limited, obs)
	require.Equal(t, v1beta1.SnapshotFailed, d.Status.State, "backoffLimit 1: one retry, then FAILED")
	require.Equal(t, int32(2), d.Status.Failures)
}

func TestStateSnapshotDeletion(t *testing.T) {
	deleted := func(change func(*v1beta1.FlinkStateSnapshot)) *v1beta1.FlinkStateSnapshot {
		return savepointSnapshot(func(s *v1beta1.FlinkStateSnapshot) {
			s.DeletionTimestamp = &metav1.Time{Time: snapshotNow}
			s.Status = v1beta1.FlinkStateSnapshotStatus{State: v1beta1.SnapshotCompleted, Path: "file:///sp/savepoint-3"}
			change(s)
		})
	}
	d := NextStateSnapshot(deleted(func(*v1beta1.FlinkStateSnapshot) {}), jobRunning())
	require.Equal(t, Action{Type: ActionDisposeSavepoint, Path: "file:///sp/savepoint-3"}, d.Action, "disposeOnDelete is true when unset")

	for name, change := range map[string]func(*v1beta1.FlinkStateSnapshot){
		"disposeOnDelete false": func(s *v1beta1.FlinkStateSnapshot) { s.Spec.Savepoint.DisposeOnDelete = ptr.To(false) },
		"checkpoint": func(s *v1beta1.FlinkStateSnapshot) {
			s.Spec.Savepoint, s.Spec.Checkpoint = nil, &v1beta1.CheckpointSpec{}
		},
		"no job":  func(s *v1beta1.FlinkStateSnapshot) { s.Spec.JobReference = nil },
		"failed":  func(s *v1beta1.FlinkStateSnapshot) { s.Status.State = v1beta1.SnapshotFailed },
		"pending": func(s *v1beta1.FlinkStateSnapshot) { s.Status.State = v1beta1.SnapshotTriggerPending },
	} {
		d := NextStateSnapshot(deleted(change), jobRunning())
		require.Equal(t, Action{Type: ActionRemoveFinalizer}, d.Action, name)
	}

	obs := jobRunning()
	obs.Result = &SnapshotResult{Done: true, Path: "file:///sp/savepoint-4"}
	d = NextStateSnapshot(deleted(inProgress), obs)
	require.Equal(t, v1beta1.SnapshotCompleted, d.Status.State, "a savepoint under way is seen to its end, to be disposed next")
	require.Equal(t, "file:///sp/savepoint-4", d.Status.Path)

	gone := jobRunning()
	gone.JobGone = "there is no FlinkDeployment orders in namespace ns"
	d = NextStateSnapshot(deleted(func(*v1beta1.FlinkStateSnapshot) {}), gone)
	require.Equal(t, Action{Type: ActionRemoveFinalizer}, d.Action, "no cluster can ever dispose of it: the files are kept")
	require.Equal(t, reasonSnapshotKept, d.Events[0].Reason)
	require.Contains(t, d.Events[0].Message, "savepoint file:///sp/savepoint-3 is kept")

	d = NextStateSnapshot(deleted(inProgress), jobRunning())
	require.Equal(t, v1beta1.SnapshotAbandoned, d.Status.State, "a trigger Flink never took is not sent on deletion")
	require.Equal(t, ActionNone, d.Action.Type)
}

func TestStateSnapshotInvalid(t *testing.T) {
	obs := jobRunning()
	obs.Invalid = "spec.savepoint.path: Required value"
	d := NextStateSnapshot(savepointSnapshot(nil), obs)
	require.Equal(t, v1beta1.SnapshotFailed, d.Status.State)
	require.Equal(t, obs.Invalid, d.Status.Error)
	require.Equal(t, ActionNone, d.Action.Type)
}
