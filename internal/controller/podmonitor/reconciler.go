package podmonitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/render"
)

// GroupKind is the Prometheus Operator's PodMonitor.
var GroupKind = schema.GroupKind{Group: "monitoring.coreos.com", Kind: "PodMonitor"}

// Labels of the PodMonitors.
const (
	// ShardLabel names the Prometheus shard that scrapes a deployment: each shard's
	// Prometheus selects its PodMonitors by it (podMonitorSelector).
	ShardLabel = "flok.dev/metrics-shard"
	// hashAnnotation is the hash of what Flok sets, to see a PodMonitor is current
	// without reading it field by field.
	hashAnnotation = "flok.dev/podmonitor-hash"
)

// Reconciler keeps the PodMonitor of each FlinkDeployment.
type Reconciler struct {
	Client client.Client
	// Shards is how many Prometheus shards share the deployments (1: one Prometheus).
	Shards int
}

// Reconcile applies the deployment's PodMonitor unless the one there is current; the
// garbage collector removes it with its deployment.
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
	err = r.Client.Get(ctx, req.NamespacedName, have)
	if err == nil && have.GetAnnotations()[hashAnnotation] == want.GetAnnotations()[hashAnnotation] {
		return ctrl.Result{}, nil
	}
	if client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(want),
		client.FieldOwner(deployment.FieldOwner), client.ForceOwnership)
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

// Desired is the PodMonitor Flok keeps for fd: its Pods (label app) at their port
// "metrics", their component (jobmanager, taskmanager) as a label, on fd's shard of
// shards.
func Desired(fd *v1beta1.FlinkDeployment, shards int) (*unstructured.Unstructured, error) {
	u := newPodMonitor()
	u.SetNamespace(fd.Namespace)
	u.SetName(fd.Name)
	u.SetLabels(map[string]string{
		render.LabelApp: fd.Name, "app.kubernetes.io/managed-by": "flok",
		ShardLabel: strconv.Itoa(Shard(fd.Namespace, fd.Name, shards)),
	})
	u.Object["spec"] = map[string]any{
		"selector":            map[string]any{"matchLabels": map[string]any{render.LabelApp: fd.Name}},
		"podMetricsEndpoints": []any{map[string]any{"port": render.MetricsPortName}},
		"podTargetLabels":     []any{render.LabelComponent},
	}
	data, err := json.Marshal([]any{u.GetLabels(), u.Object["spec"]})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	u.SetAnnotations(map[string]string{hashAnnotation: hex.EncodeToString(sum[:8])})
	return u, nil
}
