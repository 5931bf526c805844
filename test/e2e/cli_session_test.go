package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/test/flinkdist"
)

// TestCLISession drives a session cluster through the flok command line: session
// start, submit, list, status, restart, a refused session stop while the job runs,
// and deletion — plus render and version.
func TestCLISession(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, _ := operatorTest(t, release)
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

	code, out, _ = flok(t, ns, "restart", "topspeedwindowing", "--wait")
	require.Equal(t, 0, code)
	require.Contains(t, out, "Restart")

	code, _, _ = flok(t, ns, "session", "stop", "shared")
	require.Equal(t, 0, code)
	_, out, _ = flok(t, ns, "status", "shared")
	require.Contains(t, out, "DeletionBlocked")
	require.Contains(t, out, "topspeedwindowing")

	code, _, _ = flok(t, ns, "delete", "topspeedwindowing", "--wait")
	require.Equal(t, 0, code)
	code, out, _ = flok(t, ns, "delete", "shared", "--wait")
	require.Equal(t, 0, code, "the session goes once its job is gone")
	require.Contains(t, out, "DELETED")

	code, out, _ = flok(t, ns, "render", "-f", "../../config/samples/flinkdeployment-standalone.yaml")
	require.Equal(t, 0, code)
	require.Contains(t, out, "name: top-speed-standalone-taskmanager")
	code, out, _ = flok(t, ns, "version")
	require.Equal(t, 0, code)
	require.Contains(t, out, "flok ")
}
