package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/keptlog"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinktest"
)

// keptLogOf waits until the operator has kept a log of the cluster's role (jobmanager
// or taskmanager) — of pod, unless pod is "" — and returns it.
func keptLogOf(t *testing.T, ns, name, role, pod string) keptlog.Entry {
	t.Helper()
	var found keptlog.Entry
	flinktest.WaitFor(t, time.Minute, "a kept "+role+" log of "+name, func(ctx context.Context) (bool, error) {
		cm, err := cluster.Client.CoreV1().ConfigMaps(ns).Get(ctx, keptlog.ConfigMapName(name), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		entries, err := keptlog.Entries(cm)
		if err != nil {
			return false, err
		}
		for _, e := range entries {
			if e.Role == role && (pod == "" || e.Pod == pod) {
				found = e
				return true, nil
			}
		}
		return false, nil
	})
	return found
}

// proveKeptJobManagerLog: the JobManager Pod an upgrade deleted is gone, and its log,
// taken as it was deleted, is what `flok logs --terminated` prints.
func proveKeptJobManagerLog(t *testing.T, ns, name string) {
	t.Helper()
	e := keptLogOf(t, ns, name, render.ComponentJobManager, "")
	_, err := cluster.Client.CoreV1().Pods(ns).Get(t.Context(), e.Pod, metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "the upgrade deleted JobManager Pod %s", e.Pod)
	code, stdout, stderr := flok(t, ns, "logs", name, "--terminated", "--pod", e.Pod)
	require.Zero(t, code, stderr)
	require.Contains(t, strings.ToLower(stdout), "clusterentrypoint", "the JobManager's own log")
	require.Contains(t, stderr, "Pod "+e.Pod+", container "+render.MainContainerName)
}

// proveKeptOOMKilledLog: the log of a TaskManager that was OOMKilled, whose Pod
// Flink's ResourceManager deleted, is readable through `flok logs --terminated`.
func proveKeptOOMKilledLog(t *testing.T, ns, name, pod string) {
	t.Helper()
	e := keptLogOf(t, ns, name, render.ComponentTaskManager, pod)
	require.Equal(t, "OOMKilled", e.Reason)
	require.True(t, e.Final())
	flinktest.WaitFor(t, time.Minute, "Flink to delete the OOMKilled TaskManager Pod "+pod, func(ctx context.Context) (bool, error) {
		_, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	code, stdout, stderr := flok(t, ns, "logs", name, "--terminated", "--pod", pod)
	require.Zero(t, code, stderr)
	require.Contains(t, stdout, "kubernetes-taskmanager", "the TaskManager's console")
	require.Contains(t, stderr, "OOMKilled, exit code 137")
}

// checkpointDebugLine is a DEBUG line of Flink's checkpoint coordination, in the
// console layout (level, then logger).
var checkpointDebugLine = regexp.MustCompile(`DEBUG\s+org\.apache\.flink\.runtime\.checkpoint\.`)

// proveDynamicLogLevel: `flok loglevel` turns a logger to DEBUG in the running
// JobManager — the same Pod, the same job — and the operator says so.
func proveDynamicLogLevel(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	ctx := t.Context()
	pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name + ",component=" + render.ComponentJobManager})
	require.NoError(t, err)
	require.Len(t, pods.Items, 1)
	jm := pods.Items[0]
	logOf := func(ctx context.Context) (string, error) {
		out, err := cluster.Client.CoreV1().Pods(ns).GetLogs(jm.Name, &corev1.PodLogOptions{Container: render.MainContainerName}).DoRaw(ctx)
		return string(out), err
	}
	before, err := logOf(ctx)
	require.NoError(t, err)
	require.NotRegexp(t, checkpointDebugLine, before, "the checkpoint logger starts at INFO")
	fd := &v1beta1.FlinkDeployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, fd))
	job := fd.Status.JobStatus

	code, stdout, stderr := flok(t, ns, "loglevel", name, "org.apache.flink.runtime.checkpoint", "debug", "--wait", "--timeout", "2m")
	require.Zero(t, code, stderr)
	require.Contains(t, stdout, "without a restart")
	requireEvent(t, ns, name, "LoggingUpdated")
	flinktest.WaitFor(t, 2*time.Minute, "DEBUG lines of the checkpoint logger in JobManager "+jm.Name, func(ctx context.Context) (bool, error) {
		log, err := logOf(ctx)
		return checkpointDebugLine.MatchString(log), err
	})
	now, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, jm.Name, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, jm.UID, now.UID, "the same JobManager Pod")
	require.Zero(t, now.Status.ContainerStatuses[0].RestartCount, "its container never restarted")
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(fd), fd))
	require.Equal(t, job.JobID, fd.Status.JobStatus.JobID, "the same job")
	require.Equal(t, job.StartTime, fd.Status.JobStatus.StartTime, "never restarted")
	require.Equal(t, v1beta1.LifecycleStable, fd.Status.LifecycleState)
}
