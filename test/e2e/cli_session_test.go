package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestCLISession drives a session cluster through the flok command line: session
// start, submit (a local jar, uploaded to an S3-compatible store), list, status, a session job named as its session (KIND/NAME), an
// application refused a session's name, a job waiting for a missing session, restart,
// a refused session stop while the job runs, a forced one, deletion — plus render and
// version.
func TestCLISession(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	jars := jarServer(t, release)
	startOperator(t, ns, "")

	code, out, _ := flok(t, ns, "session", "start", "shared", "-D", "taskmanager.numberOfTaskSlots=2", "--wait")
	require.Equal(t, 0, code)
	require.Contains(t, out, "STABLE")
	// --timeout ends a wait (exit 3), not the change.
	code, _, errOut := flok(t, ns, "session", "start", "shared", "-D", "taskmanager.numberOfTaskSlots=2", "--wait", "--timeout", "1ns")
	require.Equal(t, 3, code)
	require.Contains(t, errOut, "stopped waiting (timed out); the operator goes on with the change")
	// A jar on this machine goes to the artifact store under its digest; the job runs
	// it from there, checked against that digest.
	store := jarStore(t, ns, c, release)
	local := filepath.Join(t.TempDir(), "TopSpeedWindowing.jar")
	require.NoError(t, os.WriteFile(local, exampleJar(t, release), 0o644))
	code, out, _ = flok(t, ns, "submit", "--session", "shared", local, "--artifact-store", "s3://jobs/uploads", "--credentials-secret", "s3-credentials",
		"-D", "s3.endpoint="+store.Endpoint, "-D", "s3.path.style.access=true", "-p", "1", "--wait")
	require.Equal(t, 0, code)
	uploaded := "s3://jobs/uploads/" + store.sha256[:16] + "/TopSpeedWindowing.jar"
	require.Contains(t, out, "uploaded "+local+" to "+uploaded)
	require.Contains(t, out, "flinksessionjob "+ns+"/topspeedwindowing applied")
	submitted := &v1beta1.FlinkSessionJob{}
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "topspeedwindowing"}, submitted))
	require.Equal(t, uploaded, submitted.Spec.Job.JarURI)
	require.Equal(t, &v1beta1.JobArtifact{SHA256: store.sha256, CredentialsSecret: "s3-credentials"}, submitted.Spec.Job.Artifact)
	code, _, errOut = flok(t, ns, "run", local)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "is a file here, which the cluster cannot read: build it into an image (flok image build)")

	_, out, _ = flok(t, ns, "session", "list", "-o", "wide")
	require.Regexp(t, `shared\s+`+ns+`\s+session\s+native\s+2.3\s+1 jobs\s+STABLE`, out)
	require.NotContains(t, out, "session-job", "session list lists session clusters only")
	_, out, _ = flok(t, ns, "list", "-o", "wide")
	require.Regexp(t, `topspeedwindowing\s+`+ns+`\s+session-job\s+-\s+-\s+RUNNING\s+STABLE\s+1\s.*\sshared\s`, out)
	_, out, _ = flok(t, ns, "status", "shared")
	require.Contains(t, out, "Jobs in the session:")
	require.Regexp(t, `RUNNING\s+topspeedwindowing`, out)

	// A session job named as its session: each is reached by KIND/NAME, the bare name
	// is refused as ambiguous, and --wait follows the job, not the cluster.
	code, out, _ = flok(t, ns, "submit", "--session", "shared", "--name", "shared", jars.URL+"/TopSpeedWindowing.jar", "-p", "1", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "STABLE")
	code, _, errOut = flok(t, ns, "status", "shared")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "say flinkdeployment/shared or flinksessionjob/shared")
	_, out, _ = flok(t, ns, "status", "flinksessionjob/shared")
	require.Regexp(t, `Kind:\s+session-job`, out)
	code, _, _ = flok(t, ns, "delete", "fsj/shared", "--wait")
	require.Equal(t, 0, code)

	// An application cannot take a session cluster's name.
	code, _, errOut = flok(t, ns, "run", "local:///opt/flink/examples/streaming/TopSpeedWindowing.jar", "--name", "shared")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "shared is a session cluster: `flok submit --session shared JAR` runs a job on it")
	// A job for a session that does not exist (yet) says so, and waits for it.
	code, out, _ = flok(t, ns, "submit", "--session", "nosuch", "--name", "lonely", jars.URL+"/TopSpeedWindowing.jar")
	require.Equal(t, 0, code)
	require.Contains(t, out, "there is no session cluster nosuch yet: the job waits for it")
	code, _, _ = flok(t, ns, "delete", "lonely", "--wait")
	require.Equal(t, 0, code)

	before := &v1beta1.FlinkSessionJob{}
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "topspeedwindowing"}, before))
	code, _, _ = flok(t, ns, "restart", "topspeedwindowing", "--wait")
	require.Equal(t, 0, code)
	after := &v1beta1.FlinkSessionJob{}
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "topspeedwindowing"}, after))
	require.NotEqual(t, before.Status.JobStatus.JobID, after.Status.JobStatus.JobID, "restarted as a new job")
	require.Equal(t, "RUNNING", after.Status.JobStatus.State)

	// Stopping the session while its job runs is refused, naming the job.
	code, _, errOut = flok(t, ns, "session", "stop", "shared")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "session cluster shared still runs session jobs topspeedwindowing")
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "shared"}, &v1beta1.FlinkDeployment{}))

	// --force stops it anyway; the job then waits for a session of that name.
	code, out, _ = flok(t, ns, "session", "stop", "shared", "--force", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "DELETED")
	flinktest.WaitFor(t, time.Minute, "the job waiting for its session", func(ctx context.Context) (bool, error) {
		sj := &v1beta1.FlinkSessionJob{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "topspeedwindowing"}, sj); err != nil {
			return false, err
		}
		p := meta.FindStatusCondition(sj.Status.Conditions, lifecycle.ConditionProgressing)
		return p != nil && p.Reason == "WaitingForSession", nil
	})
	code, _, _ = flok(t, ns, "delete", "topspeedwindowing", "--wait")
	require.Equal(t, 0, code)
	code, _, errOut = flok(t, ns, "status", "shared")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no FlinkDeployment or FlinkSessionJob named")

	code, out, _ = flok(t, ns, "render", "-f", "../../config/samples/flinkdeployment-standalone.yaml")
	require.Equal(t, 0, code)
	require.Contains(t, out, "name: top-speed-standalone-taskmanager")
	code, out, _ = flok(t, ns, "version")
	require.Equal(t, 0, code)
	require.Contains(t, out, "flok ")
}
