package install

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/internal/controller/podmonitor"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/promtest"
)

// podMonitorOnShard waits for the PodMonitor the operator keeps for deployment name —
// owned by it, on the shard rendezvous hashing gives it among shards — and returns it.
func podMonitorOnShard(t *testing.T, ns, name string, shards int) *unstructured.Unstructured {
	t.Helper()
	c, err := client.New(cluster.Config, client.Options{})
	require.NoError(t, err)
	pm := &unstructured.Unstructured{}
	pm.SetGroupVersionKind(podmonitor.GroupKind.WithVersion("v1"))
	want := strconv.Itoa(podmonitor.Shard(ns, name, shards))
	flinktest.WaitFor(t, 2*time.Minute, fmt.Sprintf("PodMonitor %s on shard %s of %d", name, want, shards), func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pm)
		return err == nil && pm.GetLabels()[podmonitor.ShardLabel] == want, nil
	})
	owners := pm.GetOwnerReferences()
	require.Len(t, owners, 1)
	require.Equal(t, "FlinkDeployment", owners[0].Kind, "the PodMonitor goes with its deployment")
	return pm
}

// scrapedThroughItsPodMonitor runs a real Prometheus configured from the PodMonitor the
// operator keeps for deployment name, as the Prometheus Operator would configure it:
// it scrapes the job's JobManager and TaskManagers.
func scrapedThroughItsPodMonitor(t *testing.T, ns, name string, shards int) {
	t.Helper()
	prom := promtest.StartForPodMonitor(t, podMonitorOnShard(t, ns, name, shards), cluster.KubeconfigPath)
	for _, component := range []string{"jobmanager", "taskmanager"} {
		flinktest.WaitFor(t, 2*time.Minute, component+" metrics in Prometheus", func(ctx context.Context) (bool, error) {
			v, err := prom.Query(ctx, fmt.Sprintf(`up{namespace=%q, component=%q} == 1`, ns, component))
			return err == nil && len(v) > 0, nil
		})
	}
	v, err := prom.Query(t.Context(), fmt.Sprintf(`flink_jobmanager_job_uptime{namespace=%q, flinkdeployment=%q}`, ns, name))
	require.NoError(t, err)
	require.NotEmpty(t, v, "the job's series")
}

// podMonitorRepaired edits the PodMonitor the operator keeps for deployment name and
// waits until the operator has put it back.
func podMonitorRepaired(t *testing.T, ns, name string) {
	t.Helper()
	c, err := client.New(cluster.Config, client.Options{})
	require.NoError(t, err)
	pm := &unstructured.Unstructured{}
	pm.SetGroupVersionKind(podmonitor.GroupKind.WithVersion("v1"))
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, pm))
	edited := pm.DeepCopy()
	require.NoError(t, unstructured.SetNestedSlice(edited.Object, []any{map[string]any{"port": "web"}}, "spec", "podMetricsEndpoints"))
	require.NoError(t, c.Patch(t.Context(), edited, client.MergeFrom(pm)))
	flinktest.WaitFor(t, time.Minute, "the edited PodMonitor put back", func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pm); err != nil {
			return false, nil
		}
		endpoints, _, _ := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
		return len(endpoints) == 1 && endpoints[0].(map[string]any)["port"] == "metrics", nil
	})
}
