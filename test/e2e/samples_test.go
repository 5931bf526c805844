package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestSamples applies each FlinkDeployment of config/samples as it is — only its
// state directory moved to the test's — and waits for it to run. The HA sample's
// periodic savepoint interval is shortened so that one is seen.
func TestSamples(t *testing.T) {
	samples, err := filepath.Glob("../../config/samples/flinkdeployment-*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, path := range samples {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			t.Parallel()
			ns, c := operatorTest(t, flinkdist.Flink2)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			text := strings.ReplaceAll(string(data), "/var/lib/flink-data", flinktest.StateDir(t, cluster, ns))
			text = strings.ReplaceAll(text, "periodic.savepoint.interval: 30 min", "periodic.savepoint.interval: 20 s")
			fd := &v1beta1.FlinkDeployment{}
			require.NoError(t, yaml.UnmarshalStrict([]byte(text), fd))
			_, err = cluster.Kubectl(t.Context(), strings.NewReader(text), "-n", ns, "apply", "-f", "-")
			require.NoError(t, err)
			startOperator(t, ns, "")
			waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the sample running", stableWith(""))
			if strings.Contains(text, "periodic.savepoint.interval") {
				waitForDeployment(t, c, ns, fd.Name, 2*time.Minute, "a periodic savepoint", func(fd *v1beta1.FlinkDeployment) bool {
					sp := fd.Status.JobStatus.SavepointInfo
					return sp != nil && sp.LastSavepoint != nil && sp.LastSavepoint.TriggerType == "PERIODIC" && sp.LastPeriodicSavepointTimestamp > 0
				})
			}
		})
	}
}
