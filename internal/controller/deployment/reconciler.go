// Package deployment reconciles FlinkDeployments: it observes the cluster's objects
// and Flink's REST API, asks internal/lifecycle what to do, records the status that
// decision returns (the write-ahead log), then takes its one action.
package deployment

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// Finalizer keeps a FlinkDeployment until its job is stopped and its cluster and
// high-availability data are gone.
const Finalizer = "flok.dev/finalizer"

// conflictRetry is how soon a reconciliation whose status write lost a race runs again.
const conflictRetry = 200 * time.Millisecond

// FieldOwner is the server-side apply field manager of the objects Flok renders.
const FieldOwner = "flok-operator"

// FlinkClientFor returns the REST client of the Flink cluster behind a Service port.
type FlinkClientFor func(namespace, service string, port int32) (*flinkrest.Client, error)

// ActionHook runs around an action of a FlinkDeployment or FlinkSessionJob.
type ActionHook func(obj client.Object, action lifecycle.Action)

// Reconciler runs FlinkDeployments.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Flink reaches a cluster's REST API (in cluster by DNS, or through the API server).
	Flink FlinkClientFor
	// Defaults are the operator's default Flink options.
	Defaults flinkconf.Config
	// Settings are the operator's default lifecycle settings; each deployment's
	// kubernetes.operator.* options override them.
	Settings lifecycle.Settings
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// BeforeAction and AfterAction, when set, run after the status is recorded and
	// before the action, and after the action succeeded: the crash tests kill the
	// operator there.
	BeforeAction ActionHook
	AfterAction  ActionHook
	Metrics      *Metrics
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile takes one step of one FlinkDeployment.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	start := r.now()
	defer func() { r.Metrics.observeReconcile(start, r.now(), err) }()
	fd := &v1beta1.FlinkDeployment{}
	if err := r.Client.Get(ctx, req.NamespacedName, fd); err != nil {
		r.Metrics.forget(req.NamespacedName)
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if fd.DeletionTimestamp == nil && !controllerutil.ContainsFinalizer(fd, Finalizer) {
		patch := client.MergeFrom(fd.DeepCopy())
		controllerutil.AddFinalizer(fd, Finalizer)
		if err := r.Client.Patch(ctx, fd, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	if fd.DeletionTimestamp != nil && !controllerutil.ContainsFinalizer(fd, Finalizer) {
		return ctrl.Result{}, nil
	}
	settings, obs, flink := r.observe(ctx, fd)
	d := lifecycle.Next(lifecycle.Input{Deployment: fd, Observed: obs, Settings: settings})
	if err := r.record(ctx, fd, d.Status); err != nil {
		if apierrors.IsConflict(err) {
			// The cache was behind the status: decide again from the newer one.
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, err
	}
	r.emit(fd, d.Events)
	if r.BeforeAction != nil && d.Action.Type != lifecycle.ActionNone {
		r.BeforeAction(fd, d.Action)
	}
	if err := r.act(ctx, fd, flink, d.Action); err != nil {
		log.FromContext(ctx).Error(err, "action failed", "action", d.Action.Type)
		r.Recorder.Eventf(fd, nil, corev1.EventTypeWarning, "ActionFailed", string(d.Action.Type), "%s failed: %v", d.Action.Type, err)
		return ctrl.Result{RequeueAfter: settings.ProgressInterval}, nil
	}
	if r.AfterAction != nil && d.Action.Type != lifecycle.ActionNone {
		r.AfterAction(fd, d.Action)
	}
	return ctrl.Result{RequeueAfter: d.RequeueAfter}, nil
}

// record writes the decided status before anything is done about it, guarded by the
// resource version: if someone else wrote first, the decision is made again.
func (r *Reconciler) record(ctx context.Context, fd *v1beta1.FlinkDeployment, status v1beta1.FlinkDeploymentStatus) error {
	if equality.Semantic.DeepEqual(fd.Status, status) {
		return nil
	}
	before := fd.DeepCopy()
	fd.Status = status
	if err := r.Client.Status().Patch(ctx, fd, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("recording the status of %s/%s: %w", fd.Namespace, fd.Name, err)
	}
	r.Metrics.recorded(r.now(), before, fd)
	return nil
}

func (r *Reconciler) emit(fd *v1beta1.FlinkDeployment, evs []lifecycle.Event) {
	for _, e := range evs {
		kind := corev1.EventTypeNormal
		if e.Warning {
			kind = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(fd, nil, kind, e.Reason, "Reconcile", "%s", e.Message)
	}
}
