package alerting

import (
	"context"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/alerts"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// concurrency is how many resources' messages are sent at once: a receiver that
// hangs until sendTimeout holds up only its own.
const concurrency = 4

// Options are what the operator sets of alerting.
type Options struct {
	// Namespaces are those watched (none: all).
	Namespaces []string
	// Metrics count deliveries (none when nil).
	Metrics *Metrics
	// BeforeSend runs before each message is sent, with the resource it is of (crash
	// tests kill the operator there).
	BeforeSend func(client.Object)
}

// Setup runs an Alerter on the manager, and the ConfigChecker of receivers and routes.
func Setup(mgr ctrl.Manager, o Options) error {
	a := &Alerter{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("flok-operator"),
		HTTP: &http.Client{Timeout: sendTimeout}, Metrics: o.Metrics, BeforeSend: o.BeforeSend, namespaces: o.Namespaces,
	}
	checker := &ConfigChecker{Client: a.Client, Reader: a.Reader, Recorder: a.Recorder}
	if err := checker.SetupWithManager(mgr); err != nil {
		return err
	}
	return builder.TypedControllerManagedBy[request](mgr).
		Named("alerting").
		WithOptions(controller.TypedOptions[request]{
			MaxConcurrentReconciles: concurrency,
			// A receiver down for a minute is tried again within seconds of its return.
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[request](time.Second, 30*time.Second),
		}).
		WatchesRawSource(source.TypedKind(mgr.GetCache(), &v1beta1.FlinkDeployment{}, onDegradedChange[*v1beta1.FlinkDeployment](v1beta1.KindFlinkDeployment, func(fd *v1beta1.FlinkDeployment) []metav1.Condition { return fd.Status.Conditions }))).
		WatchesRawSource(source.TypedKind(mgr.GetCache(), &v1beta1.FlinkSessionJob{}, onDegradedChange[*v1beta1.FlinkSessionJob](v1beta1.KindFlinkSessionJob, func(sj *v1beta1.FlinkSessionJob) []metav1.Condition { return sj.Status.Conditions }))).
		WatchesRawSource(source.TypedKind(mgr.GetCache(), &v1beta1.AlertRoute{}, onConfigChange[*v1beta1.AlertRoute](a, false))).
		WatchesRawSource(source.TypedKind(mgr.GetCache(), &v1beta1.AlertReceiver{}, onConfigChange[*v1beta1.AlertReceiver](a, true))).
		WatchesRawSource(source.TypedFunc[request](a.recorded)).
		Complete(a)
}

// onDegradedChange queues a resource when it shows up Degraded (an operator that
// starts sees every resource created), whenever its Degraded condition changes, and
// when it is deleted.
func onDegradedChange[T client.Object](kind string, conditions func(T) []metav1.Condition) handler.TypedEventHandler[T, request] {
	req := func(o T) request {
		return request{Kind: kind, NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}}
	}
	return handler.TypedFuncs[T, request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[T], q workqueue.TypedRateLimitingInterface[request]) {
			if degraded(conditions(e.Object)) {
				q.Add(req(e.Object))
			}
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[T], q workqueue.TypedRateLimitingInterface[request]) {
			if degradedOf(conditions(e.ObjectOld)) != degradedOf(conditions(e.ObjectNew)) {
				q.Add(req(e.ObjectNew))
			}
		},
		// Gone: whoever was told of its incidents is told they ended, and its record
		// goes (the record may hold an end not yet sent, so every deletion is looked at).
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[T], q workqueue.TypedRateLimitingInterface[request]) {
			q.Add(req(e.Object))
		},
	}
}

// degradedOf is what of a Degraded condition makes an incident.
func degradedOf(conditions []metav1.Condition) [3]string {
	c := meta.FindStatusCondition(conditions, lifecycle.ConditionDegraded)
	if c == nil {
		return [3]string{}
	}
	return [3]string{string(c.Status), c.Reason, c.Message}
}

// degraded reports an incident open.
func degraded(conditions []metav1.Condition) bool {
	_, open := alerts.OpenIncident(conditions)
	return open
}

// degradedIn are the resources of a namespace that have an incident open: those a
// new or changed route, or a receiver that was missing, may now send.
func (a *Alerter) degradedIn(ctx context.Context, namespace string) []request {
	var reqs []request
	fds := &v1beta1.FlinkDeploymentList{}
	if err := a.Client.List(ctx, fds, client.InNamespace(namespace)); err != nil {
		log.FromContext(ctx).Error(err, "listing FlinkDeployments", "namespace", namespace)
	}
	for _, fd := range fds.Items {
		if degraded(fd.Status.Conditions) {
			reqs = append(reqs, request{Kind: v1beta1.KindFlinkDeployment, NamespacedName: types.NamespacedName{Namespace: fd.Namespace, Name: fd.Name}})
		}
	}
	sjs := &v1beta1.FlinkSessionJobList{}
	if err := a.Client.List(ctx, sjs, client.InNamespace(namespace)); err != nil {
		log.FromContext(ctx).Error(err, "listing FlinkSessionJobs", "namespace", namespace)
	}
	for _, sj := range sjs.Items {
		if degraded(sj.Status.Conditions) {
			reqs = append(reqs, request{Kind: v1beta1.KindFlinkSessionJob, NamespacedName: types.NamespacedName{Namespace: sj.Namespace, Name: sj.Name}})
		}
	}
	return reqs
}

// onConfigChange queues the namespace's resources with an incident open when a
// route is made or its spec changes, or a receiver is made.
func onConfigChange[T client.Object](a *Alerter, createsOnly bool) handler.TypedEventHandler[T, request] {
	queue := func(ctx context.Context, o T, q workqueue.TypedRateLimitingInterface[request]) {
		for _, r := range a.degradedIn(ctx, o.GetNamespace()) {
			q.Add(r)
		}
	}
	return handler.TypedFuncs[T, request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[T], q workqueue.TypedRateLimitingInterface[request]) {
			queue(ctx, e.Object, q)
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[T], q workqueue.TypedRateLimitingInterface[request]) {
			if !createsOnly && e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() {
				queue(ctx, e.ObjectNew, q)
			}
		},
	}
}

// recorded queues, as the controller starts, every resource with a record: an
// incident that ended while no operator ran is resolved, one not sent is sent.
func (a *Alerter) recorded(ctx context.Context, q workqueue.TypedRateLimitingInterface[request]) error {
	namespaces := a.namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	for _, ns := range namespaces {
		cms := &corev1.ConfigMapList{}
		if err := a.Reader.List(ctx, cms, client.InNamespace(ns), client.HasLabels{alerts.LabelRecord}); err != nil {
			log.FromContext(ctx).Error(err, "listing alert records; their resources are looked at again when their conditions change")
			continue
		}
		for _, cm := range cms.Items {
			q.Add(request{Kind: cm.Labels[alerts.LabelRecord], NamespacedName: types.NamespacedName{Namespace: cm.Namespace, Name: cm.Labels[render.LabelApp]}})
		}
	}
	return nil
}
