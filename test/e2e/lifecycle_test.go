package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/console"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/jobimage"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// topSpeedWindowing is a stateful application with checkpoints and savepoints in the
// shared state directory.
func topSpeedWindowing(t *testing.T, ns, name, mode string, release flinkdist.Release, stateDir string) *v1beta1.FlinkDeployment {
	t.Helper()
	fd := &v1beta1.FlinkDeployment{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(fmt.Sprintf(`
apiVersion: flok.dev/v1beta1
kind: FlinkDeployment
metadata:
  name: %s
  namespace: %s
spec:
  mode: %s
  image: flink:%s
  flinkVersion: %s
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "2"
    execution.checkpointing.interval: 2s
    execution.checkpointing.dir: file:///flink-data/checkpoints
    execution.checkpointing.savepoint-dir: file:///flink-data/savepoints
  podTemplate:
    spec:
      containers:
      - name: flink-main-container
        volumeMounts:
        - name: flink-data
          mountPath: /flink-data
      volumes:
      - name: flink-data
        hostPath:
          path: %s
  job:
    jarURI: local:///opt/flink/examples/streaming/TopSpeedWindowing.jar
    parallelism: 1
    upgradeMode: savepoint
`, name, ns, mode, release.MinorVersion(), versionField(release), stateDir)), fd))
	return fd
}

// withOptions adds options to the deployment's Flink configuration.
func withOptions(t *testing.T, fd *v1beta1.FlinkDeployment, options map[string]string) {
	t.Helper()
	conf := map[string]string{}
	if fd.Spec.FlinkConfiguration != nil {
		require.NoError(t, json.Unmarshal(fd.Spec.FlinkConfiguration.Raw, &conf))
	}
	maps.Copy(conf, options)
	raw, err := json.Marshal(conf)
	require.NoError(t, err)
	fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: raw}
}

func update(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment, change func(*v1beta1.FlinkDeployment)) {
	t.Helper()
	require.NoError(t, c.Get(t.Context(), client.ObjectKeyFromObject(fd), fd))
	patch := client.MergeFrom(fd.DeepCopy())
	change(fd)
	require.NoError(t, c.Patch(t.Context(), fd, patch))
}

func stableWith(jobNot string) func(*v1beta1.FlinkDeployment) bool {
	return func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.LifecycleState == v1beta1.LifecycleStable && fd.Status.JobStatus.State == "RUNNING" &&
			fd.Status.JobStatus.JobID != jobNot && fd.Status.Operation == nil
	}
}

// restoredFrom is the snapshot Flink says the running job started from.
func restoredFrom(t *testing.T, flink *flinkrest.Client, jobID string) string {
	t.Helper()
	var path string
	flinktest.WaitFor(t, time.Minute, "Flink's restore statistics", func(ctx context.Context) (bool, error) {
		cps, err := flink.Checkpoints(ctx, jobID)
		if err != nil || cps.Latest.Restored == nil {
			return false, nil
		}
		path = cps.Latest.Restored.ExternalPath
		return true, nil
	})
	return path
}

// TestApplicationLifecycle runs the application samples of config/samples under the
// operator — native on each Flink release, standalone on the newest — through deploy, a
// savepoint upgrade (new parallelism), a manual savepoint, a manual checkpoint (both by
// nonce), a savepoint and a checkpoint as FlinkStateSnapshots (the savepoint disposed of), suspend, resume and deletion,
// checking over Flink's REST API that each new job starts from the recorded savepoint
// and that deletion leaves nothing behind. On the way it checks what the native cluster
// is made of: Flink's TaskManager Pods from the rendered template, with Flok's service
// account; job metrics in Prometheus; probes; kept logs; the dynamic log level.
func TestApplicationLifecycle(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"native", "standalone"} {
		for _, release := range flinktest.Releases() {
			if mode == "standalone" && release.MinorVersion() != flinkdist.Flink2.MinorVersion() {
				continue // standalone runs on the newest Flink only
			}
			t.Run(mode+"-"+release.MinorVersion(), func(t *testing.T) {
				t.Parallel()
				ns, c := operatorTest(t, release)
				testApplicationLifecycle(t, ns, c, mode, release)
			})
		}
	}
}

// lifecycleSamples are the application samples TestApplicationLifecycle runs, by mode.
var lifecycleSamples = map[string]string{
	"native":     "flinkdeployment-native.yaml",
	"standalone": "flinkdeployment-standalone.yaml",
}

