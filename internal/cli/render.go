package cli

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/render"
)

// Render turns the FlinkDeployments in data (one or more YAML documents) into the
// Kubernetes objects the operator creates for them, as YAML documents, without a cluster.
// A resource without a namespace is rendered in "default". Other kinds are refused by
// name: a FlinkSessionJob, for one, becomes no Kubernetes object of its own.
func Render(data []byte) ([]byte, error) {
	docs, err := decodeAll(data)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for i, u := range docs {
		if u.GetAPIVersion() != v1beta1.GroupVersion.String() || u.GetKind() != "FlinkDeployment" {
			return nil, fmt.Errorf("document %d (%s %s): render takes %s FlinkDeployments only%s",
				i+1, u.GetKind(), u.GetName(), v1beta1.GroupVersion, renderHint(u.GetAPIVersion(), u.GetKind()))
		}
		fd := &v1beta1.FlinkDeployment{}
		if err := decodeStrict(u, fd); err != nil {
			return nil, fmt.Errorf("document %d (%s %s): %w", i+1, u.GetKind(), u.GetName(), err)
		}
		if fd.Namespace == "" {
			fd.Namespace = "default"
		}
		objs, err := render.Render(render.Input{Deployment: fd})
		if err != nil {
			return nil, fmt.Errorf("document %d (%s %s): %w", i+1, u.GetKind(), u.GetName(), err)
		}
		for _, obj := range objs.All() {
			text, err := yaml.Marshal(obj)
			if err != nil {
				return nil, err
			}
			out.WriteString("---\n")
			out.Write(text)
		}
	}
	return out.Bytes(), nil
}

// renderHint says what to do instead for the kinds people try to render.
func renderHint(apiVersion, kind string) string {
	switch {
	case apiVersion == apacheGroupVersion:
		return " (an Apache operator resource: `flok convert` turns it into Flok's)"
	case kind == "FlinkSessionJob":
		return " (a FlinkSessionJob creates no Kubernetes objects: it is submitted to its session cluster)"
	}
	return ""
}
