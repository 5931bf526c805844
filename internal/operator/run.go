package operator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/controller/alerting"
	"github.com/flok-dev/flok/internal/controller/checkpointrecorder"
	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/controller/logkeeper"
	"github.com/flok-dev/flok/internal/controller/podmonitor"
	"github.com/flok-dev/flok/internal/controller/round"
	"github.com/flok-dev/flok/internal/controller/sessionjob"
	"github.com/flok-dev/flok/internal/controller/statesnapshot"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// Run runs the operator until ctx ends; hooks let tests reach into it.
func Run(ctx context.Context, cfg *rest.Config, o Options, hooks round.Hooks) error {
	if err := o.Validate(); err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := v1beta1.AddToScheme(scheme); err != nil {
		return err
	}
	certs := newCerts(o.Webhook, o.LeaderElectionNamespace)
	webhooks, err := webhookServer(o.Webhook, certs)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		WebhookServer:           webhooks,
		Scheme:                  scheme,
		Cache:                   cacheOptions(o.Namespaces),
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.ProbeAddr,
		PprofBindAddress:        o.PprofAddr,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "flok-operator.flok.dev",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// Hand the lease over at once on a clean shutdown; the manager stops the
		// reconcilers before it releases it, so two leaders never act together.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	defaults, settings, err := loadDefaults(ctx, mgr.GetAPIReader(), o)
	if err != nil {
		return err
	}
	sqlRunner, err := loadSQLRunner(o.SQLRunnerJar)
	if err != nil {
		return err
	}
	m := newOperatorMetrics(metrics.Registry)
	flink, err := flinkAccess(cfg, o.FlinkAccess, m.flinkREST, mgr.GetAPIReader())
	if err != nil {
		return err
	}
	deploymentDetails, err := jobDetails(mgr, o, v1beta1.KindFlinkDeployment, func() client.Object { return &v1beta1.FlinkDeployment{} })
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	r := &deployment.Reconciler{
		Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("flok-operator"),
		Flink: flink, Defaults: defaults, Settings: settings, SQLRunner: sqlRunner, Logs: logkeeper.PodLogs(kube),
		Hooks: hooks, Metrics: m.deployments, JobDetails: deploymentDetails,
	}
	if err := deployment.Index(ctx, mgr); err != nil {
		return err
	}
	if err := r.SetupWithManager(mgr, o.Concurrency); err != nil {
		return fmt.Errorf("setting up the FlinkDeployment controller: %w", err)
	}
	artifacts := &artifact.Fetcher{Dir: o.ArtifactDir, MaxSize: o.MaxArtifactSize, AllowHTTP: o.AllowHTTPArtifacts}
	sessionJobDetails, err := jobDetails(mgr, o, v1beta1.KindFlinkSessionJob, func() client.Object { return &v1beta1.FlinkSessionJob{} })
	if err != nil {
		return err
	}
	jobs := &sessionjob.Reconciler{
		Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("flok-operator"),
		Flink: flink, Defaults: defaults, Settings: settings, Artifacts: artifacts, Secrets: mgr.GetAPIReader(),
		Hooks: hooks, JobDetails: sessionJobDetails, States: m.sessionJobs,
	}
	if err := jobs.SetupWithManager(mgr, o.Concurrency); err != nil {
		return fmt.Errorf("setting up the FlinkSessionJob controller: %w", err)
	}
	snapshots := &statesnapshot.Reconciler{
		Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("flok-operator"),
		Flink: flink, Defaults: defaults, Hooks: hooks,
	}
	if err := snapshots.SetupWithManager(mgr, o.Concurrency); err != nil {
		return fmt.Errorf("setting up the FlinkStateSnapshot controller: %w", err)
	}
	history := &statesnapshot.History{Client: mgr.GetClient(), Settings: settings}
	if err := history.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the savepoint history's FlinkStateSnapshots: %w", err)
	}
	if err := setupPodMonitors(ctx, mgr, o); err != nil {
		return err
	}
	if o.KeepEndedLogs {
		if err := logkeeper.Setup(mgr); err != nil {
			return fmt.Errorf("setting up the keeper of ended containers' logs: %w", err)
		}
	}
	if o.Alerts {
		if err := alerting.Setup(mgr, alerting.Options{Namespaces: o.Namespaces, Metrics: m.alerts, BeforeSend: hooks.BeforeAlert}); err != nil {
			return fmt.Errorf("setting up the alerting controller: %w", err)
		}
	}
	if err := setupWebhook(mgr, certs, defaults, settings, artifacts, len(sqlRunner) > 0); err != nil {
		return err
	}
	if err := setupConsole(mgr, cfg, o); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// jobDetails is the memory of one kind's job details, handing the checkpoints it reads
