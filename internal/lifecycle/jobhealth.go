package lifecycle

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/flok-dev/flok/api/v1beta1"
)

// maxExceptionEvents bounds the exception events of one round.
const maxExceptionEvents = 3

// forwardExceptions turns the job's new failures into Warning events, newest first,
// and remembers the newest one forwarded.
func (d *decider) forwardExceptions(j *Job) {
	seen := d.status.LastExceptionTimestamp
	var fresh []Exception
	for _, e := range j.Exceptions {
		if e.Timestamp > seen {
			fresh = append(fresh, e)
		}
	}
	slices.SortFunc(fresh, func(a, b Exception) int { return cmp.Compare(b.Timestamp, a.Timestamp) })
	for i, e := range fresh {
		if i == maxExceptionEvents {
			d.warn(reasonJobException, "%d more failures of job %s", len(fresh)-i, j.ID)
			break
		}
		d.warn(reasonJobException, "job %s failed at %s: %s", j.ID, time.UnixMilli(e.Timestamp).UTC().Format(time.RFC3339), e.Message)
	}
	if len(fresh) > 0 {
		d.status.LastExceptionTimestamp = fresh[0].Timestamp
	}
}

// unhealthy reports a running job that keeps restarting or no longer completes
// checkpoints; with the health check on, it restarts the job from its latest state. It
// reports whether it started an operation.
func (d *decider) unhealthy() bool {
	j := d.ourJob()
	if j == nil || globallyTerminal(j.State) {
		return false
	}
	problem := ""
	since := d.now().Add(-d.set.RestartsWindow).UnixMilli()
	failures := 0
	for _, e := range j.Exceptions {
		if e.Timestamp >= since {
			failures++
		}
	}
	switch {
	case failures >= d.set.RestartsThreshold:
		problem = fmt.Sprintf("the job failed %d times in %s (restart loop)", failures, d.set.RestartsWindow)
		d.degrade(reasonRestartLoop, problem)
	case d.checkpointsStalled(j):
		problem = fmt.Sprintf("the job completed no checkpoint in %s", d.set.CheckpointProgressWindow)
		d.degrade(reasonCheckpointsStalled, problem)
	default:
		return false
	}
	if !d.set.HealthCheck {
		return false
	}
	d.fromRecordedState(v1beta1.OperationRestart, problem)
	return d.status.Operation != nil
}

// checkpointsStalled reports a job that runs with checkpoints configured but has
// completed none for the progress window.
func (d *decider) checkpointsStalled(j *Job) bool {
	if !d.obs.Checkpointing || j.State != JobRunning || !j.TasksRunning || j.StartTime == 0 {
		return false
	}
	window := d.set.CheckpointProgressWindow.Milliseconds()
	now := d.now().UnixMilli()
	last := max(j.LatestCheckpointTime, j.StartTime)
	return now-last > window
}
