package podmonitor

import (
	"context"
	"strconv"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/render"
)

// GroupKind is the Prometheus Operator's PodMonitor.
var GroupKind = schema.GroupKind{Group: "monitoring.coreos.com", Kind: "PodMonitor"}

// ShardLabel names the Prometheus shard that scrapes a deployment: each shard's
// Prometheus selects its PodMonitors by it (podMonitorSelector).
const ShardLabel = "flok.dev/metrics-shard"

// Reconciler keeps the PodMonitor of each FlinkDeployment.
type Reconciler struct {
	Client client.Client
	// Shards is how many Prometheus shards share the deployments (1: one Prometheus).
	Shards int
}

// Reconcile applies the deployment's PodMonitor unless the one there is as Flok wants
// it; the garbage collector removes it with its deployment. A PodMonitor of the same
// name that is not the deployment's own is left alone.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	fd := &v1beta1.FlinkDeployment{}
	if err := r.Client.Get(ctx, req.NamespacedName, fd); err != nil || fd.DeletionTimestamp != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	want, err := r.podMonitor(fd)
	if err != nil {
		return ctrl.Result{}, err
	}
	have := newPodMonitor()
	switch err := r.Client.Get(ctx, req.NamespacedName, have); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return ctrl.Result{}, err
	case !metav1.IsControlledBy(have, fd):
		log.FromContext(ctx).Info("a PodMonitor of the deployment's name exists and is not Flok's; Flok keeps none for this deployment")
		return ctrl.Result{}, nil
	case current(have, want):
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(want),
		client.FieldOwner(deployment.FieldOwner), client.ForceOwnership)
}

// current reports whether have carries want's labels and spec.
func current(have, want *unstructured.Unstructured) bool {
	for k, v := range want.GetLabels() {
		if have.GetLabels()[k] != v {
			return false
		}
	}
	return equality.Semantic.DeepEqual(have.Object["spec"], want.Object["spec"])
}

func newPodMonitor() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GroupKind.WithVersion("v1"))
	return u
}

// podMonitor is fd's PodMonitor, owned by fd.
func (r *Reconciler) podMonitor(fd *v1beta1.FlinkDeployment) (*unstructured.Unstructured, error) {
	u, err := Desired(fd, r.Shards)
	if err != nil {
		return nil, err
	}
	return u, controllerutil.SetControllerReference(fd, u, r.Client.Scheme())
}

// Desired is the PodMonitor Flok keeps for fd: its Flink Pods (labels app and type) at
// their port "metrics", their component (jobmanager, taskmanager) as a label, on fd's
// shard of shards.
func Desired(fd *v1beta1.FlinkDeployment, shards int) (*unstructured.Unstructured, error) {
	u := newPodMonitor()
	u.SetNamespace(fd.Namespace)
	u.SetName(fd.Name)
	u.SetLabels(map[string]string{
		render.LabelApp: fd.Name, render.LabelManagedBy: render.ManagedByFlok,
		ShardLabel: strconv.Itoa(Shard(fd.Namespace, fd.Name, shards)),
	})
	u.Object["spec"] = map[string]any{
		"selector": map[string]any{
			"matchLabels": map[string]any{render.LabelApp: fd.Name},
			"matchExpressions": []any{map[string]any{
				"key": render.LabelType, "operator": "In", "values": []any{render.TypeNative, render.TypeStandalone},
			}},
		},
		"podMetricsEndpoints": []any{map[string]any{"port": render.MetricsPortName}},
		"podTargetLabels":     []any{render.LabelComponent},
	}
	return u, nil
}
