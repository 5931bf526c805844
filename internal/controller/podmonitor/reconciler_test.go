package podmonitor

import (
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flok-dev/flok/api/v1beta1"
)

func TestDesired(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "orders"}}
	pm, err := Desired(fd, 4)
	require.NoError(t, err)
	require.Equal(t, "PodMonitor", pm.GetKind())
	require.Equal(t, "team-a/orders", pm.GetNamespace()+"/"+pm.GetName())
	selector, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels")
	require.Equal(t, map[string]string{"app": "orders"}, selector)
	endpoints, _, _ := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
	require.Equal(t, []any{map[string]any{"port": "metrics"}}, endpoints)
	require.Equal(t, []any{"component"}, pm.Object["spec"].(map[string]any)["podTargetLabels"])
	require.Equal(t, "flok", pm.GetLabels()["app.kubernetes.io/managed-by"])

	expressions, _, _ := unstructured.NestedSlice(pm.Object, "spec", "selector", "matchExpressions")
	require.Len(t, expressions, 1, "Flink's Pods only, not any other Pod labelled app: orders")

	again, err := Desired(fd, 4)
	require.NoError(t, err)
	require.True(t, current(again, pm), "the same PodMonitor")
	edited := again.DeepCopy()
	require.NoError(t, unstructured.SetNestedSlice(edited.Object, []any{map[string]any{"port": "web"}}, "spec", "podMetricsEndpoints"))
	require.False(t, current(edited, pm), "an edited spec is repaired")
	for shards := 1; shards <= 8; shards++ {
		other, err := Desired(fd, shards)
		require.NoError(t, err)
		require.Equal(t, other.GetLabels()[ShardLabel] == pm.GetLabels()[ShardLabel], current(other, pm), "a new shard is a change")
	}
}
