package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestHostNetwork runs a native application with host networking
// (kubernetes.hostnetwork.enabled): its JobManager and TaskManager share the node's
// network, Flink binds its ports anew at each start and writes the REST port into the
// REST Service, through which the operator observes the job. A savepoint upgrade starts
// it again — new ports — from its savepoint, and no Pod restarts on the way (Flok sets
// no probe on ports Flink does not keep).
func TestHostNetwork(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	dir := flinktest.StateDir(t, cluster, ns)
	fd := topSpeedWindowing(t, ns, "hostnet", "native", release, dir)
	withOptions(t, fd, map[string]string{"kubernetes.hostnetwork.enabled": "true"})
	require.NoError(t, c.Create(ctx, fd))
	startOperator(t, ns, "")
	fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the job running with host networking", stableWith(""))
	first := fd.Status.JobStatus.JobID
	requireHostNetwork(t, ns, fd.Name)

	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 2 })
	fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the upgraded job", stableWith(first))
	requireHostNetwork(t, ns, fd.Name)
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName(fd.Name), "rest")
	require.Equal(t, fd.Status.JobStatus.UpgradeSavepointPath, restoredFrom(t, flink, fd.Status.JobStatus.JobID), "the new job restored the upgrade's savepoint")
	requireOneRunningJob(t, flink)

	require.NoError(t, c.Delete(ctx, fd))
	deletedCleanly(t, c, fd)
}

// requireHostNetwork checks that the cluster's Pods run on the node's network, one
// address for all, none restarted, and that Flink wrote the REST port it bound (not the
// configured 8081) into the REST Service.
func requireHostNetwork(t *testing.T, ns, name string) {
	t.Helper()
	pods, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + name})
	require.NoError(t, err)
	addresses := map[string]bool{}
	roles := map[string]bool{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		require.True(t, p.Spec.HostNetwork, p.Name)
		addresses[p.Status.PodIP] = true
		roles[p.Labels["component"]] = true
		for _, s := range p.Status.ContainerStatuses {
			require.Zero(t, s.RestartCount, "%s/%s restarted", p.Name, s.Name)
		}
	}
	require.Equal(t, map[string]bool{"jobmanager": true, "taskmanager": true}, roles)
	require.Len(t, addresses, 1, "the node's one address: %v", addresses)
	svc, err := cluster.Client.CoreV1().Services(ns).Get(t.Context(), render.RESTServiceName(name), metav1.GetOptions{})
	require.NoError(t, err)
	require.NotEqual(t, 8081, svc.Spec.Ports[0].TargetPort.IntValue(), "Flink wrote the port it bound: %+v", svc.Spec.Ports[0])
}
