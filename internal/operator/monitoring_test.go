package operator

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// describing records the names of the metrics registered with it.
type describing struct{ names []string }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *describing) Register(c prometheus.Collector) error {
	descs := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(descs); close(descs) }()
	for desc := range descs {
		d.names = append(d.names, fqName.FindStringSubmatch(desc.String())[1])
	}
	return nil
}

func (d *describing) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = d.Register(c)
	}
}

func (d *describing) Unregister(prometheus.Collector) bool { return true }

// TestMonitoringNamesOperatorMetrics: every flok_* metric the shipped dashboards and
// alerting rules (config/monitoring) name is one the operator serves — no panel or
// alert about a metric that does not exist. (test/e2e runs their queries on a real
// Prometheus; the Flink ones must return data there.)
func TestMonitoringNamesOperatorMetrics(t *testing.T) {
	var reg describing
	newOperatorMetrics(&reg)
	served := reg.names
	require.Contains(t, served, "flok_deployments")
	used := regexp.MustCompile(`flok_[a-z_]+`)
	checked := 0
	for _, file := range []string{"grafana-flok-operator.json", "prometheus-rules.yaml", "grafana-flink-job.json"} {
		data, err := os.ReadFile("../../config/monitoring/" + file)
		require.NoError(t, err)
		for _, name := range used.FindAllString(string(data), -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				base = strings.TrimSuffix(base, suffix)
			}
			require.True(t, slices.Contains(served, base), "%s names %s, which the operator does not serve (it serves %v)", file, name, served)
			checked++
		}
	}
	require.Greater(t, checked, 10, "the dashboards and rules name the operator's metrics")
}
