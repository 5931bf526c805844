package procnode_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flok-dev/flok/test/flinktest"
)

func containerStatus(ctx context.Context, ns, pod string) *corev1.ContainerStatus {
	p, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil || len(p.Status.ContainerStatuses) == 0 {
		return nil
	}
	return &p.Status.ContainerStatuses[0]
}

// TestMemoryOverLimitIsOOMKilled runs a container that allocates past its memory limit:
// the cgroup's OOM killer ends it and the status says OOMKilled, as on a real node.
func TestMemoryOverLimitIsOOMKilled(t *testing.T) {
	ns := cluster.Namespace(t)
	limit := corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
	_, err := cluster.Client.CoreV1().Pods(ns).Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hog"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "hog", Image: "flink:2.3", Resources: corev1.ResourceRequirements{Limits: limit, Requests: limit},
			Command: []string{"python3", "-c", "import time; x = bytearray(512 << 20); time.sleep(30)"},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, time.Minute, "an OOMKilled container", func(ctx context.Context) (bool, error) {
		cs := containerStatus(ctx, ns, "hog")
		return cs != nil && cs.State.Terminated != nil, nil
	})
	term := containerStatus(t.Context(), ns, "hog").State.Terminated
	require.Equal(t, "OOMKilled", term.Reason)
	require.EqualValues(t, 137, term.ExitCode)
}

// TestProbes checks an exec readiness probe that starts failing and then passes, and a
// tcpSocket liveness probe that fails and gets the container restarted.
func TestProbes(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	_, err := cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probed"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{
				Name: "becomes-ready", Image: "flink:2.3",
				Command: []string{"bash", "-c", "sleep 2; touch /tmp/ready; sleep 600"},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-f", "/tmp/ready"}}},
					PeriodSeconds: 1, FailureThreshold: 1, SuccessThreshold: 1, TimeoutSeconds: 1,
				},
			},
			{
				Name: "never-listens", Image: "flink:2.3", Command: []string{"sleep", "600"},
				LivenessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(7777)}},
					PeriodSeconds: 1, FailureThreshold: 2, SuccessThreshold: 1, TimeoutSeconds: 1,
				},
			},
		}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	sawUnready := false
	waitFor(t, time.Minute, "readiness after the file appears", func(ctx context.Context) (bool, error) {
		p, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, "probed", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == "becomes-ready" && cs.State.Running != nil {
				sawUnready = sawUnready || !cs.Ready
				return cs.Ready, nil
			}
		}
		return false, nil
	})
	require.True(t, sawUnready, "the container was not ready before its probe passed")
	waitFor(t, time.Minute, "a liveness restart", func(ctx context.Context) (bool, error) {
		p, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, "probed", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == "never-listens" {
				return cs.RestartCount >= 1, nil
			}
		}
		return false, nil
	})
}

// TestImageEntrypointPreparesConfiguration runs the Flink image's entrypoint in
// pass-through mode: FLINK_PROPERTIES lands in the writable image configuration and
// ENABLE_BUILT_IN_PLUGINS links a jar from opt/ into plugins/.
func TestImageEntrypointPreparesConfiguration(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	flinktest.DumpOnFailure(t, cluster, ns)
	_, err := cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "entrypoint"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "main", Image: "flink:2.3",
			Args: []string{"bash", "-c", "grep -h -A1 -E 'numberOfTaskSlots|rpc:' /opt/flink/conf/config.yaml; ls /opt/flink/plugins/flink-python-2.3.0"},
			Env: []corev1.EnvVar{
				{Name: "FLINK_PROPERTIES", Value: "taskmanager.numberOfTaskSlots: 7\n"},
				{Name: "ENABLE_BUILT_IN_PLUGINS", Value: "flink-python-2.3.0.jar"},
				{Name: "JOB_MANAGER_RPC_ADDRESS", Value: "jm.example"},
			},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "the entrypoint to finish", podPhase(ns, "entrypoint", corev1.PodSucceeded))
	logs, err := cluster.Client.CoreV1().Pods(ns).GetLogs("entrypoint", &corev1.PodLogOptions{}).Do(ctx).Raw()
	require.NoError(t, err)
	out := string(logs)
	require.Contains(t, out, "Linked built-in plugin flink-python-2.3.0.jar")
	require.Contains(t, out, "flink-python-2.3.0.jar\n", "the plugin directory holds the jar")
	require.Regexp(t, `numberOfTaskSlots: '?7'?\n`, out)
	require.True(t, strings.Contains(out, "address: jm.example"), "the JobManager address is written: %s", out)
}

// TestLogsFollow streams a container's log with follow, as `kubectl logs -f` does: the
// stream delivers lines as they are written and ends when the container exits.
func TestLogsFollow(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	_, err := cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "ticker"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "main", Image: "flink:2.3", Command: []string{"bash", "-c", "for i in 1 2 3 4 5; do echo tick $i; sleep 0.5; done"},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, time.Minute, "the container to run", func(ctx context.Context) (bool, error) {
		cs := containerStatus(ctx, ns, "ticker")
		return cs != nil && (cs.State.Running != nil || cs.State.Terminated != nil), nil
	})
	stream, err := cluster.Client.CoreV1().Pods(ns).GetLogs("ticker", &corev1.PodLogOptions{Follow: true}).Stream(ctx)
	require.NoError(t, err)
	defer stream.Close()
	all, err := io.ReadAll(stream)
	require.NoError(t, err, "the stream ends when the container exits")
	require.Equal(t, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n", string(all))
}
