package deployment

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/api/v1beta1"
)

func TestPodFailing(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "jm"}}
	require.Empty(t, podFailing(pod, ""))
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "flink-main-container", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "no image flink:9.9"}}}}
	require.Equal(t, "Pod jm container flink-main-container: ErrImagePull: no image flink:9.9", podFailing(pod, ""))
	pod.Status.ContainerStatuses = nil
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/1 nodes have 64 CPUs"}}
	require.Contains(t, podFailing(pod, ""), "cannot be scheduled: 0/1 nodes have 64 CPUs")
}

func TestClusterOfPod(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tsw-taskmanager-1-1", Labels: map[string]string{"app": "tsw"}}}
	reqs := clusterOfPod(t.Context(), pod)
	require.Len(t, reqs, 1)
	require.Equal(t, "ns/tsw", reqs[0].String())
	require.Empty(t, clusterOfPod(t.Context(), &corev1.Pod{}))
}

func TestMetricsFollowTheStatus(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	before := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}}
	before.Status.Operation = &v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepSnapshotting, StartTime: metav1.NewTime(now.Add(-30 * time.Second))}
	after := before.DeepCopy()
	after.Status.Operation.Step, after.Status.Operation.RestorePath = v1beta1.StepRemovingCluster, "file:///sp"
	after.Status.LifecycleState = v1beta1.LifecycleUpgrading
	m.recorded(now, before, after)
	require.Equal(t, 1, testutil.CollectAndCount(m.savepointDuration))
	require.Equal(t, 1.0, float64(m.deployments.Count("UPGRADING")))

	done := after.DeepCopy()
	done.Status.Operation, done.Status.LifecycleState = nil, v1beta1.LifecycleDeployed
	m.recorded(now, after, done)
	require.Equal(t, 1, testutil.CollectAndCount(m.upgradeDuration))
	require.Equal(t, 1.0, float64(m.deployments.Count("DEPLOYED")))

	gaveUp := before.DeepCopy()
	gaveUp.Status.Operation = nil
	m.recorded(now, before, gaveUp)
	require.Equal(t, 1.0, testutil.ToFloat64(m.savepointFailures.WithLabelValues("savepoint")))

	m.recorded(now, before, done)
	other := done.DeepCopy()
	other.Name = "b"
	m.recorded(now, before, other)
	require.Equal(t, 2.0, float64(m.deployments.Count("DEPLOYED")), "the gauge counts each deployment once")
	m.forget(types.NamespacedName{Namespace: "ns", Name: "b"})
	require.Equal(t, 1.0, float64(m.deployments.Count("DEPLOYED")))

	m.forget(types.NamespacedName{Namespace: "ns", Name: "a"})
	require.Zero(t, m.deployments.Count("DEPLOYED"))
	m.seen(types.NamespacedName{Namespace: "ns", Name: "c"}, v1beta1.LifecycleStable)
	m.seen(types.NamespacedName{Namespace: "ns", Name: "c"}, v1beta1.LifecycleStable)
	require.Equal(t, 1, m.deployments.Count("STABLE"), "a deployment seen again, its status unchanged, counts once")
}
