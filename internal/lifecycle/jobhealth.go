package lifecycle

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/flok-dev/flok/api/v1beta1"
)

// maxForwardedEvents bounds the events of one kind that one round sends.
const maxForwardedEvents = 3

// forwardNewer sends an event for each of items that happened after *last, newest
// first — at most maxForwardedEvents, then one saying how many more — and moves *last
// to the newest: each is told once, also across rounds and operator restarts.
func forwardNewer[T any](items []T, last *int64, at func(T) int64, send func(T), more func(n int)) {
	fresh := slices.DeleteFunc(slices.Clone(items), func(item T) bool { return at(item) <= *last })
	slices.SortFunc(fresh, func(a, b T) int { return cmp.Compare(at(b), at(a)) })
	for i, item := range fresh {
		if i == maxForwardedEvents {
			more(len(fresh) - i)
			break
		}
		send(item)
	}
	if len(fresh) > 0 {
		*last = at(fresh[0])
	}
}

// forwardExceptions turns the job's new failures into Warning events.
func (d *decider) forwardExceptions(j *Job) {
	forwardNewer(j.Exceptions, &d.status.LastExceptionTimestamp, func(e Exception) int64 { return e.Timestamp },
		func(e Exception) {
			d.warn(reasonJobException, "job %s failed at %s: %s", j.ID, time.UnixMilli(e.Timestamp).UTC().Format(time.RFC3339), e.Message)
		},
		func(n int) { d.warn(reasonJobException, "%d more failures of job %s", n, j.ID) })
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
