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
	"github.com/flok-dev/flok/internal/webhook"
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
	// CheckpointHistoryInterval is how often the checkpoints read are added to each
	// resource's history ConfigMap (the console's chart); 0 keeps no history.
	CheckpointHistoryInterval time.Duration
	// ArtifactDir holds the session jobs' fetched jars; MaxArtifactSize bounds them;
	// AllowHTTPArtifacts lets them come over plain http.
	ArtifactDir        string
	MaxArtifactSize    int64
	AllowHTTPArtifacts bool
	// SQLRunnerJar is Flok's SQL runner, which SQL jobs before Flink 2.1 run on; the
	// operator's image has it at DefaultSQLRunnerJar.
	SQLRunnerJar string
	// PodMonitors keeps a PodMonitor per FlinkDeployment when the cluster serves them;
	// MetricsShards spreads them over that many Prometheus shards.
	PodMonitors   bool
	MetricsShards int
	// KeepEndedLogs keeps the logs of Flink containers that end (package keptlog).
	KeepEndedLogs bool
	// Alerts sends the incidents of Flink jobs to the AlertReceivers of AlertRoutes.
	Alerts bool
	// ConsoleAddr serves the Flok Console (host:port); "0", the default, turns it off.
	ConsoleAddr string
	// ConsoleSecureCookies marks the console's cookies Secure (it is reached over HTTPS,
	// through an ingress or proxy that terminates TLS).
	ConsoleSecureCookies bool
	// Webhook configures the admission webhook.
	Webhook WebhookOptions
}

// WebhookOptions configure the admission webhook and its certificates.
type WebhookOptions struct {
	// BindAddress serves the webhook (host:port); "0", the default, turns it off.
	BindAddress string
	// Namespace holds the CA Secret (default: the operator's own namespace).
	Namespace string
	// Service names the webhook's Service, whose DNS names the certificate covers;
	// CertHosts replaces those names (a loopback address out of cluster, say).
	Service   string
	CertHosts []string
	// CASecret is the Secret that keeps the CA; Configuration the
	// ValidatingWebhookConfiguration that gets its bundle.
	CASecret, Configuration string
	// CAValidity, CertValidity and CATrustDelay: see webhook.Certs.
	CAValidity, CertValidity, CATrustDelay time.Duration
}

// DefaultSQLRunnerJar is where the operator's image keeps Flok's SQL runner.
const DefaultSQLRunnerJar = "/flok/flok-sql-runner.jar"

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	s := lifecycle.DefaultSettings()
	return Options{
		MetricsAddr: ":8080", ProbeAddr: ":8081", PprofAddr: "0", Concurrency: 16, FlinkAccess: "auto",
		ObserveInterval: s.ObserveInterval, ProgressInterval: s.ProgressInterval, CheckpointObserveInterval: 2 * time.Minute,
		CheckpointHistoryInterval: 5 * time.Minute,
		ArtifactDir:               filepath.Join(os.TempDir(), "flok-artifacts"), MaxArtifactSize: artifact.DefaultMaxSize,
		SQLRunnerJar: DefaultSQLRunnerJar, PodMonitors: true, MetricsShards: 1, KeepEndedLogs: true, Alerts: true, ConsoleAddr: "0",
		Webhook: WebhookOptions{
			BindAddress: "0", Service: "flok-webhook", CASecret: "flok-webhook-ca", Configuration: "flok",
			CAValidity: webhook.DefaultCAValidity, CertValidity: webhook.DefaultCertValidity, CATrustDelay: webhook.DefaultTrustDelay,
		},
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.Func("namespaces", "comma-separated namespaces to watch (default: all)", commaList(&o.Namespaces))
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
	fs.DurationVar(&o.CheckpointHistoryInterval, "checkpoint-history-interval", o.CheckpointHistoryInterval, "how often the checkpoints read are added to each resource's <name>-<kind>-checkpoints ConfigMap, the console's history (0: keep none)")
	fs.StringVar(&o.ArtifactDir, "artifact-dir", o.ArtifactDir, "directory for the session jobs' fetched jars")
	fs.Int64Var(&o.MaxArtifactSize, "max-artifact-size", o.MaxArtifactSize, "largest session job jar fetched, in bytes")
	fs.BoolVar(&o.AllowHTTPArtifacts, "allow-http-artifacts", o.AllowHTTPArtifacts, "let session job jars come over plain http (https always works)")
	fs.StringVar(&o.SQLRunnerJar, "sql-runner-jar", o.SQLRunnerJar, "Flok's SQL runner jar, which SQL jobs before Flink 2.1 run on (a missing file at the default path: such jobs are refused)")
	fs.BoolVar(&o.PodMonitors, "pod-monitors", o.PodMonitors, "keep a Prometheus Operator PodMonitor per FlinkDeployment when the cluster serves PodMonitors (looked up at start)")
	fs.IntVar(&o.MetricsShards, "metrics-shards", o.MetricsShards, "how many Prometheus shards share the FlinkDeployments' PodMonitors (label flok.dev/metrics-shard)")
	fs.BoolVar(&o.Alerts, "alerts", o.Alerts, "send the incidents of FlinkDeployments and FlinkSessionJobs (their Degraded conditions) to the AlertReceivers their namespace's AlertRoutes name")
	fs.StringVar(&o.ConsoleAddr, "console-bind-address", o.ConsoleAddr, "address of the Flok Console (0 turns it off): viewers come with a bearer token (an authenticating proxy's, or pasted on its sign-in page), reviewed by the API server, and act with it")
	fs.BoolVar(&o.ConsoleSecureCookies, "console-secure-cookies", o.ConsoleSecureCookies, "mark the console's cookies Secure (set when viewers reach it over HTTPS)")
	fs.BoolVar(&o.KeepEndedLogs, "keep-ended-logs", o.KeepEndedLogs, "keep the last MiB of each JobManager and TaskManager container that ends (crash, OOMKilled, Pod deleted) in the ConfigMap <name>-ended-logs, for flok logs --terminated")
	o.Webhook.addFlags(fs)
}

