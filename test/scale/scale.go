// Package scale measures a Flink operator with thousands of FlinkDeployments: a real
// control plane, a kwok node on which Pods run at once, Flink's REST API from
// test/flinksim (each cluster on a loopback address of its own, reached by its
// Service's DNS names through a hosts file), and the operator out of cluster — all in
// a network namespace with only loopback up. `make bench-scale` reports its figures
// (cmd/benchscale); a small run in `make test` checks only that everything happened.
package scale

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/flok-dev/flok/test/flinksim"
	"github.com/flok-dev/flok/test/localk8s"
)

// Options are one run's size and shape.
type Options struct {
	// N FlinkDeployments are created at once; then Arrivals more at ArrivalRate per second.
	N           int
	Arrivals    int
	ArrivalRate float64
	// Failures jobs are failed in the simulator, at FailureRate per second; Upgrades
	// deployments are upgraded with a savepoint at once.
	Failures    int
	FailureRate float64
	Upgrades    int
	// Settle is waited after the burst before the steady state is measured for
	// SteadyWindow; RestartWindow is how long an operator restart's requests are counted.
	Settle, SteadyWindow, RestartWindow time.Duration
	// EtcdDown is how long etcd stays away when it is restarted in the middle of
	// Upgrades more upgrades.
	EtcdDown time.Duration
	// FlinkVersion is the simulated Flink: "1.20" or "2.3".
	FlinkVersion string
	// SavepointDuration is how long the simulator takes for a savepoint;
	// CheckpointInterval how often its jobs checkpoint.
	SavepointDuration, CheckpointInterval time.Duration
	// Operator is the operator's command line; {kubeconfig}, {metrics} (a loopback
	// address for its Prometheus endpoint) and {pprof} (one for Go's profiles) are
	// replaced.
	Operator []string
	// ProfileDir, when set, receives the operator's CPU profile of the steady-state
	// window and its heap profile at the window's end (cpu.pprof, heap.pprof).
	ProfileDir string
	// Resource is the FlinkDeployment resource the operator serves (flok.dev/v1beta1,
	// flinkdeployments by default).
	Resource schema.GroupVersionResource
	// CRDs are installed with the control plane.
	CRDs []string
	// Dir keeps the run's files (cluster, logs, hosts); a temporary directory when empty.
	Dir string
	// Log receives progress lines.
	Log io.Writer
	// PhaseTimeout bounds each wait; 10 minutes when 0.
	PhaseTimeout time.Duration
}

// DefaultOptions are `make bench-scale`'s defaults for n deployments.
func DefaultOptions(n int) Options {
	return Options{
		N: n, Arrivals: 200, ArrivalRate: 20, Failures: 100, FailureRate: 5, Upgrades: 100,
		Settle: time.Minute, SteadyWindow: 2 * time.Minute, RestartWindow: time.Minute, EtcdDown: 10 * time.Second,
		FlinkVersion: "1.20", SavepointDuration: 2 * time.Second, CheckpointInterval: 10 * time.Second,
		Resource: schema.GroupVersionResource{Group: "flok.dev", Version: "v1beta1", Resource: "flinkdeployments"},
		CRDs:     []string{filepath.Join(RepoRoot(), "config", "crd")},
	}
}

// RepoRoot is the source tree this package was built from.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

const namespace = "scale"

// run is one run's moving parts.
type run struct {
	opts     Options
	cluster  *localk8s.Cluster
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	sim      *flinksim.Sim
	addrs    *flinksim.Addresses
	watch    *watcher
	operator *operatorProcess
	report   *Report
	failed   []string
	logf     func(format string, args ...any)
}

// Run runs the harness; it must run in its own network namespace (InOwnNetwork).
func Run(ctx context.Context, opts Options) (*Report, error) {
	if os.Getenv(netnsEnv) != "1" {
		return nil, fmt.Errorf("scale.Run must run in a network namespace of its own (scale.InOwnNetwork)")
	}
	if opts.PhaseTimeout == 0 {
		opts.PhaseTimeout = 10 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	r := &run{opts: opts, report: &Report{N: opts.N, FlinkVersion: opts.FlinkVersion, SavepointDuration: opts.SavepointDuration.Seconds()}}
	start := time.Now()
	r.logf = func(format string, args ...any) {
		fmt.Fprintf(opts.Log, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := r.setUp(ctx); err != nil {
		r.tearDown()
		return nil, err
	}
	err := r.phases(ctx)
	r.report.StrayDials = r.operator.strayDials()
	if stopErr := r.tearDown(); err == nil {
		err = stopErr
	}
	return r.report, err
}

func (r *run) phases(ctx context.Context) error {
	for _, phase := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"burst", r.burst}, {"steady state", r.steadyState}, {"arrivals", r.arrivals},
		{"failures", r.failures}, {"upgrades", r.upgrades}, {"etcd restart", r.etcdRestart}, {"restart", r.restart},
	} {
		r.logf("phase: %s", phase.name)
		if err := phase.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", phase.name, err)
		}
	}
	return nil
}
