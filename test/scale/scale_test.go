package scale_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/test/scale"
)

func TestMain(m *testing.M) {
	if reexecuted, code, err := scale.InOwnNetwork(); reexecuted {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestSmallRun runs the scale harness with 50 deployments and checks that everything
// it times happened: every deployment STABLE, every failure reported in status and an
// event, every upgrade restored from its own savepoint — also when etcd restarts in
// the middle (the steady deployments untouched meanwhile) — every cluster observed
// again after a restart, no dial off the machine. Its timings are make bench-scale's to
// report, never asserted here.
func TestSmallRun(t *testing.T) {
	opts := scale.DefaultOptions(50)
	opts.Arrivals, opts.Failures, opts.Upgrades = 10, 10, 10
	opts.Settle, opts.SteadyWindow, opts.RestartWindow, opts.EtcdDown = 0, 15*time.Second, 5*time.Second, 5*time.Second
	opts.PhaseTimeout = 3 * time.Minute
	opts.Dir = t.TempDir()
	opts.Log = testLog{t}
	var err error
	opts.Operator, err = scale.BuildFlok(t.TempDir())
	require.NoError(t, err)
	report, err := scale.Run(t.Context(), opts)
	require.NoError(t, err)
	require.Equal(t, opts.Arrivals, report.Arrivals.Count)
	require.Equal(t, opts.Failures, report.Failures.Count)
	require.Equal(t, opts.Upgrades, report.Upgrades.Count)
	require.Positive(t, report.Steady.FlinkRequestsPerDeploymentMinute, "the steady jobs are observed")
	require.Equal(t, opts.Upgrades, report.EtcdRestart.Upgrades, "every upgrade converged after etcd's restart")
	require.Positive(t, report.EtcdRestart.Steady, "steady deployments were checked through etcd's restart")
	require.Positive(t, report.Restart.ObservedAllSeconds)
	require.Zero(t, report.StrayDials, "nothing dials an address off this machine")
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(string(p))
	return len(p), nil
}