func (o *WebhookOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.BindAddress, "webhook-bind-address", o.BindAddress, "address (host:port) of the admission webhook's HTTPS server (0 turns it off)")
	fs.StringVar(&o.Namespace, "webhook-namespace", o.Namespace, "namespace of the webhook's CA Secret and Service (default: the operator's own)")
	fs.StringVar(&o.Service, "webhook-service", o.Service, "the webhook's Service, whose DNS names its certificate covers")
	fs.Func("webhook-cert-hosts", "comma-separated DNS names and IP addresses the webhook's certificate covers instead of the Service's (127.0.0.1 out of cluster)", commaList(&o.CertHosts))
	fs.StringVar(&o.CASecret, "webhook-ca-secret", o.CASecret, "the Secret that keeps the webhook's CA (created when missing)")
	fs.StringVar(&o.Configuration, "webhook-configuration", o.Configuration, "the ValidatingWebhookConfiguration whose CA bundle the operator keeps current")
	fs.DurationVar(&o.CAValidity, "webhook-ca-validity", o.CAValidity, "how long a webhook CA lasts (a new one takes over after two thirds)")
	fs.DurationVar(&o.CertValidity, "webhook-cert-validity", o.CertValidity, "how long a webhook serving certificate lasts (renewed after two thirds)")
	fs.DurationVar(&o.CATrustDelay, "webhook-ca-trust-delay", o.CATrustDelay, "how long a new webhook CA is trusted before it signs")
}

// commaList appends the comma-separated values of a flag to list.
func commaList(list *[]string) func(string) error {
	return func(v string) error {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				*list = append(*list, item)
			}
		}
		return nil
	}
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
	case o.CheckpointHistoryInterval < 0:
		return fmt.Errorf("--checkpoint-history-interval %s: zero (no history) or more", o.CheckpointHistoryInterval)
	case o.MetricsShards < 1:
		return fmt.Errorf("--metrics-shards %d: must be 1 or more", o.MetricsShards)
	case o.MaxArtifactSize <= 0:
		return fmt.Errorf("--max-artifact-size %d: must be above zero", o.MaxArtifactSize)
	case o.DefaultsConfigMap != "" && !strings.Contains(o.DefaultsConfigMap, "/"):
		return fmt.Errorf("--defaults-configmap %q: want namespace/name", o.DefaultsConfigMap)
	case o.Webhook.enabled() && (o.Webhook.CAValidity <= 0 || o.Webhook.CertValidity <= 0 || o.Webhook.CATrustDelay < 0):
		return fmt.Errorf("--webhook-ca-validity and --webhook-cert-validity must be above zero, --webhook-ca-trust-delay zero or more")
	case o.Webhook.enabled() && o.Webhook.CertValidity > o.Webhook.CAValidity/3:
		return fmt.Errorf("--webhook-cert-validity %s: at most a third of --webhook-ca-validity (%s), so that certificates are renewed before their CA is replaced", o.Webhook.CertValidity, o.Webhook.CAValidity)
	}
	return nil
}

func (o *WebhookOptions) enabled() bool { return o.BindAddress != "" && o.BindAddress != "0" }
