// Package flinkjob is what both reconcilers do with a Flink job over REST: observe it
// (state, tasks, checkpoints, failures, the snapshots under way) for the lifecycle's
// decisions, and take the snapshot actions those decisions ask for.
package flinkjob

import (
	"context"
	"fmt"
	"strings"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// exceptionHistory is how many of a job's latest failures are read: Flink keeps 16
// by default (web.exception-history-size).
const exceptionHistory = 16

// Observe fills obs with the job the status records, found among jobs (GET
// /jobs/overview), and with the results of the snapshots the status says were
// triggered.
func Observe(ctx context.Context, flink *flinkrest.Client, status *v1beta1.CommonStatus, jobs []flinkrest.JobOverview, obs *lifecycle.Observation) {
	js := status.JobStatus
	for _, j := range jobs {
		if j.ID == js.JobID {
			obs.Job = job(ctx, flink, j)
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

// job reads one job's checkpoints and failures.
func job(ctx context.Context, flink *flinkrest.Client, j flinkrest.JobOverview) *lifecycle.Job {
	out := &lifecycle.Job{ID: j.ID, Name: j.Name, State: string(j.State), StartTime: j.StartTime,
		TasksRunning: j.Tasks["total"] > 0 && j.Tasks["running"]+j.Tasks["finished"] == j.Tasks["total"]}
	if cps, err := flink.Checkpoints(ctx, j.ID); err == nil {
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
	if ex, err := flink.Exceptions(ctx, j.ID, exceptionHistory); err == nil {
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
	return out
}

// snapshotResult asks Flink how a triggered snapshot went; nil when Flink does not
// know the trigger (not asked yet, or forgotten by a restarted JobManager).
func snapshotResult(ctx context.Context, flink *flinkrest.Client, kind flinkrest.OperationKind, jobID, triggerID string) *lifecycle.SnapshotResult {
	res, err := flink.Status(ctx, flinkrest.Operation{Kind: kind, JobID: jobID, TriggerID: flinkrest.TriggerID(triggerID)})
	if err != nil {
		return nil
	}
	out := &lifecycle.SnapshotResult{Done: res.Done, Path: res.Location}
	if res.Failure != nil {
		out.Failure = firstLine(res.Failure.StackTrace)
		if out.Failure == "" {
			out.Failure = res.Failure.Class
		}
	}
	return out
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
// operation.
func Snapshot(ctx context.Context, flink *flinkrest.Client, a lifecycle.Action) error {
	var err error
	trigger := flinkrest.TriggerID(a.TriggerID)
	switch a.Type {
	case lifecycle.ActionStopWithSavepoint:
		_, err = flink.StopWithSavepoint(ctx, a.JobID, flinkrest.StopRequest{TriggerID: trigger, FormatType: flinkrest.CanonicalFormat})
	case lifecycle.ActionTriggerSavepoint:
		_, err = flink.TriggerSavepoint(ctx, a.JobID, flinkrest.SavepointRequest{TriggerID: trigger, FormatType: flinkrest.CanonicalFormat})
	case lifecycle.ActionTriggerCheckpoint:
		_, err = flink.TriggerCheckpoint(ctx, a.JobID, flinkrest.CheckpointRequest{TriggerID: trigger, CheckpointType: "FULL"})
	default:
		err = fmt.Errorf("%q is not a snapshot action", a.Type)
	}
	return err
}
