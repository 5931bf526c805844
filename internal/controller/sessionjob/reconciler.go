// Package sessionjob reconciles FlinkSessionJobs: it observes the session cluster the
// job names and the job in it, asks internal/lifecycle what to do, records the status
// that decision returns (the write-ahead log), then takes its one action — submitting
// the job's jar, cancelling the job, a snapshot, or letting the resource go.
package sessionjob

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
	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// conflictRetry is how soon a reconciliation whose status write lost a race runs again.
const conflictRetry = 200 * time.Millisecond

// Reconciler runs FlinkSessionJobs.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Flink reaches a session cluster's REST API.
	Flink deployment.FlinkClientFor
	// Defaults are the operator's default Flink options (the session clusters are
	// rendered with them to find their REST port).
	Defaults flinkconf.Config
	// Settings are the operator's default lifecycle settings; each job's
	// kubernetes.operator.* options override them.
	Settings lifecycle.Settings
	// Artifacts fetches the jobs' jars.
	Artifacts *artifact.Fetcher
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// BeforeAction and AfterAction, when set, run after the status is recorded and
	// before the action, and after the action succeeded (the crash tests' kill points).
	BeforeAction deployment.ActionHook
	AfterAction  deployment.ActionHook
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile takes one step of one FlinkSessionJob.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sj := &v1beta1.FlinkSessionJob{}
	if err := r.Client.Get(ctx, req.NamespacedName, sj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if sj.DeletionTimestamp == nil && !controllerutil.ContainsFinalizer(sj, deployment.Finalizer) {
		patch := client.MergeFrom(sj.DeepCopy())
		controllerutil.AddFinalizer(sj, deployment.Finalizer)
		if err := r.Client.Patch(ctx, sj, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	if sj.DeletionTimestamp != nil && !controllerutil.ContainsFinalizer(sj, deployment.Finalizer) {
		return ctrl.Result{}, nil
	}
	o := r.observe(ctx, sj)
	d := lifecycle.NextSessionJob(sj, o.Observation, o.settings)
	if err := r.record(ctx, sj, d.Status); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, err
	}
	r.emit(sj, d.Events)
	if r.BeforeAction != nil && d.Action.Type != lifecycle.ActionNone {
		r.BeforeAction(sj, d.Action)
	}
	if err := r.act(ctx, sj, o, d.Action); err != nil {
		log.FromContext(ctx).Error(err, "action failed", "action", d.Action.Type)
		r.Recorder.Eventf(sj, nil, corev1.EventTypeWarning, "ActionFailed", string(d.Action.Type), "%s failed: %v", d.Action.Type, err)
		return ctrl.Result{RequeueAfter: o.settings.ProgressInterval}, nil
	}
	if r.AfterAction != nil && d.Action.Type != lifecycle.ActionNone {
		r.AfterAction(sj, d.Action)
	}
	return ctrl.Result{RequeueAfter: d.RequeueAfter}, nil
}

// record writes the decided status before anything is done about it, guarded by the
// resource version.
func (r *Reconciler) record(ctx context.Context, sj *v1beta1.FlinkSessionJob, status v1beta1.FlinkSessionJobStatus) error {
	if equality.Semantic.DeepEqual(sj.Status, status) {
		return nil
	}
	before := sj.DeepCopy()
	sj.Status = status
	if err := r.Client.Status().Patch(ctx, sj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("recording the status of %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	return nil
}

func (r *Reconciler) emit(sj *v1beta1.FlinkSessionJob, evs []lifecycle.Event) {
	for _, e := range evs {
		kind := corev1.EventTypeNormal
		if e.Warning {
			kind = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(sj, nil, kind, e.Reason, "Reconcile", "%s", e.Message)
	}
}
