package flinkrest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TriggerID names an asynchronous operation: 32 hexadecimal characters. A caller that
// records it before triggering (Flok records it in status) can repeat the trigger after
// a restart: Flink recognises the id and starts nothing new.
type TriggerID string

// NewTriggerID returns a random trigger id.
func NewTriggerID() TriggerID {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return TriggerID(hex.EncodeToString(b))
}

// OperationKind tells which status endpoint an operation answers on.
type OperationKind string

// The asynchronous operations of a job.
const (
	SavepointOperation  OperationKind = "savepoint"
	StopOperation       OperationKind = "stop-with-savepoint"
	CheckpointOperation OperationKind = "checkpoint"
	// DisposalOperation removes a savepoint's files; it belongs to no job.
	DisposalOperation OperationKind = "savepoint-disposal"
)

// Operation is a handle on a triggered asynchronous operation.
type Operation struct {
	Kind      OperationKind
	JobID     string
	TriggerID TriggerID
}

// SavepointFormat is CANONICAL (portable across state backends) or NATIVE (faster).
type SavepointFormat string

// Savepoint formats.
const (
	CanonicalFormat SavepointFormat = "CANONICAL"
	NativeFormat    SavepointFormat = "NATIVE"
)

// SavepointRequest triggers a savepoint (POST /jobs/:id/savepoints).
type SavepointRequest struct {
	// TargetDirectory may be empty when the cluster has a default savepoint directory.
	TargetDirectory string          `json:"target-directory,omitempty"`
	CancelJob       bool            `json:"cancel-job"`
	FormatType      SavepointFormat `json:"formatType,omitempty"`
	// TriggerID, when set, makes the trigger idempotent; empty picks a new one.
	TriggerID TriggerID `json:"triggerId,omitempty"`
}

// StopRequest stops a job with a savepoint (POST /jobs/:id/stop).
type StopRequest struct {
	TargetDirectory string          `json:"targetDirectory,omitempty"`
	Drain           bool            `json:"drain"`
	FormatType      SavepointFormat `json:"formatType,omitempty"`
	TriggerID       TriggerID       `json:"triggerId,omitempty"`
}

// CheckpointRequest triggers a checkpoint (POST /jobs/:id/checkpoints).
type CheckpointRequest struct {
	// CheckpointType is CONFIGURED (default), FULL or INCREMENTAL.
	CheckpointType string    `json:"checkpointType,omitempty"`
	TriggerID      TriggerID `json:"triggerId,omitempty"`
}

// TriggerSavepoint starts a savepoint.
func (c *Client) TriggerSavepoint(ctx context.Context, jobID string, req SavepointRequest) (Operation, error) {
	if req.TriggerID == "" {
		req.TriggerID = NewTriggerID()
	}
	return c.trigger(ctx, SavepointOperation, jobID, "/savepoints", req, req.TriggerID)
}

// StopWithSavepoint stops a job after taking a savepoint.
func (c *Client) StopWithSavepoint(ctx context.Context, jobID string, req StopRequest) (Operation, error) {
	if req.TriggerID == "" {
		req.TriggerID = NewTriggerID()
	}
	return c.trigger(ctx, StopOperation, jobID, "/stop", req, req.TriggerID)
}

// TriggerCheckpoint starts a checkpoint.
func (c *Client) TriggerCheckpoint(ctx context.Context, jobID string, req CheckpointRequest) (Operation, error) {
	if req.TriggerID == "" {
		req.TriggerID = NewTriggerID()
	}
	return c.trigger(ctx, CheckpointOperation, jobID, "/checkpoints", req, req.TriggerID)
}

