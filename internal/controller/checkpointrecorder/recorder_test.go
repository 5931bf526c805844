package checkpointrecorder

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/checkpointhistory"
	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/flinkrest"
)

func checkpoint(id, at int64) flinkrest.CheckpointStats {
	return flinkrest.CheckpointStats{ID: id, Status: "COMPLETED", TriggerTimestamp: at, EndToEndDuration: 100, CheckpointedSize: 2048}
}

// TestRecorderWritesWhatIsNewInBatches: what a round saw is written at the next flush,
// owned by its resource; the same checkpoints seen again write nothing; a later job's
// are added to the earlier job's; a resource that is gone gets nothing written.
func TestRecorderWritesWhatIsNewInBatches(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "orders", UID: "u-1"}}
	writes := 0
	api := fake.NewClientBuilder().WithScheme(cli.Scheme()).WithObjects(fd).WithInterceptorFuncs(interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			writes++
			return c.Apply(ctx, obj, opts...)
		},
	}).Build()
	r := &Recorder{Client: api, Reader: api, Kind: v1beta1.KindFlinkDeployment, NewObject: func() client.Object { return &v1beta1.FlinkDeployment{} }}
	key := types.NamespacedName{Namespace: "a", Name: "orders"}
	ctx := context.Background()
	stored := func() []checkpointhistory.Entry {
		cm := &corev1.ConfigMap{}
		require.NoError(t, api.Get(ctx, types.NamespacedName{Namespace: "a", Name: "orders-flinkdeployment-checkpoints"}, cm))
		require.Equal(t, types.UID("u-1"), cm.OwnerReferences[0].UID, "it goes with its resource")
		entries, err := checkpointhistory.Decode(cm)
		require.NoError(t, err)
		return entries
	}

	r.Saw(key, "job-1", []flinkrest.CheckpointStats{checkpoint(2, 20), checkpoint(1, 10), {ID: 3, Status: "IN_PROGRESS"}})
	r.Flush(ctx)
	require.Equal(t, 1, writes)
	require.Len(t, stored(), 2)

	r.Saw(key, "job-1", []flinkrest.CheckpointStats{checkpoint(2, 20), checkpoint(1, 10)})
	r.Flush(ctx)
	require.Equal(t, 1, writes, "nothing new, nothing written")

	r.Saw(key, "job-2", []flinkrest.CheckpointStats{checkpoint(1, 30)})
	r.Flush(ctx)
	entries := stored()
	require.Len(t, entries, 3)
	require.Equal(t, "job-1", entries[0].JobID)
	require.Equal(t, "job-2", entries[2].JobID)

	// A savepoint that ended after a newer checkpoint is still new.
	r.Saw(key, "job-2", []flinkrest.CheckpointStats{checkpoint(3, 50)})
	r.Flush(ctx)
	savepoint := checkpoint(2, 45)
	savepoint.IsSavepoint = true
	r.Saw(key, "job-2", []flinkrest.CheckpointStats{checkpoint(3, 50), savepoint})
	r.Flush(ctx)
	entries = stored()
	require.Len(t, entries, 5)
	require.True(t, entries[3].Savepoint, "%+v", entries)
	writesBefore := writes

	require.NoError(t, api.Delete(ctx, fd))
	r.Saw(key, "job-2", []flinkrest.CheckpointStats{checkpoint(2, 40)})
	r.Flush(ctx)
	require.Equal(t, writesBefore, writes, "a deleted resource has nothing written")
	require.Empty(t, r.pending)

	var none *Recorder
	none.Saw(key, "job", nil) // no recorder: nothing kept
}

// TestRecorderLeavesForeignConfigMapsAlone: a ConfigMap of the history's name that Flok
// did not make is neither written nor adopted.
func TestRecorderLeavesForeignConfigMapsAlone(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "orders", UID: "u-1"}}
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "orders-flinkdeployment-checkpoints"}, Data: map[string]string{"mine": "yes"}}
	api := fake.NewClientBuilder().WithScheme(cli.Scheme()).WithObjects(fd, theirs).Build()
	r := &Recorder{Client: api, Reader: api, Kind: v1beta1.KindFlinkDeployment, NewObject: func() client.Object { return &v1beta1.FlinkDeployment{} }}
	key := types.NamespacedName{Namespace: "a", Name: "orders"}
	r.Saw(key, "job-1", []flinkrest.CheckpointStats{checkpoint(1, 10)})
	r.Flush(context.Background())
	cm := &corev1.ConfigMap{}
	require.NoError(t, api.Get(context.Background(), types.NamespacedName{Namespace: "a", Name: theirs.Name}, cm))
	require.Equal(t, map[string]string{"mine": "yes"}, cm.Data)
	require.Empty(t, cm.OwnerReferences)
}
