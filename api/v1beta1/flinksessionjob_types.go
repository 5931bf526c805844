package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// FlinkSessionJobSpec is a job to run on a session cluster.
type FlinkSessionJobSpec struct {
	// DeploymentName is the session FlinkDeployment the job runs on; it cannot change.
	DeploymentName string `json:"deploymentName"`
	// Job is the job itself.
	// +optional
	Job *JobSpec `json:"job,omitempty"`
	// RestartNonce: a new value restarts the job (as an upgrade).
	// +optional
	RestartNonce *int64 `json:"restartNonce,omitempty"`
	// FlinkConfiguration holds the job's own Flink options, flat or nested.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	FlinkConfiguration *runtime.RawExtension `json:"flinkConfiguration,omitempty"`
}

// FlinkSessionJobStatus is what Flok observed and did.
type FlinkSessionJobStatus struct {
	CommonStatus `json:",inline"`
	// Conditions are Ready, Progressing and Degraded, with reasons.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FlinkSessionJob is a job that Flok runs on a session cluster with the same care as
// an application: upgrades with state, suspension, savepoints, deletion.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=sessionjob
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Job Status",type=string,JSONPath=".status.jobStatus.state"
// +kubebuilder:printcolumn:name="Lifecycle State",type=string,JSONPath=".status.lifecycleState"
// +kubebuilder:printcolumn:name="Session",type=string,JSONPath=".spec.deploymentName"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type FlinkSessionJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the job the user wants.
	Spec FlinkSessionJobSpec `json:"spec,omitempty"`
	// Status is what Flok observed and did.
	Status FlinkSessionJobStatus `json:"status,omitempty"`
}

// FlinkSessionJobList is a list of FlinkSessionJobs.
//
// +kubebuilder:object:root=true
type FlinkSessionJobList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FlinkSessionJob `json:"items"`
}
