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

// ClusterIndex indexes the Pods and ConfigMaps of Flink clusters by the cluster they
// belong to (their app label): a round lists its cluster's in constant time, where a
// label selector would look at every Pod of the namespace.
const ClusterIndex = "flok.dev/cluster"

// Index registers SessionIndex and ClusterIndex with the manager's cache.
func Index(ctx context.Context, mgr ctrl.Manager) error {
	indexer := mgr.GetFieldIndexer()
	if err := indexer.IndexField(ctx, &v1beta1.FlinkSessionJob{}, SessionIndex, func(obj client.Object) []string {
		return []string{obj.(*v1beta1.FlinkSessionJob).Spec.DeploymentName}
	}); err != nil {
		return err
	}
	for _, obj := range []client.Object{&corev1.Pod{}, &corev1.ConfigMap{}} {
		if err := indexer.IndexField(ctx, obj, ClusterIndex, clusterOf); err != nil {
			return err
		}
	}
	return nil
}

// clusterOf is the Flink cluster an object belongs to, by its app label.
func clusterOf(obj client.Object) []string {
	if app := obj.GetLabels()[render.LabelApp]; app != "" {
		return []string{app}
	}
	return nil
}

// SetupWithManager registers the reconciler: it watches FlinkDeployments (their spec,
// labels, annotations and deletion — not the status it writes itself), the Deployments
// they own (what observation reads of them: their spec's generation, annotations and
// deletion — not the status their controller writes), the Pods of their Flink clusters
// (as jobManagerPodChanged says, and every container of theirs that ends unasked, which
// the terminations log keeps) and the FlinkSessionJobs of
// session clusters (whose status a session upgrade or deletion waits on), with at most
// concurrency reconciliations at once. SessionIndex must be registered.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	deleting := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool { return e.ObjectNew.GetDeletionTimestamp() != nil }}
	return ctrl.NewControllerManagedBy(mgr).
		Named("flinkdeployment").
		For(&v1beta1.FlinkDeployment{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}, deleting))).
		Owns(&appsv1.Deployment{}, builder.OnlyMetadata, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deleting))).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(clusterOfPod), builder.WithPredicates(jobManagerPodChanged)).
		Watches(&corev1.Pod{}, r.terminations.handler()).
		Watches(&v1beta1.FlinkSessionJob{}, handler.EnqueueRequestsFromMapFunc(sessionOfJob)).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

// jobManagerPodChanged passes the events of Pods that change what observation sees:
// a JobManager Pod's coming, readiness, failure and deletion, and any Pod's going (a
// cluster is gone only when its last Pod is).
var jobManagerPodChanged = predicate.Funcs{
	CreateFunc:  func(e event.CreateEvent) bool { return isJobManager(e.Object) },
	DeleteFunc:  func(event.DeleteEvent) bool { return true },
	GenericFunc: func(e event.GenericEvent) bool { return isJobManager(e.Object) },
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, oldOK := e.ObjectOld.(*corev1.Pod)
		pod, ok := e.ObjectNew.(*corev1.Pod)
		if !ok || !oldOK || !isJobManager(pod) {
			return false
		}
		return podReady(old) != podReady(pod) || podFailing(old, "") != podFailing(pod, "") ||
			(old.DeletionTimestamp == nil) != (pod.DeletionTimestamp == nil) || old.Status.Phase != pod.Status.Phase
	},
}

func isJobManager(obj client.Object) bool {
	return obj.GetLabels()[render.LabelComponent] == render.ComponentJobManager
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
