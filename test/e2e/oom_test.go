package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestOOMKilledTaskManager runs a job whose TaskManagers commit more heap than their
// container's memory limit (-Xms over the process size, pre-touched): the node's
// memory cgroup kills each at start, for real, and Flink's ResourceManager replaces
// and deletes them. Flok reports it as a Warning event and the Degraded condition,
// naming the Pod and the memory options to raise.
func TestOOMKilledTaskManager(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	startOperator(t, ns, "")
	fd := topSpeedWindowing(t, ns, "tsw", "native", release, flinktest.StateDir(t, cluster, ns))
	fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
	withOptions(t, fd, map[string]string{"env.java.opts.taskmanager": "-Xms3g -Xmx3g -XX:+AlwaysPreTouch"})
	require.NoError(t, c.Create(ctx, fd))

	fd = waitForDeployment(t, c, ns, "tsw", 3*time.Minute, "the OOMKilled TaskManager reported", func(fd *v1beta1.FlinkDeployment) bool {
		cond := meta.FindStatusCondition(fd.Status.Conditions, lifecycle.ConditionDegraded)
		return cond != nil && cond.Reason == "ContainerOOMKilled"
	})
	msg := meta.FindStatusCondition(fd.Status.Conditions, lifecycle.ConditionDegraded).Message
	require.Contains(t, msg, "TaskManager Pod tsw-taskmanager-")
	require.Contains(t, msg, "was OOMKilled")
	require.Contains(t, msg, "taskmanager.memory.jvm-overhead.fraction")
	require.NotZero(t, fd.Status.LastTerminationTimestamp)
	requireEvent(t, ns, "tsw", "ContainerOOMKilled")
	pod := strings.Fields(strings.TrimPrefix(msg[strings.Index(msg, "TaskManager Pod "):], "TaskManager Pod "))[0]
	proveKeptOOMKilledLog(t, ns, "tsw", pod)

	require.NoError(t, c.Delete(ctx, fd))
	deletedCleanly(t, c, fd)
}
