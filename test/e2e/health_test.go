package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestUnhealthyJob makes a real job stall and then loop, the way production jobs do
// when their checkpoint storage goes away: the test puts a file where the job's
// checkpoint directory was, so every checkpoint fails. While Flink tolerates checkpoint
// failures the job runs on and completes none: Flok reports CheckpointsStalled once the
// progress window has passed. When it tolerates none, each failure fails the job, Flink
// restarts it, and the restarts fail too: Flok reports RestartLoop. Each is the Degraded
// condition and a Warning event, and clears once the directory is back.
func TestUnhealthyJob(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	stateDir := flinktest.StateDir(t, cluster, ns)
	fd := topSpeedWindowing(t, ns, "unhealthy", "native", release, stateDir)
	withOptions(t, fd, map[string]string{
		"execution.checkpointing.tolerable-failed-checkpoints":                "1000000",
		"kubernetes.operator.reconcile.interval":                              "3s",
		"kubernetes.operator.cluster.health-check.checkpoint-progress.window": "20s",
		"kubernetes.operator.cluster.health-check.restarts.threshold":         "3",
		"kubernetes.operator.cluster.health-check.restarts.window":            "40s",
	})
	require.NoError(t, c.Create(ctx, fd))
	startOperator(t, ns, "")
	fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the first deployment", stableWith(""))

	restore := takeCheckpointsAway(t, stateDir, fd.Status.JobStatus.JobID)
	fd = waitForDegraded(t, fd, "CheckpointsStalled")
	require.Contains(t, degraded(fd).Message, "the job completed no checkpoint in 20s")
	require.Equal(t, "RUNNING", fd.Status.JobStatus.State, "failures tolerated: the job runs on")
	requireEvent(t, ns, fd.Name, "CheckpointsStalled")
	restore()
	waitForDegraded(t, fd, healthy)

	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) {
		withOptions(t, fd, map[string]string{"execution.checkpointing.tolerable-failed-checkpoints": "0"})
	})
	fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the upgrade to no tolerated failures", stableWith(fd.Status.JobStatus.JobID))
	restore = takeCheckpointsAway(t, stateDir, fd.Status.JobStatus.JobID)
	fd = waitForDegraded(t, fd, "RestartLoop")
	require.Contains(t, degraded(fd).Message, "(restart loop)")
	requireEvent(t, ns, fd.Name, "RestartLoop")
	requireEvent(t, ns, fd.Name, "JobException") // Flink's failures, forwarded
	restore()
	fd = waitForDegraded(t, fd, healthy)
	require.Equal(t, "RUNNING", fd.Status.JobStatus.State)

	require.NoError(t, c.Delete(ctx, fd))
	deletedCleanly(t, c, fd)
}

// takeCheckpointsAway moves the checkpoint directory of job jobID aside and puts a file
// in its place, so that Flink can write no checkpoint (nor read one back); the function
// it returns puts the directory back.
func takeCheckpointsAway(t *testing.T, stateDir, jobID string) func() {
	t.Helper()
	dir := filepath.Join(stateDir, "checkpoints", jobID)
	require.NoError(t, os.Rename(dir, dir+".away"))
	require.NoError(t, os.WriteFile(dir, []byte("not a directory\n"), 0o644))
	return func() {
		t.Helper()
		require.NoError(t, os.Remove(dir))
		require.NoError(t, os.Rename(dir+".away", dir))
	}
}

// waitForDegraded waits until the deployment's Degraded condition has reason.
func waitForDegraded(t *testing.T, fd *v1beta1.FlinkDeployment, reason string) *v1beta1.FlinkDeployment {
	t.Helper()
	return waitForDeployment(t, flokClient(t), fd.Namespace, fd.Name, 3*time.Minute, "the Degraded condition "+reason, func(fd *v1beta1.FlinkDeployment) bool {
		cond := degraded(fd)
		return cond != nil && cond.Reason == reason && cond.Status == conditionStatus(reason)
	})
}

func degraded(fd *v1beta1.FlinkDeployment) *metav1.Condition {
	return meta.FindStatusCondition(fd.Status.Conditions, lifecycle.ConditionDegraded)
}

// healthy is the reason of a Degraded condition that is False.
const healthy = "Healthy"

// conditionStatus is the status Degraded has with reason: False only when healthy.
func conditionStatus(reason string) metav1.ConditionStatus {
	if reason == healthy {
		return metav1.ConditionFalse
	}
	return metav1.ConditionTrue
}
