package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/alerts"
)

// sendTimeout bounds one message's delivery: a receiver that hangs holds a worker no
// longer than this.
const sendTimeout = 10 * time.Second

// request names a FlinkDeployment or FlinkSessionJob.
type request struct {
	// Kind is FlinkDeployment or FlinkSessionJob.
	Kind string
	types.NamespacedName
}

// Alerter sends the incidents of Flink jobs to the receivers their routes name.
type Alerter struct {
	// Client reads resources, routes and receivers from the cache and writes records
	// and receivers' statuses.
	Client client.Client
	// Reader reads records and Secrets from the API server: the cache keeps neither.
	Reader   client.Reader
	Recorder events.EventRecorder
	// HTTP sends the messages.
	HTTP *http.Client
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Metrics count deliveries (none when nil).
	Metrics *Metrics
	// BeforeSend, when set, runs before each message is sent.
	BeforeSend func(client.Object)

	limiters   sync.Map // receiver's namespace/name -> *rate.Limiter
	backoff    receiverBackoff
	namespaces []string // watched (none: all)
}

// Reconcile brings the resource's record up to its Degraded condition, then sends
// the messages that are due (of a resource that is gone: the ends of its incidents);
// it comes back when the next reminder, or a receiver's turn under its rate limit or
// after its back-off, is due, and after a failed delivery with back-off.
func (a *Alerter) Reconcile(ctx context.Context, req request) (reconcile.Result, error) {
	owner, subject, err := a.subject(ctx, req)
	if err != nil {
		return reconcile.Result{}, err
	}
	s, err := a.loadRecord(ctx, req)
	if owner == nil && errors.Is(err, errNotARecord) {
		return reconcile.Result{}, nil // gone, and nothing of Flok's to settle
	} else if err != nil {
		return reconcile.Result{}, err
	}
	if owner == nil || !s.record.Of(subject.UID) {
		// Gone, or replaced by a resource of the same name: the old one's incidents end.
		res, err := a.settleDeleted(ctx, req, s)
		if owner == nil || s.cm != nil || err != nil {
			return res, err
		}
	}
	now := a.now()
	s.record.Remember(subject)
	shown, open := alerts.OpenIncident(subject.Conditions)
	if s.record.Observe(shown, open, now) {
		// Written ahead: an incident seen is never forgotten, even if the operator
		// stops before it is sent.
		if err := a.save(ctx, req, s); err != nil {
			return reconcile.Result{}, err
		}
	}
	routes := &v1beta1.AlertRouteList{}
	if err := a.Client.List(ctx, routes, client.InNamespace(req.Namespace)); err != nil {
		return reconcile.Result{}, err
	}
	targets := func(inc alerts.Incident) []alerts.Target {
		targets, err := alerts.Targets(routes.Items, subject, inc)
		if err != nil {
			// The route is marked not Ready by the ConfigChecker; the others send.
			log.FromContext(ctx).Info("an AlertRoute sends nothing until it is fixed", "error", err.Error())
		}
		return targets
	}
	due, next := s.record.Due(targets, now)
	if len(due) == 0 {
		return requeueAt(next, now), nil
	}
	// Each message is recorded as soon as it is sent, so that a crash or a failed
	// write repeats no more than the one message in flight.
	out := a.deliver(ctx, owner, subject, &s.record, due, func() error { return a.save(ctx, req, s) })
	if out.err == nil && s.record.Prune() {
		if err := a.save(ctx, req, s); err != nil {
			return reconcile.Result{}, err
		}
	}
	if _, next = s.record.Due(targets, now); !out.wait.IsZero() && (next.IsZero() || out.wait.Before(next)) {
		next = out.wait
	}
	return requeueAt(next, now), out.err
}

// subject reads the resource (nil when it is gone) and what its messages say of it.
func (a *Alerter) subject(ctx context.Context, req request) (client.Object, alerts.Subject, error) {
	switch req.Kind {
	case v1beta1.KindFlinkSessionJob:
		sj := &v1beta1.FlinkSessionJob{}
		if err := a.Client.Get(ctx, req.NamespacedName, sj); err != nil {
			return nil, alerts.Subject{}, client.IgnoreNotFound(err)
		}
		return sj, alerts.SubjectOfSessionJob(sj), nil
	default:
		fd := &v1beta1.FlinkDeployment{}
		if err := a.Client.Get(ctx, req.NamespacedName, fd); err != nil {
			return nil, alerts.Subject{}, client.IgnoreNotFound(err)
		}
		return fd, alerts.SubjectOfDeployment(fd), nil
	}
}

