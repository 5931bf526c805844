package lifecycle

import (
	"time"

	"github.com/flok-dev/flok/api/v1beta1"
)

// snapshots handles savepoints and checkpoints of a running job: a pending one is
// waited for, a changed nonce triggers one, a periodic savepoint is taken when due.
// One trigger per round.
func (d *decider) snapshots(last *v1beta1.FlinkDeploymentSpec) {
	js := &d.status.JobStatus
	switch {
	case js.SavepointInfo != nil && js.SavepointInfo.TriggerID != "":
		d.awaitSavepoint(js.SavepointInfo)
		return
	case js.CheckpointInfo != nil && js.CheckpointInfo.TriggerID != "":
		d.awaitCheckpoint(js.CheckpointInfo)
		return
	case !d.jobRunning():
		return
	}
	job := d.spec().Job
	switch {
	case last.Job != nil && !equalPtr(job.SavepointTriggerNonce, last.Job.SavepointTriggerNonce):
		d.triggerSavepoint("MANUAL")
		d.acceptNonces(last)
	case last.Job != nil && !equalPtr(job.CheckpointTriggerNonce, last.Job.CheckpointTriggerNonce):
		d.triggerCheckpoint()
		d.acceptNonces(last)
	case d.set.PeriodicSavepointInterval > 0:
		due := d.periodicBase().Add(d.set.PeriodicSavepointInterval)
		if !d.now().Before(due) {
			d.triggerSavepoint("PERIODIC")
			return
		}
		d.out.RequeueAfter = min(due.Sub(d.now()), d.set.ObserveInterval)
	}
}

// periodicBase is when the last periodic savepoint completed, or the job started.
func (d *decider) periodicBase() time.Time {
	js := d.status.JobStatus
	if js.SavepointInfo != nil && js.SavepointInfo.LastPeriodicSavepointTimestamp > 0 {
		return time.UnixMilli(js.SavepointInfo.LastPeriodicSavepointTimestamp)
	}
	if start := parseMillis(js.StartTime); start > 0 {
		return time.UnixMilli(start)
	}
	return d.now()
}

// acceptNonces records the spec's snapshot nonces as handled, nothing else of it.
func (d *decider) acceptNonces(last *v1beta1.FlinkDeploymentSpec) {
	updated := last.DeepCopy()
	updated.Job.SavepointTriggerNonce = d.spec().Job.SavepointTriggerNonce
	updated.Job.CheckpointTriggerNonce = d.spec().Job.CheckpointTriggerNonce
	d.status.ReconciliationStatus.LastReconciledSpec = encodeSpec(updated)
}

func (d *decider) triggerSavepoint(kind string) {
	js := &d.status.JobStatus
	if js.SavepointInfo == nil {
		js.SavepointInfo = &v1beta1.SavepointInfo{}
	}
	info := js.SavepointInfo
	info.TriggerID = newID(d.fd.UID, "savepoint", d.now())
	info.TriggerType, info.FormatType, info.TriggerTimestamp = kind, "CANONICAL", d.now().UnixMilli()
	d.out.Action = Action{Type: ActionTriggerSavepoint, JobID: js.JobID, TriggerID: info.TriggerID}
}

func (d *decider) triggerCheckpoint() {
	js := &d.status.JobStatus
	if js.CheckpointInfo == nil {
		js.CheckpointInfo = &v1beta1.CheckpointInfo{}
	}
	info := js.CheckpointInfo
	info.TriggerID = newID(d.fd.UID, "checkpoint", d.now())
	info.TriggerType, info.FormatType, info.TriggerTimestamp = "MANUAL", "FULL", d.now().UnixMilli()
	d.out.Action = Action{Type: ActionTriggerCheckpoint, JobID: js.JobID, TriggerID: info.TriggerID}
}

// awaitSavepoint records a manual or periodic savepoint once Flink reports it.
func (d *decider) awaitSavepoint(info *v1beta1.SavepointInfo) {
	res := d.obs.Savepoint
	started := time.UnixMilli(info.TriggerTimestamp)
	switch {
	case res != nil && res.Done && res.Path != "":
		var nonce *int64
		if info.TriggerType == "MANUAL" {
			nonce = d.spec().Job.SavepointTriggerNonce
		}
		d.recordSavepoint(res.Path, info.TriggerType, nonce)
		d.event(reasonSavepointCompleted, "%s savepoint %s", info.TriggerType, res.Path)
	case res != nil && res.Done:
		d.warn(reasonSavepointFailed, "%s savepoint failed: %s", info.TriggerType, res.Failure)
	case d.now().Sub(started) > d.set.SavepointTimeout:
		d.warn(reasonSavepointFailed, "%s savepoint did not complete within %s", info.TriggerType, d.set.SavepointTimeout)
	default:
		return
	}
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = "", "", "", 0
}

// awaitCheckpoint records a manual checkpoint once Flink reports it. Flink answers
// with the checkpoint's id; its path shows in the job's checkpoint statistics, which
// Flink caches for a few seconds, so a completed checkpoint without one is waited for.
func (d *decider) awaitCheckpoint(info *v1beta1.CheckpointInfo) {
	res := d.obs.Checkpoint
	started := time.UnixMilli(info.TriggerTimestamp)
	switch {
	case res != nil && res.Done && res.Failure != "":
		d.warn(reasonCheckpointFailed, "checkpoint failed: %s", res.Failure)
	case res != nil && res.Done && res.Path != "":
		info.LastCheckpoint = &v1beta1.Snapshot{TimeStamp: d.now().UnixMilli(), Location: res.Path, TriggerType: "MANUAL", FormatType: info.FormatType,
			TriggerNonce: d.spec().Job.CheckpointTriggerNonce}
		d.event(reasonCheckpointDone, "checkpoint %s", res.Path)
	case res != nil && res.Done && d.now().Sub(started) < checkpointPathWait:
		return
	case res != nil && res.Done:
		d.event(reasonCheckpointDone, "checkpoint %d completed; Flink's statistics no longer list where", res.CheckpointID)
	case d.now().Sub(started) > d.set.SavepointTimeout:
		d.warn(reasonCheckpointFailed, "checkpoint did not complete within %s", d.set.SavepointTimeout)
	default:
		return
	}
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = "", "", "", 0
}

// recordSavepoint makes path the latest savepoint and keeps the history within its
// count and age.
func (d *decider) recordSavepoint(path, kind string, nonce *int64) {
	js := &d.status.JobStatus
	if js.SavepointInfo == nil {
		js.SavepointInfo = &v1beta1.SavepointInfo{}
	}
	info := js.SavepointInfo
	sp := v1beta1.Snapshot{TimeStamp: d.now().UnixMilli(), Location: path, TriggerType: kind, FormatType: "CANONICAL", TriggerNonce: nonce}
	info.LastSavepoint = &sp
	if kind == "PERIODIC" {
		info.LastPeriodicSavepointTimestamp = sp.TimeStamp
	}
	history := append(info.SavepointHistory, sp)
	oldest := d.now().Add(-d.set.SavepointHistoryMaxAge).UnixMilli()
	kept := history[:0]
	for _, h := range history {
		if h.TimeStamp >= oldest || d.set.SavepointHistoryMaxAge <= 0 {
			kept = append(kept, h)
		}
	}
	if n := d.set.SavepointHistoryMaxCount; n > 0 && len(kept) > n {
		kept = kept[len(kept)-n:]
	}
	info.SavepointHistory = kept
}
