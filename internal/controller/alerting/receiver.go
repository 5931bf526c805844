package alerting

import (
	"context"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/api/v1beta1"
)

// defaultMessagesPerMinute is a receiver's rate limit when its spec sets none (as
// the CRD's default, for a receiver created before the default existed).
const defaultMessagesPerMinute = 20

// The condition types of receivers and routes.
const (
	// conditionReady: a receiver took the last message; a route can send.
	conditionReady = "Ready"
	// conditionSecretValid: a receiver's Secret holds what its type needs.
	conditionSecretValid = "SecretValid"
)

// turn takes one message from the receiver's rate limit: ok when it may be sent now,
// else when its turn comes.
func (a *Alerter) turn(receiver *v1beta1.AlertReceiver) (time.Time, bool) {
	perMinute := defaultMessagesPerMinute
	if receiver.Spec.MessagesPerMinute != nil {
		perMinute = int(*receiver.Spec.MessagesPerMinute)
	}
	limit := rate.Limit(float64(perMinute) / 60)
	key := receiverKey(receiver)
	burst := max(1, perMinute/4)
	v, _ := a.limiters.LoadOrStore(key, rate.NewLimiter(limit, burst))
	l := v.(*rate.Limiter)
	if l.Limit() != limit { // the spec changed
		l.SetLimit(limit)
		l.SetBurst(burst)
	}
	now := a.now()
	r := l.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return now.Add(delay), false
	}
	return time.Time{}, true
}

// receiverKey names a receiver in the Alerter's memory of rate limits and back-offs.
func receiverKey(r *v1beta1.AlertReceiver) string { return r.Namespace + "/" + r.Name }

// report writes how the receiver's latest messages went into its status — Ready, and
// the last delivery or error — and a failure into an event as well.
func (a *Alerter) report(ctx context.Context, receiver *v1beta1.AlertReceiver, failure error) {
	now := metav1.NewTime(a.now())
	cond := metav1.Condition{Type: conditionReady, Status: metav1.ConditionTrue, Reason: "Delivered", Message: "the last message was taken"}
	if failure != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "DeliveryFailed", failure.Error()
		a.Recorder.Eventf(receiver, nil, corev1.EventTypeWarning, "DeliveryFailed", "Deliver", "%s; retrying with back-off", failure.Error())
	}
	err := updateStatus(ctx, a.Client, a.Reader, receiver, func() bool {
		cond.ObservedGeneration = receiver.Generation
		meta.SetStatusCondition(&receiver.Status.Conditions, cond)
		if failure != nil {
			receiver.Status.LastError, receiver.Status.LastErrorTime = failure.Error(), &now
		} else {
			receiver.Status.LastDelivered = &now
		}
		return true
	})
	if err != nil {
		log.FromContext(ctx).Error(err, "recording the receiver's deliveries", "receiver", receiver.Name)
	}
}

// updateStatus applies change to obj's status as the API server has it now and
// writes it under an optimistic lock, again on a conflict: the Alerter and the
// ConfigChecker, both writing receivers' statuses, never undo each other's writes.
// change reports whether it changed anything.
func updateStatus(ctx context.Context, c client.Client, reader client.Reader, obj client.Object, change func() bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := reader.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		before := obj.DeepCopyObject().(client.Object)
		if !change() {
			return nil
		}
		return c.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
}
