package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// LifecycleState is a resource's place in its lifecycle.
type LifecycleState string

// Lifecycle states, as the Apache operator names them.
const (
	LifecycleCreated     LifecycleState = "CREATED"
	LifecycleSuspended   LifecycleState = "SUSPENDED"
	LifecycleUpgrading   LifecycleState = "UPGRADING"
	LifecycleDeployed    LifecycleState = "DEPLOYED"
	LifecycleStable      LifecycleState = "STABLE"
	LifecycleRollingBack LifecycleState = "ROLLING_BACK"
	LifecycleRolledBack  LifecycleState = "ROLLED_BACK"
	LifecycleFailed      LifecycleState = "FAILED"
	LifecycleDeleting    LifecycleState = "DELETING"
	LifecycleDeleted     LifecycleState = "DELETED"
)

// CommonStatus is shared by FlinkDeployment and FlinkSessionJob.
type CommonStatus struct {
	// JobStatus is the Flink job as last observed.
	// +optional
	JobStatus JobStatus `json:"jobStatus,omitempty"`
	// Error is the last error, for people; conditions carry it for machines.
	// +optional
	Error string `json:"error,omitempty"`
	// ObservedGeneration is the generation last reconciled successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// LifecycleState is CREATED, DEPLOYED, STABLE, UPGRADING, SUSPENDED, ROLLING_BACK,
	// ROLLED_BACK, FAILED or DELETING.
	// +optional
	LifecycleState LifecycleState `json:"lifecycleState,omitempty"`
	// ReconciliationStatus records the last deployed spec and the upgrade under way.
	// +optional
	ReconciliationStatus ReconciliationStatus `json:"reconciliationStatus,omitempty"`
	// LastExceptionTimestamp is when the newest Flink job exception Flok forwarded as
	// an event happened, in epoch milliseconds (Flok's addition).
	// +optional
	LastExceptionTimestamp int64 `json:"lastExceptionTimestamp,omitempty"`
	// LastTerminationTimestamp is when the newest JobManager or TaskManager container
	// that ended unasked (OOMKilled, or exited with an error) and that Flok reported
	// ended, in epoch milliseconds (Flok's addition; FlinkDeployments only: a session
	// job's containers are its session's).
	// +optional
	LastTerminationTimestamp int64 `json:"lastTerminationTimestamp,omitempty"`
	// Operation is the change under way (Flok's addition). Flok writes it before every
	// step that cannot be undone — stopping a job, deleting its cluster, starting from a
	// snapshot — so that an operator that restarts continues it from here.
	// +optional
	Operation *Operation `json:"operation,omitempty"`
}

// OperationKind is what an operation changes.
// +kubebuilder:validation:Enum=Deploy;Upgrade;Suspend;Restart;Recover;Rollback;Delete
type OperationKind string

// Operation kinds.
const (
	// OperationDeploy deploys the spec for the first time, or resumes a suspended job.
	OperationDeploy OperationKind = "Deploy"
	// OperationUpgrade deploys a changed spec, carrying the state over per upgradeMode.
	OperationUpgrade OperationKind = "Upgrade"
	// OperationSuspend stops the job, keeping its state per upgradeMode, and removes the cluster.
	OperationSuspend OperationKind = "Suspend"
	// OperationRestart restarts the cluster with the same spec (restartNonce, a failed job).
	OperationRestart OperationKind = "Restart"
	// OperationRecover redeploys a cluster whose JobManager vanished, from its latest state.
	OperationRecover OperationKind = "Recover"
	// OperationRollback returns to the last stable spec after an upgrade that did not run.
	OperationRollback OperationKind = "Rollback"
	// OperationDelete takes the optional savepoint and removes the cluster and its HA data.
	OperationDelete OperationKind = "Delete"
)

// OperationStep is where an operation is.
// +kubebuilder:validation:Enum=Snapshotting;RemovingCluster;Deploying
type OperationStep string

// Operation steps, in order.
const (
	// StepSnapshotting: the job is being stopped with a savepoint (TriggerID).
	StepSnapshotting OperationStep = "Snapshotting"
	// StepRemovingCluster: the old cluster is being removed; RestorePath holds the state.
	StepRemovingCluster OperationStep = "RemovingCluster"
	// StepDeploying: the new cluster is being deployed with JobID from RestorePath.
	StepDeploying OperationStep = "Deploying"
)

// Operation is a multi-step change and everything needed to finish it.
type Operation struct {
	// Kind is Deploy, Upgrade, Suspend, Restart, Recover, Rollback or Delete.
	Kind OperationKind `json:"kind"`
	// Step is Snapshotting, RemovingCluster or Deploying.
	Step OperationStep `json:"step"`
	// UpgradeMode is the mode the operation carries state with.
	// +optional
	UpgradeMode UpgradeMode `json:"upgradeMode,omitempty"`
	// JobID is the job being stopped.
	// +optional
	JobID string `json:"jobId,omitempty"`
	// TriggerID identifies the savepoint taken for the operation; triggering it again
	// with the same id finds the same savepoint.
	// +optional
	TriggerID string `json:"triggerId,omitempty"`
	// Attempt counts the savepoints tried for this operation; a failed one is tried
	// again (with a new TriggerID) a few times before the operation stops.
	// +optional
	Attempt int32 `json:"attempt,omitempty"`
	// NextAttemptTime is when the savepoint is tried again after a failure: the
	// attempts are spaced so that a passing cause — a TaskManager Flink has not yet
	// found lost, tasks restarting — can pass.
	// +optional
	NextAttemptTime *metav1.Time `json:"nextAttemptTime,omitempty"`
	// RestorePath is the savepoint or checkpoint the next deployment starts from.
	// +optional
	RestorePath string `json:"restorePath,omitempty"`
	// KeepHAData is set when the next deployment recovers from high-availability
	// metadata (last-state), which must therefore survive the cluster's removal.
	// +optional
	KeepHAData bool `json:"keepHAData,omitempty"`
	// StartTime is when the operation began.
	StartTime metav1.Time `json:"startTime"`
	// Message says what the operation waits for.
	// +optional
	Message string `json:"message,omitempty"`
}

