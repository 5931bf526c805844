package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// FlinkVersion names a Flink minor version, as the Apache operator spells it.
// +kubebuilder:validation:Enum=v1_13;v1_14;v1_15;v1_16;v1_17;v1_18;v1_19;v1_20;v2_0;v2_1;v2_2;v2_3
type FlinkVersion string

// DeploymentMode is how the cluster runs on Kubernetes.
// +kubebuilder:validation:Enum=native;standalone
type DeploymentMode string

// Deployment modes.
const (
	// ModeNative lets Flink's ResourceManager create the TaskManager Pods.
	ModeNative DeploymentMode = "native"
	// ModeStandalone runs JobManager and TaskManager Deployments (needed for reactive mode).
	ModeStandalone DeploymentMode = "standalone"
)

// FlinkDeploymentSpec is a Flink cluster: an application cluster when job is set, a
// session cluster otherwise.
type FlinkDeploymentSpec struct {
	// Job makes this an application cluster running one job.
	// +optional
	Job *JobSpec `json:"job,omitempty"`
	// RestartNonce: a new value restarts the cluster (as an upgrade).
	// +optional
	RestartNonce *int64 `json:"restartNonce,omitempty"`
	// FlinkConfiguration holds Flink options, as a flat map (state.backend.type:
	// rocksdb) or nested YAML (state: {backend: {type: rocksdb}}).
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	FlinkConfiguration *runtime.RawExtension `json:"flinkConfiguration,omitempty"`
	// Image is the Flink image, such as flink:2.3.
	// +optional
	Image string `json:"image,omitempty"`
	// ImagePullPolicy of the Flink containers.
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	// ServiceAccount the JobManager and TaskManagers run as; the JobManager needs rights
	// on Pods and ConfigMaps (native mode, HA).
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// FlinkVersion is the Flink version of the image, such as v2_3.
	// +optional
	FlinkVersion FlinkVersion `json:"flinkVersion,omitempty"`
	// Ingress exposes the Flink web UI.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`
	// PodTemplate is the base Pod template of the JobManager and TaskManagers. Its
	// schema is checked by Flok rather than the API server, which keeps the CRD small.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	PodTemplate *runtime.RawExtension `json:"podTemplate,omitempty"`
	// JobManager sizes and shapes the JobManager.
	// +optional
	JobManager *JobManagerSpec `json:"jobManager,omitempty"`
	// TaskManager sizes and shapes the TaskManagers.
	// +optional
	TaskManager *TaskManagerSpec `json:"taskManager,omitempty"`
	// LogConfiguration maps logging file names (log4j-console.properties,
	// logback-console.xml) to their content.
	// +optional
	LogConfiguration map[string]string `json:"logConfiguration,omitempty"`
	// Mode is native (default) or standalone.
	// +optional
	Mode DeploymentMode `json:"mode,omitempty"`
}

// Resource is a container's CPU and memory, the Apache operator's shorthand.
type Resource struct {
	// CPU is the number of cores, fractions allowed.
	// +optional
	CPU *float64 `json:"cpu,omitempty"`
	// Memory is a Flink or Kubernetes memory size, such as 2048m or 2Gi.
	// +optional
	Memory string `json:"memory,omitempty"`
	// EphemeralStorage is the container's ephemeral storage, such as 2Gi.
	// +optional
	EphemeralStorage string `json:"ephemeralStorage,omitempty"`
}

// JobManagerSpec shapes the JobManager.
type JobManagerSpec struct {
	// Resource is the JobManager's CPU and memory.
	// +optional
	Resource *Resource `json:"resource,omitempty"`
	// Resources are Kubernetes requests and limits, instead of resource.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// Replicas of the JobManager; more than 1 requires high availability.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	Replicas int32 `json:"replicas,omitempty"`
	// PodTemplate is layered over spec.podTemplate for the JobManager.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	PodTemplate *runtime.RawExtension `json:"podTemplate,omitempty"`
}

// TaskManagerSpec shapes the TaskManagers.
type TaskManagerSpec struct {
	// Resource is each TaskManager's CPU and memory.
	// +optional
	Resource *Resource `json:"resource,omitempty"`
	// Resources are Kubernetes requests and limits, instead of resource.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// Replicas of the TaskManager (standalone mode); it wins over the count derived from
	// parallelism and slots, and is what the scale subresource changes.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`
	// PodTemplate is layered over spec.podTemplate for the TaskManagers.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	PodTemplate *runtime.RawExtension `json:"podTemplate,omitempty"`
}

