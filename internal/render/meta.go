package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Labels Flink and Flok put on a cluster's objects.
const (
	LabelApp       = "app"
	LabelComponent = "component"
	LabelType      = "type"
	// LabelManagedBy marks the objects Flok creates, so that the operator can watch
	// exactly those.
	LabelManagedBy = "app.kubernetes.io/managed-by"

	ComponentJobManager  = "jobmanager"
	ComponentTaskManager = "taskmanager"

	TypeNative     = "flink-native-kubernetes"
	TypeStandalone = "flink-standalone-kubernetes"
	// ManagedByFlok is the value of LabelManagedBy on the objects Flok creates.
	ManagedByFlok = "flok"
)

// commonLabels are Flink's labels of every object of the cluster: app and type.
func (c *cluster) commonLabels() map[string]string {
	t := TypeNative
	if !c.native() {
		t = TypeStandalone
	}
	return map[string]string{LabelApp: c.name(), LabelType: t}
}

// selector selects the Pods of one component (jobmanager, taskmanager).
func (c *cluster) selector(component string) map[string]string {
	l := c.commonLabels()
	l[LabelComponent] = component
	return l
}

// objectMeta is the metadata of an object Flok creates: Flink's labels plus Flok's,
// owned by the FlinkDeployment so that deleting it removes them.
func (c *cluster) objectMeta(name string, labels map[string]string) metav1.ObjectMeta {
	l := maps.Clone(labels)
	l[LabelManagedBy] = ManagedByFlok
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       c.namespace(),
		Labels:          l,
		OwnerReferences: []metav1.OwnerReference{c.ownerReference()},
	}
}

func (c *cluster) ownerReference() metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         v1beta1.GroupVersion.String(),
		Kind:               "FlinkDeployment",
		Name:               c.name(),
		UID:                c.in.Deployment.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// hashObjects is a short digest of the objects' JSON (map keys sorted), stable across
// runs and Go versions.
func hashObjects(objs []Object) (string, error) {
	h := sha256.New()
	for _, o := range objs {
		data, err := json.Marshal(o)
		if err != nil {
			return "", err
		}
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// hashData hashes a value's JSON (maps in key order).
func hashData(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16], nil
}
