// Package checkpointhistory is the format of a job's checkpoint history as Flok keeps it
// beyond what Flink remembers (web.checkpoints.history, 10 by default, gone with the
// JobManager): a ConfigMap per resource, written by the operator in batches from the
// checkpoint statistics it reads anyway, read by the console's chart.
package checkpointhistory

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/flok-dev/flok/internal/flinkrest"
)

// Entry is one ended checkpoint or savepoint of a job.
type Entry struct {
	// JobID is the Flink job that took it: an upgrade starts a new one.
	JobID string `json:"jobId"`
	// ID is Flink's checkpoint id within the job.
	ID     int64  `json:"id"`
	Status string `json:"status"`
	// Savepoint says it was a savepoint.
	Savepoint bool `json:"savepoint,omitempty"`
	// Triggered is when it began, in epoch milliseconds.
	Triggered int64 `json:"triggered"`
	// DurationMs is how long it took end to end.
	DurationMs int64 `json:"durationMs"`
	// Size is the bytes it wrote (checkpointed size).
	Size int64 `json:"size"`
	// Path is where a completed one lies.
	Path string `json:"path,omitempty"`
	// Failure is why a failed one failed (its first line).
	Failure string `json:"failure,omitempty"`
}

// MaxEntries bounds a resource's history: the newest are kept.
const MaxEntries = 200

// Key is the ConfigMap key of the history (JSON).
const Key = "history.json"

// ConfigMapName is the ConfigMap of the history of a resource of kind (FlinkDeployment,
// FlinkSessionJob) named name: kinds may share names.
func ConfigMapName(name, kind string) string {
	return name + "-" + strings.ToLower(kind) + "-checkpoints"
}

// FromFlink is the entry of a checkpoint Flink reports for job; false for one still in
// progress.
func FromFlink(jobID string, s flinkrest.CheckpointStats) (Entry, bool) {
	if s.Status != "COMPLETED" && s.Status != "FAILED" {
		return Entry{}, false
	}
	failure, _, _ := strings.Cut(s.FailureMessage, "\n")
	return Entry{
		JobID: jobID, ID: s.ID, Status: s.Status, Savepoint: s.IsSavepoint, Triggered: s.TriggerTimestamp,
		DurationMs: s.EndToEndDuration, Size: s.CheckpointedSize, Path: s.ExternalPath, Failure: failure,
	}, true
}

// Merge is the entries of both, each checkpoint once (add's copy wins), oldest first,
// at most max of the newest.
func Merge(history, add []Entry, max int) []Entry {
	byKey := make(map[string]Entry, len(history)+len(add))
	for _, list := range [][]Entry{history, add} {
		for _, e := range list {
			byKey[e.key()] = e
		}
	}
	out := make([]Entry, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Triggered, b.Triggered), strings.Compare(a.JobID, b.JobID), cmp.Compare(a.ID, b.ID))
	})
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return out
}

func (e Entry) key() string { return fmt.Sprintf("%s/%d", e.JobID, e.ID) }

// Decode reads the history a ConfigMap keeps.
func Decode(cm *corev1.ConfigMap) ([]Entry, error) {
	data, ok := cm.Data[Key]
	if !ok {
		return nil, nil
	}
	var entries []Entry
	if err := json.Unmarshal([]byte(data), &entries); err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s, key %s: %w", cm.Namespace, cm.Name, Key, err)
	}
	return entries, nil
}

// Encode is the ConfigMap data keeping entries.
func Encode(entries []Entry) (map[string]string, error) {
	data, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	return map[string]string{Key: string(data)}, nil
}
