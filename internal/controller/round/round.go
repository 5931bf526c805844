// Package round is what every Flok reconciler does once internal/lifecycle has
// decided: record the decided status first (the write-ahead log), emit the decision's
// events, then take its one action between the crash tests' hooks.
package round

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/internal/kube"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// conflictRetry is how soon a round whose status write lost a race runs again.
const conflictRetry = 200 * time.Millisecond

// ActionHook runs around an action of a FlinkDeployment or FlinkSessionJob.
type ActionHook func(obj client.Object, action lifecycle.Action)

// Hooks, when set, run after the status is recorded and before the action, and after
// the action succeeded — and before an alert is sent, after its incident is recorded:
// the crash tests kill the operator there.
type Hooks struct {
	BeforeAction ActionHook
	AfterAction  ActionHook
	BeforeAlert  func(obj client.Object)
}

// Decided is one round's decision and how to carry it out for one resource.
type Decided struct {
	// Record writes the decided status (nothing when it is unchanged).
	Record func() error
	Events []lifecycle.Event
	Action lifecycle.Action
	// Act takes Action.
	Act func() error
	// RequeueAfter is when the decision asks to look again; RetryAfter when to after
	// a failed action. A look again after ObserveInterval or later is routine: it
	// waits behind the resources that a watch event brought in (new, changed, or
	// whose cluster changed), so that those are handled first however many are
	// observed.
	RequeueAfter, RetryAfter, ObserveInterval time.Duration
}

// Finish records the status, emits the events and takes the action. A status write
// that lost a race is decided again shortly from the newer status; a failed action
// becomes a Warning event and is tried again at RetryAfter (it is safe to repeat).
func (h Hooks) Finish(ctx context.Context, recorder events.EventRecorder, obj client.Object, d Decided) (ctrl.Result, error) {
	if err := d.Record(); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, err
	}
	for _, e := range d.Events {
		kube.Event(recorder, obj, e.Warning, e.Reason, e.Message)
	}
	acting := d.Action.Type != lifecycle.ActionNone
	if h.BeforeAction != nil && acting {
		h.BeforeAction(obj, d.Action)
	}
	if err := d.Act(); err != nil {
		log.FromContext(ctx).Error(err, "action failed", "action", d.Action.Type)
		recorder.Eventf(obj, nil, corev1.EventTypeWarning, "ActionFailed", string(d.Action.Type), "%s failed: %v", d.Action.Type, err)
		return d.lookAgain(d.RetryAfter), nil
	}
	if h.AfterAction != nil && acting {
		h.AfterAction(obj, d.Action)
	}
	return d.lookAgain(d.RequeueAfter), nil
}

// lookAgain asks to be reconciled after a while, behind watch events when routine.
func (d Decided) lookAgain(after time.Duration) ctrl.Result {
	result := ctrl.Result{RequeueAfter: after}
	if after >= d.ObserveInterval {
		result.Priority = ptr.To(handler.LowPriority)
	}
	return result
}
