package sessionjob

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/deployment"
)

// SetupWithManager registers the reconciler: it watches FlinkSessionJobs (their spec,
// labels, annotations and deletion — not the status it writes itself) and session
// clusters (their status says when a job may run, must stop for an upgrade, or waits
// for a missing cluster). deployment.SessionIndex must be registered.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	deleting := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool { return e.ObjectNew.GetDeletionTimestamp() != nil }}
	return ctrl.NewControllerManagedBy(mgr).
		Named("flinksessionjob").
		For(&v1beta1.FlinkSessionJob{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}, deleting))).
		Watches(&v1beta1.FlinkDeployment{}, handler.EnqueueRequestsFromMapFunc(r.jobsOfSession)).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

// jobsOfSession maps a FlinkDeployment to the FlinkSessionJobs that name it.
func (r *Reconciler) jobsOfSession(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &v1beta1.FlinkSessionJobList{}
	if err := r.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{deployment.SessionIndex: obj.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, len(list.Items))
	for i, sj := range list.Items {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&sj)}
	}
	return out
}
