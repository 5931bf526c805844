package opmetrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// StateGauge counts resources of one kind by lifecycle state. Each resource is set on
// every reconciliation, so the counts are whole again once an operator that starts
// has seen every resource once — whether or not their status changes.
type StateGauge struct {
	gauge *prometheus.GaugeVec

	mu       sync.Mutex
	states   map[types.NamespacedName]string
	perState map[string]int
}

// NewStateGauge registers gauge name{lifecycle_state} with reg.
func NewStateGauge(reg prometheus.Registerer, name, help string) *StateGauge {
	g := &StateGauge{
		gauge:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"lifecycle_state"}),
		states: map[types.NamespacedName]string{}, perState: map[string]int{},
	}
	reg.MustRegister(g.gauge)
	return g
}

// Set moves one resource to state ("" when it is gone); only the gauges of its old and
// new state change, so a reconciliation costs the same with 10,000 resources as with
// one. A nil gauge counts nothing.
func (g *StateGauge) Set(key types.NamespacedName, state string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old, had := g.states[key]
	if had && old == state {
		return
	}
	if had {
		g.count(old, -1)
	}
	if state == "" {
		delete(g.states, key)
		return
	}
	g.states[key] = state
	g.count(state, 1)
}

// Forget drops a deleted resource.
func (g *StateGauge) Forget(key types.NamespacedName) { g.Set(key, "") }

// count adds delta to the number of resources in state; a state none is in has no
// series.
func (g *StateGauge) count(state string, delta int) {
	g.perState[state] += delta
	if g.perState[state] <= 0 {
		delete(g.perState, state)
		g.gauge.DeleteLabelValues(state)
		return
	}
	g.gauge.WithLabelValues(state).Set(float64(g.perState[state]))
}

// Count is the number of resources in state.
func (g *StateGauge) Count(state string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.perState[state]
}
