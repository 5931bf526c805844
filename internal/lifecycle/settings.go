package lifecycle

import (
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// Settings are the knobs a deployment's decisions depend on. The Apache operator's
// kubernetes.operator.* options set them per deployment, over the operator's defaults.
type Settings struct {
	// ObserveInterval is how often a steady deployment is looked at.
	ObserveInterval time.Duration
	// ProgressInterval is how often a deployment in transition is looked at.
	ProgressInterval time.Duration
	// ReadinessTimeout is how long a deployment may take to run its job.
	ReadinessTimeout time.Duration
	// SavepointTimeout is how long a savepoint may take before it counts as failed.
	SavepointTimeout time.Duration
	// CleanupTimeout bounds a deletion that waits for an unreachable JobManager.
	CleanupTimeout time.Duration
	// RollbackEnabled returns an upgrade that does not run within ReadinessTimeout to
	// the last stable spec.
	RollbackEnabled bool
	// RestartFailed restarts a failed job from its latest state.
	RestartFailed bool
	// LastStateFallback lets a savepoint upgrade whose savepoint fails continue from
	// the latest checkpoint or HA metadata. Off unless the user turns it on.
	LastStateFallback bool
	// SavepointOnDeletion stops the job with a savepoint before deleting it.
	SavepointOnDeletion bool
	// PeriodicSavepointInterval takes a savepoint this often; 0 never.
	PeriodicSavepointInterval time.Duration
	// HealthCheck restarts a job that keeps failing or stopped checkpointing, from its
	// latest state; unhealthy jobs are reported either way.
	HealthCheck bool
	// RestartsThreshold failures within RestartsWindow make a restart loop. Failures
	// are counted in Flink's exception history, which keeps 16 by default
	// (web.exception-history-size), hence a lower default than the Apache operator's 64.
	RestartsThreshold int
	RestartsWindow    time.Duration
	// CheckpointProgressWindow without a completed checkpoint makes checkpointing stalled.
	CheckpointProgressWindow time.Duration
	// SavepointHistoryMaxCount and SavepointHistoryMaxAge bound the savepoint history.
	SavepointHistoryMaxCount int
	SavepointHistoryMaxAge   time.Duration
	// SnapshotResources keeps a FlinkStateSnapshot for every savepoint of the history;
	// SavepointDisposeOnDelete makes those dispose of their files when deleted (when
	// the history drops them, say).
	SnapshotResources, SavepointDisposeOnDelete bool
}

// DefaultSettings are Flok's defaults.
func DefaultSettings() Settings {
	return Settings{
		ObserveInterval:          10 * time.Second,
		ProgressInterval:         2 * time.Second,
		ReadinessTimeout:         5 * time.Minute,
		SavepointTimeout:         10 * time.Minute,
		CleanupTimeout:           2 * time.Minute,
		SavepointHistoryMaxCount: 10,
		SavepointHistoryMaxAge:   24 * time.Hour,
		RestartsThreshold:        8,
		RestartsWindow:           2 * time.Minute,
		CheckpointProgressWindow: 10 * time.Minute,
		SnapshotResources:        true,
	}
}

// Option keys of the settings, the Apache operator's names.
const (
	keyObserveInterval   = "kubernetes.operator.reconcile.interval"
	keyReadinessTimeout  = "kubernetes.operator.deployment.readiness.timeout"
	keySavepointTimeout  = "kubernetes.operator.savepoint.timeout"
	keyCleanupTimeout    = "kubernetes.operator.resource.cleanup.timeout"
	keyRollback          = "kubernetes.operator.deployment.rollback.enabled"
	keyRestartFailed     = "kubernetes.operator.job.restart.failed"
	keyLastStateFallback = "kubernetes.operator.job.upgrade.last-state-fallback.enabled"
	keySavepointOnDelete = "kubernetes.operator.job.savepoint-on-deletion"
	keyPeriodicSavepoint = "kubernetes.operator.periodic.savepoint.interval"
	keyHistoryMaxCount   = "kubernetes.operator.savepoint.history.max.count"
	keyHistoryMaxAge     = "kubernetes.operator.savepoint.history.max.age"
	keyProgressInterval  = "kubernetes.operator.observer.progress-check.interval"
	keyHealthCheck       = "kubernetes.operator.cluster.health-check.enabled"
	keyRestartsThreshold = "kubernetes.operator.cluster.health-check.restarts.threshold"
	keyRestartsWindow    = "kubernetes.operator.cluster.health-check.restarts.window"
	keyCheckpointWindow  = "kubernetes.operator.cluster.health-check.checkpoint-progress.window"
	keySnapshotResources = "kubernetes.operator.snapshot.resource.enabled"
	keyDisposeOnDelete   = "kubernetes.operator.savepoint.dispose-on-delete"
)

// SettingsFrom reads a deployment's kubernetes.operator.* options over defaults; each
// unreadable value is an error naming its key.
func SettingsFrom(conf flinkconf.Config, defaults Settings) (Settings, field.ErrorList) {
	s := defaults
	path := field.NewPath("spec", "flinkConfiguration")
	var errs field.ErrorList
	durations := map[string]*time.Duration{
		keyObserveInterval: &s.ObserveInterval, keyProgressInterval: &s.ProgressInterval,
		keyReadinessTimeout: &s.ReadinessTimeout, keySavepointTimeout: &s.SavepointTimeout,
		keyCleanupTimeout: &s.CleanupTimeout, keyPeriodicSavepoint: &s.PeriodicSavepointInterval,
		keyHistoryMaxAge: &s.SavepointHistoryMaxAge, keyRestartsWindow: &s.RestartsWindow,
		keyCheckpointWindow: &s.CheckpointProgressWindow,
	}
	for key, dst := range durations {
		if v, ok := conf[key]; ok && strings.TrimSpace(v) != "" {
			d, err := flinkconf.ParseDuration(v)
			if err != nil {
				errs = append(errs, field.Invalid(path.Key(key), v, err.Error()))
				continue
			}
			*dst = d
		}
	}
	bools := map[string]*bool{
		keyRollback: &s.RollbackEnabled, keyRestartFailed: &s.RestartFailed,
		keyLastStateFallback: &s.LastStateFallback, keySavepointOnDelete: &s.SavepointOnDeletion,
		keyHealthCheck: &s.HealthCheck, keySnapshotResources: &s.SnapshotResources,
		keyDisposeOnDelete: &s.SavepointDisposeOnDelete,
	}
	for key, dst := range bools {
		if v, ok := conf[key]; ok && strings.TrimSpace(v) != "" {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, field.Invalid(path.Key(key), v, "must be true or false"))
				continue
			}
			*dst = b
		}
	}
	for key, dst := range map[string]*int{keyHistoryMaxCount: &s.SavepointHistoryMaxCount, keyRestartsThreshold: &s.RestartsThreshold} {
		if v, ok := conf[key]; ok && strings.TrimSpace(v) != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 {
				errs = append(errs, field.Invalid(path.Key(key), v, "must be a whole number of 1 or more"))
				continue
			}
			*dst = n
		}
	}
	if s.ProgressInterval <= 0 || s.ObserveInterval <= 0 {
		errs = append(errs, field.Invalid(path.Key(keyObserveInterval), conf[keyObserveInterval], "intervals must be above zero"))
	}
	return s, errs
}
