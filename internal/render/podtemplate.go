package render

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
)

// listKeys names the field that identifies an item in a list of objects of a Pod, for
// the lists where a name alone is not the identity.
var listKeys = map[string]string{
	"volumeMounts":  "mountPath",
	"volumeDevices": "devicePath",
	"ports":         "containerPort",
	"hostAliases":   "ip",
}

// LayerTemplates merges pod templates given as JSON objects, later layers over earlier
// ones (spec.podTemplate, then jobManager.podTemplate or taskManager.podTemplate):
// objects merge key by key; lists of objects merge item by item, matched by name (by
// mountPath, containerPort or ip where that is the identity), new items appended; lists
// of objects without identity keep every distinct item; lists of scalars are replaced.
// The result is deterministic and merging the same layer again changes nothing.
func LayerTemplates(layers ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, l := range layers {
		out = mergeObjects(out, l)
	}
	return out
}

func mergeObjects(base, overlay map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(overlay))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range overlay {
		out[k] = mergeValues(k, out[k], v)
	}
	return out
}

func mergeValues(key string, base, overlay any) any {
	switch o := overlay.(type) {
	case map[string]any:
		if b, ok := base.(map[string]any); ok {
			return mergeObjects(b, o)
		}
		return mergeObjects(nil, o)
	case []any:
		if b, ok := base.([]any); ok {
			return mergeLists(key, b, o)
		}
		return mergeLists(key, nil, o)
	}
	return overlay
}

// mergeLists merges lists of objects by their identity and replaces lists of scalars.
func mergeLists(key string, base, overlay []any) []any {
	if !allObjects(overlay) {
		return append([]any(nil), overlay...)
	}
	if !allObjects(base) {
		base = nil
	}
	idKey := listKeys[key]
	if idKey == "" {
		idKey = "name"
	}
	out := make([]any, 0, len(base)+len(overlay))
	for _, item := range base {
		out = append(out, mergeObjects(nil, item.(map[string]any)))
	}
	for _, item := range overlay {
		obj := mergeObjects(nil, item.(map[string]any)) // normalized, as out's items are
		if i := indexOf(out, idKey, obj); i >= 0 {
			out[i] = mergeObjects(out[i].(map[string]any), obj)
			continue
		}
		out = append(out, obj)
	}
	return out
}

// indexOf finds the item with the same identity as obj: the same idKey value, or, for
// items without one, an equal item.
func indexOf(list []any, idKey string, obj map[string]any) int {
	id, hasID := obj[idKey]
	for i, item := range list {
		other := item.(map[string]any)
		if hasID {
			if otherID, ok := other[idKey]; ok && reflect.DeepEqual(otherID, id) {
				return i
			}
			continue
		}
		if _, ok := other[idKey]; !ok && reflect.DeepEqual(other, obj) {
			return i
		}
	}
	return -1
}

func allObjects(list []any) bool {
	for _, item := range list {
		if _, ok := item.(map[string]any); !ok {
			return false
		}
	}
	return true
}

// templateLayer reads one pod template of the spec as a JSON object.
func templateLayer(raw *runtime.RawExtension, path *field.Path) (map[string]any, *field.Error) {
	if raw == nil || len(raw.Raw) == 0 {
		return nil, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw.Raw, &obj); err != nil {
		return nil, field.Invalid(path, "", "must be a Pod object (apiVersion: v1, kind: Pod, metadata, spec): "+err.Error())
	}
	return obj, nil
}

// decodePod turns a layered template into a Pod, rejecting fields a Pod does not have
// (the CRD keeps pod templates out of its schema, so this is where typos are caught).
func decodePod(obj map[string]any, path *field.Path) (*corev1.Pod, *field.Error) {
	pod := &corev1.Pod{}
	if len(obj) == 0 {
		return pod, nil
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, field.InternalError(path, err)
	}
	strict, err := kjson.UnmarshalStrict(data, pod)
	if err != nil {
		return nil, field.Invalid(path, "", "is not a valid Pod: "+err.Error())
	}
	if len(strict) > 0 {
		msgs := make([]string, 0, len(strict))
		for _, e := range strict {
			msgs = append(msgs, e.Error())
		}
		return nil, field.Invalid(path, "", fmt.Sprintf("is not a valid Pod: %s (see kubectl explain pod.spec)", strings.Join(msgs, "; ")))
	}
	if pod.Kind != "" && pod.Kind != "Pod" {
		return nil, field.Invalid(path.Child("kind"), pod.Kind, "a pod template is a Pod: kind: Pod, or leave it out")
	}
	return pod, nil
}
