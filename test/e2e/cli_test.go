package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// flok runs the flok command line in process against the test cluster, in namespace
// ns.
func flok(t *testing.T, ns string, args ...string) (int, string, string) {
	t.Helper()
	return flinktest.Flok(t, cluster.KubeconfigPath, append([]string{"-n", ns}, args...)...)
}

// TestCLI drives an application through the flok command line on real Flink: run
// --wait, list, status, a savepoint, an upgrade by running again with a new
// parallelism, suspend and resume, the web UI proxy, and delete — and its errors.
func TestCLI(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	startOperator(t, ns, "")
	dir := flinktest.StateDir(t, cluster, ns)
	template := filepath.Join(t.TempDir(), "pod-template.yaml")
	require.NoError(t, os.WriteFile(template, []byte(fmt.Sprintf(`spec:
  containers:
  - name: flink-main-container
    volumeMounts:
    - {name: flink-data, mountPath: /flink-data}
  volumes:
  - name: flink-data
    hostPath: {path: %s}
`, dir)), 0o644))
	run := func(parallelism string) []string {
		return []string{"run", "local:///opt/flink/examples/streaming/TopSpeedWindowing.jar", "--name", "tsw", "-p", parallelism,
			"--upgrade-mode", "savepoint", "-D", "taskmanager.numberOfTaskSlots=2", "-D", "execution.checkpointing.interval=2s",
			"-D", "execution.checkpointing.dir=file:///flink-data/checkpoints", "-D", "execution.checkpointing.savepoint-dir=file:///flink-data/savepoints",
			"-D", "kubernetes.pod-template-file.default=" + template, "--wait"}
	}

	code, out, _ := flok(t, ns, run("1")...)
	require.Equal(t, 0, code)
	require.Contains(t, out, "flinkdeployment "+ns+"/tsw applied")
	require.Contains(t, out, "STABLE")

	_, out, _ = flok(t, ns, "list")
	require.Regexp(t, `tsw\s+`+ns+`\s+application\s+native\s+2.3\s+RUNNING\s+STABLE\s+1\s`, out)
	_, out, _ = flok(t, ns, "list", "-o", "json")
	var listed struct{ Items []cli.Summary }
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	require.Len(t, listed.Items, 1)
	first := listed.Items[0].JobID
	_, out, _ = flok(t, ns, "status", "tsw")
	require.Contains(t, out, "Lifecycle:")
	require.Contains(t, out, first+" RUNNING (parallelism 1)")
	require.Contains(t, out, "Ready        True")
	require.Contains(t, out, "JobDeployed")

	code, out, _ = flok(t, ns, "savepoint", "tsw", "--wait")
	require.Equal(t, 0, code)
	_, out, _ = flok(t, ns, "status", "tsw", "-o", "json")
	var st struct{ Object v1beta1.FlinkDeployment }
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	manual := st.Object.Status.JobStatus.SavepointInfo.LastSavepoint
	require.Equal(t, "MANUAL", manual.TriggerType)
	require.DirExists(t, hostPath(dir, manual.Location))

	// Running again with a new parallelism is a savepoint upgrade.
	code, _, _ = flok(t, ns, run("2")...)
	require.Equal(t, 0, code)
	fd := waitForDeployment(t, c, ns, "tsw", time.Minute, "the upgrade recorded", stableWith(first))
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName("tsw"), "rest")
	require.Equal(t, fd.Status.JobStatus.UpgradeSavepointPath, restoredFrom(t, flink, fd.Status.JobStatus.JobID))

	code, out, _ = flok(t, ns, "suspend", "tsw", "--wait")
	require.Equal(t, 0, code)
	require.Contains(t, out, "SUSPENDED")
	// Running it again, suspended and without --upgrade-mode: it stays suspended, keeps
	// its upgrade mode, and the wait ends at once saying so.
	code, out, errOut := flok(t, ns, slices.DeleteFunc(run("2"), func(a string) bool { return a == "--upgrade-mode" || a == "savepoint" })...)
	require.Equal(t, 3, code, out)
	require.Contains(t, out, "tsw is suspended: the update applies when it runs again")
	require.Contains(t, errOut, "flok resume tsw")
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "tsw"}, fd))
	require.Equal(t, v1beta1.UpgradeModeSavepoint, fd.Spec.Job.UpgradeMode)
	code, _, _ = flok(t, ns, "resume", "tsw", "--wait")
	require.Equal(t, 0, code)

	// The web UI proxy serves Flink's REST API with the user's credentials.
	client, err := cli.New(cluster.Config, ns)
	require.NoError(t, err)
	ui, err := client.ServeUI(t.Context(), "tsw", "127.0.0.1:0")
	require.NoError(t, err)
	defer ui.Close()
	resp, err := http.Get(ui.URL + "overview")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `"flink-version":"2.3`)

	// Logs of the JobManager and of the first TaskManager.
	code, out, _ = flok(t, ns, "logs", "tsw")
	require.Equal(t, 0, code)
	require.Contains(t, out, "ClusterEntrypoint", "the JobManager's log")
	code, out, _ = flok(t, ns, "logs", "tsw", "--taskmanager", "1")
	require.Equal(t, 0, code)
	require.Contains(t, out, "TaskManagerRunner", "a TaskManager's log")

	// An Apache operator resource, converted, is accepted by the API server as Flok's.
	apache := "../../internal/cli/testdata/apache-basic.yaml"
	code, out, _ = flok(t, ns, "convert", "-f", apache)
	require.Equal(t, 0, code)
	require.Contains(t, out, "apiVersion: flok.dev/v1beta1")
	applied, err := cluster.Kubectl(t.Context(), strings.NewReader(out), "-n", ns, "apply", "--dry-run=server", "-f", "-")
	require.NoError(t, err)
	require.Contains(t, string(applied), "flinkdeployment.flok.dev/basic-example created (server dry run)")
	require.Contains(t, string(applied), "flinksessionjob.flok.dev/basic-session-job-example created (server dry run)")
	code, out, _ = flok(t, ns, "install", "--dry-run")
	require.Equal(t, 0, code)
	for _, kind := range []string{"CustomResourceDefinition", "ClusterRole", "Deployment"} {
		require.Contains(t, out, "kind: "+kind)
	}

	// Errors say what to do.
	code, _, errOut = flok(t, ns, "status", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "`flok list`")
	code, _, errOut = flok(t, ns, "run", "local:///x.jar", "-D", "no-value")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `-D "no-value": want key=value`)
	code, _, errOut = flok(t, ns, "list", "-o", "xml")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "use table, wide, json or yaml")

	// Deleted with a savepoint: the job is stopped with one before its cluster goes.
	savepoints := func() int {
		entries, _ := os.ReadDir(filepath.Join(dir, "savepoints"))
		return len(entries)
	}
	before := savepoints()
	code, out, _ = flok(t, ns, "delete", "tsw", "--savepoint", "--wait")
	require.Equal(t, 0, code)
	require.Contains(t, out, "DELETED")
	require.Equal(t, before+1, savepoints(), "one more savepoint on disk, taken on deletion")
	requireEvent(t, ns, "tsw", "SavepointCompleted")
	deletedCleanly(t, c, fd)
}
