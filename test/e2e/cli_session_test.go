package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestCLISession drives a session cluster through the flok command line: session
// start, submit, list, status, restart, a refused session stop while the job runs,
// and deletion — plus render and version.
func TestCLISession(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	home, err := flinkdist.Provision(t.Context(), release)
	require.NoError(t, err)
	jars := jarServer(t, home)
	startOperator(t, ns, "")

	code, out, _ := flok(t, ns, "session", "start", "shared", "-D", "taskmanager.numberOfTaskSlots=2", "--wait")
	require.Equal(t, 0, code)
	require.Contains(t, out, "STABLE")
	code, out, _ = flok(t, ns, "submit", "--session", "shared", jars.URL+"/TopSpeedWindowing.jar", "-p", "1", "--wait")
	require.Equal(t, 0, code)
	require.Contains(t, out, "flinksessionjob "+ns+"/topspeedwindowing applied")

	_, out, _ = flok(t, ns, "session", "list", "-o", "wide")
	require.Regexp(t, `shared\s+`+ns+`\s+session\s+native\s+2.3\s+1 jobs\s+STABLE`, out)
	require.Regexp(t, `topspeedwindowing\s+`+ns+`\s+session-job\s+-\s+-\s+RUNNING\s+STABLE\s+1\s.*\sshared\s`, out)
	_, out, _ = flok(t, ns, "status", "shared")
	require.Contains(t, out, "Jobs in the session:")
	require.Regexp(t, `RUNNING\s+topspeedwindowing`, out)

	before := &v1beta1.FlinkSessionJob{}
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "topspeedwindowing"}, before))
	code, _, _ = flok(t, ns, "restart", "topspeedwindowing", "--wait")
	require.Equal(t, 0, code)
	after := &v1beta1.FlinkSessionJob{}
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "topspeedwindowing"}, after))
	require.NotEqual(t, before.Status.JobStatus.JobID, after.Status.JobStatus.JobID, "restarted as a new job")
	require.Equal(t, "RUNNING", after.Status.JobStatus.State)

	code, _, _ = flok(t, ns, "session", "stop", "shared")
	require.Equal(t, 0, code)
	waitForDeployment(t, c, ns, "shared", time.Minute, "the stop refused", func(fd *v1beta1.FlinkDeployment) bool {
		d := meta.FindStatusCondition(fd.Status.Conditions, lifecycle.ConditionDegraded)
		return d != nil && d.Reason == "DeletionBlocked"
	})
	_, out, _ = flok(t, ns, "status", "shared")
	require.Contains(t, out, "DeletionBlocked")
	require.Contains(t, out, "topspeedwindowing")

	code, _, _ = flok(t, ns, "delete", "topspeedwindowing", "--wait")
	require.Equal(t, 0, code)
	// The stopped session goes once its job is gone.
	flinktest.WaitFor(t, 2*time.Minute, "the session cluster gone", func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shared"}, &v1beta1.FlinkDeployment{})), nil
	})
	code, _, errOut := flok(t, ns, "status", "shared")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no FlinkDeployment or FlinkSessionJob named")

	code, out, _ = flok(t, ns, "render", "-f", "../../config/samples/flinkdeployment-standalone.yaml")
	require.Equal(t, 0, code)
	require.Contains(t, out, "name: top-speed-standalone-taskmanager")
	code, out, _ = flok(t, ns, "version")
	require.Equal(t, 0, code)
	require.Contains(t, out, "flok ")
}
