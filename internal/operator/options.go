// Package operator wires flok-operator: its flags, the controller-runtime manager with
// caches that hold only Flink's and Flok's objects, leader election, health and
// metrics endpoints, and the reconcilers.
package operator

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// Options are flok-operator's flags.
type Options struct {
	// Namespaces to watch; empty watches all.
	Namespaces []string
	// LeaderElection lets several replicas run with one active.
	LeaderElection          bool
	LeaderElectionNamespace string
	// MetricsAddr and ProbeAddr serve /metrics and /healthz, /readyz; "0" turns off.
	MetricsAddr string
	ProbeAddr   string
	// PprofAddr serves Go's profiles (/debug/pprof/); "0", the default, turns it off.
	PprofAddr string
	// Concurrency bounds the reconciliations running at once. A round mostly waits on
	// the API server and Flink, so more run at once than there are cores
	// (docs/performance.md has the measurements).
	Concurrency int
	// DefaultsConfigMap (namespace/name) holds the operator's default Flink options in
	// a config.yaml key, kubernetes.operator.* ones included.
	DefaultsConfigMap string
	// FlinkAccess is how Flink's REST API is reached: direct (the REST Service's DNS
	// name, in cluster), proxy (through the API server, out of cluster) or auto.
	FlinkAccess string
	// ObserveInterval and ProgressInterval are the default observation periods.
	ObserveInterval  time.Duration
	ProgressInterval time.Duration
	// CheckpointObserveInterval is how often a steady job's checkpoints are read (and
	// the latest recorded in its status); the rounds between read only the job's state.
	CheckpointObserveInterval time.Duration
	// ArtifactDir holds the session jobs' fetched jars; MaxArtifactSize bounds them;
	// AllowHTTPArtifacts lets them come over plain http.
	ArtifactDir        string
	MaxArtifactSize    int64
	AllowHTTPArtifacts bool
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	s := lifecycle.DefaultSettings()
	return Options{
		MetricsAddr: ":8080", ProbeAddr: ":8081", PprofAddr: "0", Concurrency: 16, FlinkAccess: "auto",
		ObserveInterval: s.ObserveInterval, ProgressInterval: s.ProgressInterval, CheckpointObserveInterval: 2 * time.Minute,
		ArtifactDir: filepath.Join(os.TempDir(), "flok-artifacts"), MaxArtifactSize: artifact.DefaultMaxSize,
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.Func("namespaces", "comma-separated namespaces to watch (default: all)", func(v string) error {
		for _, ns := range strings.Split(v, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				o.Namespaces = append(o.Namespaces, ns)
			}
		}
		return nil
	})
	fs.BoolVar(&o.LeaderElection, "leader-elect", o.LeaderElection, "elect a leader among replicas, so that one acts at a time")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "namespace of the leader-election Lease (default: the operator's own)")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "address of the Prometheus /metrics endpoint (0 turns it off)")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "address of /healthz and /readyz (0 turns them off)")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", o.PprofAddr, "address of Go's /debug/pprof/ profiles (0 turns them off)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "FlinkDeployments reconciled at once")
	fs.StringVar(&o.DefaultsConfigMap, "defaults-configmap", o.DefaultsConfigMap, "namespace/name of a ConfigMap whose config.yaml holds default Flink and kubernetes.operator.* options")
	fs.StringVar(&o.FlinkAccess, "flink-access", o.FlinkAccess, "how to reach Flink's REST API: direct (in cluster), proxy (through the API server) or auto")
	fs.DurationVar(&o.ObserveInterval, "observe-interval", o.ObserveInterval, "how often a steady deployment is observed")
	fs.DurationVar(&o.ProgressInterval, "progress-interval", o.ProgressInterval, "how often a deployment in transition is observed")
	fs.DurationVar(&o.CheckpointObserveInterval, "checkpoint-observe-interval", o.CheckpointObserveInterval, "how often a steady job's checkpoints are read and the latest recorded (the rounds between read only its state)")
	fs.StringVar(&o.ArtifactDir, "artifact-dir", o.ArtifactDir, "directory for the session jobs' fetched jars")
	fs.Int64Var(&o.MaxArtifactSize, "max-artifact-size", o.MaxArtifactSize, "largest session job jar fetched, in bytes")
	fs.BoolVar(&o.AllowHTTPArtifacts, "allow-http-artifacts", o.AllowHTTPArtifacts, "let session job jars come over plain http (https always works)")
}

// Validate checks the options.
func (o *Options) Validate() error {
	switch {
	case o.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: must be 1 or more", o.Concurrency)
	case o.FlinkAccess != "auto" && o.FlinkAccess != "direct" && o.FlinkAccess != "proxy":
		return fmt.Errorf("--flink-access %q: use direct, proxy or auto", o.FlinkAccess)
	case o.ObserveInterval <= 0 || o.ProgressInterval <= 0 || o.CheckpointObserveInterval <= 0:
		return fmt.Errorf("--observe-interval, --progress-interval and --checkpoint-observe-interval must be above zero")
	case o.MaxArtifactSize <= 0:
		return fmt.Errorf("--max-artifact-size %d: must be above zero", o.MaxArtifactSize)
	case o.DefaultsConfigMap != "" && !strings.Contains(o.DefaultsConfigMap, "/"):
		return fmt.Errorf("--defaults-configmap %q: want namespace/name", o.DefaultsConfigMap)
	}
	return nil
}
