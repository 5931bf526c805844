package logkeeper

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/keptlog"
)

func flinkPod(role string, statuses ...corev1.ContainerStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "tsw-" + role + "-1-1", Labels: map[string]string{"app": "tsw", "component": role}},
		Status:     corev1.PodStatus{ContainerStatuses: statuses},
	}
}

var finished = metav1.NewTime(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))

// TestRequestsFor: the runs whose logs would go with the Pod are asked for — an ended
// run, the run before a restart, a running one as its Pod is deleted — and only of
// Flink's main container in Flink's Pods.
func TestRequestsFor(t *testing.T) {
	oom := &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: finished}
	pod := flinkPod("taskmanager",
		corev1.ContainerStatus{Name: "flink-main-container", State: corev1.ContainerState{Terminated: oom}},
		corev1.ContainerStatus{Name: "sidecar", State: corev1.ContainerState{Terminated: oom}})
	require.Equal(t, []request{{Namespace: "team", Pod: "tsw-taskmanager-1-1", Container: "flink-main-container", Cluster: "tsw", Role: "taskmanager",
		Reason: "OOMKilled", ExitCode: 137, Ended: true, EndedAt: finished.UnixMilli()}}, requestsFor(pod))

	restarted := flinkPod("jobmanager", corev1.ContainerStatus{Name: "flink-main-container", RestartCount: 3,
		State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 239, FinishedAt: finished}}})
	got := requestsFor(restarted)
	require.Len(t, got, 1)
	require.Equal(t, int32(2), got[0].Run, "the run before the third restart")
	require.True(t, got[0].Previous)
	require.Equal(t, "Terminated", got[0].Reason)

	restarted.DeletionTimestamp = &finished
	got = requestsFor(restarted)
	require.Len(t, got, 2)
	require.Equal(t, keptlog.ReasonDeleted, got[0].Reason)
	require.Equal(t, int32(3), got[0].Run)
	require.False(t, got[0].Previous)
	require.NotEqual(t, got[0].doneKey(), got[1].doneKey())

	running := flinkPod("taskmanager", corev1.ContainerStatus{Name: "flink-main-container", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	require.Empty(t, requestsFor(running), "nothing to keep while it runs")
	other := flinkPod("taskmanager", corev1.ContainerStatus{Name: "flink-main-container", State: corev1.ContainerState{Terminated: oom}})
	other.Labels["component"] = "history-server"
	require.Empty(t, requestsFor(other))
}

// fakeLogs serves logs by pod name and counts the requests.
type fakeLogs struct {
	logs  map[string]string
	asked []corev1.PodLogOptions
}

func (f *fakeLogs) source(_ context.Context, _, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	f.asked = append(f.asked, *opts)
	log, ok := f.logs[pod]
	if !ok {
		return nil, apierrors.NewNotFound(corev1.Resource("pods"), pod)
	}
	return io.NopCloser(strings.NewReader(log)), nil
}

func newKeeper(t *testing.T, objs ...client.Object) (*Keeper, *fakeLogs) {
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	require.NoError(t, v1beta1.AddToScheme(scheme))
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	logs := &fakeLogs{logs: map[string]string{}}
	return &Keeper{Client: c, Reader: c, Logs: logs.source}, logs
}

func keptEntries(t *testing.T, k *Keeper) (*corev1.ConfigMap, []keptlog.Entry) {
	cm := &corev1.ConfigMap{}
	require.NoError(t, k.Reader.Get(t.Context(), types.NamespacedName{Namespace: "team", Name: "tsw-ended-logs"}, cm))
	entries, err := keptlog.Entries(cm)
	require.NoError(t, err)
	return cm, entries
}

// TestReconcile: a run's log is kept once, in a ConfigMap owned by the deployment; a
// log taken at deletion gives way to the final one; a Pod that went first and a
// deployment that is gone are no error and keep nothing.
func TestReconcile(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "tsw", UID: "uid-1"}}
	k, logs := newKeeper(t, fd)
	ctx := t.Context()
	base := request{Namespace: "team", Pod: "tsw-taskmanager-1-1", Container: "flink-main-container", Cluster: "tsw", Role: "taskmanager"}

	deleted := base
	deleted.Reason, deleted.EndedAt = keptlog.ReasonDeleted, finished.UnixMilli()
	logs.logs[base.Pod] = "started\n"
	_, err := k.Reconcile(ctx, deleted)
	require.NoError(t, err)
	cm, entries := keptEntries(t, k)
	require.Equal(t, "uid-1", string(cm.OwnerReferences[0].UID), "goes with its deployment")
	require.Equal(t, "true", cm.Labels[keptlog.LabelKeptLogs])
	require.Len(t, entries, 1)
	require.False(t, entries[0].Final())
	require.Equal(t, int64(tailLines), *logs.asked[0].TailLines)

	final := base
	final.Reason, final.ExitCode, final.Ended, final.EndedAt = "Error", 143, true, finished.UnixMilli()+1000
	logs.logs[base.Pod] = "started\nstopping\n"
	_, err = k.Reconcile(ctx, final)
	require.NoError(t, err)
	cm, entries = keptEntries(t, k)
	require.Len(t, entries, 1)
	require.True(t, entries[0].Final())
	require.Equal(t, int32(143), *entries[0].ExitCode)
	log, err := keptlog.Read(cm, entries[0])
	require.NoError(t, err)
	require.Equal(t, "started\nstopping\n", string(log))

	asked := len(logs.asked)
	_, err = k.Reconcile(ctx, final)
	require.NoError(t, err)
	k.done = nil // an operator started again reads the ConfigMap instead
	_, err = k.Reconcile(ctx, deleted)
	require.NoError(t, err)
	require.Len(t, logs.asked, asked, "a kept run is not read again")

	gone := base
	gone.Pod, gone.Reason, gone.Ended = "tsw-taskmanager-1-2", "OOMKilled", true
	_, err = k.Reconcile(ctx, gone)
	require.NoError(t, err, "a Pod that went first is no error")
	_, entries = keptEntries(t, k)
	require.Len(t, entries, 1)

	other := base
	other.Cluster, other.Pod = "deleted-deployment", "deleted-deployment-taskmanager-1-1"
	logs.logs[other.Pod] = "log\n"
	asked = len(logs.asked)
	_, err = k.Reconcile(ctx, other)
	require.NoError(t, err)
	require.Len(t, logs.asked, asked, "nothing is read for a deployment that is gone")
}
