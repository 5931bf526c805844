package lifecycle

import (
	"time"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Input is everything a decision depends on.
type Input struct {
	// Deployment is the resource as the API server has it: spec, status, generation,
	// deletion timestamp. Next never modifies it.
	Deployment *v1beta1.FlinkDeployment
	// Observed is what the controller saw this round.
	Observed Observation
	// Settings are the knobs of this deployment (operator defaults and its
	// kubernetes.operator.* options).
	Settings Settings
	// Compared is CompareSpec(Deployment) when the caller kept it; nil: computed.
	Compared *SpecComparison
}

// ClusterState is the JobManager Deployment as observed.
type ClusterState string

// Cluster states.
const (
	// ClusterMissing: no JobManager Deployment and no JobManager Pod.
	ClusterMissing ClusterState = "Missing"
	// ClusterTerminating: the Deployment is gone or going but Pods remain.
	ClusterTerminating ClusterState = "Terminating"
	// ClusterStarting: the Deployment exists; its JobManager is not ready yet.
	ClusterStarting ClusterState = "Starting"
	// ClusterReady: a JobManager is ready.
	ClusterReady ClusterState = "Ready"
	// ClusterFailing: the JobManager keeps crashing or cannot be scheduled.
	ClusterFailing ClusterState = "Failing"
)

// Observation is what the controller saw: the JobManager's Deployment and Pods, and
// Flink's REST API when the JobManager answers.
type Observation struct {
	// Now is the time of the observation.
	Now time.Time
	// Cluster is the JobManager Deployment's state.
	Cluster ClusterState
	// ClusterMessage explains a Failing cluster (the Pod's waiting reason, an event).
	ClusterMessage string
	// DeployedHash is the flok.dev/render-hash of the live JobManager Deployment.
	DeployedHash string
	// DesiredHash is the render hash of the spec being deployed, when it renders.
	DesiredHash string
	// DeployedLoggingHash is the flok.dev/logging-hash of the live JobManager
	// Deployment: which logging files its ConfigMap holds; DesiredLoggingHash that of
	// the current spec.
	DeployedLoggingHash, DesiredLoggingHash string
	// RenderError is why the current spec does not render (a field path and what is
	// wrong); the last valid spec keeps running.
	RenderError string
	// Job is the job as Flink's REST API reports it; nil when the JobManager does not
	// answer or runs no job.
	Job *Job
	// FlinkUnanswered says why Flink's REST API did not answer this round ("" when it
	// did, or was not asked): the job's state is then unknown, not absent.
	FlinkUnanswered string
	// FlinkTLS says why Flok cannot speak TLS with Flink's REST API as configured — its
	// TLS Secret unreadable, a certificate refused — which, unlike a silence, waiting
	// does not cure; "" when nothing is wrong. FlinkUnanswered is set too.
	FlinkTLS string
	// Terminations are the cluster's JobManager and TaskManager containers that ended
	// unasked lately, also of Pods already gone.
	Terminations []ContainerTermination
	// HAData reports whether high-availability ConfigMaps of the cluster exist (only
	// observed when the spec turns high availability on).
	HAData bool
	// HighAvailability reports whether the spec turns high availability on.
	HighAvailability bool
	// Checkpointing reports whether the spec has periodic checkpoints to a directory.
	Checkpointing bool
	// Savepoint is the result of the savepoint asked for by the status's operation or
	// savepointInfo.triggerId; nil when none was asked or Flink has no answer.
	Savepoint *SnapshotResult
	// Checkpoint is the result of checkpointInfo.triggerId.
	Checkpoint *SnapshotResult

	// Session is what runs in a session cluster, when its JobManager answers.
	Session *v1beta1.SessionStatus
	// SessionJobs are the FlinkSessionJobs that name this session cluster.
	SessionJobs []SessionJobRef

	// The fields below describe a session job's cluster and artifact.

	// SessionUnavailable says why the session cluster cannot take the job now (missing,
	// not a session, not ready, being changed); "" when it can.
	SessionUnavailable string
	// SessionGone: the session cluster does not exist or is being deleted, so none of
	// its jobs runs any more.
	SessionGone bool
	// SessionUpgrading: the session cluster is being upgraded and waits for its jobs to
	// stop, each keeping its state as its upgradeMode says.
	SessionUpgrading bool
	// ArtifactError says why the job's jar cannot be fetched; "" when it can.
	ArtifactError string
}

// SessionJobRef is a FlinkSessionJob as its session cluster sees it.
type SessionJobRef struct {
	Name string
	// Released: the job is stopped and its state recorded (or it has none to keep),
	// so the session cluster may be removed under it.
	Released bool
}

// Job is a Flink job as observed.
type Job struct {
	ID    string
	Name  string
	State string
	// StartTime is in epoch milliseconds; EndTime too, once the job ended (else 0).
	StartTime int64
	EndTime   int64
	// TasksRunning reports whether all of the job's tasks run (or have finished): a
	// RUNNING job may still be deploying tasks, and takes no savepoint until they run.
	TasksRunning bool
	// LatestCheckpoint is the latest completed checkpoint's path, and its time;
	// CheckpointsUnread, that Flink did not answer for them this round.
	LatestCheckpoint     string
	LatestCheckpointTime int64
	CheckpointsUnread    bool
	// LatestSavepoint is the latest completed savepoint's path (Flink's checkpoint
	// statistics), which survives the job's end.
	LatestSavepoint string
	// RestoredFrom is the snapshot the job started from.
	RestoredFrom string
	// Exception is the latest root exception, if any.
	Exception string
	// Exceptions are the job's recent failures, newest first.
	Exceptions []Exception
}

// Exception is one failure of a job.
type Exception struct {
	// Timestamp is when it happened, in epoch milliseconds.
	Timestamp int64
	// Message is its first line: the exception's class and message.
	Message string
}

// Flink job states the decisions use.
const (
	JobRunning   = "RUNNING"
	JobFailed    = "FAILED"
	JobFinished  = "FINISHED"
	JobCanceled  = "CANCELED"
	JobSuspended = "SUSPENDED"
)

// globallyTerminal reports job states a job never leaves.
func globallyTerminal(state string) bool {
	return state == JobFailed || state == JobFinished || state == JobCanceled
}

// SnapshotResult is how an asynchronous savepoint or checkpoint ended.
type SnapshotResult struct {
	// Done is set when it finished, with Path on success and Failure otherwise.
	Done    bool
	Path    string
	Failure string
	// CheckpointID is a completed checkpoint's id.
	CheckpointID int64
}

// ActionType names what the controller does after recording the status.
type ActionType string

// Actions.
const (
	// ActionNone: nothing but the status.
	ActionNone ActionType = ""
	// ActionDeploy applies the rendered objects of Spec, with JobID, from RestorePath.
	ActionDeploy ActionType = "Deploy"
	// ActionStopWithSavepoint stops JobID with a savepoint identified by TriggerID.
	ActionStopWithSavepoint ActionType = "StopWithSavepoint"
	// ActionTriggerSavepoint takes a savepoint of the running JobID.
	ActionTriggerSavepoint ActionType = "TriggerSavepoint"
	// ActionTriggerCheckpoint takes a checkpoint of the running JobID.
	ActionTriggerCheckpoint ActionType = "TriggerCheckpoint"
	// ActionRemoveCluster deletes the cluster's objects; with KeepHAData its
	// high-availability ConfigMaps stay (without the job graph, so that the next
	// deployment's graph is used), otherwise they go too.
	ActionRemoveCluster ActionType = "RemoveCluster"
	// ActionRemoveFinalizer lets the API server delete the resource.
	ActionRemoveFinalizer ActionType = "RemoveFinalizer"
	// ActionDisposeSavepoint removes the savepoint at Path, then lets the API server
	// delete the FlinkStateSnapshot that records it.
	ActionDisposeSavepoint ActionType = "DisposeSavepoint"
	// ActionUpdateLogging writes the logging files of Spec into the running cluster's
	// ConfigMap, then marks its JobManager Deployment with their hash; nothing
	// restarts.
	ActionUpdateLogging ActionType = "UpdateLogging"
)

// Action is one step for the controller to take, after recording Decision.Status.
type Action struct {
	Type ActionType
	// Spec is the spec to deploy: the current one, or the last stable one on rollback.
	Spec *v1beta1.FlinkDeploymentSpec
	// JobID is the job to deploy, stop or snapshot.
	JobID string
	// TriggerID identifies a savepoint or checkpoint.
	TriggerID string
	// RestorePath is the snapshot a deployment starts from.
	RestorePath string
	// AllowNonRestoredState lets it start from a snapshot with state no operator uses.
	AllowNonRestoredState bool
	// KeepHAData keeps high-availability metadata when removing the cluster.
	KeepHAData bool
	// Directory is where a FlinkStateSnapshot's savepoint is written, in Format
	// (CANONICAL or NATIVE).
	Directory, Format string
	// Path is the savepoint ActionDisposeSavepoint removes.
	Path string
}

// Decision is the outcome: record Status (always first), then take Action.
type Decision struct {
	Status v1beta1.FlinkDeploymentStatus
	Action Action
	// Events are Kubernetes events to emit about the deployment.
	Events []Event
	// RequeueAfter is when to look again without a watch event.
	RequeueAfter time.Duration
}

// Event is a Kubernetes event: Normal or Warning, a CamelCase reason, a message.
type Event struct {
	Warning bool
	Reason  string
	Message string
}

// ContainerTermination is a Flink container that ended unasked: killed for using more
// memory than its limit, or exited with an error.
type ContainerTermination struct {
	// Pod and Container name it; Role is jobmanager or taskmanager.
	Pod, Container, Role string
	// OOMKilled: the kernel killed it at its memory limit; else ExitCode says how it
	// ended.
	OOMKilled bool
	ExitCode  int32
	// FinishedAt is when it ended, in epoch milliseconds.
	FinishedAt int64
}
