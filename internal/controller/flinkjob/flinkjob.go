// Package flinkjob is what both reconcilers do with a Flink job over REST: observe it
// (state, tasks, checkpoints, failures, the snapshots under way) for the lifecycle's
// decisions, and take the snapshot actions those decisions ask for.
package flinkjob

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// exceptionHistory is how many of a job's latest failures are read: Flink keeps 16
// by default (web.exception-history-size).
const exceptionHistory = 16

// Resource is what Observe needs to know of the resource whose job it observes.
type Resource struct {
	Key    types.NamespacedName
	Status *v1beta1.CommonStatus
	// Fresh asks for every detail of the job to be read now, none remembered: a
	// decision that may act on them (an upgrade, a deletion) is about to be made.
	Fresh bool
}

// ResourceOf describes obj, whose status is status, for Observe. Its job's details may
// be remembered only while it is steady: STABLE, its spec accepted, nothing under
// way, not being deleted — so that no upgrade or deletion ever acts on a checkpoint
// path read a while ago.
func ResourceOf(obj client.Object, status *v1beta1.CommonStatus) Resource {
	steady := obj.GetDeletionTimestamp() == nil && obj.GetGeneration() == status.ObservedGeneration &&
		status.Operation == nil && status.LifecycleState == v1beta1.LifecycleStable
	return Resource{Key: client.ObjectKeyFromObject(obj), Status: status, Fresh: !steady}
}

// Observe fills obs with the job the status records, found among jobs (GET
// /jobs/overview) — its details read, or remembered in memory when nothing changed —
// and with the results of the snapshots the status says were triggered.
func Observe(ctx context.Context, flink *flinkrest.Client, memory *Memory, res Resource, jobs []flinkrest.JobOverview, obs *lifecycle.Observation) {
	status := res.Status
	js := status.JobStatus
	for _, j := range jobs {
		if j.ID == js.JobID {
			obs.Job = job(ctx, flink, memory, res, j, obs.Now)
		}
	}
	if op := status.Operation; op != nil && op.Step == v1beta1.StepSnapshotting {
		obs.Savepoint = snapshotResult(ctx, flink, flinkrest.StopOperation, op.JobID, op.TriggerID)
	} else if info := js.SavepointInfo; info != nil && info.TriggerID != "" {
		obs.Savepoint = snapshotResult(ctx, flink, flinkrest.SavepointOperation, js.JobID, info.TriggerID)
	}
	if info := js.CheckpointInfo; info != nil && info.TriggerID != "" {
		obs.Checkpoint = snapshotResult(ctx, flink, flinkrest.CheckpointOperation, js.JobID, info.TriggerID)
	}
}

// job reads one job's checkpoints and failures, or takes them from memory.
func job(ctx context.Context, flink *flinkrest.Client, memory *Memory, res Resource, j flinkrest.JobOverview, now time.Time) *lifecycle.Job {
	readCheckpoints, readFailures, known := memory.need(res.Key, j, now, res.Fresh)
	out := &known
	out.ID, out.Name, out.State, out.StartTime = j.ID, j.Name, string(j.State), j.StartTime
	if j.State.IsGloballyTerminal() && j.EndTime > 0 {
		out.EndTime = j.EndTime
	}
	out.TasksRunning = j.Tasks["total"] > 0 && j.Tasks["running"]+j.Tasks["finished"] == j.Tasks["total"]
	checkpointsOK := !readCheckpoints || readJobCheckpoints(ctx, flink, memory.historyOf(res.Key), j.ID, out)
	out.CheckpointsUnread = !checkpointsOK
	failuresOK := !readFailures || readJobFailures(ctx, flink, j, out)
	switch {
	case !checkpointsOK || !failuresOK:
		memory.forgetDetails(res.Key) // read everything again next time
	case readCheckpoints:
		memory.remember(res.Key, j, *out, now)
	}
	return out
}

// readJobCheckpoints reads the job's latest checkpoint, savepoint and restore into out,
// and hands the recent ones to history; false when Flink did not answer.
func readJobCheckpoints(ctx context.Context, flink *flinkrest.Client, history func(jobID string, recent []flinkrest.CheckpointStats), jobID string, out *lifecycle.Job) bool {
	cps, err := flink.Checkpoints(ctx, jobID)
	if err == nil {
		history(jobID, cps.History)
		if c := cps.Latest.Completed; c != nil {
			out.LatestCheckpoint, out.LatestCheckpointTime = c.ExternalPath, c.LatestAckTimestamp
		}
		if s := cps.Latest.Savepoint; s != nil {
			out.LatestSavepoint = s.ExternalPath
		}
		if rs := cps.Latest.Restored; rs != nil {
			out.RestoredFrom = rs.ExternalPath
		}
	}
	return err == nil
}

