package flinkrest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// JobState is a Flink job's status.
type JobState string

// The job states of Flink 1.20 and 2.x.
const (
	JobInitializing JobState = "INITIALIZING"
	JobCreated      JobState = "CREATED"
	JobRunning      JobState = "RUNNING"
	JobFailing      JobState = "FAILING"
	JobFailed       JobState = "FAILED"
	JobCancelling   JobState = "CANCELLING"
	JobCanceled     JobState = "CANCELED"
	JobFinished     JobState = "FINISHED"
	JobRestarting   JobState = "RESTARTING"
	JobSuspended    JobState = "SUSPENDED"
	JobReconciling  JobState = "RECONCILING"
)

// IsGloballyTerminal reports states a job never leaves: FAILED, CANCELED, FINISHED.
func (s JobState) IsGloballyTerminal() bool {
	return s == JobFailed || s == JobCanceled || s == JobFinished
}

// JobOverview is one entry of GET /jobs/overview.
type JobOverview struct {
	ID               string         `json:"jid"`
	Name             string         `json:"name"`
	State            JobState       `json:"state"`
	StartTime        int64          `json:"start-time"`
	EndTime          int64          `json:"end-time"`
	Duration         int64          `json:"duration"`
	LastModification int64          `json:"last-modification"`
	Tasks            map[string]int `json:"tasks"`
}

// JobDetails is GET /jobs/:id.
type JobDetails struct {
	ID             string           `json:"jid"`
	Name           string           `json:"name"`
	State          JobState         `json:"state"`
	IsStoppable    bool             `json:"isStoppable"`
	JobType        string           `json:"job-type"`
	StartTime      int64            `json:"start-time"`
	EndTime        int64            `json:"end-time"`
	Duration       int64            `json:"duration"`
	MaxParallelism int              `json:"maxParallelism"`
	Now            int64            `json:"now"`
	Timestamps     map[string]int64 `json:"timestamps"`
	Vertices       []Vertex         `json:"vertices"`
	StatusCounts   map[string]int   `json:"status-counts"`
}

// Vertex is one operator chain of a job.
type Vertex struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Parallelism    int            `json:"parallelism"`
	MaxParallelism int            `json:"maxParallelism"`
	Status         string         `json:"status"`
	StartTime      int64          `json:"start-time"`
	EndTime        int64          `json:"end-time"`
	Duration       int64          `json:"duration"`
	Tasks          map[string]int `json:"tasks"`
}

// JobConfig is GET /jobs/:id/config. Flink 2.x no longer reports an execution mode.
type JobConfig struct {
	ID              string `json:"jid"`
	Name            string `json:"name"`
	ExecutionConfig struct {
		RestartStrategy string            `json:"restart-strategy"`
		JobParallelism  int               `json:"job-parallelism"`
		ObjectReuseMode bool              `json:"object-reuse-mode"`
		UserConfig      map[string]string `json:"user-config"`
	} `json:"execution-config"`
}

// ExceptionHistory is GET /jobs/:id/exceptions. Only the exception history is read:
// Flink 2.x removed the older top-level root-exception fields.
type ExceptionHistory struct {
	Entries   []ExceptionEntry `json:"entries"`
	Truncated bool             `json:"truncated"`
}

// ExceptionEntry is one failure of a job, with the failures that came with it.
type ExceptionEntry struct {
	ExceptionName        string            `json:"exceptionName"`
	Stacktrace           string            `json:"stacktrace"`
	Timestamp            int64             `json:"timestamp"`
	TaskName             string            `json:"taskName"`
	Endpoint             string            `json:"endpoint"`
	TaskManagerID        string            `json:"taskManagerId"`
	FailureLabels        map[string]string `json:"failureLabels"`
	ConcurrentExceptions []ExceptionEntry  `json:"concurrentExceptions"`
}

func jobPath(jobID string) string { return "/jobs/" + url.PathEscape(jobID) }

// Jobs reads GET /jobs/overview.
func (c *Client) Jobs(ctx context.Context) ([]JobOverview, error) {
	var answer struct {
		Jobs []JobOverview `json:"jobs"`
	}
	return answer.Jobs, c.get(ctx, "/jobs/overview", &answer)
}

// Job reads GET /jobs/:id.
func (c *Client) Job(ctx context.Context, jobID string) (*JobDetails, error) {
	var j JobDetails
	return &j, c.get(ctx, jobPath(jobID), &j)
}

// JobConfig reads GET /jobs/:id/config.
func (c *Client) JobConfig(ctx context.Context, jobID string) (*JobConfig, error) {
	var j JobConfig
	return &j, c.get(ctx, jobPath(jobID)+"/config", &j)
}

// Exceptions reads the job's exception history, at most max entries (0: Flink's default).
func (c *Client) Exceptions(ctx context.Context, jobID string, max int) (*ExceptionHistory, error) {
	path := jobPath(jobID) + "/exceptions"
	if max > 0 {
		path += "?maxExceptions=" + strconv.Itoa(max)
	}
	var answer struct {
		History ExceptionHistory `json:"exceptionHistory"`
	}
	return &answer.History, c.get(ctx, path, &answer)
}

// CancelJob cancels a job (PATCH /jobs/:id?mode=cancel). A job already in a terminal
// state answers with a conflict (IsConflict).
func (c *Client) CancelJob(ctx context.Context, jobID string) error {
	return c.do(ctx, request{method: http.MethodPatch, path: jobPath(jobID) + "?mode=cancel", want: http.StatusAccepted}, nil)
}

// ResourceRequirements maps a job's vertex ids to their parallelism bounds, as
// GET/PUT /jobs/:id/resource-requirements have them (adaptive scheduler).
type ResourceRequirements map[string]VertexRequirements

// VertexRequirements bounds one vertex's parallelism.
type VertexRequirements struct {
	Parallelism struct {
		LowerBound int `json:"lowerBound"`
		UpperBound int `json:"upperBound"`
	} `json:"parallelism"`
}

// ResourceRequirements reads a job's parallelism bounds.
func (c *Client) ResourceRequirements(ctx context.Context, jobID string) (ResourceRequirements, error) {
	var r ResourceRequirements
	return r, c.get(ctx, jobPath(jobID)+"/resource-requirements", &r)
}

// SetResourceRequirements rescales a job running on the adaptive scheduler; other
// schedulers answer with an error.
func (c *Client) SetResourceRequirements(ctx context.Context, jobID string, r ResourceRequirements) error {
	return c.do(ctx, request{method: http.MethodPut, path: jobPath(jobID) + "/resource-requirements", body: r, retry: true}, nil)
}
