package config

import (
	"embed"
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Samples holds samples/: complete FlinkDeployments and FlinkSessionJobs, each run by
// the end-to-end tests.
//
//go:embed samples/*.yaml
var Samples embed.FS

// SampleDeployment decodes the FlinkDeployment of samples/<file> (one document).
func SampleDeployment(file string) (*v1beta1.FlinkDeployment, error) {
	data, err := Samples.ReadFile("samples/" + file)
	if err != nil {
		return nil, err
	}
	fd := &v1beta1.FlinkDeployment{}
	if err := yaml.UnmarshalStrict(data, fd); err != nil {
		return nil, fmt.Errorf("samples/%s: %w", file, err)
	}
	return fd, nil
}
