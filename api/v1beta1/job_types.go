package v1beta1

// JobState is the state a job should be in.
// +kubebuilder:validation:Enum=running;suspended
type JobState string

// Desired job states.
const (
	JobStateRunning   JobState = "running"
	JobStateSuspended JobState = "suspended"
)

// UpgradeMode says how a job's state is carried over when it is upgraded or suspended.
// +kubebuilder:validation:Enum=stateless;savepoint;last-state
type UpgradeMode string

// Upgrade modes.
const (
	UpgradeModeStateless UpgradeMode = "stateless"
	UpgradeModeSavepoint UpgradeMode = "savepoint"
	UpgradeModeLastState UpgradeMode = "last-state"
)

// JobSpec is the Flink job of an application cluster or a session job.
type JobSpec struct {
	// JarURI is the job's jar: local:///opt/flink/usrlib/job.jar (inside the image);
	// for applications on Flink 1.19 and later any URI Flink fetches itself at start
	// (https://, s3:// with the S3 plugin enabled); for session jobs https:// (http://
	// where the operator allows it) and s3://bucket/key.jar (any S3-compatible store:
	// s3.endpoint and s3.path.style.access in flinkConfiguration), fetched by the
	// operator and uploaded to the session cluster.
	// +optional
	JarURI string `json:"jarURI,omitempty"`
	// SQL is a job written in Flink SQL, run instead of a jar: leave jarURI, entryClass
	// and args empty (applications only).
	// +optional
	SQL *SQLJob `json:"sql,omitempty"`
	// Artifact says what the jar at jarURI must be and whose credentials fetch it
	// (session jobs).
	// +optional
	Artifact *JobArtifact `json:"artifact,omitempty"`
	// Parallelism is the job's default parallelism.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Parallelism int32 `json:"parallelism,omitempty"`
	// EntryClass is the job's main class; empty uses the jar's manifest.
	// +optional
	EntryClass string `json:"entryClass,omitempty"`
	// Args are the arguments passed to the job's main method.
	// +optional
	Args []string `json:"args,omitempty"`
	// State is running (default) or suspended: suspending takes the job's state as its
	// upgradeMode says and removes the cluster; running again restores it.
	// +optional
	// +kubebuilder:default=running
	State JobState `json:"state,omitempty"`
	// SavepointTriggerNonce: a new value triggers a savepoint.
	// +optional
	SavepointTriggerNonce *int64 `json:"savepointTriggerNonce,omitempty"`
	// CheckpointTriggerNonce: a new value triggers a checkpoint.
	// +optional
	CheckpointTriggerNonce *int64 `json:"checkpointTriggerNonce,omitempty"`
	// InitialSavepointPath is the savepoint the job starts from on its first
	// deployment (and on a savepoint redeploy).
	// +optional
	InitialSavepointPath string `json:"initialSavepointPath,omitempty"`
	// UpgradeMode is how state is carried over on upgrades and suspension: stateless
	// (default; the job starts empty), savepoint (stop with a savepoint, start from
	// it), last-state (the latest checkpoint or HA metadata).
	// +optional
	// +kubebuilder:default=stateless
	UpgradeMode UpgradeMode `json:"upgradeMode,omitempty"`
	// AllowNonRestoredState lets the job start from a snapshot that holds state no
	// operator of the new job maps to.
	// +optional
	AllowNonRestoredState *bool `json:"allowNonRestoredState,omitempty"`
	// SavepointRedeployNonce: a new value redeploys the job from initialSavepointPath,
	// dropping its current state.
	// +optional
	SavepointRedeployNonce *int64 `json:"savepointRedeployNonce,omitempty"`
	// AutoscalerResetNonce: a new value resets the autoscaler's overrides and history.
	// +optional
	AutoscalerResetNonce *int64 `json:"autoscalerResetNonce,omitempty"`
}

// SQLJob is a job's SQL script: SET statements configure the job, the statements that
// define things (CREATE, USE, ALTER, DROP, LOAD ...) run in order, and every INSERT
// becomes part of the one job the cluster runs. From Flink 2.1 on it runs on Flink's own
// SQL application support (the official image's opt/flink-sql-gateway jar); before, on
// Flok's SQL runner, which the operator mounts into the JobManager. Upgrades, savepoints
// and suspension work as for a jar: a changed script is an upgrade from the job's state.
type SQLJob struct {
	// Script is the SQL script, statements ending in semicolons.
	// +kubebuilder:validation:MinLength=1
	Script string `json:"script"`
}

// The keys of a JobArtifact's credentials Secret: the names the AWS tools and Flink's
// S3 file systems read from the environment, so that one Secret serves the operator
// (session jobs) and a JobManager (applications) alike.
const (
	CredentialsAccessKeyID     = "AWS_ACCESS_KEY_ID"
	CredentialsSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	CredentialsSessionToken    = "AWS_SESSION_TOKEN"
)

// JobArtifact says how a job's jar is checked and fetched.
type JobArtifact struct {
	// SHA256 is the jar's SHA-256 in hex: a jar with another digest is refused before
	// it reaches Flink (session jobs, whose jar the operator fetches).
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{64}$`
	SHA256 string `json:"sha256,omitempty"`
	// CredentialsSecret names a Secret in the job's namespace whose AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY (and optional AWS_SESSION_TOKEN) fetch an s3:// jar: the
	// operator's for a session job, the JobManager's environment for an application.
	// Without it a session job's jar is fetched with the operator's own identity (its
	// environment, web identity or instance role).
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
}
