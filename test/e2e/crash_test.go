package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/supervisor"
)

// crashPoints are the steps of a savepoint upgrade or suspension at which the operator
// is killed: before each action (its intent recorded, nothing done) and after it (done,
// nothing recorded).
var crashPoints = []string{
	"before:StopWithSavepoint", "after:StopWithSavepoint",
	"before:RemoveCluster", "after:RemoveCluster",
	"before:Deploy", "after:Deploy",
}

// TestCrashSafety kills the operator (SIGKILL) at every step of a savepoint upgrade and
// of a suspension and resumption, then starts it again: every run converges with the
// state restored from the savepoint the status recorded, and never two jobs running.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	for _, scenario := range []string{"upgrade", "suspend"} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			ns, c := operatorTest(t, release)
			ctx := t.Context()
			dir := flinktest.StateDir(t, cluster, ns)
			fd := topSpeedWindowing(t, ns, "tsw", "native", release, dir)
			require.NoError(t, c.Create(ctx, fd))
			op := startOperator(t, ns, "")
			fd = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "the first deployment", stableWith(""))
			op.Stop(10 * time.Second)
			flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName("tsw"), "rest")

			for i, point := range crashPoints {
				if scenario == "suspend" && (point == "before:Deploy" || point == "after:Deploy") {
					continue // a suspension deploys nothing; its resume is checked below
				}
				t.Logf("----- crash %s", point)
				previous := fd.Status.JobStatus.JobID
				op := crashThenRestart(t, ns, point, func() {
					switch scenario {
					case "upgrade":
						update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = int32(1 + (i+1)%2) })
					case "suspend":
						update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.State = v1beta1.JobStateSuspended })
					}
				})
				if scenario == "suspend" {
					fd = waitForDeployment(t, c, ns, "tsw", 4*time.Minute, "the suspension after the crash", func(fd *v1beta1.FlinkDeployment) bool {
						return fd.Status.LifecycleState == v1beta1.LifecycleSuspended
					})
					require.DirExists(t, hostPath(dir, fd.Status.JobStatus.UpgradeSavepointPath))
					pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=tsw"})
					require.NoError(t, err)
					require.Empty(t, pods.Items)
					update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.State = v1beta1.JobStateRunning })
				}
				fd = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "convergence after the crash", stableWith(previous))
				savepoint := fd.Status.JobStatus.UpgradeSavepointPath
				require.NotEmpty(t, savepoint, "the savepoint path survived the crash")
				require.DirExists(t, hostPath(dir, savepoint))
				require.Equal(t, savepoint, restoredFrom(t, flink, fd.Status.JobStatus.JobID), "the job restored the recorded savepoint")
				requireOneRunningJob(t, flink)
				op.Stop(10 * time.Second)
			}
		})
	}
}

// crashThenRestart starts an operator that kills itself at point, makes change, waits
// for the kill, and starts an operator again (returned) to carry on from the status.
func crashThenRestart(t *testing.T, ns, point string, change func()) *supervisor.Process {
	t.Helper()
	crashing := startOperator(t, ns, point)
	change()
	select {
	case <-crashing.Done():
	case <-time.After(4 * time.Minute):
		t.Fatalf("the operator did not reach %s", point)
	}
	return startOperator(t, ns, "")
}

// requireOneRunningJob checks that Flink runs exactly one job.
func requireOneRunningJob(t *testing.T, flink *flinkrest.Client) {
	t.Helper()
	var jobs []flinkrest.JobOverview
	flinktest.WaitFor(t, 30*time.Second, "Flink's job list", func(ctx context.Context) (bool, error) {
		var err error
		jobs, err = flink.Jobs(ctx)
		return err == nil, nil
	})
	running := 0
	for _, j := range jobs {
		if j.State == flinkrest.JobRunning {
			running++
		}
	}
	require.Equal(t, 1, running, "exactly one copy of the job runs: %+v", jobs)
}

// TestSessionJobCrashSafety kills the operator at every step of a session job's
// savepoint upgrade, then starts it again: every run converges with the new job
// restored from the savepoint the status recorded, and never two copies of the job
// running in the session cluster.
func TestSessionJobCrashSafety(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	jars := jarServer(t, release)
	ctx := t.Context()
	dir := flinktest.StateDir(t, cluster, ns)
	require.NoError(t, c.Create(ctx, sessionCluster(t, ns, "shared", "native", release, dir)))
	sj := sessionJob(t, ns, "job", "shared", jars.URL+"/TopSpeedWindowing.jar")
	require.NoError(t, c.Create(ctx, sj))
	op := startOperator(t, ns, "")
	sj = waitForSessionJob(t, c, ns, "job", 5*time.Minute, "the first submission", jobStableWith(""))
	op.Stop(10 * time.Second)
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName("shared"), "rest")

	for i, point := range crashPoints {
		t.Logf("----- crash %s", point)
		previous := sj.Status.JobStatus.JobID
		op := crashThenRestart(t, ns, point, func() {
			updateJob(t, c, sj, func(sj *v1beta1.FlinkSessionJob) { sj.Spec.Job.Parallelism = int32(1 + (i+1)%2) })
		})
		sj = waitForSessionJob(t, c, ns, "job", 4*time.Minute, "convergence after the crash", jobStableWith(previous))
		savepoint := sj.Status.JobStatus.UpgradeSavepointPath
		require.NotEmpty(t, savepoint, "the savepoint path survived the crash")
		require.DirExists(t, hostPath(dir, savepoint))
		require.Equal(t, savepoint, restoredFrom(t, flink, sj.Status.JobStatus.JobID), "the job restored the recorded savepoint")
		requireOneRunningJob(t, flink)
		op.Stop(10 * time.Second)
	}
}
