package logkeeper

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// concurrency is how many logs are taken at once: enough that one slow node does not
// hold the others up, few enough that an upgrade of many clusters does not crowd the
// API server.
const concurrency = 4

// Setup runs a Keeper on the manager's cache of Flink Pods.
func Setup(mgr ctrl.Manager) error {
	kube, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	k := &Keeper{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Logs: PodLogs(kube)}
	return builder.TypedControllerManagedBy[request](mgr).
		Named("logkeeper").
		WithOptions(controller.TypedOptions[request]{MaxConcurrentReconciles: concurrency}).
		WatchesRawSource(source.TypedKind(mgr.GetCache(), &corev1.Pod{}, k.handler())).
		Complete(k)
}

// handler queues the runs each Pod's creation (an operator that starts sees every Pod
// as created) and updates show, except those kept already.
func (k *Keeper) handler() handler.TypedEventHandler[*corev1.Pod, request] {
	see := func(pod *corev1.Pod, q workqueue.TypedRateLimitingInterface[request]) {
		for _, r := range requestsFor(pod) {
			if !k.isDone(r.doneKey()) {
				q.Add(r)
			}
		}
	}
	return handler.TypedFuncs[*corev1.Pod, request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[*corev1.Pod], q workqueue.TypedRateLimitingInterface[request]) {
			see(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[*corev1.Pod], q workqueue.TypedRateLimitingInterface[request]) {
			see(e.ObjectNew, q)
		},
	}
}
