package e2e

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/statesnapshot"
	"github.com/flok-dev/flok/internal/flinkrest"
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

// proveCheckpointNonce asks for a checkpoint of the FlinkDeployment by its spec's
// checkpointTriggerNonce: Flok triggers it and reports it done with its path; Flink
// lists it as a completed checkpoint at that path; the status records it, or a newer
// one (a periodic checkpoint may have subsumed it since, as Flink keeps the newest), and
// so do the files on disk under stateDir.
func proveCheckpointNonce(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment, flink *flinkrest.Client, stateDir string) {
	t.Helper()
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.CheckpointTriggerNonce = ptr.To[int64](1) })
	var path string
	waitForEvent(t, fd.Namespace, fd.Name, "the manual checkpoint's event", func(e eventsv1.Event) bool {
		path = strings.TrimPrefix(e.Note, "checkpoint ")
		return e.Reason == "CheckpointCompleted"
	})
	id := checkpointNumber(t, path)
	cps, err := flink.Checkpoints(t.Context(), fd.Status.JobStatus.JobID)
	require.NoError(t, err)
	i := slices.IndexFunc(cps.History, func(s flinkrest.CheckpointStats) bool { return s.ID == id })
	require.GreaterOrEqual(t, i, 0, "Flink lists checkpoint %d", id)
	require.Equal(t, "COMPLETED", cps.History[i].Status)
	require.False(t, cps.History[i].IsSavepoint)
	require.Equal(t, path, cps.History[i].ExternalPath)

	require.NoError(t, c.Get(t.Context(), client.ObjectKeyFromObject(fd), fd))
	last := fd.Status.JobStatus.CheckpointInfo.LastCheckpoint
	require.NotNil(t, last)
	require.GreaterOrEqual(t, checkpointNumber(t, last.Location), id, "the status records the manual checkpoint or a newer one")
	if last.Location == path {
		require.Equal(t, "MANUAL", last.TriggerType)
		require.Equal(t, int64(1), ptr.Deref(last.TriggerNonce, 0))
	}
	kept, err := filepath.Glob(filepath.Join(filepath.Dir(hostPath(stateDir, path)), "chk-*", "_metadata"))
	require.NoError(t, err)
	newest := int64(-1)
	for _, k := range kept {
		newest = max(newest, checkpointNumber(t, filepath.Dir(k)))
	}
	require.GreaterOrEqual(t, newest, id, "the manual checkpoint or a newer one on disk")
}

// checkpointNumber is N of a checkpoint's path …/chk-N.
func checkpointNumber(t *testing.T, path string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimPrefix(filepath.Base(path), "chk-"), 10, 64)
	require.NoError(t, err, "a checkpoint path %q", path)
	return n
}
