package procnode_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/flinkrest/flinkresttest"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

func kubectlApply(t *testing.T, ns, manifest string) {
	t.Helper()
	_, err := cluster.Kubectl(t.Context(), strings.NewReader(manifest), "-n", ns, "apply", "-f", "-")
	require.NoError(t, err)
}

// stateMount is where examples/standalone-session.yaml mounts its state directory.
const stateMount = "/dump/1/state"

// TestStandaloneSessionClusterFromPlainYAML applies the documented standalone session
// cluster with kubectl; runs the REST client's whole scenario against its JobManager
// through the API server's service proxy, as an operator or CLI outside the cluster
// reaches it; submits TopSpeedWindowing with `flink run` from a Pod, waits for
// checkpoints, then deletes a TaskManager Pod and waits for its replacement and for the
// job to recover from a checkpoint.
func TestStandaloneSessionClusterFromPlainYAML(t *testing.T) {
	flinktest.ForEachRelease(t, cluster, func(t *testing.T, release flinkdist.Release, ns string) {
		ctx := t.Context()
		home, err := flinkdist.Provision(ctx, release)
		require.NoError(t, err)
		stateDir := flinktest.StateDir(t, cluster, ns)
		manifest, err := os.ReadFile("../../examples/standalone-session.yaml")
		require.NoError(t, err)
		kubectlApply(t, ns, os.Expand(string(manifest), func(k string) string {
			return map[string]string{"FLINK_VERSION": release.MinorVersion(), "STATE_DIR": stateDir}[k]
		}))
		proxied, err := flinkrest.NewServiceProxy(cluster.Config, flinkrest.ServicePort{Namespace: ns, Service: "flink-jobmanager", Port: "webui"})
		require.NoError(t, err)
		flinkresttest.Exercise(t, proxied, flinkresttest.Cluster{
			Release: release, Home: home, TaskManagers: 2, Slots: 4, CheckpointInterval: "2s",
			SavepointDir: "file://" + stateMount + "/savepoints",
			LocalPath: func(uri string) string {
				return stateDir + strings.TrimPrefix(flinkresttest.FilePath(uri), stateMount)
			},
		})
		flink := flinktest.RESTClient(t, cluster, ns, "flink-jobmanager", "webui")

		_, err = cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "submit"},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
				Name: "flink", Image: "flink:" + release.MinorVersion(),
				// The job's checkpointing comes from the client's configuration.
				Command: []string{"flink", "run", "--detached", "-m", "flink-jobmanager:8081",
					"-Dexecution.checkpointing.interval=2s", "/opt/flink/examples/streaming/TopSpeedWindowing.jar"},
			}}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		waitFor(t, 4*time.Minute, "the submission to succeed", podPhase(ns, "submit", corev1.PodSucceeded))
		logs, err := cluster.Client.CoreV1().Pods(ns).GetLogs("submit", &corev1.PodLogOptions{}).Do(ctx).Raw()
		require.NoError(t, err)
		m := regexp.MustCompile(`JobID ([0-9a-f]{32})`).FindSubmatch(logs)
		require.NotNil(t, m, "flink run printed no job id:\n%s", logs)
		jobID := string(m[1])

		t.Cleanup(func() {
			if t.Failed() {
				for _, path := range []string{"/jobs/" + jobID, "/jobs/" + jobID + "/checkpoints", "/jobs/" + jobID + "/exceptions"} {
					raw, err := cluster.Client.CoreV1().Services(ns).ProxyGet("http", "flink-jobmanager", "webui", path, nil).DoRaw(context.Background())
					t.Logf("GET %s: %v\n%s", path, err, raw)
				}
			}
		})
		waitFor(t, 3*time.Minute, "completed checkpoints", func(ctx context.Context) (bool, error) {
			c, err := flink.Checkpoints(ctx, jobID)
			return err == nil && c.Counts.Completed >= 2, nil
		})
		chk, _ := filepath.Glob(filepath.Join(stateDir, "checkpoints", jobID, "chk-*"))
		require.NotEmpty(t, chk, "checkpoints are written to the hostPath state directory")

		victim := busyTaskManagerPod(t, ns)
		require.NoError(t, cluster.Client.CoreV1().Pods(ns).Delete(ctx, victim, metav1.DeleteOptions{}))
		waitFor(t, 4*time.Minute, "a replacement TaskManager and a job restored from a checkpoint", func(ctx context.Context) (bool, error) {
			pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "component=taskmanager"})
			if err != nil {
				return false, nil
			}
			running := 0
			for _, p := range pods.Items {
				if p.Name == victim {
					return false, nil // still terminating
				}
				if p.Status.Phase == corev1.PodRunning {
					running++
				}
			}
			o, err := flink.Overview(ctx)
			if err != nil {
				return false, nil
			}
			c, err := flink.Checkpoints(ctx, jobID)
			if err != nil {
				return false, nil
			}
			job, err := flink.Job(ctx, jobID)
			if err != nil {
				return false, nil
			}
			return running == 2 && o.TaskManagers == 2 && c.Latest.Restored != nil && job.State == flinkrest.JobRunning, nil
		})
	})
}

// busyTaskManagerPod names the TaskManager Pod that runs tasks, found by matching
// Flink's TaskManager ids (<ip>:<port>-<suffix>) with the Pods' IPs.
func busyTaskManagerPod(t *testing.T, ns string) string {
	t.Helper()
	tms, err := flinktest.RESTClient(t, cluster, ns, "flink-jobmanager", "webui").TaskManagers(t.Context())
	require.NoError(t, err)
	pods, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "component=taskmanager"})
	require.NoError(t, err)
	for _, tm := range tms {
		if tm.FreeSlots == tm.SlotsNumber {
			continue
		}
		for _, p := range pods.Items {
			if strings.HasPrefix(tm.ID, p.Status.PodIP+":") {
				return p.Name
			}
		}
	}
	t.Fatalf("no TaskManager Pod runs tasks: %+v", tms)
	return ""
}
