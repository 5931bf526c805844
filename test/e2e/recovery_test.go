package e2e

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// withHA turns Kubernetes high availability on, its metadata in the state directory.
func withHA(t *testing.T, fd *v1beta1.FlinkDeployment) {
	withOptions(t, fd, map[string]string{"high-availability.type": "kubernetes", "high-availability.storageDir": "file:///flink-data/ha"})
}

// restoredCheckpoint waits until the job runs, restored after since from a checkpoint
// (not a savepoint) at least as new as the one before, and returns its id.
func restoredCheckpoint(t *testing.T, flink *flinkrest.Client, jobID string, before int64, since time.Time, what string) int64 {
	t.Helper()
	var id int64
	flinktest.WaitFor(t, 4*time.Minute, what, func(ctx context.Context) (bool, error) {
		job, err := flink.Job(ctx, jobID)
		if err != nil || job.State != flinkrest.JobRunning {
			return false, nil
		}
		cps, err := flink.Checkpoints(ctx, jobID)
		if err != nil || cps.Latest.Restored == nil || cps.Latest.Restored.RestoreTimestamp < since.UnixMilli() {
			return false, nil
		}
		require.False(t, cps.Latest.Restored.IsSavepoint, "restored from a checkpoint")
		id = cps.Latest.Restored.ID
		require.GreaterOrEqual(t, id, before, "never an older checkpoint")
		return true, nil
	})
	return id
}

func killPods(t *testing.T, ns, selector string) {
	t.Helper()
	zero := int64(0)
	require.NoError(t, cluster.Client.CoreV1().Pods(ns).DeleteCollection(t.Context(),
		metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{LabelSelector: selector}))
}

// TestHighAvailabilityRecovery runs TopSpeedWindowing with Kubernetes HA and checks
// that it keeps its state through a killed JobManager Pod, a killed TaskManager Pod, a
// deleted JobManager Deployment and a last-state upgrade; that a stateless upgrade
// starts empty; that deletion removes the HA ConfigMaps; and that a new deployment of
// the same name starts clean.
func TestHighAvailabilityRecovery(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	dir := flinktest.StateDir(t, cluster, ns)
	fd := topSpeedWindowing(t, ns, "tsw", "native", release, dir)
	withHA(t, fd)
	fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
	require.NoError(t, c.Create(ctx, fd))
	startOperator(t, ns, "")
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName("tsw"), "rest")
	fd = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "the first deployment", stableWith(""))
	jobID := fd.Status.JobStatus.JobID
	flinktest.WaitFor(t, time.Minute, "HA metadata", func(ctx context.Context) (bool, error) {
		_, err := cluster.Client.CoreV1().ConfigMaps(ns).Get(ctx, "tsw-cluster-config-map", metav1.GetOptions{})
		return err == nil, nil
	})
	flinktest.WaitFor(t, time.Minute, "a completed checkpoint", func(ctx context.Context) (bool, error) {
		cps, err := flink.Checkpoints(ctx, jobID)
		return err == nil && cps.Counts.Completed > 1, nil
	})

	since := time.Now()
	killPods(t, ns, "app=tsw,component=jobmanager")
	restored := restoredCheckpoint(t, flink, jobID, 1, since, "the job back from its checkpoint after the JobManager Pod was killed")
	requireOneRunningJob(t, flink)

	since = time.Now()
	killPods(t, ns, "app=tsw,component=taskmanager")
	restored = restoredCheckpoint(t, flink, jobID, restored, since, "the job back from its checkpoints after its TaskManager Pod was killed")

	since = time.Now()
	require.NoError(t, cluster.Client.AppsV1().Deployments(ns).Delete(ctx, "tsw", metav1.DeleteOptions{}))
	restored = restoredCheckpoint(t, flink, jobID, restored, since, "the job back after its JobManager Deployment was deleted")
	fd = waitForDeployment(t, c, ns, "tsw", 3*time.Minute, "the recovered deployment", func(fd *v1beta1.FlinkDeployment) bool {
		return stableWith("")(fd) && fd.Status.JobStatus.JobID == jobID
	})

	// A last-state upgrade keeps the job's id and continues from its checkpoints, with
	// the new parallelism.
	since = time.Now()
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 2 })
	fd = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "the last-state upgrade", func(fd *v1beta1.FlinkDeployment) bool {
		return stableWith("")(fd) && fd.Status.ObservedGeneration == fd.Generation
	})
	require.Equal(t, jobID, fd.Status.JobStatus.JobID)
	restoredCheckpoint(t, flink, jobID, restored, since, "the upgraded job from the kept checkpoints")
	job, err := flink.Job(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, 2, job.Vertices[len(job.Vertices)-1].Parallelism, "the new job graph, not the old one from HA")

	// A stateless upgrade starts a new job without state; the old job's HA data goes.
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
		fd.Spec.Job.Parallelism = 1
	})
	fd = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "the stateless upgrade", stableWith(jobID))
	cps, err := flink.Checkpoints(ctx, fd.Status.JobStatus.JobID)
	require.NoError(t, err)
	require.Nil(t, cps.Latest.Restored, "a stateless upgrade starts empty")
	_, err = cluster.Client.CoreV1().ConfigMaps(ns).Get(ctx, "tsw-"+jobID+"-config-map", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "the old job's HA data is gone: %v", err)

	// Deletion removes the HA ConfigMaps too; the same name then starts clean — with a
	// standby JobManager this time.
	require.NoError(t, c.Delete(ctx, fd))
	deletedCleanly(t, c, fd)
	again := topSpeedWindowing(t, ns, "tsw", "native", release, dir)
	withHA(t, again)
	again.Spec.JobManager = &v1beta1.JobManagerSpec{Replicas: 2}
	require.NoError(t, c.Create(ctx, again))
	again = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "the new deployment of the same name", stableWith(""))
	require.NotEqual(t, jobID, again.Status.JobStatus.JobID)
	cps, err = flink.Checkpoints(ctx, again.Status.JobStatus.JobID)
	require.NoError(t, err)
	require.Nil(t, cps.Latest.Restored, "a new deployment starts clean, not from the old job's state")
	requireOneRunningJob(t, flink)
	proveStandbyTakesOver(t, c, flink, again)
	proveUpgradeSurvivesLeaderLoss(t, c, flink, again, dir)
}