func (c *Client) trigger(ctx context.Context, kind OperationKind, jobID, suffix string, body any, id TriggerID) (Operation, error) {
	var answer struct {
		RequestID TriggerID `json:"request-id"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: jobPath(jobID) + suffix, body: body, retry: true,
		want: http.StatusAccepted}, &answer)
	if err != nil {
		return Operation{}, err
	}
	if answer.RequestID != "" && answer.RequestID != id {
		return Operation{}, fmt.Errorf("flinkrest: %s of job %s: Flink answered trigger id %s for %s", kind, jobID, answer.RequestID, id)
	}
	return Operation{Kind: kind, JobID: jobID, TriggerID: id}, nil
}

// OperationResult is the state of an operation.
type OperationResult struct {
	// Done is true once the operation completed, successfully or not.
	Done bool
	// Location is the savepoint's path (savepoint, stop-with-savepoint).
	Location string
	// CheckpointID is the checkpoint's id (checkpoint).
	CheckpointID int64
	// Failure is set when the operation completed with a failure.
	Failure *SerializedThrowable
}

// SerializedThrowable is a Java exception as Flink sends it.
type SerializedThrowable struct {
	Class      string `json:"class"`
	StackTrace string `json:"stack-trace"`
}

// OperationFailedError is an operation that completed with a failure cause.
type OperationFailedError struct {
	Operation Operation
	Cause     SerializedThrowable
}

func (e *OperationFailedError) Error() string {
	return fmt.Sprintf("flink %s of job %s (trigger %s) failed: %s", e.Operation.Kind, e.Operation.JobID,
		e.Operation.TriggerID, firstLine(e.Cause.StackTrace, e.Cause.Class))
}

// Status reads an operation's state once.
func (c *Client) Status(ctx context.Context, op Operation) (OperationResult, error) {
	var answer struct {
		Status struct {
			ID string `json:"id"`
		} `json:"status"`
		Operation *struct {
			Location      string               `json:"location"`
			CheckpointID  int64                `json:"checkpointId"`
			FailureCause  *SerializedThrowable `json:"failure-cause"`
			FailureCause2 *SerializedThrowable `json:"failureCause"`
		} `json:"operation"`
	}
	if err := c.get(ctx, op.statusPath(), &answer); err != nil {
		return OperationResult{}, err
	}
	result := OperationResult{Done: answer.Status.ID == "COMPLETED"}
	if o := answer.Operation; o != nil {
		result.Location, result.CheckpointID = o.Location, o.CheckpointID
		result.Failure = o.FailureCause
		if result.Failure == nil {
			result.Failure = o.FailureCause2 // the checkpoint endpoint's spelling
		}
	}
	return result, nil
}

// statusPath is where Flink answers on the operation's progress.
func (op Operation) statusPath() string {
	id := url.PathEscape(string(op.TriggerID))
	switch op.Kind {
	case DisposalOperation:
		return "/savepoint-disposal/" + id
	case CheckpointOperation:
		return jobPath(op.JobID) + "/checkpoints/" + id
	default:
		return jobPath(op.JobID) + "/savepoints/" + id
	}
}

// DisposeSavepoint starts removing a savepoint's files (POST /savepoint-disposal):
// any JobManager that can read the savepoint's storage can, whether or not the job
// that took it runs. Flink takes no trigger id for it: a repeat starts a new
// disposal, which fails as IsSavepointGone once the files are gone.
func (c *Client) DisposeSavepoint(ctx context.Context, path string) (Operation, error) {
	var answer struct {
		RequestID TriggerID `json:"request-id"`
	}
	body := map[string]string{"savepoint-path": path}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/savepoint-disposal", body: body, want: http.StatusOK}, &answer); err != nil {
		return Operation{}, err
	}
	return Operation{Kind: DisposalOperation, TriggerID: answer.RequestID}, nil
}

// IsSavepointGone reports a disposal that failed because there is no savepoint at the
// path (disposed before, or never written).
func IsSavepointGone(err error) bool {
	var failed *OperationFailedError
	return errors.As(err, &failed) && failed.Operation.Kind == DisposalOperation &&
		strings.Contains(failed.Cause.StackTrace+failed.Cause.Class, "FileNotFoundException")
}

// Wait polls an operation with back-off (from 100 ms up to 2 s) until it completes or
// ctx ends. An operation that completed with a failure returns *OperationFailedError;
// errors of the calls themselves are returned as they are.
func (c *Client) Wait(ctx context.Context, op Operation) (OperationResult, error) {
	delay := 100 * time.Millisecond
	for {
		result, err := c.Status(ctx, op)
		if err != nil {
			return result, err
		}
		if result.Done {
			if result.Failure != nil {
				return result, &OperationFailedError{Operation: op, Cause: *result.Failure}
			}
			return result, nil
		}
		select {
		case <-ctx.Done():
			return result, fmt.Errorf("flinkrest: waiting for %s of job %s: %w", op.Kind, op.JobID, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func firstLine(s, fallback string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	if s == "" {
		return fallback
	}
	return s
}
