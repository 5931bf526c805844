package statesnapshot

import (
	"context"
	"fmt"
	"time"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/kube"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// disposalTimeout bounds the wait for Flink to remove a savepoint's files.
const disposalTimeout = 2 * time.Minute

// act takes the decided action.
func (r *Reconciler) act(ctx context.Context, snap *v1beta1.FlinkStateSnapshot, o observed, a lifecycle.Action) error {
	switch {
	case a.Type == lifecycle.ActionNone:
		return nil
	case a.Type == lifecycle.ActionRemoveFinalizer:
		return kube.ReleaseFinalizer(ctx, r.Client, snap)
	case a.Type == lifecycle.ActionDisposeSavepoint:
		if err := r.dispose(ctx, o, a.Path); err != nil {
			return fmt.Errorf("%w; it is tried again — to delete %s and keep the files, set spec.savepoint.disposeOnDelete: false", err, snap.Name)
		}
		return kube.ReleaseFinalizer(ctx, r.Client, snap)
	case o.flink == nil:
		return fmt.Errorf("no cluster to send the %s to: %s", a.Type, o.noCluster)
	default:
		return flinkjob.Snapshot(ctx, o.flink, a)
	}
}

// dispose removes a savepoint's files through the referenced job's cluster, which
// need not run that job (or any). Files already gone count as disposed: a disposal
// repeated after the operator stopped between disposing and letting go finds none.
func (r *Reconciler) dispose(ctx context.Context, o observed, path string) error {
	if o.flink == nil {
		return fmt.Errorf("no cluster can dispose of savepoint %s: %s", path, o.noCluster)
	}
	ctx, cancel := context.WithTimeout(ctx, disposalTimeout)
	defer cancel()
	op, err := o.flink.DisposeSavepoint(ctx, path)
	if err == nil {
		_, err = o.flink.Wait(ctx, op)
	}
	if err != nil && !flinkrest.IsSavepointGone(err) {
		return fmt.Errorf("disposing of savepoint %s: %w", path, err)
	}
	return nil
}