func testApplicationLifecycle(t *testing.T, ns string, c client.Client, mode string, release flinkdist.Release) {
	ctx := t.Context()
	operator := startOperator(t, ns, "")
	dir := flinktest.StateDir(t, cluster, ns)
	text := sampleText(t, lifecycleSamples[mode], release, dir)
	// A label in the pod template, to be found on Flink's own TaskManager Pods.
	text = strings.Replace(text, "  podTemplate:\n", "  podTemplate:\n    metadata:\n      labels:\n        team: streaming\n", 1)
	fd := &v1beta1.FlinkDeployment{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(text), fd))
	fd.Namespace = ns
	name := fd.Name
	// The jar of native-1.20 and standalone-2.3 is in an S3-compatible store, fetched by
	// Flink at each start with the credentials of a Secret: both releases, both modes.
	// That of native-2.3 is in a job image built by Flok on a Flink base, both pulled
	// from a registry on loopback.
	s3SecretKey, imageByDigest := "", ""
	if (mode == "native") == (release.MinorVersion() == flinkdist.Flink1.MinorVersion()) {
		s3SecretKey = clusterJarStore(t, ns, c, release)
		fromClusterJarStore(t, fd, release)
	} else {
		fd.Spec.Image, imageByDigest = jobImage(t, release)
		fd.Spec.Job.JarURI = "local://" + jobimage.UsrLib + "/" + flinkdist.TopSpeedWindowing + ".jar"
	}
	// Two savepoints in the history: the third drops the first, and its record.
	withOptions(t, fd, map[string]string{"kubernetes.operator.savepoint.history.max.count": "2"})
	require.NoError(t, c.Create(ctx, fd))
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName(name), "rest")
	// On Flink 1.20 the upgrade below turns on TLS for the REST API and internal
	// connections, with certificates Flok generates: the savepoint is taken over plain
	// HTTP, and from then on this operator (outside the cluster), the console and the
	// tests speak HTTPS to Flink through the API server's proxy.
	overTLS := mode == "native" && release.MinorVersion() == flinkdist.Flink1.MinorVersion()

	fd = waitForDeployment(t, c, ns, name, 5*time.Minute, "the job to run and the deployment to be STABLE", stableWith(""))
	first := fd.Status.JobStatus.JobID
	cc, err := flink.CheckpointConfig(ctx, first)
	require.NoError(t, err)
	require.True(t, cc.Externalization.Enabled && !cc.Externalization.DeleteOnCancellation,
		"Flink keeps a stateful job's checkpoints on cancel and failure: %+v", cc.Externalization)
	if mode == "native" {
		requireNativeTaskManagers(t, ns, name)
	}
	if imageByDigest != "" {
		requireImageID(t, ns, name, imageByDigest)
	}
	// The console's chart keeps this job's checkpoints past the upgrade below.
	waitForKeptCheckpoint(t, ns, name, first)

	// Savepoint upgrade: parallelism 2 → 1 (and TLS on, on 1.20).
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.Job.Parallelism = 1
		if overTLS {
			withOptions(t, fd, map[string]string{"kubernetes.operator.ssl.generate": "true", "security.ssl.rest.enabled": "true", "security.ssl.internal.enabled": "true"})
		}
	})
	fd = waitForDeployment(t, c, ns, name, 5*time.Minute, "the upgraded job", stableWith(first))
	if overTLS {
		flink = flinktest.ProxiedRESTClient(t, cluster, flinkrest.ServicePort{Namespace: ns, Service: render.RESTServiceName(name), Port: "rest", TLS: true})
		proveRESTOverTLS(t, ns, name, flink)
	}
	upgradeSavepoint := fd.Status.JobStatus.UpgradeSavepointPath
	require.NotEmpty(t, upgradeSavepoint)
	require.Equal(t, upgradeSavepoint, fd.Status.JobStatus.SavepointInfo.LastSavepoint.Location)
	require.DirExists(t, hostPath(dir, upgradeSavepoint))
	require.Equal(t, upgradeSavepoint, restoredFrom(t, flink, fd.Status.JobStatus.JobID), "the new job restored the upgrade's savepoint")
	job, err := flink.Job(ctx, fd.Status.JobStatus.JobID)
	require.NoError(t, err)
	require.Equal(t, 1, job.Vertices[len(job.Vertices)-1].Parallelism)
	jobs, err := flink.Jobs(ctx)
	require.NoError(t, err)
	running := 0
	for _, j := range jobs {
		if j.State == flinkrest.JobRunning {
			running++
		}
	}
	require.Equal(t, 1, running, "one copy of the job")
	if overTLS {
		// The generated private key and keystore show nowhere Flok writes or says.
		proveSecretUnsaid(t, c, fd, operator.LogPath, flink, append(secretMaterial(t, ns, name), s3SecretKey)...)
	}
	provePrometheus(t, fd)
	proveProbes(t, ns, name)
	proveKeptJobManagerLog(t, ns, name)
	if release.MinorVersion() == flinkdist.Flink2.MinorVersion() {
		proveDynamicLogLevel(t, c, ns, name) // log4j's watch is the same in 1.20
	}

	// The console shows the job, its checkpoints, Pods, logs and Flink UI; a manual
	// savepoint, the suspension and the resumption below are asked from it.
	page := startLocalConsole(t, ns)
	proveConsoleViews(t, page, ns, name, first)
	ask := func(action string) {
		status, msg := page.act(ns, console.ResourceDeployment, name, action, "")
		require.Equal(t, http.StatusAccepted, status, msg)
	}
	var b *browser
	if mode == "native" && release.MinorVersion() == flinkdist.Flink2.MinorVersion() {
		// Once in a real browser: the same server and requests from its page.
		b = newBrowser(t)
		proveConsolePages(b, page.URL, ns, name)
		ask = b.confirm
	}

	// A manual savepoint by nonce.
	ask("savepoint")
	fd = waitForDeployment(t, c, ns, name, 2*time.Minute, "the manual savepoint", func(fd *v1beta1.FlinkDeployment) bool {
		sp := fd.Status.JobStatus.SavepointInfo
		return sp != nil && sp.LastSavepoint != nil && sp.LastSavepoint.TriggerType == "MANUAL"
	})
	require.Equal(t, int64(1), *fd.Status.JobStatus.SavepointInfo.LastSavepoint.TriggerNonce)
	manualSavepoint := fd.Status.JobStatus.SavepointInfo.LastSavepoint.Location
	require.DirExists(t, hostPath(dir, manualSavepoint))
	historySnapshots(t, c, fd, upgradeSavepoint, manualSavepoint)
	proveCheckpointNonce(t, c, fd, flink, dir)
	proveStateSnapshots(t, c, ns, v1beta1.KindFlinkDeployment, name, dir)
	page.liveRows(ns, time.Minute, "the manual savepoint", func(rows []console.Row) bool {
		r := rowNamed(rows, name)
		return r != nil && r.LastSavepoint == manualSavepoint
	})
	if b != nil {
		b.waitForText("#savepoints", manualSavepoint, time.Minute)
	}
	status, msg := page.act(ns, console.ResourceDeployment, name, "resume", "")
	require.Equal(t, http.StatusConflict, status, "a running job cannot be resumed")
	require.Contains(t, msg, "is already running")

	// Suspend: the cluster goes, the savepoint stays recorded.
	second := fd.Status.JobStatus.JobID
	ask("suspend")
	fd = waitForDeployment(t, c, ns, name, 3*time.Minute, "the suspension", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.LifecycleState == v1beta1.LifecycleSuspended
	})
	suspendSavepoint := fd.Status.JobStatus.UpgradeSavepointPath
	require.NotEmpty(t, suspendSavepoint)
	require.DirExists(t, hostPath(dir, suspendSavepoint))
	historySnapshots(t, c, fd, manualSavepoint, suspendSavepoint)
	require.DirExists(t, hostPath(dir, upgradeSavepoint), "a record dropped with its history keeps the files (dispose-on-delete is off)")
	pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	require.NoError(t, err)
	require.Empty(t, pods.Items, "a suspended deployment runs no Pods")

	// Resume from it.
	if b != nil {
		b.waitForText("main", "SUSPENDED", time.Minute)
	}
	ask("resume")
	fd = waitForDeployment(t, c, ns, name, 5*time.Minute, "the resumed job", stableWith(second))
	require.Equal(t, suspendSavepoint, restoredFrom(t, flink, fd.Status.JobStatus.JobID), "the resumed job restored the suspension's savepoint")

	// Deletion leaves no Flink object behind.
	require.NoError(t, c.Delete(ctx, fd))
	deletedCleanly(t, c, fd)
}

// requireNativeTaskManagers checks the TaskManager Pods Flink's JobManager created from
// the template Flok rendered: one per two slots of parallelism 2, run with the service
// account Flok made for the JobManager, labelled from spec.podTemplate and owned by the
// JobManager Deployment, so that they go with it.
func requireNativeTaskManagers(t *testing.T, ns, name string) {
	t.Helper()
	pods, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + name + ",component=taskmanager"})
	require.NoError(t, err)
	require.Len(t, pods.Items, 1, "one TaskManager with two slots for parallelism 2")
	for _, p := range pods.Items {
		require.Equal(t, name+"-flink", p.Spec.ServiceAccountName)
		require.Equal(t, "streaming", p.Labels["team"], "the template reached Flink's TaskManagers")
		require.Equal(t, "Deployment", p.OwnerReferences[0].Kind)
	}
}
