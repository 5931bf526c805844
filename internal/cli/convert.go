package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
)

// apacheGroupVersion is the Apache Flink Kubernetes Operator's API.
const apacheGroupVersion = "flink.apache.org/v1beta1"

// Convert turns the Apache Flink Kubernetes Operator's resources (one or more YAML
// documents) into Flok's: the same fields under flok.dev/v1beta1, each checked
// strictly against Flok's types, status dropped. Documents of other APIs pass
// through unchanged.
func Convert(data []byte) ([]byte, error) {
	docs, err := decodeAll(data)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for i, u := range docs {
		if u.GetAPIVersion() == apacheGroupVersion {
			u.SetAPIVersion(v1beta1.GroupVersion.String())
			delete(u.Object, "status")
			var typed any
			switch u.GetKind() {
			case "FlinkDeployment":
				typed = &v1beta1.FlinkDeployment{}
			case "FlinkSessionJob":
				typed = &v1beta1.FlinkSessionJob{}
			case "FlinkStateSnapshot":
				typed = &v1beta1.FlinkStateSnapshot{}
			default:
				return nil, fmt.Errorf("document %d (%s %s): kind %q has no Flok counterpart", i+1, u.GetKind(), u.GetName(), u.GetKind())
			}
			if err := decodeStrict(u, typed); err != nil {
				return nil, fmt.Errorf("document %d (%s %s): %w", i+1, u.GetKind(), u.GetName(), err)
			}
		}
		text, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(text)
	}
	return out.Bytes(), nil
}

// decodeStrict decodes u into typed, refusing unknown and duplicate fields with their paths.
func decodeStrict(u *unstructured.Unstructured, typed any) error {
	raw, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(raw, typed, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err == nil && len(strict) > 0 {
		err = errors.Join(strict...)
	}
	return err
}
