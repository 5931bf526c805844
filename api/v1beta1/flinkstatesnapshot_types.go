package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// JobReference names the FlinkDeployment or FlinkSessionJob a snapshot is of.
type JobReference struct {
	// Kind is FlinkDeployment or FlinkSessionJob.
	// +kubebuilder:validation:Enum=FlinkDeployment;FlinkSessionJob
	Kind string `json:"kind"`
	// Name of the resource, in the snapshot's namespace.
	Name string `json:"name"`
}

// SavepointSpec asks for a savepoint, or records one that exists.
type SavepointSpec struct {
	// Path is where to write it (empty: the job's default), or where it is when
	// alreadyExists is set.
	// +optional
	Path string `json:"path,omitempty"`
	// FormatType is CANONICAL or NATIVE.
	// +optional
	// +kubebuilder:validation:Enum=CANONICAL;NATIVE
	FormatType string `json:"formatType,omitempty"`
	// DisposeOnDelete removes the savepoint's files when this resource is deleted.
	// +optional
	// +kubebuilder:default=true
	DisposeOnDelete *bool `json:"disposeOnDelete,omitempty"`
	// AlreadyExists records an existing savepoint instead of taking one.
	// +optional
	AlreadyExists bool `json:"alreadyExists,omitempty"`
}

// CheckpointSpec asks for a checkpoint; it has no options.
type CheckpointSpec struct{}

// FlinkStateSnapshotSpec is one savepoint or checkpoint of a job.
// +kubebuilder:validation:XValidation:rule="has(self.savepoint) != has(self.checkpoint)",message="set exactly one of savepoint and checkpoint"
type FlinkStateSnapshotSpec struct {
	// JobReference is the job to snapshot.
	// +optional
	JobReference *JobReference `json:"jobReference,omitempty"`
	// Savepoint asks for (or records) a savepoint.
	// +optional
	Savepoint *SavepointSpec `json:"savepoint,omitempty"`
	// Checkpoint asks for a checkpoint.
	// +optional
	Checkpoint *CheckpointSpec `json:"checkpoint,omitempty"`
	// BackoffLimit is how often a failed snapshot is retried (-1: without limit; 0: never),
	// with back-off from 10 s doubling.
	// +optional
	// +kubebuilder:default=-1
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
}

// FlinkStateSnapshotStatus is the snapshot's progress.
type FlinkStateSnapshotStatus struct {
	// State is TRIGGER_PENDING, IN_PROGRESS, COMPLETED, FAILED or ABANDONED.
	// +optional
	State string `json:"state,omitempty"`
	// TriggerID is Flink's id of the operation, recorded before it is triggered.
	// +optional
	TriggerID string `json:"triggerId,omitempty"`
	// TriggerTimestamp is when it was triggered.
	// +optional
	TriggerTimestamp string `json:"triggerTimestamp,omitempty"`
	// ResultTimestamp is when it completed or failed.
	// +optional
	ResultTimestamp string `json:"resultTimestamp,omitempty"`
	// Path is where the snapshot is.
	// +optional
	Path string `json:"path,omitempty"`
	// Error is why it failed.
	// +optional
	Error string `json:"error,omitempty"`
	// Failures counts failed attempts.
	// +optional
	Failures int32 `json:"failures,omitempty"`
}

// FlinkStateSnapshot is a savepoint or checkpoint of a job, as a resource of its own.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=flinksnp
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=".status.path"
// +kubebuilder:printcolumn:name="Result Timestamp",type=string,JSONPath=".status.resultTimestamp"
// +kubebuilder:printcolumn:name="Snapshot State",type=string,JSONPath=".status.state"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type FlinkStateSnapshot struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the snapshot the user wants.
	Spec FlinkStateSnapshotSpec `json:"spec,omitempty"`
	// Status is its progress.
	Status FlinkStateSnapshotStatus `json:"status,omitempty"`
}

// FlinkStateSnapshotList is a list of FlinkStateSnapshots.
//
// +kubebuilder:object:root=true
type FlinkStateSnapshotList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FlinkStateSnapshot `json:"items"`
}

// SnapshotState is where a FlinkStateSnapshot is in its life.
type SnapshotState = string

// The states of a FlinkStateSnapshot (status.state).
const (
	// SnapshotTriggerPending: not triggered yet, or waiting to be tried again.
	SnapshotTriggerPending SnapshotState = "TRIGGER_PENDING"
	// SnapshotInProgress: triggered; Flink is taking it.
	SnapshotInProgress SnapshotState = "IN_PROGRESS"
	// SnapshotCompleted: taken (or registered); status.path says where.
	SnapshotCompleted SnapshotState = "COMPLETED"
	// SnapshotFailed: it failed more often than spec.backoffLimit allows, or its spec
	// cannot be carried out.
	SnapshotFailed SnapshotState = "FAILED"
	// SnapshotAbandoned: the job was not running when it was to be taken or while it
	// was taken; it is not tried again.
	SnapshotAbandoned SnapshotState = "ABANDONED"
)

// The kinds a FlinkStateSnapshot's jobReference names.
const (
	KindFlinkDeployment = "FlinkDeployment"
	KindFlinkSessionJob = "FlinkSessionJob"
)

// RetryLimit is spec.backoffLimit: how many failed attempts are tried again, -1 (the
// default) for no limit.
func (s *FlinkStateSnapshotSpec) RetryLimit() int32 {
	if s.BackoffLimit == nil {
		return -1
	}
	return *s.BackoffLimit
}

// DisposesOnDelete reports whether deleting the snapshot removes the savepoint's
// files: spec.savepoint.disposeOnDelete, true when unset.
func (s *FlinkStateSnapshotSpec) DisposesOnDelete() bool {
	return s.Savepoint != nil && (s.Savepoint.DisposeOnDelete == nil || *s.Savepoint.DisposeOnDelete)
}
