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

// samplesRunElsewhere are the samples other tests run, as they are, through more than
// TestSamples would: the application samples through TestApplicationLifecycle, the
// standalone session through TestStandaloneSession, the SQL application through
// TestSQLApplication.
var samplesRunElsewhere = map[string]bool{
	lifecycleSamples["native"]:                true,
	lifecycleSamples["standalone"]:            true,
	"flinkdeployment-session-standalone.yaml": true,
	sqlSample: true,
}

// sampleText is a sample of config/samples for a test: its state directory moved to the
// test's, checkpoints every 2 s, on the Flink release given.
func sampleText(t *testing.T, file string, release flinkdist.Release, stateDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../config/samples", file))
	require.NoError(t, err)
	text := string(data)
	for old, replacement := range map[string]string{
		"/var/lib/flink-data":                   stateDir,
		"execution.checkpointing.interval: 10s": "execution.checkpointing.interval: 2s",
		"image: flink:2.3":                      "image: flink:" + release.MinorVersion(),
		"flinkVersion: v2_3":                    "flinkVersion: " + versionField(release),
	} {
		require.Contains(t, text, old, "%s changed: the test's replacements no longer apply", file)
		text = strings.ReplaceAll(text, old, replacement)
	}
	return text
}

// TestSamples applies each FlinkDeployment of config/samples that no other test runs, as
// it is — but for sampleText's changes — and waits for it to run. The HA sample's
// periodic savepoint interval is shortened so that one is seen.
func TestSamples(t *testing.T) {
	t.Parallel()
	samples, err := filepath.Glob("../../config/samples/flinkdeployment-*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, path := range samples {
		if samplesRunElsewhere[filepath.Base(path)] {
			continue
		}
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			t.Parallel()
			ns, c := operatorTest(t, flinkdist.Flink2)
			text := sampleText(t, filepath.Base(path), flinkdist.Flink2, flinktest.StateDir(t, cluster, ns))
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

// waitForSessionReady waits for a session cluster to be STABLE with all its TaskManagers
// (a standalone session's replicas; a native session's first, whose JobManager creates
// them on demand).
func waitForSessionReady(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	waitForDeployment(t, c, fd.Namespace, fd.Name, 5*time.Minute, "the session cluster ready", func(fd *v1beta1.FlinkDeployment) bool {
		s := fd.Status.Session
		if fd.Spec.Mode == v1beta1.ModeStandalone && (s == nil || s.TaskManagers != *fd.Spec.TaskManager.Replicas) {
			return false
		}
		return fd.Status.LifecycleState == v1beta1.LifecycleStable && s != nil
	})
}

// testSessionSample waits for the native session cluster sample to be ready and runs
// flinksessionjobs.yaml on it, its jars served from the provisioned release instead of
// Maven Central.
func testSessionSample(t *testing.T, ns string, c client.Client, fd *v1beta1.FlinkDeployment) {
	fd.Namespace = ns
	waitForSessionReady(t, c, fd)
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