// IngressSpec exposes the Flink web UI through an Ingress.
type IngressSpec struct {
	// Template is the host and path, with {{name}} and {{namespace}} filled in, such as
	// flink.example.com/{{namespace}}/{{name}}(/|$)(.*).
	Template string `json:"template"`
	// ClassName is the Ingress class.
	// +optional
	ClassName *string `json:"className,omitempty"`
	// Annotations of the Ingress.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels of the Ingress.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// TLS of the Ingress.
	// +optional
	TLS []IngressTLS `json:"tls,omitempty"`
}

// IngressTLS is one TLS entry of an Ingress.
type IngressTLS struct {
	// Hosts the certificate covers.
	// +optional
	Hosts []string `json:"hosts,omitempty"`
	// SecretName holds the certificate and key.
	// +optional
	SecretName string `json:"secretName,omitempty"`
}

// FlinkDeploymentStatus is what Flok observed and did.
type FlinkDeploymentStatus struct {
	CommonStatus `json:",inline"`
	// ClusterInfo holds facts about the running cluster: flink-version, revision,
	// total-cpu, total-memory.
	// +optional
	ClusterInfo map[string]string `json:"clusterInfo,omitempty"`
	// JobManagerDeploymentStatus is READY, DEPLOYED_NOT_READY, DEPLOYING, MISSING or ERROR.
	// +optional
	JobManagerDeploymentStatus string `json:"jobManagerDeploymentStatus,omitempty"`
	// TaskManager feeds the scale subresource.
	// +optional
	TaskManager *TaskManagerInfo `json:"taskManager,omitempty"`
	// Session is what runs in a session cluster (Flok's addition).
	// +optional
	Session *SessionStatus `json:"session,omitempty"`
	// Conditions are Ready, Progressing and Degraded, with reasons.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// TaskManagerInfo is the TaskManagers' replica count and selector.
type TaskManagerInfo struct {
	// LabelSelector selects the TaskManager Pods.
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
	// Replicas is the number of TaskManagers.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
}

// SessionStatus is a session cluster as last observed over Flink's REST API.
type SessionStatus struct {
	// TaskManagers registered with the JobManager.
	TaskManagers int32 `json:"taskManagers"`
	// TotalSlots and AvailableSlots are the cluster's task slots, all and free.
	TotalSlots     int32 `json:"totalSlots"`
	AvailableSlots int32 `json:"availableSlots"`
	// Jobs are the jobs that have not ended, whoever submitted them.
	// +optional
	Jobs []SessionJobSummary `json:"jobs,omitempty"`
}

// SessionJobSummary is one job of a session cluster.
type SessionJobSummary struct {
	// JobID is Flink's job id.
	JobID string `json:"jobId"`
	// Name is the job's name.
	// +optional
	Name string `json:"name,omitempty"`
	// State is Flink's job state.
	State string `json:"state"`
	// StartTime is when the job started, in epoch milliseconds.
	// +optional
	StartTime int64 `json:"startTime,omitempty"`
	// SessionJob is the FlinkSessionJob that runs the job; empty for a job submitted
	// outside Flok.
	// +optional
	SessionJob string `json:"sessionJob,omitempty"`
}

// ForceDeletionAnnotation, set to "true" on a session FlinkDeployment, lets it be
// deleted while FlinkSessionJobs still run on it; their jobs end with the cluster.
const ForceDeletionAnnotation = "flok.dev/force-deletion"

// FlinkDeployment is a Flink cluster — an application with its job, or a session
// cluster — that Flok deploys, upgrades with its state, suspends, resumes and deletes.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=flinkdep
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.taskManager.replicas,statuspath=.status.taskManager.replicas,selectorpath=.status.taskManager.labelSelector
// +kubebuilder:printcolumn:name="Job Status",type=string,JSONPath=".status.jobStatus.state"
// +kubebuilder:printcolumn:name="Lifecycle State",type=string,JSONPath=".status.lifecycleState"
// +kubebuilder:printcolumn:name="Flink",type=string,JSONPath=".spec.flinkVersion"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type FlinkDeployment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the cluster the user wants.
	Spec FlinkDeploymentSpec `json:"spec,omitempty"`
	// Status is what Flok observed and did.
	Status FlinkDeploymentStatus `json:"status,omitempty"`
}

// FlinkDeploymentList is a list of FlinkDeployments.
//
// +kubebuilder:object:root=true
type FlinkDeploymentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FlinkDeployment `json:"items"`
}
