// Package statesnapshot reconciles FlinkStateSnapshots: savepoints and checkpoints of
// a FlinkDeployment's or FlinkSessionJob's job as resources of their own. It observes
// the referenced job and the operation under way, asks internal/lifecycle what to do,
// records the status that decision returns (the trigger id before the trigger), then
// takes its one action — triggering the snapshot, or disposing of a deleted
// savepoint's files and letting the resource go.
package statesnapshot

import (
	"context"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/controller/round"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/kube"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// retryAfter is when a failed action (a trigger Flink refused, a disposal without a
// cluster to do it) is tried again.
const retryAfter = 30 * time.Second

// Reconciler runs FlinkStateSnapshots.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Flink reaches a cluster's REST API.
	Flink deployment.FlinkClientFor
	// Defaults are the operator's default Flink options (clusters are rendered with
	// them to find their REST port and savepoint directory).
	Defaults flinkconf.Config
	// Hooks run around each action (the crash tests' kill points).
	Hooks round.Hooks
}

// Reconcile takes one step of one FlinkStateSnapshot.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	snap := &v1beta1.FlinkStateSnapshot{}
	if err := r.Client.Get(ctx, req.NamespacedName, snap); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if done, err := kube.HoldFinalizer(ctx, r.Client, snap); done || err != nil {
		return ctrl.Result{}, err
	}
	o := r.observe(ctx, snap)
	d := lifecycle.NextStateSnapshot(snap, o.StateSnapshotObservation)
	return r.Hooks.Finish(ctx, r.Recorder, snap, round.Decided{
		Record: func() error { return kube.RecordStatus(ctx, r.Client, snap, &snap.Status, d.Status) },
		Events: d.Events, Action: d.Action,
		Act:          func() error { return r.act(ctx, snap, o, d.Action) },
		RequeueAfter: d.RequeueAfter, RetryAfter: retryAfter, ObserveInterval: time.Hour,
	})
}
