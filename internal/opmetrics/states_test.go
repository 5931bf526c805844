package opmetrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
)

func TestStateGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := NewStateGauge(reg, "flok_things", "Things by lifecycle state.")
	a, b := types.NamespacedName{Namespace: "ns", Name: "a"}, types.NamespacedName{Namespace: "ns", Name: "b"}
	g.Set(a, "DEPLOYED")
	g.Set(a, "DEPLOYED")
	g.Set(b, "DEPLOYED")
	g.Set(b, "STABLE")
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP flok_things Things by lifecycle state.
# TYPE flok_things gauge
flok_things{lifecycle_state="DEPLOYED"} 1
flok_things{lifecycle_state="STABLE"} 1
`)))
	g.Forget(a)
	g.Forget(a)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP flok_things Things by lifecycle state.
# TYPE flok_things gauge
flok_things{lifecycle_state="STABLE"} 1
`)), "a state nobody is in has no series")
	var none *StateGauge
	none.Set(a, "STABLE") // a nil gauge counts nothing
}

func TestFlinkREST(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewFlinkREST(reg)
	m.ObserveRequest("GET", "/jobs/:id", 200, false, 0)
	m.ObserveRequest("GET", "/jobs/:id", 404, true, 0)
	m.ObserveRequest("POST", "/jobs/:id/savepoints", 0, true, 0)
	require.Equal(t, 2, testutil.CollectAndCount(m.errors))
	require.Equal(t, 1.0, testutil.ToFloat64(m.errors.WithLabelValues("GET", "/jobs/:id", "404")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.errors.WithLabelValues("POST", "/jobs/:id/savepoints", "transport")))
	require.Equal(t, 2, testutil.CollectAndCount(m.duration), "one series per method and endpoint")
}
