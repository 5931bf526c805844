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
	require.Equal(t, int64(tailLines+1), *logs.asked[0].TailLines, "one more line tells whether lines were left out")
	require.False(t, entries[0].Truncated)

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

// TestRestartedMeanwhile: a container that restarted between the request and the read
// has a later run as its current log: nothing is kept for the run asked, and the
// request for it as the previous run keeps it then.
func TestRestartedMeanwhile(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "tsw", UID: "uid-1"}}
	pod := flinkPod("taskmanager", corev1.ContainerStatus{Name: "flink-main-container", RestartCount: 1,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	pod.UID = "pod-uid"
	k, logs := newKeeper(t, fd, pod)
	current := request{Namespace: "team", Pod: pod.Name, PodUID: "pod-uid", Container: "flink-main-container", Cluster: "tsw",
		Role: "taskmanager", Run: 0, Reason: "Error", Ended: true}
	logs.logs[pod.Name] = "run 1\n"
	_, err := k.Reconcile(t.Context(), current)
	require.NoError(t, err)
	require.False(t, k.isDone(current.doneKey()), "the run is still to be kept")
	cm := &corev1.ConfigMap{}
	require.True(t, apierrors.IsNotFound(k.Reader.Get(t.Context(), types.NamespacedName{Namespace: "team", Name: "tsw-ended-logs"}, cm)))

	previous := current
	previous.Previous = true
	logs.logs[pod.Name] = "run 0\n"
	_, err = k.Reconcile(t.Context(), previous)
	require.NoError(t, err)
	require.True(t, logs.asked[len(logs.asked)-1].Previous)
	_, entries := keptEntries(t, k)
	require.Len(t, entries, 1)
	require.Equal(t, "pod-uid", entries[0].PodUID)
}

// TestLinesLeftOut: a log of more lines than are kept says its beginning is missing.
func TestLinesLeftOut(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "tsw", UID: "uid-1"}}
	k, logs := newKeeper(t, fd)
	req := request{Namespace: "team", Pod: "tsw-taskmanager-1-1", Container: "flink-main-container", Cluster: "tsw",
		Role: "taskmanager", Reason: "Error", Ended: true}
	logs.logs[req.Pod] = "dropped\n" + strings.Repeat("kept\n", tailLines) // as the kubelet sends tailLines+1 lines
	_, err := k.Reconcile(t.Context(), req)
	require.NoError(t, err)
	cm, entries := keptEntries(t, k)
	require.True(t, entries[0].Truncated)
	log, err := keptlog.Read(cm, entries[0])
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("kept\n", tailLines), string(log))
}