// proveStandbyTakesOver kills the leading JobManager of a deployment with two, in the
// middle of a checkpoint: another JobManager wins the leader election — the standby, or
// the Pod replacing the killed one, whichever Flink's election picks — and recovers the
// job: the same job, from its latest completed checkpoint, once, while the operator
// keeps it STABLE.
func proveStandbyTakesOver(t *testing.T, c client.Client, flink *flinkrest.Client, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	ctx := t.Context()
	jobID := fd.Status.JobStatus.JobID
	flinktest.WaitFor(t, 3*time.Minute, "two JobManagers running", func(ctx context.Context) (bool, error) {
		return len(runningJobManagers(ctx, fd)) == 2, nil
	})
	flinktest.WaitFor(t, time.Minute, "a completed checkpoint", func(ctx context.Context) (bool, error) {
		cps, err := flink.Checkpoints(ctx, jobID)
		return err == nil && cps.Counts.Completed > 0, nil
	})
	var first string
	flinktest.WaitFor(t, time.Minute, "the leading JobManager in the HA ConfigMap", func(ctx context.Context) (bool, error) {
		first = haLeader(ctx, fd)
		return first != "", nil
	})
	// Killed during a checkpoint: the TaskManager frozen, the checkpoint Flink triggers
	// next stays in progress until the leader is gone; then it runs on.
	_, frozen := freezeTaskManager(t, fd.Namespace, fd.Name)
	var completed int64
	flinktest.WaitFor(t, time.Minute, "a checkpoint in progress", func(ctx context.Context) (bool, error) {
		cps, err := flink.Checkpoints(ctx, jobID)
		if err != nil || cps.Counts.InProgress == 0 || cps.Latest.Completed == nil {
			return false, nil
		}
		completed = cps.Latest.Completed.ID
		return true, nil
	})
	since := time.Now()
	zero := int64(0)
	require.NoError(t, cluster.Client.CoreV1().Pods(fd.Namespace).Delete(ctx, first, metav1.DeleteOptions{GracePeriodSeconds: &zero}))
	signal(t, frozen, syscall.SIGCONT)
	var next string
	flinktest.WaitFor(t, 3*time.Minute, "another JobManager leading", func(ctx context.Context) (bool, error) {
		next = haLeader(ctx, fd)
		return next != "" && next != first, nil
	})
	t.Logf("JobManager %s leads after %s was killed", next, first)
	restoredCheckpoint(t, flink, jobID, completed, since, "the job recovered by the new leader from its latest completed checkpoint")
	waitTasksRunning(t, flink, jobID)
	requireOneRunningJob(t, flink)
	requireEvent(t, fd.Namespace, fd.Name, "JobRecovered") // Flok tells what happened
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(fd), fd))
	require.Equal(t, v1beta1.LifecycleStable, fd.Status.LifecycleState)
	require.Equal(t, jobID, fd.Status.JobStatus.JobID, "the same job, not a new one")
}

