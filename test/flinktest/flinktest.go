// Package flinktest holds what tests of real Flink on the local cluster share: the
// releases to run against, one namespace per release, Pod logs kept when a test fails,
// and a Flink REST client through the API server.
package flinktest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flok-dev/flok/internal/cli/commands"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/localk8s"
)

// Releases are the Flink releases to test; FLOK_TEST_FLINK (2.3, 1.20) narrows them to
// one while debugging.
func Releases() []flinkdist.Release {
	if v := os.Getenv("FLOK_TEST_FLINK"); v != "" {
		if r, err := flinkdist.Lookup(v); err == nil {
			return []flinkdist.Release{r}
		}
	}
	return flinkdist.Releases
}

// ForEachRelease runs test once per Flink release, in parallel, each in a namespace of
// its own whose Pod logs are saved when it fails.
func ForEachRelease(t *testing.T, c *localk8s.Cluster, test func(t *testing.T, release flinkdist.Release, ns string)) {
	for _, release := range Releases() {
		t.Run(release.MinorVersion(), func(t *testing.T) {
			t.Parallel()
			ns := c.Namespace(t)
			DumpOnFailure(t, c, ns)
			test(t, release, ns)
		})
	}
}

// DumpOnFailure logs the end of every container log in ns when the test fails, and
// keeps the whole logs under $TMPDIR/flok-test-logs/<ns>.
func DumpOnFailure(t *testing.T, c *localk8s.Cluster, ns string) {
	t.Cleanup(func() { dumpOnFailure(t, c, ns) })
}

// dumped holds the namespaces whose logs were saved: the first cleanup that tears Pods
// down (StateDir's) saves them, so that later ones do not find only replacements.
var dumped sync.Map

func dumpOnFailure(t *testing.T, c *localk8s.Cluster, ns string) {
	if !t.Failed() {
		return
	}
	if _, done := dumped.LoadOrStore(ns, true); done {
		return
	}
	ctx := context.Background()
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	dir := filepath.Join(os.TempDir(), "flok-test-logs", ns)
	_ = os.MkdirAll(dir, 0o755)
	if events, err := c.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
		var b strings.Builder
		for _, e := range events.Items {
			fmt.Fprintf(&b, "%s %s %s/%s %s: %s (x%d)\n", e.LastTimestamp.Format(time.TimeOnly), e.Type,
				e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message, e.Count)
		}
		path := filepath.Join(dir, "events.txt")
		_ = os.WriteFile(path, []byte(b.String()), 0o644)
		t.Logf("----- events of %s, all in %s\n%s", ns, path, Tail([]byte(b.String()), 40))
	}
	for _, p := range pods.Items {
		for _, ctr := range p.Spec.Containers {
			logs, err := c.Client.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: ctr.Name}).Do(ctx).Raw()
			path := filepath.Join(dir, p.Name+"_"+ctr.Name+".log")
			_ = os.WriteFile(path, logs, 0o644)
			t.Logf("----- %s/%s (%s) %v, whole log in %s\n%s", p.Name, ctr.Name, p.Status.Phase, err, path, Tail(logs, 40))
		}
	}
}

// RESTClient reaches a Flink REST Service through the API server's service proxy, as
// an operator outside the cluster would; it tries each request once, for tests that
// poll.
func RESTClient(t *testing.T, c *localk8s.Cluster, ns, service, port string) *flinkrest.Client {
	t.Helper()
	return ProxiedRESTClient(t, c, flinkrest.ServicePort{Namespace: ns, Service: service, Port: port})
}

// ProxiedRESTClient is RESTClient for any Service port, one that speaks TLS among them.
func ProxiedRESTClient(t *testing.T, c *localk8s.Cluster, port flinkrest.ServicePort) *flinkrest.Client {
	t.Helper()
	client, err := flinkrest.NewServiceProxy(c.Config, port, flinkrest.WithAttempts(1, 0))
	require.NoError(t, err)
	return client
}

// Tail is the last n lines of data.
func Tail(data []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// StateDir is a host directory for a test's Pods to keep state in (a hostPath volume).
// It is removed only after the namespace's Pods are gone: JVMs still writing
// checkpoints would otherwise race the removal.
func StateDir(t *testing.T, c *localk8s.Cluster, ns string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "flok-state-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o777))
	t.Cleanup(func() {
		dumpOnFailure(t, c, ns)
		ctx := context.Background()
		zero := int64(0)
		// Deployments first, or their ReplicaSets replace the Pods deleted below.
		_ = c.Client.AppsV1().Deployments(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		_ = c.Client.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err == nil && len(pods.Items) == 0 {
				break
			}
			time.Sleep(time.Second)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// WaitFor polls cond every second until it holds or the deadline passes.
func WaitFor(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, timeout, true, cond)
	require.NoError(t, err, "waiting for %s", what)
}

// Flok runs the flok command line in process against the cluster of kubeconfig and
// returns its exit code, standard output and standard error, all logged.
func Flok(t *testing.T, kubeconfig string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := commands.Execute(t.Context(), streams, append([]string{"--kubeconfig", kubeconfig}, args...))
	t.Logf("$ flok %s\n%s%s(exit %d)", strings.Join(args, " "), out.String(), errOut.String(), code)
	return code, out.String(), errOut.String()
}

// RichPodTemplate is the pod template like production ones that Flink's client and Flok
// are compared with (test/procnode/testdata/rich-pod-template.yaml), for the Flink
// image image. Its main container reads the key password of Secret db.
func RichPodTemplate(t *testing.T, image string) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "procnode", "testdata", "rich-pod-template.yaml"))
	require.NoError(t, err)
	return bytes.ReplaceAll(data, []byte("FLINK_IMAGE"), []byte(image))
}

// RequireRichPodRuns checks a Pod made of RichPodTemplate: its init container ended
// well, its sidecar runs beside Flink.
func RequireRichPodRuns(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	require.Len(t, pod.Status.InitContainerStatuses, 1, pod.Name)
	init := pod.Status.InitContainerStatuses[0].State.Terminated
	require.NotNil(t, init, "%s: the init container ended", pod.Name)
	require.Zero(t, init.ExitCode, pod.Name)
	running := map[string]bool{}
	for _, c := range pod.Status.ContainerStatuses {
		running[c.Name] = c.State.Running != nil
	}
	require.Equal(t, map[string]bool{"flink-main-container": true, "sidecar": true}, running, pod.Name)
}
