package statesnapshot

import (
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flok-dev/flok/api/v1beta1"
)

// SetupWithManager registers the reconciler: it watches FlinkStateSnapshots (their
// spec and deletion, not the status it writes itself). It watches no job: a snapshot
// is taken when it is created, against the job as it is then, and followed by polling.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	deleting := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool { return e.ObjectNew.GetDeletionTimestamp() != nil }}
	return ctrl.NewControllerManagedBy(mgr).
		Named("flinkstatesnapshot").
		For(&v1beta1.FlinkStateSnapshot{}, builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, deleting))).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}
