package deployment

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/internal/render"
)

// TestMainFailure: the error of a job's main method is found in the end of a real
// Flink 1.20 JobManager's log (recorded from test/e2e's SQL job with a mistake, whose
// JobManager exits), once per run of the container, and said in the Pod's failure.
func TestMainFailure(t *testing.T) {
	recorded, err := os.ReadFile("testdata/jobmanager-main-failed-1.20.log")
	require.NoError(t, err)
	const want = "statement 4 (line 9, column 33) of the SQL script: Column 'idd' not found in any table"
	require.Equal(t, want, mainMethodError(recorded))
	require.Empty(t, mainMethodError([]byte("... ProgramInvocationException: The main method caused an error: null\n")), "a wrapper says nothing")
	require.Empty(t, mainMethodError([]byte("2026-12-03 INFO started\n")))

	reads := 0
	logs := func(_ context.Context, ns, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
		reads++
		require.Equal(t, "streaming", ns)
		require.True(t, opts.Previous, "the run that ended")
		return io.NopCloser(strings.NewReader(string(recorded))), nil
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "streaming", Name: "orders-1", UID: "u1"},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: render.MainContainerName, RestartCount: 1,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}},
		}}},
	}
	var failures mainFailures
	msg := failures.of(t.Context(), logs, pod)
	require.Equal(t, want, msg)
	require.Equal(t, want, failures.of(t.Context(), logs, pod))
	require.Equal(t, 1, reads, "a run's log is read once")
	require.Equal(t, "Pod orders-1 container flink-main-container keeps crashing (CrashLoopBackOff): the job's main method failed: "+want,
		podFailing(pod, msg))
	require.Empty(t, failures.of(t.Context(), nil, pod), "without a log source, nothing is read")

	pod.Status.ContainerStatuses[0].RestartCount = 2
	failures.of(t.Context(), logs, pod)
	require.Equal(t, 2, reads, "the next run's log is read anew")
}