// JobStatus is a Flink job as observed over REST.
type JobStatus struct {
	// JobName is the job's name.
	// +optional
	JobName string `json:"jobName,omitempty"`
	// JobID is Flink's job id.
	// +optional
	JobID string `json:"jobId,omitempty"`
	// State is Flink's job state: INITIALIZING, CREATED, RUNNING, FAILING, FAILED,
	// CANCELLING, CANCELED, FINISHED, RESTARTING, SUSPENDED or RECONCILING.
	// +optional
	State string `json:"state,omitempty"`
	// StartTime is when the job started, in epoch milliseconds.
	// +optional
	StartTime string `json:"startTime,omitempty"`
	// UpdateTime is when the state was last observed, in epoch milliseconds.
	// +optional
	UpdateTime string `json:"updateTime,omitempty"`
	// UpgradeSavepointPath is the savepoint taken for the upgrade under way.
	// +optional
	UpgradeSavepointPath string `json:"upgradeSavepointPath,omitempty"`
	// SavepointInfo is the Apache operator's legacy savepoint record.
	// +optional
	SavepointInfo *SavepointInfo `json:"savepointInfo,omitempty"`
	// CheckpointInfo is the Apache operator's legacy checkpoint record.
	// +optional
	CheckpointInfo *CheckpointInfo `json:"checkpointInfo,omitempty"`
}

// ReconciliationStatus records what was deployed and what is being changed.
type ReconciliationStatus struct {
	// ReconciliationTimestamp is when the spec was last deployed, in epoch milliseconds.
	// +optional
	ReconciliationTimestamp int64 `json:"reconciliationTimestamp,omitempty"`
	// LastReconciledSpec is the last deployed spec, serialized.
	// +optional
	LastReconciledSpec string `json:"lastReconciledSpec,omitempty"`
	// LastStableSpec is the last spec that ran stable: the rollback target.
	// +optional
	LastStableSpec string `json:"lastStableSpec,omitempty"`
	// State is DEPLOYED, UPGRADING, ROLLING_BACK or ROLLED_BACK.
	// +optional
	State string `json:"state,omitempty"`
}

// Snapshot is one savepoint or checkpoint in the legacy records.
type Snapshot struct {
	// TimeStamp is when it completed, in epoch milliseconds.
	// +optional
	TimeStamp int64 `json:"timeStamp,omitempty"`
	// Location is its path.
	// +optional
	Location string `json:"location,omitempty"`
	// TriggerType is MANUAL, PERIODIC, UPGRADE or UNKNOWN.
	// +optional
	TriggerType string `json:"triggerType,omitempty"`
	// FormatType is CANONICAL, NATIVE, FULL, INCREMENTAL or UNKNOWN.
	// +optional
	FormatType string `json:"formatType,omitempty"`
	// TriggerNonce is the nonce that triggered it, if any.
	// +optional
	TriggerNonce *int64 `json:"triggerNonce,omitempty"`
}

// SavepointInfo is the legacy savepoint record of a job.
type SavepointInfo struct {
	// LastSavepoint is the latest completed savepoint.
	// +optional
	LastSavepoint *Snapshot `json:"lastSavepoint,omitempty"`
	// TriggerID of the savepoint under way.
	// +optional
	TriggerID string `json:"triggerId,omitempty"`
	// TriggerTimestamp of the savepoint under way, in epoch milliseconds.
	// +optional
	TriggerTimestamp int64 `json:"triggerTimestamp,omitempty"`
	// TriggerType of the savepoint under way.
	// +optional
	TriggerType string `json:"triggerType,omitempty"`
	// FormatType of the savepoint under way.
	// +optional
	FormatType string `json:"formatType,omitempty"`
	// SavepointHistory lists the retained savepoints.
	// +optional
	SavepointHistory []Snapshot `json:"savepointHistory,omitempty"`
	// LastPeriodicSavepointTimestamp is when the last periodic savepoint completed.
	// +optional
	LastPeriodicSavepointTimestamp int64 `json:"lastPeriodicSavepointTimestamp,omitempty"`
}

// CheckpointInfo is the legacy checkpoint record of a job.
type CheckpointInfo struct {
	// LastCheckpoint is the latest manually triggered checkpoint.
	// +optional
	LastCheckpoint *Snapshot `json:"lastCheckpoint,omitempty"`
	// TriggerID of the checkpoint under way.
	// +optional
	TriggerID string `json:"triggerId,omitempty"`
	// TriggerTimestamp of the checkpoint under way, in epoch milliseconds.
	// +optional
	TriggerTimestamp int64 `json:"triggerTimestamp,omitempty"`
	// TriggerType of the checkpoint under way.
	// +optional
	TriggerType string `json:"triggerType,omitempty"`
	// FormatType of the checkpoint under way.
	// +optional
	FormatType string `json:"formatType,omitempty"`
	// LastPeriodicCheckpointTimestamp is when the last periodic checkpoint completed.
	// +optional
	LastPeriodicCheckpointTimestamp int64 `json:"lastPeriodicCheckpointTimestamp,omitempty"`
}
