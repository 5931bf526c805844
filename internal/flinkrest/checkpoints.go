package flinkrest

import "context"

// Checkpoints is GET /jobs/:id/checkpoints: counts, the latest completed checkpoint and
// savepoint, the latest failure and restore, and the recent history.
type Checkpoints struct {
	Counts struct {
		Restored   int `json:"restored"`
		Total      int `json:"total"`
		InProgress int `json:"in_progress"`
		Completed  int `json:"completed"`
		Failed     int `json:"failed"`
	} `json:"counts"`
	Latest struct {
		Completed *CheckpointStats    `json:"completed"`
		Savepoint *CheckpointStats    `json:"savepoint"`
		Failed    *CheckpointStats    `json:"failed"`
		Restored  *RestoredCheckpoint `json:"restored"`
	} `json:"latest"`
	History []CheckpointStats `json:"history"`
}

// CheckpointStats is one checkpoint or savepoint. ExternalPath is set on completed
// ones, FailureMessage on failed ones.
type CheckpointStats struct {
	ID                 int64  `json:"id"`
	Status             string `json:"status"`
	IsSavepoint        bool   `json:"is_savepoint"`
	SavepointFormat    string `json:"savepointFormat"`
	CheckpointType     string `json:"checkpoint_type"`
	TriggerTimestamp   int64  `json:"trigger_timestamp"`
	LatestAckTimestamp int64  `json:"latest_ack_timestamp"`
	StateSize          int64  `json:"state_size"`
	CheckpointedSize   int64  `json:"checkpointed_size"`
	EndToEndDuration   int64  `json:"end_to_end_duration"`
	ExternalPath       string `json:"external_path"`
	Discarded          bool   `json:"discarded"`
	FailureTimestamp   int64  `json:"failure_timestamp"`
	FailureMessage     string `json:"failure_message"`
}

// RestoredCheckpoint is the checkpoint or savepoint a job started from.
type RestoredCheckpoint struct {
	ID               int64  `json:"id"`
	RestoreTimestamp int64  `json:"restore_timestamp"`
	IsSavepoint      bool   `json:"is_savepoint"`
	ExternalPath     string `json:"external_path"`
}

// CheckpointConfig is GET /jobs/:id/checkpoints/config.
type CheckpointConfig struct {
	// Mode is "exactly_once" or "at_least_once" (lower case, as Flink sends it).
	Mode            string `json:"mode"`
	Interval        int64  `json:"interval"`
	Timeout         int64  `json:"timeout"`
	MinPause        int64  `json:"min_pause"`
	MaxConcurrent   int    `json:"max_concurrent"`
	Externalization struct {
		Enabled              bool `json:"enabled"`
		DeleteOnCancellation bool `json:"delete_on_cancellation"`
	} `json:"externalization"`
	StateBackend               string `json:"state_backend"`
	CheckpointStorage          string `json:"checkpoint_storage"`
	UnalignedCheckpoints       bool   `json:"unaligned_checkpoints"`
	TolerableFailedCheckpoints int    `json:"tolerable_failed_checkpoints"`
}

// Checkpoints reads a job's checkpoint statistics. A job without checkpointing
// answers 404 (IsNotFound).
func (c *Client) Checkpoints(ctx context.Context, jobID string) (*Checkpoints, error) {
	var cp Checkpoints
	return &cp, c.get(ctx, jobPath(jobID)+"/checkpoints", &cp)
}

// CheckpointConfig reads a job's checkpointing configuration.
func (c *Client) CheckpointConfig(ctx context.Context, jobID string) (*CheckpointConfig, error) {
	var cc CheckpointConfig
	return &cc, c.get(ctx, jobPath(jobID)+"/checkpoints/config", &cc)
}
