package lifecycle

import (
	"fmt"
	"time"
)

// Reasons of the terminations' events and condition.
const (
	reasonOOMKilled       = "ContainerOOMKilled"
	reasonContainerFailed = "ContainerFailed"
)

// memoryTroubleWindow is how long after a container was OOMKilled the deployment stays
// Degraded: long enough to be seen, short enough to clear once memory was raised.
const memoryTroubleWindow = 10 * time.Minute

// flinkFatalExitCode is how Flink's processes exit on a fatal error (-17), most often
// an OutOfMemoryError of the JVM itself.
const flinkFatalExitCode = 239

// forwardTerminations turns the containers that ended unasked since the last one
// reported into Warning events, each with what to do.
func (d *decider) forwardTerminations() {
	forwardNewer(d.obs.Terminations, &d.status.LastTerminationTimestamp, func(t ContainerTermination) int64 { return t.FinishedAt },
		func(t ContainerTermination) {
			reason := reasonContainerFailed
			if t.OOMKilled {
				reason = reasonOOMKilled
			}
			d.warn(reason, "%s", terminationAdvice(t))
		},
		func(n int) { d.warn(reasonContainerFailed, "%d more JobManager or TaskManager containers ended", n) })
}

// memoryTrouble keeps the deployment Degraded while one of its containers was
// OOMKilled lately, with the advice for the newest (forwardTerminations sent its
// event).
func (d *decider) memoryTrouble() {
	var newest *ContainerTermination
	for i, t := range d.obs.Terminations {
		if t.OOMKilled && d.now().Sub(time.UnixMilli(t.FinishedAt)) < memoryTroubleWindow && (newest == nil || t.FinishedAt > newest.FinishedAt) {
			newest = &d.obs.Terminations[i]
		}
	}
	if newest != nil {
		d.markDegraded(reasonOOMKilled, terminationAdvice(*newest))
	}
}

// terminationAdvice says what ended, when, and which of Flink's memory options to
// raise — from how it ended and Flink's memory model.
func terminationAdvice(t ContainerTermination) string {
	what := fmt.Sprintf("%s Pod %s (container %s) %s at %s", roleName(t.Role), t.Pod, t.Container,
		map[bool]string{true: "was OOMKilled", false: fmt.Sprintf("exited with code %d", t.ExitCode)}[t.OOMKilled],
		time.UnixMilli(t.FinishedAt).UTC().Format(time.RFC3339))
	p := memoryOptions(t.Role)
	switch {
	case t.OOMKilled:
		// The heap is bounded by -Xmx and direct memory by MaxDirectMemorySize: what
		// outgrows the container is native memory outside Flink's budgets.
		return what + fmt.Sprintf(": the JVM used more memory than its container's limit, which Flink sets to %s (%s). "+
			"Java heap and direct memory are bounded; what grew is native memory — threads, garbage collection, code cache, RocksDB beyond its budget. "+
			"Raise the JVM overhead (%s.jvm-overhead.fraction, or its min and max)%s, or the whole process size",
			p.process, p.field, p.prefix, p.rocksDB)
	case t.ExitCode == flinkFatalExitCode:
		return what + fmt.Sprintf(" (a fatal error in Flink, most often an OutOfMemoryError of the JVM; its log names it). "+
			"For \"Java heap space\" raise %s; for \"Metaspace\" %s.jvm-metaspace.size; for \"Direct buffer memory\" %s; or the whole process size (%s)",
			p.heap, p.prefix, p.offHeap, p.field)
	case t.ExitCode == 143:
		return what + ": it was stopped (SIGTERM) while its Pod stayed — its liveness probe found it not answering for two minutes (a JVM stalled or overloaded); see the Pod's events and its log"
	case t.ExitCode == 137:
		return what + ": it was killed (SIGKILL) without being OOMKilled — by the node, or when it did not stop within its grace period; see the Pod's events"
	}
	return what + ": see its log for why"
}

// roleMemory names one role's memory options.
type roleMemory struct {
	prefix, process, field, heap, offHeap, rocksDB string
}

func memoryOptions(role string) roleMemory {
	if role == "jobmanager" {
		return roleMemory{
			prefix: "jobmanager.memory", process: "jobmanager.memory.process.size", field: "spec.jobManager.resource.memory",
			heap: "jobmanager.memory.heap.size", offHeap: "jobmanager.memory.off-heap.size",
		}
	}
	return roleMemory{
		prefix: "taskmanager.memory", process: "taskmanager.memory.process.size", field: "spec.taskManager.resource.memory",
		heap: "taskmanager.memory.task.heap.size", offHeap: "taskmanager.memory.task.off-heap.size",
		rocksDB: "; with RocksDB keep state.backend.rocksdb.memory.managed true (its default) so that it stays within managed memory (taskmanager.memory.managed.fraction)",
	}
}

func roleName(role string) string {
	if role == "jobmanager" {
		return "JobManager"
	}
	return "TaskManager"
}
