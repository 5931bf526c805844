package podmonitor

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Served reports whether the cluster serves PodMonitors (the Prometheus Operator's
// CRDs are installed).
func Served(mgr ctrl.Manager) (bool, error) {
	_, err := mgr.GetRESTMapper().RESTMapping(GroupKind, "v1")
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	}
	return false, fmt.Errorf("looking for the PodMonitor CRD: %w", err)
}

// SetupWithManager registers the reconciler: a FlinkDeployment is looked at when it
// appears (every one when the operator starts), and again when its PodMonitor changes
// or goes. Its spec does not matter: a PodMonitor follows the deployment's name alone.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Shards < 1 {
		return fmt.Errorf("--metrics-shards %d: must be 1 or more", r.Shards)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("podmonitor").
		For(&v1beta1.FlinkDeployment{}, builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(event.UpdateEvent) bool { return false },
		})).
		Owns(newPodMonitor()).
		Complete(r)
}
