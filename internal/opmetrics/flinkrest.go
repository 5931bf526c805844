package opmetrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FlinkREST measures the calls made to Flink's REST APIs, by method and endpoint
// (the path with its ids as ":id"): a flinkrest.Observer.
type FlinkREST struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewFlinkREST registers flok_flink_rest_request_duration_seconds{method,endpoint} and
// flok_flink_rest_errors_total{method,endpoint,code} with reg.
func NewFlinkREST(reg prometheus.Registerer) *FlinkREST {
	m := &FlinkREST{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flok_flink_rest_request_duration_seconds",
			Help:    "Time a call to a Flink REST API took (each attempt), by method and endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.002, 4, 8),
		}, []string{"method", "endpoint"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flok_flink_rest_errors_total",
			Help: "Calls to a Flink REST API that failed, by method, endpoint and HTTP status (\"transport\": no answer).",
		}, []string{"method", "endpoint", "code"}),
	}
	reg.MustRegister(m.duration, m.errors)
	return m
}

// ObserveRequest records one call; code is its HTTP status, 0 when none came back, and
// failed says whether the client took it as an error.
func (m *FlinkREST) ObserveRequest(method, endpoint string, code int, failed bool, took time.Duration) {
	m.duration.WithLabelValues(method, endpoint).Observe(took.Seconds())
	if !failed {
		return
	}
	label := "transport"
	if code != 0 {
		label = strconv.Itoa(code)
	}
	m.errors.WithLabelValues(method, endpoint, label).Inc()
}
