package checkpointhistory

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/flok-dev/flok/internal/flinkrest"
)

// TestMergeKeepsEachCheckpointOnceNewestLast: entries of two jobs merged, a checkpoint
// seen twice kept once (the later copy), in time order, the oldest dropped past max;
// checkpoints in progress are not entries; the ConfigMap round-trips.
func TestMergeKeepsEachCheckpointOnceNewestLast(t *testing.T) {
	_, ended := FromFlink("j1", flinkrest.CheckpointStats{ID: 9, Status: "IN_PROGRESS"})
	require.False(t, ended)
	failed, ended := FromFlink("j1", flinkrest.CheckpointStats{ID: 3, Status: "FAILED", TriggerTimestamp: 30, FailureMessage: "Checkpoint expired\n\tat …"})
	require.True(t, ended)
	require.Equal(t, "Checkpoint expired", failed.Failure)

	old := []Entry{{JobID: "j1", ID: 1, Status: "COMPLETED", Triggered: 10}, {JobID: "j1", ID: 2, Status: "COMPLETED", Triggered: 20}}
	add := []Entry{failed, {JobID: "j1", ID: 2, Status: "COMPLETED", Triggered: 20, Size: 7}, {JobID: "j2", ID: 1, Status: "COMPLETED", Triggered: 40}}
	merged := Merge(old, add, 3)
	require.Equal(t, []Entry{{JobID: "j1", ID: 2, Status: "COMPLETED", Triggered: 20, Size: 7}, failed, {JobID: "j2", ID: 1, Status: "COMPLETED", Triggered: 40}}, merged)

	data, err := Encode(merged)
	require.NoError(t, err)
	back, err := Decode(&corev1.ConfigMap{Data: data})
	require.NoError(t, err)
	require.Equal(t, merged, back)
	_, err = Decode(&corev1.ConfigMap{Data: map[string]string{Key: "{"}})
	require.ErrorContains(t, err, Key)
	require.Equal(t, "orders-flinkdeployment-checkpoints", ConfigMapName("orders", "FlinkDeployment"))
}
