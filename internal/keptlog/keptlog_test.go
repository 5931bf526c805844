package keptlog

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func entry(pod string, run int32, reason string, at int) Entry {
	return Entry{Pod: pod, PodUID: "uid-" + pod, Container: "flink-main-container", Role: "taskmanager", Run: run, Reason: reason,
		EndedAt: time.Date(2026, 12, 1, 12, 0, at, 0, time.UTC)}
}

func newConfigMap() *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName("tsw")}}
}

// TestAddAndRead: logs come back as kept, newest first; a final log replaces one
// taken at deletion, never the reverse, and a log kept twice changes nothing.
func TestAddAndRead(t *testing.T) {
	cm := newConfigMap()
	changed, err := Add(cm, entry("tm-1", 0, ReasonDeleted, 1), []byte("started\n"))
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = Add(cm, entry("jm", 2, "OOMKilled", 2), []byte("jm log\n"))
	require.NoError(t, err)
	require.True(t, changed)

	entries, err := Entries(cm)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	require.Equal(t, "jm", entries[0].Pod)
	require.Equal(t, "jm.uid-jm.flink-main-container.2.log.gz", entries[0].Key)
	log, err := Read(cm, entries[1])
	require.NoError(t, err)
	require.Equal(t, "started\n", string(log))

	changed, err = Add(cm, entry("tm-1", 0, "Error", 3), []byte("started\nstopped\n"))
	require.NoError(t, err)
	require.True(t, changed, "a final log replaces the one taken at deletion")
	changed, err = Add(cm, entry("tm-1", 0, ReasonDeleted, 4), []byte("started\n"))
	require.NoError(t, err)
	require.False(t, changed, "a log taken at deletion never replaces a final one")
	changed, err = Add(cm, entry("jm", 2, "OOMKilled", 2), []byte("jm log\n"))
	require.NoError(t, err)
	require.False(t, changed)

	entries, err = Entries(cm)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	require.Equal(t, "tm-1", entries[0].Pod)
	require.True(t, entries[0].Final())
	log, err = Read(cm, entries[0])
	require.NoError(t, err)
	require.Equal(t, "started\nstopped\n", string(log))
	kept, final := Has(cm, KeyOf("tm-1", "uid-tm-1", "flink-main-container", 0))
	require.True(t, kept)
	require.True(t, final)
	kept, _ = Has(cm, KeyOf("tm-1", "uid-tm-1", "flink-main-container", 1))
	require.False(t, kept)

	// A Pod of the same name (Flink's next TaskManager after an upgrade) is another.
	again := entry("tm-1", 0, "OOMKilled", 5)
	again.PodUID = "uid-tm-1-again"
	changed, err = Add(cm, again, []byte("the next one\n"))
	require.NoError(t, err)
	require.True(t, changed, "another Pod of the same name has a log of its own")
	entries, err = Entries(cm)
	require.NoError(t, err)
	require.Len(t, entries, 3)
}

// TestBounds: one run keeps the end of its log from a line's beginning; a cluster
// keeps at most MaxEntries runs within MaxCompressedBytes, dropping the oldest.
func TestBounds(t *testing.T) {
	cm := newConfigMap()
	var long bytes.Buffer
	for i := 0; long.Len() < 3*MaxLogBytes; i++ {
		fmt.Fprintf(&long, "line %d\n", i)
	}
	last := long.Bytes()[long.Len()-len("line 999\n")*2:]
	_, err := Add(cm, entry("tm-long", 0, "Error", 0), long.Bytes())
	require.NoError(t, err)
	entries, _ := Entries(cm)
	require.True(t, entries[0].Truncated)
	require.LessOrEqual(t, entries[0].Bytes, MaxLogBytes)
	log, err := Read(cm, entries[0])
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(log), "line "), "cut at a line's beginning")
	require.True(t, bytes.HasSuffix(log, last))

	for i := range MaxEntries + 5 {
		_, err := Add(cm, entry(fmt.Sprintf("tm-%d", i), 0, "Error", i+1), []byte("small\n"))
		require.NoError(t, err)
	}
	entries, _ = Entries(cm)
	require.Len(t, entries, MaxEntries)
	require.Equal(t, fmt.Sprintf("tm-%d", MaxEntries+4), entries[0].Pod)
	require.Len(t, cm.BinaryData, MaxEntries, "the dropped runs' logs are gone too")

	// Logs that do not compress: the total stays bounded, the newest is kept.
	for i := range 4 {
		noise := make([]byte, 300<<10)
		_, _ = rand.Read(noise)
		_, err := Add(cm, entry(fmt.Sprintf("noisy-%d", i), 0, "Error", 100+i), []byte(hex.EncodeToString(noise)[:300<<10]))
		require.NoError(t, err)
	}
	total := 0
	for _, v := range cm.BinaryData {
		total += len(v)
	}
	require.LessOrEqual(t, total, MaxCompressedBytes)
	entries, _ = Entries(cm)
	require.Equal(t, "noisy-3", entries[0].Pod)

	changed, err := Add(cm, entry("long-ago", 0, "Error", -1), []byte("old\n"))
	require.NoError(t, err)
	require.False(t, changed, "older than all that is kept: dropped at once, nothing to write")
}

// TestReadTail reads a stream of any length into its last bytes.
func TestReadTail(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	got, err := ReadTail(bytes.NewReader(data), 1000)
	require.NoError(t, err)
	require.Equal(t, data[len(data)-1001:], got, "one byte more than asked tells the beginning was dropped")
	got, err = ReadTail(bytes.NewReader(data[:500]), 1000)
	require.NoError(t, err)
	require.Equal(t, data[:500], got)
}

// TestUnreadableIndex: an index no one can read is replaced, not a dead end.
func TestUnreadableIndex(t *testing.T) {
	cm := newConfigMap()
	cm.Data = map[string]string{indexKey: "{"}
	cm.BinaryData = map[string][]byte{"stale.log.gz": []byte("x")}
	_, err := Entries(cm)
	require.ErrorContains(t, err, "index.json is not a list of kept logs")
	changed, err := Add(cm, entry("tm", 0, "Error", 0), []byte("log\n"))
	require.NoError(t, err)
	require.True(t, changed)
	entries, err := Entries(cm)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.NotContains(t, cm.BinaryData, "stale.log.gz")
}
