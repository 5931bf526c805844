package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTerminationsBecomeEventsWithAdvice(t *testing.T) {
	obs := running(runningJobID)
	oom := ContainerTermination{Pod: "orders-taskmanager-1-1", Container: "flink-main-container", Role: "taskmanager",
		OOMKilled: true, ExitCode: 137, FinishedAt: t0.Add(-time.Minute).UnixMilli()}
	fatal := ContainerTermination{Pod: "orders-abc", Container: "flink-main-container", Role: "jobmanager",
		ExitCode: 239, FinishedAt: t0.Add(-2 * time.Minute).UnixMilli()}
	old := ContainerTermination{Pod: "orders-taskmanager-1-0", Role: "taskmanager", ExitCode: 1, FinishedAt: t0.Add(-time.Hour).UnixMilli()}
	obs.Terminations = []ContainerTermination{fatal, oom, old}
	fd := runningDeployment()
	fd.Status.LastTerminationTimestamp = t0.Add(-30 * time.Minute).UnixMilli()

	d := decide(t, fd, obs)
	require.Len(t, d.Events, 2, "only what ended after the last one reported")
	require.Equal(t, "ContainerOOMKilled", d.Events[0].Reason, "newest first")
	require.True(t, d.Events[0].Warning)
	require.Contains(t, d.Events[0].Message, "TaskManager Pod orders-taskmanager-1-1 (container flink-main-container) was OOMKilled at")
	require.Contains(t, d.Events[0].Message, "taskmanager.memory.process.size (spec.taskManager.resource.memory)")
	require.Contains(t, d.Events[0].Message, "taskmanager.memory.jvm-overhead.fraction")
	require.Contains(t, d.Events[0].Message, "state.backend.rocksdb.memory.managed")
	require.Equal(t, "ContainerFailed", d.Events[1].Reason)
	require.Contains(t, d.Events[1].Message, "JobManager Pod orders-abc (container flink-main-container) exited with code 239")
	require.Contains(t, d.Events[1].Message, "jobmanager.memory.jvm-metaspace.size")
	require.Equal(t, oom.FinishedAt, d.Status.LastTerminationTimestamp)

	c := condition(d, ConditionDegraded)
	require.Equal(t, metav1.ConditionTrue, c.Status, "a container OOMKilled lately degrades the deployment")
	require.Equal(t, "ContainerOOMKilled", c.Reason)
	require.Contains(t, c.Message, "was OOMKilled")

	next := then(fd, d)
	d = decide(t, next, obs)
	require.Empty(t, d.Events, "each end once")
	require.Equal(t, "ContainerOOMKilled", condition(d, ConditionDegraded).Reason, "still Degraded within the window")

	obs.Now = t0.Add(memoryTroubleWindow)
	obs.Job.LatestCheckpointTime = obs.Now.Add(-5 * time.Second).UnixMilli()
	d = decide(t, then(next, d), obs)
	require.Equal(t, metav1.ConditionFalse, condition(d, ConditionDegraded).Status, "cleared once the job ran without new kills")
}

func TestTerminationAdvice(t *testing.T) {
	at := t0.UnixMilli()
	require.Contains(t, terminationAdvice(ContainerTermination{Pod: "p", Role: "jobmanager", OOMKilled: true, FinishedAt: at}),
		"jobmanager.memory.process.size (spec.jobManager.resource.memory)")
	require.NotContains(t, terminationAdvice(ContainerTermination{Pod: "p", Role: "jobmanager", OOMKilled: true, FinishedAt: at}), "rocksdb")
	require.Contains(t, terminationAdvice(ContainerTermination{Pod: "p", Role: "taskmanager", ExitCode: 143, FinishedAt: at}), "liveness probe")
	require.Contains(t, terminationAdvice(ContainerTermination{Pod: "p", Role: "taskmanager", ExitCode: 137, FinishedAt: at}), "grace period")
	require.Contains(t, terminationAdvice(ContainerTermination{Pod: "p", Role: "taskmanager", ExitCode: 1, FinishedAt: at}), "see its log")
	require.Contains(t, terminationAdvice(ContainerTermination{Pod: "p", Role: "taskmanager", ExitCode: 239, FinishedAt: at}),
		`For "Java heap space" raise taskmanager.memory.task.heap.size`)
}
