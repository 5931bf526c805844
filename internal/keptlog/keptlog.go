// Package keptlog keeps the last lines of Flink containers that ended — crashed,
// OOMKilled, or stopped because their Pod was deleted by Flink's ResourceManager or by
// an upgrade — in one ConfigMap per cluster, so that `flok logs --terminated` and the
// console can read them after the Pod, and with it the node's log, is gone.
//
// A ConfigMap rather than the operator's memory or disk: it survives the operator, is
// read with the viewer's own Kubernetes rights, and goes with its FlinkDeployment.
// Logs are bounded (the tail of each run, gzip-compressed, the oldest dropped first) so
// that the ConfigMap stays far below the API server's size limit.
package keptlog

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Bounds of what is kept per cluster.
const (
	// MaxLogBytes is how much of the end of one container run's log is kept.
	MaxLogBytes = 1 << 20
	// MaxCompressedBytes bounds the compressed logs of one cluster: a ConfigMap holds
	// at most 1 MiB.
	MaxCompressedBytes = 768 << 10
	// MaxEntries bounds how many container runs are kept per cluster.
	MaxEntries = 20
)

// ReasonDeleted is the reason of a log taken while its container still ran, because
// its Pod was being deleted: it ends where the container's shutdown began.
const ReasonDeleted = "PodDeleted"

// LabelKeptLogs marks the ConfigMaps holding kept logs.
const LabelKeptLogs = "flok.dev/kept-logs"

const indexKey = "index.json"

// ConfigMapName names the ConfigMap holding the kept logs of a cluster.
func ConfigMapName(cluster string) string { return cluster + "-ended-logs" }

// Entry describes one kept log: one run of one container.
type Entry struct {
	Pod string `json:"pod"`
	// PodUID tells apart Pods of one name: Flink names the TaskManagers of each new
	// JobManager <cluster>-taskmanager-1-1 onwards again.
	PodUID    string `json:"podUID"`
	Container string `json:"container"`
	// Role is the Flink process: jobmanager or taskmanager.
	Role string `json:"role"`
	// Run counts the container's runs in its Pod from 0 (its restart count then).
	Run int32 `json:"run"`
	// Reason is how the run ended as Kubernetes reported it (OOMKilled, Error,
	// Completed) or ReasonDeleted.
	Reason   string `json:"reason"`
	ExitCode *int32 `json:"exitCode,omitempty"`
	// EndedAt is when the run ended (or, for ReasonDeleted, when its log was taken).
	EndedAt time.Time `json:"endedAt"`
	// Bytes is the length of the kept log; Truncated says its beginning was dropped.
	Bytes     int  `json:"bytes"`
	Truncated bool `json:"truncated,omitempty"`
	// Key is the ConfigMap's binaryData key of the compressed log.
	Key string `json:"key"`
}

// Final says the log was taken after its run ended: nothing is missing at its end.
func (e Entry) Final() bool { return e.Reason != ReasonDeleted }

// KeyOf is the binaryData key of one run's log.
func KeyOf(pod, podUID, container string, run int32) string {
	return pod + "." + podUID + "." + container + "." + strconv.Itoa(int(run)) + ".log.gz"
}

// Entries lists the logs kept in cm, newest first.
func Entries(cm *corev1.ConfigMap) ([]Entry, error) {
	if cm == nil || cm.Data[indexKey] == "" {
		return nil, nil
	}
	var entries []Entry
	if err := json.Unmarshal([]byte(cm.Data[indexKey]), &entries); err != nil {
		return nil, fmt.Errorf("ConfigMap %s: %s is not a list of kept logs: %w", cm.Name, indexKey, err)
	}
	slices.SortStableFunc(entries, func(a, b Entry) int { return b.EndedAt.Compare(a.EndedAt) })
	return entries, nil
}

