package lifecycle

import (
	"fmt"
	"time"

	"github.com/flok-dev/flok/api/v1beta1"
)

// StateSnapshotObservation is what the controller saw of a FlinkStateSnapshot's job.
type StateSnapshotObservation struct {
	Now time.Time
	// Invalid says what in the spec cannot be carried out (field paths and the fix);
	// "" when nothing.
	Invalid string
	// JobID is the job the referenced resource runs.
	JobID string
	// NotRunning says why the referenced job cannot take a snapshot now; "" when it
	// runs.
	NotRunning string
	// SavepointDir is the referenced job's default savepoint directory.
	SavepointDir string
	// Result is Flink's answer on status.triggerId; nil when Flink does not know it or
	// did not answer.
	Result *SnapshotResult
	// Unanswered says why Flink could not be asked about status.triggerId; "" when it
	// answered.
	Unanswered string
	// JobGone says why no cluster of the referenced job can ever dispose of the
	// savepoint (its resource is gone or being deleted); "" when one may.
	JobGone string
}

// StateSnapshotDecision is the outcome for a FlinkStateSnapshot: record Status (always
// first), then take Action.
type StateSnapshotDecision struct {
	Status       v1beta1.FlinkStateSnapshotStatus
	Action       Action
	Events       []Event
	RequeueAfter time.Duration
}

// Retries of a failed snapshot wait snapshotFirstBackoff, doubling up to
// snapshotMaxBackoff; a snapshot in progress is looked at again after a twentieth of
// the time it has taken, within [snapshotMinPoll, snapshotMaxPoll].
const (
	snapshotFirstBackoff = 10 * time.Second
	snapshotMaxBackoff   = 10 * time.Minute
	snapshotMinPoll      = 500 * time.Millisecond
	snapshotMaxPoll      = 10 * time.Second
	// checkpointPathWait is how long after its trigger a completed checkpoint waits
	// for its path to show in Flink's checkpoint statistics, which the REST API
	// caches for a few seconds (rest.cache.checkpoint-statistics.timeout).
	checkpointPathWait = time.Minute
	// triggerGracePeriod is how long a trigger Flink does not know is sent again
	// before the attempt counts as failed (the Apache operator's
	// kubernetes.operator.savepoint.trigger.grace-period).
	triggerGracePeriod = time.Minute
	// unansweredTimeout is how long a snapshot in progress may go without an answer
	// from Flink before the attempt counts as failed.
	unansweredTimeout = 10 * time.Minute
)

// Event reasons of FlinkStateSnapshots.
const (
	reasonSnapshotCompleted = "SnapshotCompleted"
	reasonSnapshotError     = "SnapshotError"
	reasonSnapshotFailed    = "SnapshotFailed"
	reasonSnapshotAbandoned = "SnapshotAbandoned"
	reasonSnapshotDisposing = "DisposingSavepoint"
	reasonSnapshotKept      = "SavepointKept"
)

// NextStateSnapshot decides what happens to a FlinkStateSnapshot now. A savepoint or
// checkpoint is triggered once its job runs (ABANDONED when it does not), with a
// trigger id recorded before the trigger so that a repeat after a crash finds the same
// operation; a failure is tried again after a back-off until spec.backoffLimit is
// spent; a registered savepoint (alreadyExists) is COMPLETED at once. On deletion a
// snapshot in progress is seen to its end first, then a completed savepoint's files
// are disposed when spec.savepoint.disposeOnDelete says so.
func NextStateSnapshot(snap *v1beta1.FlinkStateSnapshot, obs StateSnapshotObservation) StateSnapshotDecision {
	d := snapshotDecider{snap: snap, obs: obs, out: StateSnapshotDecision{Status: snap.Status}}
	if d.status().State == "" {
		d.status().State = v1beta1.SnapshotTriggerPending
	}
	switch state := d.status().State; {
	case state == v1beta1.SnapshotInProgress:
		d.progress()
	case snap.DeletionTimestamp != nil:
		d.delete()
	case state == v1beta1.SnapshotTriggerPending:
		d.trigger()
	}
	return d.out
}

// invalid ends a snapshot whose spec cannot be carried out.
func (d *snapshotDecider) invalid(why string) {
	st := d.status()
	st.State, st.Error, st.ResultTimestamp = v1beta1.SnapshotFailed, why, d.timestamp()
	d.out.Action, d.out.RequeueAfter = Action{}, 0
	d.event(true, reasonSnapshotFailed, "%s", why)
}

