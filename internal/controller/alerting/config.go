package alerting

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/alerts"
)

// recheckAfter is how soon a receiver whose Secret is incomplete is looked at again:
// Secrets are not watched (the operator caches none).
const recheckAfter = time.Minute

// ConfigChecker keeps the SecretValid condition of AlertReceivers and the Ready
// condition of AlertRoutes true to their configuration, so that a mistake shows when
// it is made, not at the first incident: a receiver's Secret that is missing or lacks
// what its type needs, a route naming a receiver that does not exist or with a
// selector that does not parse.
type ConfigChecker struct {
	Client   client.Client
	Reader   client.Reader
	Recorder events.EventRecorder
}

// SetupWithManager runs the checker for receivers and for routes.
func (c *ConfigChecker) SetupWithManager(mgr ctrl.Manager) error {
	err := ctrl.NewControllerManagedBy(mgr).Named("alertreceiver").
		For(&v1beta1.AlertReceiver{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(reconcile.Func(c.checkReceiver))
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).Named("alertroute").
		For(&v1beta1.AlertRoute{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1beta1.AlertReceiver{}, handler.EnqueueRequestsFromMapFunc(c.routesOf), builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(event.UpdateEvent) bool { return false }, // only a receiver's coming and going matters
		})).
		Complete(reconcile.Func(c.checkRoute))
}

// checkReceiver sets SecretValid from what the receiver's Secret holds.
func (c *ConfigChecker) checkReceiver(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	r := &v1beta1.AlertReceiver{}
	if err := c.Client.Get(ctx, req.NamespacedName, r); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	_, problem, err := senderOf(ctx, c.Reader, r, nil)
	if err != nil {
		return reconcile.Result{}, err
	}
	cond := metav1.Condition{Type: conditionSecretValid, Status: metav1.ConditionTrue, Reason: "Complete",
		Message: "its Secret holds what a " + r.Spec.Type + " receiver needs"}
	if problem != "" {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "InvalidSecret", problem
	}
	if err := c.setCondition(ctx, r, &r.Status.Conditions, cond); err != nil {
		return reconcile.Result{}, err
	}
	if problem != "" {
		return reconcile.Result{RequeueAfter: recheckAfter}, nil
	}
	return reconcile.Result{}, nil
}

// senderOf makes a receiver's sender from its Secret; problem says what to fix — the
// field or key, never a value — when it cannot, err that the Secret could not be read.
func senderOf(ctx context.Context, reader client.Reader, r *v1beta1.AlertReceiver, httpClient *http.Client) (sender alerts.Sender, problem string, err error) {
	secret := &corev1.Secret{}
	err = reader.Get(ctx, types.NamespacedName{Namespace: r.Namespace, Name: r.Spec.SecretRef.Name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Sprintf("spec.secretRef.name: Secret %s does not exist in namespace %s; create it with the receiver's %s",
			r.Spec.SecretRef.Name, r.Namespace, alerts.KeyAddress), nil
	} else if err != nil {
		return nil, "", fmt.Errorf("reading Secret %s: %w", r.Spec.SecretRef.Name, err)
	}
	if sender, err = alerts.NewSender(r.Spec.Type, secret.Data, httpClient); err != nil {
		return nil, fmt.Sprintf("Secret %s (spec.secretRef.name): %s", secret.Name, err), nil
	}
	return sender, "", nil
}

// checkRoute sets Ready from whether the receivers the route names exist.
func (c *ConfigChecker) checkRoute(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	route := &v1beta1.AlertRoute{}
	if err := c.Client.Get(ctx, req.NamespacedName, route); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	cond := metav1.Condition{Type: conditionReady, Status: metav1.ConditionTrue, Reason: "ReceiversFound",
		Message: "every receiver it names exists"}
	if problem := alerts.SelectorProblem(route.Spec); problem != "" {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "InvalidSelector", problem
		return reconcile.Result{}, c.setCondition(ctx, route, &route.Status.Conditions, cond)
	}
	for i, name := range route.Spec.Receivers {
		r := &v1beta1.AlertReceiver{}
		err := c.Client.Get(ctx, types.NamespacedName{Namespace: route.Namespace, Name: name}, r)
		if client.IgnoreNotFound(err) != nil {
			return reconcile.Result{}, err
		}
		if err != nil {
			cond.Status, cond.Reason = metav1.ConditionFalse, "ReceiverNotFound"
			cond.Message = fmt.Sprintf("spec.receivers[%d]: AlertReceiver %s does not exist in namespace %s; create it or take it out of the route",
				i, name, route.Namespace)
			break
		}
	}
	return reconcile.Result{}, c.setCondition(ctx, route, &route.Status.Conditions, cond)
}

// setCondition writes cond into obj's status (conditions) when it changed, with a
// Warning event when it turns False.
func (c *ConfigChecker) setCondition(ctx context.Context, obj client.Object, conditions *[]metav1.Condition, cond metav1.Condition) error {
	return updateStatus(ctx, c.Client, c.Reader, obj, func() bool {
		cond.ObservedGeneration = obj.GetGeneration()
		old := meta.FindStatusCondition(*conditions, cond.Type)
		if old != nil && old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message && old.ObservedGeneration == cond.ObservedGeneration {
			return false
		}
		if cond.Status == metav1.ConditionFalse {
			c.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, cond.Reason, "Check", "%s", cond.Message)
		}
		meta.SetStatusCondition(conditions, cond)
		return true
	})
}

// routesOf are the routes of a receiver's namespace that name it.
func (c *ConfigChecker) routesOf(ctx context.Context, receiver client.Object) []reconcile.Request {
	routes := &v1beta1.AlertRouteList{}
	if err := c.Client.List(ctx, routes, client.InNamespace(receiver.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, r := range routes.Items {
		for _, name := range r.Spec.Receivers {
			if name == receiver.GetName() {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: r.Namespace, Name: r.Name}})
				break
			}
		}
	}
	return reqs
}
