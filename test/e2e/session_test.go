package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// testMaxArtifactSize is the jar size limit of the operators the tests start.
const testMaxArtifactSize = 8 << 20

// jarServer serves the release's example jars over http on loopback, as an artifact
// repository would, and the bad artifacts: an HTML page and a jar over the limit (any
// other path answers 404).
func jarServer(t *testing.T, release flinkdist.Release) *httptest.Server {
	home, err := flinkdist.Provision(t.Context(), release)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/TopSpeedWindowing.jar", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, home.ExampleJar(flinkdist.TopSpeedWindowing))
	})
	mux.HandleFunc("/login.jar", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Please sign in</body></html>"))
	})
	mux.HandleFunc("/huge.jar", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(append([]byte("PK\x03\x04"), make([]byte, testMaxArtifactSize)...))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// sessionCluster is a session cluster (no job) with checkpoints and savepoints in the
// test's state directory.
func sessionCluster(t *testing.T, ns, name, mode string, release flinkdist.Release, stateDir string) *v1beta1.FlinkDeployment {
	t.Helper()
	fd := topSpeedWindowing(t, ns, name, mode, release, stateDir)
	fd.Spec.Job = nil
	return fd
}

func sessionJob(t *testing.T, ns, name, session, jarURI string) *v1beta1.FlinkSessionJob {
	t.Helper()
	sj := &v1beta1.FlinkSessionJob{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(fmt.Sprintf(`
apiVersion: flok.dev/v1beta1
kind: FlinkSessionJob
metadata:
  name: %s
  namespace: %s
spec:
  deploymentName: %s
  job:
    jarURI: %s
    parallelism: 1
    upgradeMode: savepoint
`, name, ns, session, jarURI)), sj))
	return sj
}

// waitForSessionJob polls the FlinkSessionJob until cond holds, and returns it.
func waitForSessionJob(t *testing.T, c client.Client, ns, name string, timeout time.Duration, what string, cond func(*v1beta1.FlinkSessionJob) bool) *v1beta1.FlinkSessionJob {
	t.Helper()
	sj := &v1beta1.FlinkSessionJob{}
	var last string
	flinktest.WaitFor(t, timeout, what, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, sj); err != nil {
			return false, nil
		}
		last = fmt.Sprintf("lifecycle %s, job %s %s, operation %+v, error %q", sj.Status.LifecycleState, sj.Status.JobStatus.JobID, sj.Status.JobStatus.State, sj.Status.Operation, sj.Status.Error)
		return cond(sj), nil
	})
	t.Logf("%s %s: %s", name, what, last)
	return sj
}

func jobStableWith(jobNot string) func(*v1beta1.FlinkSessionJob) bool {
	return func(sj *v1beta1.FlinkSessionJob) bool {
		return sj.Status.LifecycleState == v1beta1.LifecycleStable && sj.Status.JobStatus.State == "RUNNING" &&
			sj.Status.JobStatus.JobID != jobNot && sj.Status.Operation == nil
	}
}

func degradedBy(reason string) func(*v1beta1.FlinkSessionJob) bool {
	return func(sj *v1beta1.FlinkSessionJob) bool {
		c := meta.FindStatusCondition(sj.Status.Conditions, lifecycle.ConditionDegraded)
		return c != nil && c.Status == "True" && c.Reason == reason
	}
}

func updateJob(t *testing.T, c client.Client, sj *v1beta1.FlinkSessionJob, change func(*v1beta1.FlinkSessionJob)) {
	t.Helper()
	require.NoError(t, c.Get(t.Context(), client.ObjectKeyFromObject(sj), sj))
	before := sj.DeepCopy()
	change(sj)
	require.NoError(t, c.Patch(t.Context(), sj, client.MergeFrom(before)))
}

// flinkJobState is the job's state in the session cluster, "" if Flink has no such job.
func flinkJobState(t *testing.T, flink *flinkrest.Client, id string) string {
	t.Helper()
	jobs, err := flink.Jobs(t.Context())
	require.NoError(t, err)
	for _, j := range jobs {
		if j.ID == id {
			return string(j.State)
		}
	}
	return ""
}