// to a recorder of their history when one is kept.
func jobDetails(mgr ctrl.Manager, o Options, kind string, newObject func() client.Object) (*flinkjob.Memory, error) {
	memory := flinkjob.NewMemory(o.CheckpointObserveInterval)
	if o.CheckpointHistoryInterval == 0 {
		return memory, nil
	}
	recorder := &checkpointrecorder.Recorder{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Kind: kind, NewObject: newObject, Interval: o.CheckpointHistoryInterval,
	}
	memory.History = recorder
	return memory, mgr.Add(recorder)
}

// cacheOptions keep in memory only what Flok reads, and of it only the fields it reads:
// its resources; the metadata of the Deployments it created (the reconciler reads them
// as metav1.PartialObjectMetadata); the status of Flink clusters' Pods (Flink's type
// label); and the ConfigMaps Flink's HA services write (Flink's type label, not
// Flok's managed-by) — not every Pod and ConfigMap of the cluster, nor the
// ConfigMaps Flok renders itself. No object keeps its managed fields.
func cacheOptions(namespaces []string) cache.Options {
	flinkTypes, _ := labels.NewRequirement(render.LabelType, selection.In, []string{render.TypeNative, render.TypeStandalone})
	flinkObjects := labels.NewSelector().Add(*flinkTypes)
	managed, _ := labels.NewRequirement(render.LabelManagedBy, selection.Equals, []string{render.ManagedByFlok})
	notManaged, _ := labels.NewRequirement(render.LabelManagedBy, selection.DoesNotExist, nil)
	opts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:        {Label: flinkObjects, Transform: podStatusOnly},
			&corev1.ConfigMap{}:  {Label: labels.NewSelector().Add(*flinkTypes, *notManaged)},
			&appsv1.Deployment{}: {Label: labels.NewSelector().Add(*managed)},
		},
	}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}

// loadSQLRunner reads the SQL runner's jar. A runner missing at the default path is
// no error — SQL jobs that need it are refused when deployed — one named by the flag is.
func loadSQLRunner(path string) ([]byte, error) {
	jar, err := os.ReadFile(path)
	switch {
	case err == nil:
		return jar, nil
	case path == DefaultSQLRunnerJar && errors.Is(err, fs.ErrNotExist), path == "":
		return nil, nil
	default:
		return nil, fmt.Errorf("reading --sql-runner-jar: %w", err)
	}
}

// loadDefaults reads the operator's default Flink options and lifecycle settings.
func loadDefaults(ctx context.Context, reader client.Reader, o Options) (flinkconf.Config, lifecycle.Settings, error) {
	settings := lifecycle.DefaultSettings()
	settings.ObserveInterval, settings.ProgressInterval = o.ObserveInterval, o.ProgressInterval
	if o.DefaultsConfigMap == "" {
		return nil, settings, nil
	}
	ns, name, _ := strings.Cut(o.DefaultsConfigMap, "/")
	cm := &corev1.ConfigMap{}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		return nil, settings, fmt.Errorf("reading --defaults-configmap %s: %w", o.DefaultsConfigMap, err)
	}
	conf, err := flinkconf.Parse([]byte(cm.Data["config.yaml"]))
	if err != nil {
		return nil, settings, fmt.Errorf("--defaults-configmap %s, key config.yaml: %w", o.DefaultsConfigMap, err)
	}
	settings, errs := lifecycle.SettingsFrom(conf, settings)
	if len(errs) > 0 {
		return nil, settings, fmt.Errorf("--defaults-configmap %s: %w", o.DefaultsConfigMap, errs.ToAggregate())
	}
	return conf, settings, nil
}

// setupPodMonitors starts keeping PodMonitors when asked and the cluster serves them.
func setupPodMonitors(ctx context.Context, mgr ctrl.Manager, o Options) error {
	if !o.PodMonitors {
		return nil
	}
	served, err := podmonitor.Served(mgr)
	if err != nil {
		return err
	}
	if !served {
		log.FromContext(ctx).Info("the cluster serves no PodMonitors (monitoring.coreos.com): none are kept; restart the operator once the Prometheus Operator's CRDs are installed")
		return nil
	}
	r := &podmonitor.Reconciler{Client: mgr.GetClient(), Shards: o.MetricsShards}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the PodMonitor controller: %w", err)
	}
	return nil
}

// podStatusOnly keeps of a Pod what the reconciler reads — its metadata and status —
// and drops its spec (containers, volumes, environment: most of a Flink Pod's size).
func podStatusOnly(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	pod.ManagedFields = nil
	pod.Spec = corev1.PodSpec{}
	return pod, nil
}