// outcome is how a round of deliveries went: when a receiver's turn comes under its
// rate limit, and the deliveries that failed.
type outcome struct {
	wait time.Time
	err  error
}

// comeBackAt makes the round come back at the latest at.
func (out *outcome) comeBackAt(at time.Time) {
	if out.wait.IsZero() || at.Before(out.wait) {
		out.wait = at
	}
}

// deliver sends each due message and records it sent (persist); a receiver that is
// rate-limited waits its turn, one that fails is marked so and tried again after its
// back-off — neither holds up the others. It stops when a message sent cannot be
// recorded.
func (a *Alerter) deliver(ctx context.Context, owner client.Object, subject alerts.Subject, rec *alerts.Record,
	due []alerts.Delivery, persist func() error) outcome {
	var out outcome
	results := map[string]error{}
	receivers := map[string]*v1beta1.AlertReceiver{}
	for _, d := range due {
		inc := rec.Incidents[d.Incident]
		m := alerts.Message{Event: d.Event, Subject: subject, Incident: inc.Incident, Route: d.Route}
		if inc.ResolvedAt != nil {
			m.ResolvedAt, m.Resolution = *inc.ResolvedAt, inc.Resolution
		}
		receiver, err := a.receiver(ctx, subject.Namespace, d.Receiver)
		if err != nil {
			out.err = errors.Join(out.err, err)
			continue
		}
		if receiver == nil {
			// The ConfigChecker marks the route (ReceiverNotFound); the receiver's
			// creation brings the resource back here.
			if d.Event == alerts.EventResolved {
				rec.MarkSent(d, a.now()) // no one is left to tell
				if err := persist(); err != nil {
					out.err = errors.Join(out.err, err)
					break
				}
			}
			continue
		}
		key := receiverKey(receiver)
		if at, ok := a.backoff.mayTry(key, a.now()); !ok {
			// It failed lately (this round, or another resource's), or another worker
			// is trying it now: its messages wait.
			out.comeBackAt(at)
			continue
		}
		if at, ok := a.turn(receiver); !ok {
			out.comeBackAt(at)
			continue
		}
		receivers[receiver.Name] = receiver
		if a.BeforeSend != nil {
			a.BeforeSend(owner)
		}
		err = a.send(ctx, receiver, m)
		a.Metrics.observe(receiver.Spec.Type, string(d.Event), err)
		if err != nil {
			a.backoff.failed(key, a.now())
			results[receiver.Name] = err
			out.err = errors.Join(out.err, fmt.Errorf("AlertReceiver %s: %w", receiver.Name, err))
			continue
		}
		a.backoff.succeeded(key)
		rec.MarkSent(d, a.now())
		results[receiver.Name] = nil
		if err := persist(); err != nil {
			out.err = errors.Join(out.err, fmt.Errorf("recording a message sent (it may be sent again): %w", err))
			break
		}
	}
	for name, err := range results {
		a.report(ctx, receivers[name], err)
	}
	return out
}

// receiver reads an AlertReceiver of the namespace: nil when there is none.
func (a *Alerter) receiver(ctx context.Context, namespace, name string) (*v1beta1.AlertReceiver, error) {
	r := &v1beta1.AlertReceiver{}
	if err := a.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, r); apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return r, nil
}

// send sends m to the receiver, with the address and credentials of its Secret.
func (a *Alerter) send(ctx context.Context, receiver *v1beta1.AlertReceiver, m alerts.Message) error {
	sender, err := a.sender(ctx, receiver)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := sender.Send(ctx, m); err != nil {
		return err
	}
	log.FromContext(ctx).V(1).Info("alert sent", "receiver", receiver.Name, "event", m.Event, "incident", m.ID())
	return nil
}

// sender reads the receiver's Secret and makes its sender; an error names the field
// or key to fix, never a value.
func (a *Alerter) sender(ctx context.Context, receiver *v1beta1.AlertReceiver) (alerts.Sender, error) {
	sender, problem, err := senderOf(ctx, a.Reader, receiver, a.HTTP)
	if problem != "" {
		return nil, errors.New(problem)
	}
	return sender, err
}

func (a *Alerter) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// requeueAt comes back at next, if there is one.
func requeueAt(next, now time.Time) reconcile.Result {
	if next.IsZero() {
		return reconcile.Result{}
	}
	return reconcile.Result{RequeueAfter: max(next.Sub(now), time.Second)}
}
