package e2e

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/statesnapshot"
	"github.com/flok-dev/flok/test/flinktest"
)

// proveStateSnapshots takes a savepoint and a checkpoint of the running job of the
// kind/name resource as FlinkStateSnapshots: both complete with their paths, the
// savepoint's files are on disk; deleting its resource disposes of them.
func proveStateSnapshots(t *testing.T, c client.Client, ns, kind, name, stateDir string) {
	t.Helper()
	ctx := t.Context()
	of := &v1beta1.JobReference{Kind: kind, Name: name}
	sp := &v1beta1.FlinkStateSnapshot{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-savepoint"},
		Spec:       v1beta1.FlinkStateSnapshotSpec{JobReference: of, Savepoint: &v1beta1.SavepointSpec{FormatType: "NATIVE"}},
	}
	cp := &v1beta1.FlinkStateSnapshot{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-checkpoint"},
		Spec:       v1beta1.FlinkStateSnapshotSpec{JobReference: of, Checkpoint: &v1beta1.CheckpointSpec{}},
	}
	require.NoError(t, c.Create(ctx, sp))
	require.NoError(t, c.Create(ctx, cp))
	for _, snap := range []*v1beta1.FlinkStateSnapshot{sp, cp} {
		flinktest.WaitFor(t, 2*time.Minute, snap.Name+" COMPLETED", func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(snap), snap); err != nil {
				return false, err
			}
			require.NotContains(t, []string{v1beta1.SnapshotFailed, v1beta1.SnapshotAbandoned}, snap.Status.State, "%+v", snap.Status)
			return snap.Status.State == v1beta1.SnapshotCompleted, nil
		})
		require.Len(t, snap.Status.TriggerID, 32)
		require.Zero(t, snap.Status.Failures)
	}
	require.Contains(t, sp.Status.Path, "/flink-data/savepoints/savepoint-")
	require.DirExists(t, hostPath(stateDir, sp.Status.Path))
	// Flink keeps one checkpoint: the manual one may be subsumed by now.
	require.Contains(t, cp.Status.Path, "/flink-data/checkpoints/")

	require.NoError(t, c.Delete(ctx, sp))
	flinktest.WaitFor(t, time.Minute, "the savepoint's resource gone", func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(sp), sp)), nil
	})
	require.NoDirExists(t, hostPath(stateDir, sp.Status.Path), "deleting the resource disposed of the savepoint")
	require.NoError(t, c.Delete(ctx, cp))
}

// historySnapshots waits until the FlinkStateSnapshots recording the savepoint history
// of obj are exactly those of paths, each COMPLETED.
func historySnapshots(t *testing.T, c client.Client, obj client.Object, paths ...string) {
	t.Helper()
	var got map[string]string
	flinktest.WaitFor(t, time.Minute, "the savepoint history's FlinkStateSnapshots", func(ctx context.Context) (bool, error) {
		list := &v1beta1.FlinkStateSnapshotList{}
		if err := c.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingLabels{statesnapshot.LabelHistoryOf: string(obj.GetUID())}); err != nil {
			return false, err
		}
		got = map[string]string{}
		for _, s := range list.Items {
			if s.DeletionTimestamp == nil {
				got[s.Spec.Savepoint.Path] = s.Status.State
			}
		}
		want := map[string]string{}
		for _, p := range paths {
			want[p] = v1beta1.SnapshotCompleted
		}
		return maps.Equal(got, want), nil
	})
}
