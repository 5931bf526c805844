package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/render"
)

// SessionIndex indexes FlinkSessionJobs by the session cluster they name.
const SessionIndex = "spec.deploymentName"

// IndexSessionJobs registers SessionIndex with the manager's cache.
func IndexSessionJobs(ctx context.Context, mgr ctrl.Manager) error {
	return mgr.GetFieldIndexer().IndexField(ctx, &v1beta1.FlinkSessionJob{}, SessionIndex, func(obj client.Object) []string {
		return []string{obj.(*v1beta1.FlinkSessionJob).Spec.DeploymentName}
	})
}

// SetupWithManager registers the reconciler: it watches FlinkDeployments (their spec,
// labels, annotations and deletion — not the status it writes itself), the Deployments
// they own, the Pods of their Flink clusters and the FlinkSessionJobs of session
// clusters (whose status a session upgrade or deletion waits on), with at most
// concurrency reconciliations at once. SessionIndex must be registered.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	deleting := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool { return e.ObjectNew.GetDeletionTimestamp() != nil }}
	return ctrl.NewControllerManagedBy(mgr).
		Named("flinkdeployment").
		For(&v1beta1.FlinkDeployment{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}, deleting))).
		Owns(&appsv1.Deployment{}, builder.OnlyMetadata).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(clusterOfPod)).
		Watches(&v1beta1.FlinkSessionJob{}, handler.EnqueueRequestsFromMapFunc(sessionOfJob)).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

// clusterOfPod maps a Flink Pod (JobManager or TaskManager; Flink's ResourceManager
// owns the latter) to its FlinkDeployment by the app label.
func clusterOfPod(_ context.Context, obj client.Object) []reconcile.Request {
	app := obj.GetLabels()[render.LabelApp]
	if app == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: app}}}
}

// sessionOfJob maps a FlinkSessionJob to its session cluster.
func sessionOfJob(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.(*v1beta1.FlinkSessionJob).Spec.DeploymentName
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
}
