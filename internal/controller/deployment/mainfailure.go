package deployment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/internal/controller/logkeeper"
	"github.com/flok-dev/flok/internal/render"
)

// mainMethodFailed is how Flink's client says an application's main method threw: a
// jar's, or the SQL runner's when a script does not parse or plan.
const mainMethodFailed = "The main method caused an error: "

// The end of a crashed JobManager's log that is searched, and the longest message
// taken from it.
const (
	mainFailureTailLines = 400
	mainFailureMaxBytes  = 256 << 10
	maxMainFailureLength = 1000
)

// mainFailures finds why a crash-looping JobManager's last run ended when Flink says
// the job's main method failed — on Flink 1.x without high availability the JobManager
// then exits, and the one line a user needs is in its log. Each run's log is read once.
type mainFailures struct {
	mu   sync.Mutex
	seen map[string]string // "<pod uid>/<restart count>" → the message, "" for none
}

// of is the main method's error that ended the last run of pod's Flink container, ""
// when its log does not say (or cannot be read).
func (m *mainFailures) of(ctx context.Context, logs logkeeper.LogSource, pod *corev1.Pod) string {
	if logs == nil {
		return ""
	}
	var restarts int32
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == render.MainContainerName && cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.ExitCode != 0 {
			restarts = cs.RestartCount
		}
	}
	if restarts == 0 {
		return ""
	}
	key := fmt.Sprintf("%s/%d", pod.UID, restarts)
	m.mu.Lock()
	msg, ok := m.seen[key]
	m.mu.Unlock()
	if ok {
		return msg
	}
	msg, err := readMainFailure(ctx, logs, pod)
	if err != nil {
		log.FromContext(ctx).V(1).Info("reading a crashed JobManager's log", "pod", pod.Name, "error", err.Error())
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil || len(m.seen) > 1000 {
		m.seen = map[string]string{} // the runs of crash loops long gone
	}
	m.seen[key] = msg
	return msg
}

// readMainFailure reads the end of the container's previous run's log.
func readMainFailure(ctx context.Context, logs logkeeper.LogSource, pod *corev1.Pod) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := logs(ctx, pod.Namespace, pod.Name, &corev1.PodLogOptions{
		Container: render.MainContainerName, Previous: true,
		TailLines: ptr.To[int64](mainFailureTailLines), LimitBytes: ptr.To[int64](mainFailureMaxBytes),
	})
	if err != nil {
		return "", err
	}
	defer stream.Close()
	data, err := io.ReadAll(io.LimitReader(stream, mainFailureMaxBytes))
	if err != nil {
		return "", err
	}
	return mainMethodError(data), nil
}

// mainMethodError is the message of the main method's error in a JobManager's log: the
// rest of the last line where Flink reports it, "" when there is none or Flink gives
// none ("null": the error is a wrapper).
func mainMethodError(log []byte) string {
	i := bytes.LastIndex(log, []byte(mainMethodFailed))
	if i < 0 {
		return ""
	}
	line := log[i+len(mainMethodFailed):]
	if end := bytes.IndexByte(line, '\n'); end >= 0 {
		line = line[:end]
	}
	msg := strings.TrimSpace(string(line))
	if msg == "null" {
		return ""
	}
	if len(msg) > maxMainFailureLength {
		msg = msg[:maxMainFailureLength] + "…"
	}
	return msg
}
