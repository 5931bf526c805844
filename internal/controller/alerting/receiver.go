package alerting

import (
	"context"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/api/v1beta1"
)

// defaultMessagesPerMinute is a receiver's rate limit when its spec sets none.
const defaultMessagesPerMinute = 20

// turn takes one message from the receiver's rate limit: ok when it may be sent now,
// else when its turn comes.
func (a *Alerter) turn(receiver *v1beta1.AlertReceiver) (time.Time, bool) {
	perMinute := defaultMessagesPerMinute
	if receiver.Spec.MessagesPerMinute != nil {
		perMinute = int(*receiver.Spec.MessagesPerMinute)
	}
	limit := rate.Limit(float64(perMinute) / 60)
	key := receiver.Namespace + "/" + receiver.Name
	v, _ := a.limiters.LoadOrStore(key, rate.NewLimiter(limit, perMinute))
	l := v.(*rate.Limiter)
	if l.Limit() != limit { // the spec changed
		l.SetLimit(limit)
		l.SetBurst(perMinute)
	}
	now := a.now()
	r := l.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return now.Add(delay), false
	}
	return time.Time{}, true
}

// report writes how the receiver's latest messages went into its status — Ready, and
// the last delivery or error — and a failure into an event as well.
func (a *Alerter) report(ctx context.Context, receiver *v1beta1.AlertReceiver, failure error) {
	patch := client.MergeFrom(receiver.DeepCopy())
	now := metav1.NewTime(a.now())
	cond := metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Delivered", Message: "the last message was taken",
		ObservedGeneration: receiver.Generation}
	if failure != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "DeliveryFailed", failure.Error()
		receiver.Status.LastError, receiver.Status.LastErrorTime = failure.Error(), &now
		a.Recorder.Eventf(receiver, nil, corev1.EventTypeWarning, "DeliveryFailed", "Deliver", "%s; retrying with back-off", failure.Error())
	} else {
		receiver.Status.LastDelivered = &now
	}
	meta.SetStatusCondition(&receiver.Status.Conditions, cond)
	if err := a.Client.Status().Patch(ctx, receiver, patch); err != nil {
		log.FromContext(ctx).Error(err, "recording the receiver's deliveries", "receiver", receiver.Name)
	}
}
