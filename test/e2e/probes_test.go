package e2e

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// proveProbes checks that the running JobManager and TaskManagers of deployment name
// carry Flok's probes — native TaskManagers too, which Flink builds from the template
// — and that the probes, run by the node, have restarted none of them.
func proveProbes(t *testing.T, ns, name string) {
	t.Helper()
	for _, role := range []string{"jobmanager", "taskmanager"} {
		pods, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: fmt.Sprintf("app=%s,component=%s", name, role)})
		require.NoError(t, err)
		require.NotEmpty(t, pods.Items, role)
		for _, p := range pods.Items {
			main := p.Spec.Containers[0]
			require.NotNil(t, main.LivenessProbe, "%s %s has a liveness probe", role, p.Name)
			if role == "jobmanager" {
				require.Equal(t, "/config", main.StartupProbe.HTTPGet.Path, "%s's startup probe asks its REST API", p.Name)
				require.NotNil(t, main.LivenessProbe.TCPSocket, "%s's liveness probe dials its REST port", p.Name)
			} else {
				require.NotNil(t, main.LivenessProbe.TCPSocket, "%s's liveness probe dials its RPC port", p.Name)
			}
			for _, cs := range p.Status.ContainerStatuses {
				require.Zero(t, cs.RestartCount, "%s %s was not restarted by its probes", role, p.Name)
			}
		}
	}
}
