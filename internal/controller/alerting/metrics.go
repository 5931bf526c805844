package alerting

import "github.com/prometheus/client_golang/prometheus"

// Metrics count the messages sent to receivers and the deliveries that failed.
type Metrics struct {
	sent     *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// NewMetrics registers flok_alerts_sent_total{receiver_type,event} and
// flok_alert_delivery_failures_total{receiver_type} with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flok_alerts_sent_total",
			Help: "Messages about incidents a receiver took, by its type and the message's event (firing, reminder, resolved).",
		}, []string{"receiver_type", "event"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flok_alert_delivery_failures_total",
			Help: "Messages a receiver refused or that could not be sent (each is tried again), by the receiver's type.",
		}, []string{"receiver_type"}),
	}
	reg.MustRegister(m.sent, m.failures)
	return m
}

// observe counts one delivery of a message of event to a receiver of type typ.
func (m *Metrics) observe(typ, event string, err error) {
	switch {
	case m == nil:
	case err != nil:
		m.failures.WithLabelValues(typ).Inc()
	default:
		m.sent.WithLabelValues(typ, event).Inc()
	}
}
