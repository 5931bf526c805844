package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestSamples applies each FlinkDeployment of config/samples as it is — only its
// state directory moved to the test's — and waits for it to run. The HA sample's
// periodic savepoint interval is shortened so that one is seen.
func TestSamples(t *testing.T) {
	samples, err := filepath.Glob("../../config/samples/flinkdeployment-*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, path := range samples {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			t.Parallel()
			ns, c := operatorTest(t, flinkdist.Flink2)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			text := strings.ReplaceAll(string(data), "/var/lib/flink-data", flinktest.StateDir(t, cluster, ns))
			text = strings.ReplaceAll(text, "periodic.savepoint.interval: 30 min", "periodic.savepoint.interval: 20 s")
			fd := &v1beta1.FlinkDeployment{}
			require.NoError(t, yaml.UnmarshalStrict([]byte(text), fd))
			_, err = cluster.Kubectl(t.Context(), strings.NewReader(text), "-n", ns, "apply", "-f", "-")
			require.NoError(t, err)
			startOperator(t, ns, "")
			if fd.Spec.Job == nil {
				testSessionSample(t, ns, c, fd)
				return
			}
			waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the sample running", stableWith(""))
			if strings.Contains(text, "periodic.savepoint.interval") {
				waitForDeployment(t, c, ns, fd.Name, 2*time.Minute, "a periodic savepoint", func(fd *v1beta1.FlinkDeployment) bool {
					sp := fd.Status.JobStatus.SavepointInfo
					return sp != nil && sp.LastSavepoint != nil && sp.LastSavepoint.TriggerType == "PERIODIC" && sp.LastPeriodicSavepointTimestamp > 0
				})
			}
		})
	}
}

// testSessionSample waits for a session cluster sample to be ready with its
// TaskManagers; the native session runs flinksessionjobs.yaml, its jars served from
// the provisioned release instead of Maven Central.
func testSessionSample(t *testing.T, ns string, c client.Client, fd *v1beta1.FlinkDeployment) {
	waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the session cluster ready", func(fd *v1beta1.FlinkDeployment) bool {
		s := fd.Status.Session
		if fd.Spec.Mode == v1beta1.ModeStandalone && (s == nil || s.TaskManagers != *fd.Spec.TaskManager.Replicas) {
			return false
		}
		return fd.Status.LifecycleState == v1beta1.LifecycleStable && s != nil
	})
	if fd.Spec.Mode == v1beta1.ModeStandalone {
		return
	}
	jars := jarServer(t, flinkdist.Flink2)
	data, err := os.ReadFile("../../config/samples/flinksessionjobs.yaml")
	require.NoError(t, err)
	maven := "https://repo1.maven.org/maven2/org/apache/flink/flink-examples-streaming/2.3.0/flink-examples-streaming-2.3.0-"
	require.Contains(t, string(data), maven)
	text := strings.ReplaceAll(string(data), maven, jars.URL+"/")
	_, err = cluster.Kubectl(t.Context(), strings.NewReader(text), "-n", ns, "apply", "-f", "-")
	require.NoError(t, err)
	for _, name := range []string{"top-speed", "top-speed-last-state"} {
		waitForSessionJob(t, c, ns, name, 5*time.Minute, "the sample job running", jobStableWith(""))
	}

	// A last-state upgrade cancels the job and restores its latest checkpoint.
	ls := waitForSessionJob(t, c, ns, "top-speed-last-state", time.Minute, "a checkpoint", func(sj *v1beta1.FlinkSessionJob) bool {
		return sj.Status.JobStatus.CheckpointInfo != nil && sj.Status.JobStatus.CheckpointInfo.LastCheckpoint != nil
	})
	old := ls.Status.JobStatus.JobID
	updateJob(t, c, ls, func(sj *v1beta1.FlinkSessionJob) { sj.Spec.Job.Parallelism = 2 })
	ls = waitForSessionJob(t, c, ns, "top-speed-last-state", 3*time.Minute, "upgraded in last-state mode", jobStableWith(old))
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName(fd.Name), "rest")
	require.Contains(t, restoredFrom(t, flink, ls.Status.JobStatus.JobID), "/chk-", "restored from a checkpoint")
	require.Equal(t, "CANCELED", flinkJobState(t, flink, old))
}
