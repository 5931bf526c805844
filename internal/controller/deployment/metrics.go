package deployment

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/opmetrics"
)

// Metrics are the operator's Prometheus metrics, all named flok_*.
type Metrics struct {
	reconcileDuration *prometheus.HistogramVec
	reconcileErrors   prometheus.Counter
	deployments       *opmetrics.StateGauge
	savepointDuration *prometheus.HistogramVec
	savepointFailures *prometheus.CounterVec
	upgradeDuration   *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	buckets := []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800}
	m := &Metrics{
		reconcileDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "flok_reconcile_duration_seconds", Help: "Time to reconcile a FlinkDeployment once, by result.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"result"}),
		reconcileErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flok_reconcile_errors_total", Help: "Reconciliations that ended in an error.",
		}),
		deployments: opmetrics.NewStateGauge(reg, "flok_deployments", "FlinkDeployments by lifecycle state."),
		savepointDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "flok_savepoint_duration_seconds", Help: "Time from trigger to completed savepoint, by trigger type.", Buckets: buckets,
		}, []string{"trigger_type"}),
		savepointFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flok_savepoint_failures_total", Help: "Savepoints and checkpoints that failed or timed out, by kind.",
		}, []string{"kind"}),
		upgradeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "flok_operation_duration_seconds", Help: "Time an upgrade, suspension, restart or recovery took, by kind.", Buckets: buckets,
		}, []string{"kind"}),
	}
	reg.MustRegister(m.reconcileDuration, m.reconcileErrors, m.savepointDuration, m.savepointFailures, m.upgradeDuration)
	return m
}

func (m *Metrics) observeReconcile(start, end time.Time, err error) {
	if m == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "error"
		m.reconcileErrors.Inc()
	}
	m.reconcileDuration.WithLabelValues(result).Observe(end.Sub(start).Seconds())
}

// recorded updates the metrics that follow from a status change.
func (m *Metrics) recorded(now time.Time, before, after *v1beta1.FlinkDeployment) {
	if m == nil {
		return
	}
	m.seen(types.NamespacedName{Namespace: after.Namespace, Name: after.Name}, after.Status.LifecycleState)
	oldOp, newOp := before.Status.Operation, after.Status.Operation
	if oldOp != nil && newOp == nil {
		m.upgradeDuration.WithLabelValues(string(oldOp.Kind)).Observe(now.Sub(oldOp.StartTime.Time).Seconds())
	}
	if oldOp != nil && oldOp.Step == v1beta1.StepSnapshotting {
		switch {
		case newOp == nil:
			// The operation gave up on its savepoint.
			m.savepointFailures.WithLabelValues("savepoint").Inc()
		case newOp.RestorePath != "" && oldOp.RestorePath == "":
			m.savepointDuration.WithLabelValues("UPGRADE").Observe(now.Sub(oldOp.StartTime.Time).Seconds())
		}
	}
	oldSP, newSP := before.Status.JobStatus.SavepointInfo, after.Status.JobStatus.SavepointInfo
	if oldSP != nil && oldSP.TriggerID != "" && newSP != nil && newSP.TriggerID == "" {
		if newSP.LastSavepoint != nil && newSP.LastSavepoint.TimeStamp >= oldSP.TriggerTimestamp {
			m.savepointDuration.WithLabelValues(oldSP.TriggerType).Observe(now.Sub(time.UnixMilli(oldSP.TriggerTimestamp)).Seconds())
		} else {
			m.savepointFailures.WithLabelValues("savepoint").Inc()
		}
	}
	oldCP, newCP := before.Status.JobStatus.CheckpointInfo, after.Status.JobStatus.CheckpointInfo
	if oldCP != nil && oldCP.TriggerID != "" && newCP != nil && newCP.TriggerID == "" &&
		(newCP.LastCheckpoint == nil || newCP.LastCheckpoint.TimeStamp < oldCP.TriggerTimestamp) {
		m.savepointFailures.WithLabelValues("checkpoint").Inc()
	}
}

// seen counts a deployment in its state, on every reconciliation: an operator that
// starts counts every deployment once it has seen each, not only those whose status
// it writes.
func (m *Metrics) seen(key types.NamespacedName, state v1beta1.LifecycleState) {
	if m != nil {
		m.deployments.Set(key, string(state))
	}
}

// forget drops a deleted deployment from the state gauge.
func (m *Metrics) forget(key types.NamespacedName) {
	if m != nil {
		m.deployments.Forget(key)
	}
}