type snapshotDecider struct {
	snap *v1beta1.FlinkStateSnapshot
	obs  StateSnapshotObservation
	out  StateSnapshotDecision
}

func (d *snapshotDecider) status() *v1beta1.FlinkStateSnapshotStatus { return &d.out.Status }

func (d *snapshotDecider) kind() string {
	if d.snap.Spec.Checkpoint != nil {
		return "checkpoint"
	}
	return "savepoint"
}

func (d *snapshotDecider) timestamp() string { return d.obs.Now.UTC().Format(time.RFC3339) }

func (d *snapshotDecider) event(warning bool, reason, format string, args ...any) {
	d.out.Events = append(d.out.Events, Event{Warning: warning, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// trigger takes a pending snapshot: it registers an existing savepoint, waits out the
// back-off of a failed attempt, abandons a snapshot of a job that does not run, or
// triggers it under a new trigger id.
func (d *snapshotDecider) trigger() {
	st, spec := d.status(), d.snap.Spec
	switch {
	case d.obs.Invalid != "":
		d.invalid(d.obs.Invalid)
		return
	case spec.Savepoint != nil && spec.Savepoint.AlreadyExists:
		d.complete(spec.Savepoint.Path)
		return
	}
	if wait := d.backoffLeft(); wait > 0 {
		d.out.RequeueAfter = wait
		return
	}
	if d.obs.NotRunning != "" {
		d.abandon(d.obs.NotRunning)
		return
	}
	id := newID(d.snap.UID, fmt.Sprintf("snapshot-%d", st.Failures), d.obs.Now)
	if d.send(id) {
		st.State, st.TriggerID, st.TriggerTimestamp = v1beta1.SnapshotInProgress, id, d.timestamp()
	}
}

// send asks Flink for the snapshot under trigger id; false when it cannot be asked
// for (no savepoint directory: FAILED, the spec needs one).
func (d *snapshotDecider) send(id string) bool {
	spec := d.snap.Spec
	a := Action{Type: ActionTriggerCheckpoint, JobID: d.obs.JobID, TriggerID: id}
	if sp := spec.Savepoint; sp != nil {
		a.Type, a.Directory, a.Format = ActionTriggerSavepoint, sp.Path, sp.FormatType
		if a.Directory == "" {
			a.Directory = d.obs.SavepointDir
		}
		if a.Directory == "" {
			d.invalid(fmt.Sprintf("spec.savepoint.path is empty and %s %s has no default savepoint directory: set spec.savepoint.path, "+
				"or execution.checkpointing.savepoint-dir (state.savepoints.dir before Flink 1.20) in its flinkConfiguration", spec.JobReference.Kind, spec.JobReference.Name))
			return false
		}
	}
	d.out.Action, d.out.RequeueAfter = a, snapshotMinPoll
	return true
}

// progress follows a triggered snapshot to its end. A trigger Flink does not know — the
// operator stopped between recording it and sending it, the JobManager restarted, or
// Flink refused it — is sent again under the same id for a minute, then counts as a
// failed attempt; on deletion it is abandoned instead.
func (d *snapshotDecider) progress() {
	r := d.obs.Result
	switch {
	case d.obs.Invalid != "":
		d.invalid(d.obs.Invalid)
	case r != nil && r.Done && r.Failure != "":
		d.fail(r.Failure)
	case r != nil && r.Done && r.Path == "" && d.snap.Spec.Checkpoint != nil && d.elapsed() < checkpointPathWait:
		d.out.RequeueAfter = d.pollAfter()
	case r != nil && r.Done:
		d.complete(r.Path)
	case d.obs.NotRunning != "":
		d.abandon(d.obs.NotRunning)
	case r == nil && d.obs.Unanswered != "" && d.elapsed() > unansweredTimeout:
		d.fail(fmt.Sprintf("no answer from Flink on the %s for %s: %s", d.kind(), unansweredTimeout, d.obs.Unanswered))
	case r != nil || d.obs.Unanswered != "":
		d.out.RequeueAfter = d.pollAfter()
	case d.snap.DeletionTimestamp != nil:
		d.abandon("deleted before Flink took it")
	case d.elapsed() > triggerGracePeriod:
		d.fail(fmt.Sprintf("Flink did not take the %s (trigger %s) within %s of asking", d.kind(), d.status().TriggerID, triggerGracePeriod))
	default:
		d.send(d.snap.Status.TriggerID)
	}
}

// pollAfter is when to look at a snapshot in progress again.
func (d *snapshotDecider) pollAfter() time.Duration {
	return min(max(d.elapsed()/20, snapshotMinPoll), snapshotMaxPoll)
}

// elapsed is the time since the snapshot was triggered (0 when that is not known).
func (d *snapshotDecider) elapsed() time.Duration {
	started, err := time.Parse(time.RFC3339, d.status().TriggerTimestamp)
	if err != nil {
		return 0
	}
	return d.obs.Now.Sub(started)
}

func (d *snapshotDecider) complete(path string) {
	st := d.status()
	st.State, st.Path, st.Error, st.ResultTimestamp = v1beta1.SnapshotCompleted, path, "", d.timestamp()
	d.out.Action, d.out.RequeueAfter = Action{}, 0
	if path == "" {
		d.event(true, reasonSnapshotCompleted, "%s completed; Flink's checkpoint statistics no longer list its path", d.kind())
		return
	}
	d.event(false, reasonSnapshotCompleted, "%s %s", d.kind(), path)
}

func (d *snapshotDecider) abandon(why string) {
	st := d.status()
	st.State, st.Error, st.ResultTimestamp = v1beta1.SnapshotAbandoned, why, d.timestamp()
	d.out.Action, d.out.RequeueAfter = Action{}, 0
	d.event(true, reasonSnapshotAbandoned, "%s abandoned: %s", d.kind(), why)
}

// fail counts a failed attempt: tried again after a back-off, or FAILED once
// spec.backoffLimit (-1: no limit) is spent.
func (d *snapshotDecider) fail(why string) {
	st := d.status()
	st.Failures++
	st.Error, st.ResultTimestamp = why, d.timestamp()
	d.out.Action = Action{}
	if limit := d.snap.Spec.RetryLimit(); limit >= 0 && st.Failures > limit {
		st.State = v1beta1.SnapshotFailed
		d.event(true, reasonSnapshotFailed, "%s failed %d times, not tried again (spec.backoffLimit %d): %s", d.kind(), st.Failures, limit, why)
		return
	}
	st.State = v1beta1.SnapshotTriggerPending
	d.out.RequeueAfter = backoff(st.Failures)
	if d.snap.DeletionTimestamp != nil {
		d.out.RequeueAfter = 0
	}
	d.event(true, reasonSnapshotError, "%s failed (attempt %d), tried again in %s: %s", d.kind(), st.Failures, d.out.RequeueAfter, why)
}

// backoff is the wait after the failures-th failure: 10 s, 20 s, 40 s, … up to 10 min.
func backoff(failures int32) time.Duration {
	wait := snapshotFirstBackoff
	for i := int32(1); i < failures && wait < snapshotMaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, snapshotMaxBackoff)
}

// backoffLeft is how long a failed snapshot still waits before it is tried again.
func (d *snapshotDecider) backoffLeft() time.Duration {
	st := d.status()
	if st.Failures == 0 {
		return 0
	}
	failed, err := time.Parse(time.RFC3339, st.ResultTimestamp)
	if err != nil {
		return 0
	}
	return failed.Add(backoff(st.Failures)).Sub(d.obs.Now)
}

// delete lets a deleted snapshot go, after disposing of its savepoint's files when it
// completed, names a job whose cluster can dispose of them, and disposeOnDelete is
// set. When the job's resource is gone (or going, with its namespace, say) the files
// are kept and said so: waiting for a cluster that cannot come back would hold the
// resource forever.
func (d *snapshotDecider) delete() {
	st, spec := d.status(), d.snap.Spec
	if st.State != v1beta1.SnapshotCompleted || !spec.DisposesOnDelete() || spec.JobReference == nil || st.Path == "" {
		d.out.Action = Action{Type: ActionRemoveFinalizer}
		return
	}
	if d.obs.JobGone != "" {
		d.event(true, reasonSnapshotKept, "savepoint %s is kept, not disposed of: %s, so no cluster of it can", st.Path, d.obs.JobGone)
		d.out.Action = Action{Type: ActionRemoveFinalizer}
		return
	}
	d.event(false, reasonSnapshotDisposing, "disposing of savepoint %s before the resource goes", st.Path)
	d.out.Action = Action{Type: ActionDisposeSavepoint, Path: st.Path}
}