// runningJobManagers are the deployment's JobManager Pods that run, with an address.
func runningJobManagers(ctx context.Context, fd *v1beta1.FlinkDeployment) []corev1.Pod {
	list, err := cluster.Client.CoreV1().Pods(fd.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + fd.Name + ",component=jobmanager"})
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(list.Items, func(p corev1.Pod) bool {
		return p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || p.DeletionTimestamp != nil
	})
}

// haLeader is the JobManager Pod whose address the deployment's HA ConfigMap names.
func haLeader(ctx context.Context, fd *v1beta1.FlinkDeployment) string {
	cm, err := cluster.Client.CoreV1().ConfigMaps(fd.Namespace).Get(ctx, fd.Name+"-cluster-config-map", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	for _, p := range runningJobManagers(ctx, fd) {
		for _, v := range cm.Data {
			if strings.Contains(v, p.Status.PodIP+":") {
				return p.Name
			}
		}
	}
	return ""
}

// proveUpgradeSurvivesLeaderLoss kills the leading JobManager while the
// stop-with-savepoint of a savepoint upgrade is in progress (the TaskManager frozen
// until then, so the savepoint cannot complete first). The new leader recovers the job
// from its checkpoint and knows nothing of the savepoint asked for; the operator asks
// again once the job runs, and the new job restores that savepoint.
func proveUpgradeSurvivesLeaderLoss(t *testing.T, c client.Client, flink *flinkrest.Client, fd *v1beta1.FlinkDeployment, dir string) {
	t.Helper()
	ctx, ns, jobID := t.Context(), fd.Namespace, fd.Status.JobStatus.JobID
	statuses := watchStatuses(t, fd)
	var first string
	flinktest.WaitFor(t, time.Minute, "the leading JobManager in the HA ConfigMap", func(ctx context.Context) (bool, error) {
		first = haLeader(ctx, fd)
		return first != "", nil
	})
	_, frozen := freezeTaskManager(t, ns, fd.Name)
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 2 })
	flinktest.WaitFor(t, 2*time.Minute, "the upgrade's savepoint in progress", func(ctx context.Context) (bool, error) {
		cps, err := flink.Checkpoints(ctx, jobID)
		if err != nil {
			return false, nil
		}
		return slices.ContainsFunc(cps.History, func(s flinkrest.CheckpointStats) bool {
			return s.IsSavepoint && s.Status == "IN_PROGRESS"
		}), nil
	})
	zero := int64(0)
	require.NoError(t, cluster.Client.CoreV1().Pods(ns).Delete(ctx, first, metav1.DeleteOptions{GracePeriodSeconds: &zero}))
	signal(t, frozen, syscall.SIGCONT)
	upgradedFromNewSavepoint(t, c, fd, flink, dir, "the upgrade finished after the leader was lost")
	requireUpgradeSteps(t, statuses())
}
