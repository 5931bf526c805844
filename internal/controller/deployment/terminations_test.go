package deployment

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/internal/render"
)

func flinkPod(role string, statuses ...corev1.ContainerStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tsw-" + role, Labels: map[string]string{render.LabelApp: "tsw", render.LabelComponent: role}},
		Status:     corev1.PodStatus{ContainerStatuses: statuses},
	}
}

func ended(reason string, code int32, at time.Time) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code, FinishedAt: metav1.NewTime(at)}
}

func TestTerminationLog(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	key := types.NamespacedName{Namespace: "ns", Name: "tsw"}
	var log terminationLog
	tm := flinkPod(render.ComponentTaskManager, corev1.ContainerStatus{Name: "flink-main-container",
		State: corev1.ContainerState{Terminated: ended("OOMKilled", 137, now.Add(-time.Minute))}})
	require.True(t, log.record(key, tm, now))
	require.False(t, log.record(key, tm, now), "each end is recorded once")

	jm := flinkPod(render.ComponentJobManager, corev1.ContainerStatus{Name: "flink-main-container",
		State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		LastTerminationState: corev1.ContainerState{Terminated: ended("Error", 1, now.Add(-5*time.Minute))}})
	require.True(t, log.record(key, jm, now), "a restarted container's last end")
	probed := flinkPod(render.ComponentTaskManager, corev1.ContainerStatus{Name: "flink-main-container",
		State: corev1.ContainerState{Terminated: ended("Error", 143, now)}})
	require.True(t, log.record(key, probed, now), "SIGTERM while the Pod stays: its liveness probe failed")
	sidecar := flinkPod(render.ComponentTaskManager, corev1.ContainerStatus{Name: "log-shipper",
		State: corev1.ContainerState{Terminated: ended("OOMKilled", 137, now)}})
	require.False(t, log.record(key, sidecar, now), "a sidecar is not Flink")
	require.False(t, log.record(key, jm, now.Add(time.Hour)), "too old to tell")
	deleting := flinkPod(render.ComponentTaskManager, corev1.ContainerStatus{Name: "flink-main-container",
		State: corev1.ContainerState{Terminated: ended("Error", 1, now)}})
	deleting.DeletionTimestamp = &metav1.Time{Time: now}
	require.False(t, log.record(key, deleting, now), "a Pod being deleted was asked to end")
	require.False(t, log.record(key, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, now), "not a Flink Pod")

	require.Len(t, log.recent(key, now), 3)
	recent := log.recent(key, now.Add(10*time.Minute))
	require.Len(t, recent, 2, "ends older than the memory are dropped")
	require.True(t, recent[0].OOMKilled)
	require.Equal(t, "taskmanager", recent[0].Role)
	require.Equal(t, now.Add(-time.Minute).UnixMilli(), recent[0].FinishedAt)
	log.forget(key)
	require.Empty(t, log.recent(key, now))
}
