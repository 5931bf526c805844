package operator

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flok-dev/flok/internal/controller/alerting"
	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/opmetrics"
)

// operatorMetrics are the flok_* metrics the operator serves on /metrics, next to
// controller-runtime's own (workqueue_*, controller_runtime_*).
type operatorMetrics struct {
	deployments *deployment.Metrics
	sessionJobs *opmetrics.StateGauge
	flinkREST   *opmetrics.FlinkREST
	alerts      *alerting.Metrics
}

// newOperatorMetrics creates the operator's metrics and registers them with reg.
func newOperatorMetrics(reg prometheus.Registerer) operatorMetrics {
	return operatorMetrics{
		deployments: deployment.NewMetrics(reg),
		sessionJobs: opmetrics.NewStateGauge(reg, "flok_session_jobs", "FlinkSessionJobs by lifecycle state."),
		flinkREST:   opmetrics.NewFlinkREST(reg),
		alerts:      alerting.NewMetrics(reg),
	}
}
