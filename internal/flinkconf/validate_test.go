package flinkconf

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidate(t *testing.T) {
	path := field.NewPath("spec", "flinkConfiguration")
	for name, tc := range map[string]struct {
		config Config
		want   []string
	}{
		"valid": {Config{
			"taskmanager.memory.process.size": "1728m", "jobmanager.memory.process.size": "1600 mb",
			"taskmanager.memory.managed.fraction": "0.4", "taskmanager.numberOfTaskSlots": "2",
			"high-availability.type": "kubernetes", "high-availability.storageDir": "file:///flink-data/ha",
		}, nil},
		"unknown memory unit": {Config{"taskmanager.memory.process.size": "2 lbs"},
			[]string{`spec.flinkConfiguration[taskmanager.memory.process.size]: Invalid value: "2 lbs": memory size "2 lbs": unknown unit "lbs"`}},
		"network min": {Config{"taskmanager.memory.network.min": "64x"},
			[]string{`spec.flinkConfiguration[taskmanager.memory.network.min]: Invalid value: "64x"`}},
		"zero slots": {Config{"taskmanager.numberOfTaskSlots": "0"},
			[]string{`spec.flinkConfiguration[taskmanager.numberOfTaskSlots]: Invalid value: "0": must be a whole number of 1 or more`}},
		"negative parallelism": {Config{"parallelism.default": "-2"},
			[]string{`spec.flinkConfiguration[parallelism.default]: Invalid value: "-2"`}},
		"HA without storage": {Config{"high-availability.type": "kubernetes"},
			[]string{`spec.flinkConfiguration[high-availability.storageDir]: Required value: high availability is on`}},
		"deprecated HA key": {Config{"high-availability": "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory"},
			[]string{"high-availability.storageDir"}},
		"HA off": {Config{"high-availability.type": "NONE"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			errs := tc.config.Validate(path)
			require.Len(t, errs, len(tc.want), "%v", errs)
			for i, want := range tc.want {
				require.Contains(t, errs[i].Error(), want)
			}
		})
	}
}