// readJobFailures reads the job's exception history into out; false when Flink did
// not answer.
func readJobFailures(ctx context.Context, flink *flinkrest.Client, j flinkrest.JobOverview, out *lifecycle.Job) bool {
	out.Exceptions, out.Exception = nil, ""
	ex, err := flink.Exceptions(ctx, j.ID, exceptionHistory)
	if err == nil {
		for _, e := range ex.Entries {
			msg := firstLine(e.Stacktrace)
			if msg == "" {
				msg = e.ExceptionName
			}
			out.Exceptions = append(out.Exceptions, lifecycle.Exception{Timestamp: e.Timestamp, Message: msg})
		}
		if j.State == flinkrest.JobFailed && len(out.Exceptions) > 0 {
			out.Exception = out.Exceptions[0].Message
		}
	}
	return err == nil
}

// snapshotResult asks Flink how a triggered snapshot went; nil when Flink does not
// know the trigger (not asked yet, or forgotten by a restarted JobManager) or did not
// answer.
func snapshotResult(ctx context.Context, flink *flinkrest.Client, kind flinkrest.OperationKind, jobID, triggerID string) *lifecycle.SnapshotResult {
	out, _ := SnapshotResult(ctx, flink, flinkrest.Operation{Kind: kind, JobID: jobID, TriggerID: flinkrest.TriggerID(triggerID)})
	return out
}

// SnapshotResult asks Flink how a triggered snapshot went: nil without error when
// Flink does not know the trigger, an error when it did not answer. A completed
// checkpoint's path comes from the job's checkpoint statistics, as Flink answers a
// checkpoint trigger with the checkpoint's id only.
func SnapshotResult(ctx context.Context, flink *flinkrest.Client, op flinkrest.Operation) (*lifecycle.SnapshotResult, error) {
	res, err := flink.Status(ctx, op)
	if flinkrest.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &lifecycle.SnapshotResult{Done: res.Done, Path: res.Location, CheckpointID: res.CheckpointID}
	if res.Failure != nil {
		out.Failure = firstLine(res.Failure.StackTrace)
		if out.Failure == "" {
			out.Failure = res.Failure.Class
		}
	}
	if out.Done && out.Failure == "" && op.Kind == flinkrest.CheckpointOperation {
		out.Path = checkpointPath(ctx, flink, op.JobID, out.CheckpointID)
	}
	return out, nil
}

// checkpointPath is where a completed checkpoint is, from the job's checkpoint
// statistics; "" when Flink no longer lists it.
func checkpointPath(ctx context.Context, flink *flinkrest.Client, jobID string, id int64) string {
	cps, err := flink.Checkpoints(ctx, jobID)
	if err != nil {
		return ""
	}
	if c := cps.Latest.Completed; c != nil && c.ID == id {
		return c.ExternalPath
	}
	for _, c := range cps.History {
		if c.ID == id {
			return c.ExternalPath
		}
	}
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// IsSnapshot reports the actions Snapshot takes.
func IsSnapshot(t lifecycle.ActionType) bool {
	switch t {
	case lifecycle.ActionStopWithSavepoint, lifecycle.ActionTriggerSavepoint, lifecycle.ActionTriggerCheckpoint:
		return true
	}
	return false
}

// Snapshot takes a snapshot action: a stop-with-savepoint, a savepoint or a
// checkpoint, with the trigger id already recorded, so that a repeat finds the same
// operation. Savepoints go to the action's directory (empty: the job's default) in its
// format (empty: CANONICAL, portable across state backends); checkpoints are full.
func Snapshot(ctx context.Context, flink *flinkrest.Client, a lifecycle.Action) error {
	var err error
	trigger := flinkrest.TriggerID(a.TriggerID)
	format := flinkrest.SavepointFormat(a.Format)
	if format == "" {
		format = flinkrest.CanonicalFormat
	}
	switch a.Type {
	case lifecycle.ActionStopWithSavepoint:
		_, err = flink.StopWithSavepoint(ctx, a.JobID, flinkrest.StopRequest{TriggerID: trigger, FormatType: format, TargetDirectory: a.Directory})
	case lifecycle.ActionTriggerSavepoint:
		_, err = flink.TriggerSavepoint(ctx, a.JobID, flinkrest.SavepointRequest{TriggerID: trigger, FormatType: format, TargetDirectory: a.Directory})
	case lifecycle.ActionTriggerCheckpoint:
		_, err = flink.TriggerCheckpoint(ctx, a.JobID, flinkrest.CheckpointRequest{TriggerID: trigger, CheckpointType: "FULL"})
	default:
		err = fmt.Errorf("%q is not a snapshot action", a.Type)
	}
	return err
}
