package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/api/v1beta1"
)

func TestExceptionsBecomeEvents(t *testing.T) {
	obs := running(runningJobID)
	obs.Job.Exceptions = []Exception{
		{Timestamp: t0.Add(-time.Second).UnixMilli(), Message: "java.io.IOException: sink closed"},
		{Timestamp: t0.Add(-time.Minute).UnixMilli(), Message: "java.lang.OutOfMemoryError: Java heap space"},
	}
	fd := runningDeployment()
	fd.Status.LastExceptionTimestamp = t0.Add(-30 * time.Second).UnixMilli()
	d := decide(t, fd, obs)
	require.Len(t, d.Events, 1, "only failures newer than the last forwarded one")
	require.Equal(t, "JobException", d.Events[0].Reason)
	require.True(t, d.Events[0].Warning)
	require.Contains(t, d.Events[0].Message, "sink closed")
	require.Equal(t, obs.Job.Exceptions[0].Timestamp, d.Status.LastExceptionTimestamp)
	require.Empty(t, decide(t, then(fd, d), obs).Events, "each failure once")
}

func TestRestartLoop(t *testing.T) {
	obs := running(runningJobID)
	for i := range 8 {
		obs.Job.Exceptions = append(obs.Job.Exceptions, Exception{Timestamp: t0.Add(-time.Duration(i) * 10 * time.Second).UnixMilli(), Message: "boom"})
	}
	fd := runningDeployment()
	fd.Status.LastExceptionTimestamp = t0.UnixMilli()
	d := decide(t, fd, obs)
	require.Equal(t, "RestartLoop", condition(d, ConditionDegraded).Reason)
	require.Nil(t, d.Status.Operation, "reported, not acted on, unless the health check is on")

	fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastCheckpoint: &v1beta1.Snapshot{Location: checkpointA}}
	d = decide(t, fd, obs, func(s *Settings) { s.HealthCheck = true })
	require.Equal(t, v1beta1.OperationRestart, d.Status.Operation.Kind)
	require.Equal(t, checkpointA, d.Status.Operation.RestorePath, "restarted from its latest state")
}

func TestStalledCheckpoints(t *testing.T) {
	obs := running(runningJobID)
	obs.Job.LatestCheckpointTime = t0.Add(-11 * time.Minute).UnixMilli()
	d := decide(t, runningDeployment(), obs)
	require.Equal(t, "CheckpointsStalled", condition(d, ConditionDegraded).Reason)

	obs.Checkpointing = false
	d = decide(t, runningDeployment(), obs)
	require.Nil(t, condition(d, ConditionDegraded), "no checkpoints configured, none expected")
}