// TestSessionJobs runs two FlinkSessionJobs in one native session cluster through a
// savepoint upgrade of one (the other untouched), suspend and resume, a savepoint by
// nonce, an upgrade of the session cluster itself (both stop with savepoints and are
// resubmitted from them), a refused deletion of the session while jobs exist, job
// deletion, and the session's forced deletion with jobs left. Bad artifacts are refused
// alongside, with conditions and events, while the rest goes on.
func TestSessionJobs(t *testing.T) {
	t.Parallel()
	for _, release := range flinktest.Releases() {
		t.Run(release.MinorVersion(), func(t *testing.T) {
			t.Parallel()
			ns, c := operatorTest(t, release)
			testSessionJobs(t, ns, c, release, jarServer(t, release))
		})
	}
}

func testSessionJobs(t *testing.T, ns string, c client.Client, release flinkdist.Release, jars *httptest.Server) {
	ctx := t.Context()
	operator := startOperator(t, ns, "")
	dir := flinktest.StateDir(t, cluster, ns)

	// A job created before its session cluster waits for it.
	a := sessionJob(t, ns, "job-a", "shared", jars.URL+"/TopSpeedWindowing.jar")
	require.NoError(t, c.Create(ctx, a))
	waitForSessionJob(t, c, ns, "job-a", time.Minute, "waiting for its session cluster", func(sj *v1beta1.FlinkSessionJob) bool {
		p := meta.FindStatusCondition(sj.Status.Conditions, lifecycle.ConditionProgressing)
		return p != nil && p.Reason == "WaitingForSession"
	})
	session := sessionCluster(t, ns, "shared", "native", release, dir)
	require.NoError(t, c.Create(ctx, session))
	// Job b's jar is in an S3-compatible store, fetched with a Secret's credentials and
	// checked against its digest.
	store := jarStore(t, ns, c, release)
	b := s3SessionJob(t, ns, "job-b", store, "examples/TopSpeedWindowing.jar", store.sha256, "s3-credentials")
	require.NoError(t, c.Create(ctx, b))
	badArtifacts := map[string]*v1beta1.FlinkSessionJob{
		"bad-404": sessionJob(t, ns, "bad-404", "shared", jars.URL+"/missing.jar"), "bad-html": sessionJob(t, ns, "bad-html", "shared", jars.URL+"/login.jar"),
		"bad-size":           sessionJob(t, ns, "bad-size", "shared", jars.URL+"/huge.jar"),
		"bad-s3-object":      s3SessionJob(t, ns, "bad-s3-object", store, "examples/missing.jar", "", "s3-credentials"),
		"bad-s3-credentials": s3SessionJob(t, ns, "bad-s3-credentials", store, "examples/TopSpeedWindowing.jar", "", "s3-wrong-credentials"),
		"bad-s3-secret":      s3SessionJob(t, ns, "bad-s3-secret", store, "examples/TopSpeedWindowing.jar", "", "no-such-secret"),
		"bad-checksum":       s3SessionJob(t, ns, "bad-checksum", store, "examples/TopSpeedWindowing.jar", strings.Repeat("0", 64), "s3-credentials"),
	}
	for _, sj := range badArtifacts {
		require.NoError(t, c.Create(ctx, sj))
	}

	a = waitForSessionJob(t, c, ns, "job-a", 5*time.Minute, "running", jobStableWith(""))
	b = waitForSessionJob(t, c, ns, "job-b", 2*time.Minute, "running", jobStableWith(""))
	for name, want := range map[string]string{
		"bad-404": "404 Not Found", "bad-html": "HTML page", "bad-size": "larger than the limit",
		"bad-s3-object":      "spec.job.jarURI: s3://jobs/examples/missing.jar: bucket jobs has no object examples/missing.jar",
		"bad-s3-credentials": "the object store refused the credentials of Secret " + ns + "/s3-wrong-credentials (SignatureDoesNotMatch)",
		"bad-s3-secret":      "spec.job.artifact.credentialsSecret: there is no Secret no-such-secret in namespace " + ns,
		"bad-checksum":       "its SHA-256 is " + store.sha256 + ", not the " + strings.Repeat("0", 64) + " the job expects (spec.job.artifact.sha256)",
	} {
		sj := waitForSessionJob(t, c, ns, name, time.Minute, "refused", degradedBy("ArtifactUnavailable"))
		require.Contains(t, sj.Status.Error, want)
		require.Contains(t, sj.Status.Error, "spec.job.")
		requireEvent(t, ns, name, "ArtifactUnavailable")
	}
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName("shared"), "rest")
	proveSecretUnsaid(t, c, badArtifacts["bad-s3-credentials"], operator.LogPath, flink, store.SecretAccessKey, wrongSecretKey)
	waitForDeployment(t, c, ns, "shared", time.Minute, "the session's status to list both jobs", func(fd *v1beta1.FlinkDeployment) bool {
		s := fd.Status.Session
		if fd.Status.LifecycleState != v1beta1.LifecycleStable || s == nil || s.TaskManagers == 0 || s.TotalSlots < 2 {
			return false
		}
		owners := map[string]string{}
		for _, j := range s.Jobs {
			owners[j.SessionJob] = j.JobID
		}
		return owners["job-a"] == a.Status.JobStatus.JobID && owners["job-b"] == b.Status.JobStatus.JobID
	})

	// A savepoint upgrade of one job (new parallelism); the other keeps running.
	oldA, oldB := a.Status.JobStatus.JobID, b.Status.JobStatus.JobID
	updateJob(t, c, a, func(sj *v1beta1.FlinkSessionJob) { sj.Spec.Job.Parallelism = 2 })
	a = waitForSessionJob(t, c, ns, "job-a", 5*time.Minute, "upgraded", jobStableWith(oldA))
	sp := a.Status.JobStatus.UpgradeSavepointPath
	require.NotEmpty(t, sp)
	require.DirExists(t, hostPath(dir, sp))
	require.Equal(t, sp, restoredFrom(t, flink, a.Status.JobStatus.JobID), "the upgraded job restored its savepoint")
	job, err := flink.Job(ctx, a.Status.JobStatus.JobID)
	require.NoError(t, err)
	require.Equal(t, 2, job.Vertices[len(job.Vertices)-1].Parallelism)
	require.Equal(t, "FINISHED", flinkJobState(t, flink, oldA), "the old job stopped with its savepoint")
	require.Equal(t, "RUNNING", flinkJobState(t, flink, oldB), "the other job is untouched")
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(b), b))
	require.Equal(t, oldB, b.Status.JobStatus.JobID)

	// Suspend and resume one job.
	updateJob(t, c, b, func(sj *v1beta1.FlinkSessionJob) { sj.Spec.Job.State = v1beta1.JobStateSuspended })
	b = waitForSessionJob(t, c, ns, "job-b", 3*time.Minute, "suspended", func(sj *v1beta1.FlinkSessionJob) bool {
		return sj.Status.LifecycleState == v1beta1.LifecycleSuspended
	})
	require.NotEqual(t, "RUNNING", flinkJobState(t, flink, oldB))
	suspendSP := b.Status.JobStatus.UpgradeSavepointPath
	require.NotEmpty(t, suspendSP)
	updateJob(t, c, b, func(sj *v1beta1.FlinkSessionJob) { sj.Spec.Job.State = v1beta1.JobStateRunning })
	b = waitForSessionJob(t, c, ns, "job-b", 3*time.Minute, "resumed", jobStableWith(oldB))
	require.Equal(t, suspendSP, restoredFrom(t, flink, b.Status.JobStatus.JobID), "the resumed job restored its suspension's savepoint")

	// A savepoint by nonce, of a session job.
	updateJob(t, c, b, func(sj *v1beta1.FlinkSessionJob) { sj.Spec.Job.SavepointTriggerNonce = ptr.To[int64](1) })
	b = waitForSessionJob(t, c, ns, "job-b", 2*time.Minute, "the manual savepoint", func(sj *v1beta1.FlinkSessionJob) bool {
		sp := sj.Status.JobStatus.SavepointInfo
		return sp != nil && sp.LastSavepoint != nil && sp.LastSavepoint.TriggerType == "MANUAL"
	})
	require.DirExists(t, hostPath(dir, b.Status.JobStatus.SavepointInfo.LastSavepoint.Location))
	require.Equal(t, "RUNNING", flinkJobState(t, flink, b.Status.JobStatus.JobID), "a savepoint leaves the job running")
	proveStateSnapshots(t, c, ns, v1beta1.KindFlinkSessionJob, "job-b", dir)

	// An upgrade of the session cluster's configuration: both jobs stop with
	// savepoints and are resubmitted from them to the new cluster.
	beforeA, beforeB := a.Status.JobStatus.JobID, b.Status.JobStatus.JobID
	update(t, c, session, func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.FlinkConfiguration.Raw = []byte(`{"taskmanager.numberOfTaskSlots":"2","cluster.evenly-spread-out-slots":"true",` +
			`"execution.checkpointing.interval":"2s","execution.checkpointing.dir":"file:///flink-data/checkpoints","execution.checkpointing.savepoint-dir":"file:///flink-data/savepoints"}`)
	})
	waitForDeployment(t, c, ns, "shared", 6*time.Minute, "the session upgraded", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.Operation == nil && fd.Status.ObservedGeneration == fd.Generation && fd.Status.LifecycleState == v1beta1.LifecycleStable
	})
	for name, before := range map[string]string{"job-a": beforeA, "job-b": beforeB} {
		sj := waitForSessionJob(t, c, ns, name, 5*time.Minute, "resubmitted after the session's upgrade", jobStableWith(before))
		restore := sj.Status.JobStatus.UpgradeSavepointPath
		require.Contains(t, restore, "savepoint", "%s stopped with a savepoint", name)
		require.Equal(t, restore, restoredFrom(t, flink, sj.Status.JobStatus.JobID), "%s restored its savepoint", name)
		require.Empty(t, flinkJobState(t, flink, before), "the new cluster does not know %s's old job", name)
	}
	requireEvent(t, ns, "shared", "SessionUpgrade")

	// Deleting the session while jobs exist is refused, with the jobs named.
	require.NoError(t, c.Delete(ctx, session))
	blocked := waitForDeployment(t, c, ns, "shared", time.Minute, "the deletion refused", func(fd *v1beta1.FlinkDeployment) bool {
		d := meta.FindStatusCondition(fd.Status.Conditions, lifecycle.ConditionDegraded)
		return d != nil && d.Reason == "DeletionBlocked"
	})
	msg := meta.FindStatusCondition(blocked.Status.Conditions, lifecycle.ConditionDegraded).Message
	require.Contains(t, msg, "job-a")
	require.Contains(t, msg, "job-b")
	require.Contains(t, msg, v1beta1.ForceDeletionAnnotation)
	a = waitForSessionJob(t, c, ns, "job-a", time.Minute, "still running", jobStableWith(""))

	// Deleting a job removes it from the cluster.
	for _, name := range []string{"job-a", "job-b"} {
		sj := deleteSessionJob(t, c, ns, name)
		id := sj.Status.JobStatus.JobID
		state := flinkJobState(t, flink, id)
		require.True(t, state == "" || flinkrest.JobState(state).IsGloballyTerminal(), "%s's job %s is %s", name, id, state)
	}

	// The bad jobs still hold the session; the force-deletion annotation lets it go, and
	// they wait for a cluster of that name, deleted at once since none of them runs.
	update(t, c, session, func(fd *v1beta1.FlinkDeployment) {
		fd.Annotations = map[string]string{v1beta1.ForceDeletionAnnotation: "true"}
	})
	deletedCleanly(t, c, session)
	waitForSessionJob(t, c, ns, "bad-404", time.Minute, "waiting for a session cluster again", func(sj *v1beta1.FlinkSessionJob) bool {
		p := meta.FindStatusCondition(sj.Status.Conditions, lifecycle.ConditionProgressing)
		return p != nil && p.Reason == "WaitingForSession" && strings.Contains(p.Message, "there is no FlinkDeployment shared")
	})
	for name := range badArtifacts {
		deleteSessionJob(t, c, ns, name)
	}
}

// deleteSessionJob deletes the FlinkSessionJob and waits until it is gone; it returns
// the job as it was last seen.
func deleteSessionJob(t *testing.T, c client.Client, ns, name string) *v1beta1.FlinkSessionJob {
	t.Helper()
	sj := &v1beta1.FlinkSessionJob{}
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, sj))
	require.NoError(t, c.Delete(t.Context(), sj))
	flinktest.WaitFor(t, 2*time.Minute, name+" deleted", func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(sj), &v1beta1.FlinkSessionJob{})), nil
	})
	return sj
}