// Read returns the log e names.
func Read(cm *corev1.ConfigMap, e Entry) ([]byte, error) {
	data, ok := cm.BinaryData[e.Key]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s has no log %s", cm.Name, e.Key)
	}
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("ConfigMap %s, log %s: %w", cm.Name, e.Key, err)
	}
	return io.ReadAll(io.LimitReader(r, MaxLogBytes+1))
}

// Has says whether cm keeps the log of key (KeyOf), and whether it is final.
func Has(cm *corev1.ConfigMap, key string) (kept, final bool) {
	entries, _ := Entries(cm)
	for _, k := range entries {
		if k.Key == key {
			return true, k.Final()
		}
	}
	return false, false
}

// Add keeps log as e's in cm (e.Truncated: its source already dropped its beginning;
// a final log replaces one taken at deletion, never the
// reverse), then drops the oldest logs until the bounds hold. It reports whether cm
// holds e's log now (false: cm is to be left as it was).
func Add(cm *corev1.ConfigMap, e Entry, log []byte) (bool, error) {
	entries, err := Entries(cm)
	if err != nil {
		// An index no one can read is replaced rather than blocking every later log.
		entries = nil
		cm.BinaryData = nil
	}
	e.Key = KeyOf(e.Pod, e.PodUID, e.Container, e.Run)
	if i := slices.IndexFunc(entries, func(k Entry) bool { return k.Key == e.Key }); i >= 0 {
		if entries[i].Final() || !e.Final() {
			return false, nil
		}
		entries = slices.Delete(entries, i, i+1)
	}
	log, cut := tail(log, MaxLogBytes)
	e.Truncated = e.Truncated || cut
	e.Bytes = len(log)
	compressed, err := compress(log)
	if err != nil {
		return false, err
	}
	if cm.BinaryData == nil {
		cm.BinaryData = map[string][]byte{}
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	cm.BinaryData[e.Key] = compressed
	entries = slices.Insert(entries, 0, e)
	slices.SortStableFunc(entries, func(a, b Entry) int { return b.EndedAt.Compare(a.EndedAt) })
	entries = bound(cm, entries)
	if !slices.ContainsFunc(entries, func(k Entry) bool { return k.Key == e.Key }) {
		return false, nil // older than all that is kept: nothing to write
	}
	index, err := json.Marshal(entries)
	if err != nil {
		return false, err
	}
	cm.Data[indexKey] = string(index)
	return true, nil
}

// bound drops the oldest entries (and their logs, and logs no entry names) until the
// count and the compressed size are within bounds; the newest is always kept.
func bound(cm *corev1.ConfigMap, newestFirst []Entry) []Entry {
	kept, size := newestFirst[:0], 0
	for i, e := range newestFirst {
		n := len(cm.BinaryData[e.Key])
		if i > 0 && (len(kept) == MaxEntries || size+n > MaxCompressedBytes) {
			continue
		}
		kept, size = append(kept, e), size+n
	}
	named := map[string]bool{}
	for _, e := range kept {
		named[e.Key] = true
	}
	for k := range cm.BinaryData {
		if !named[k] {
			delete(cm.BinaryData, k)
		}
	}
	return kept
}

// tail is the end of log within max bytes, starting at a line's beginning when it
// was cut.
func tail(log []byte, max int) ([]byte, bool) {
	if len(log) <= max {
		return log, false
	}
	log = log[len(log)-max:]
	if i := bytes.IndexByte(log, '\n'); i >= 0 && i < len(log)-1 {
		log = log[i+1:]
	}
	return log, true
}

func compress(log []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(log); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadTail reads r to its end keeping only its last max bytes, and one more when
// there were more (so that Add knows the beginning was dropped): a log stream of any
// length is read in bounded memory.
func ReadTail(r io.Reader, max int) ([]byte, error) {
	buf := make([]byte, 0, 64<<10)
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if len(buf) > 2*max+2 {
			buf = append(buf[:0], buf[len(buf)-max-1:]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(buf) > max+1 {
		buf = buf[len(buf)-max-1:]
	}
	return buf, nil
}
