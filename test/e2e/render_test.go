package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// deployRendered creates the FlinkDeployment (so that the objects have a live owner),
// renders its cluster and applies the objects server-side, as the operator will.
func deployRendered(t *testing.T, ns, manifest string) *render.Objects {
	t.Helper()
	ctx := t.Context()
	fd := &v1beta1.FlinkDeployment{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(manifest), fd))
	fd.Namespace = ns
	_, err := cluster.Kubectl(ctx, strings.NewReader(manifest), "-n", ns, "create", "-f", "-")
	require.NoError(t, err)
	uid, err := cluster.Kubectl(ctx, nil, "-n", ns, "get", "flinkdeployment", fd.Name, "-o", "jsonpath={.metadata.uid}")
	require.NoError(t, err)
	fd.UID = types.UID(strings.TrimSpace(string(uid)))
	objs, err := render.Render(render.Input{Deployment: fd})
	require.NoError(t, err)
	data, err := objs.YAML()
	require.NoError(t, err)
	_, err = cluster.Kubectl(ctx, strings.NewReader(string(data)), "-n", ns, "apply", "--server-side", "--field-manager=flok", "-f", "-")
	require.NoError(t, err)
	return objs
}

// runningJob waits until the cluster has exactly one job and it is RUNNING with at
// least one completed checkpoint, and returns its id.
func runningJob(t *testing.T, flink *flinkrest.Client) string {
	t.Helper()
	var jobID string
	flinktest.WaitFor(t, 5*time.Minute, "a running job with a completed checkpoint", func(ctx context.Context) (bool, error) {
		jobs, err := flink.Jobs(ctx)
		if err != nil || len(jobs) != 1 || jobs[0].State != flinkrest.JobRunning {
			return false, nil
		}
		jobID = jobs[0].ID
		cps, err := flink.Checkpoints(ctx, jobID)
		return err == nil && cps.Counts.Completed > 0, nil
	})
	return jobID
}

// TestStandaloneSession runs the standalone session sample under the operator on each
// Flink release — seed 000's cluster: two TaskManagers, checkpoints in a hostPath
// directory — submits TopSpeedWindowing over REST and finds its checkpoints on the host.
func TestStandaloneSession(t *testing.T) {
	t.Parallel()
	flinktest.ForEachRelease(t, cluster, func(t *testing.T, release flinkdist.Release, ns string) {
		ctx := t.Context()
		home, err := flinkdist.Provision(ctx, release)
		require.NoError(t, err)
		flinktest.DumpOnFailure(t, cluster, ns)
		c := flokClient(t)
		stateDir := flinktest.StateDir(t, cluster, ns)
		fd := &v1beta1.FlinkDeployment{}
		require.NoError(t, yaml.UnmarshalStrict([]byte(sampleText(t, "flinkdeployment-session-standalone.yaml", release, stateDir)), fd))
		fd.Namespace = ns
		require.NoError(t, c.Create(ctx, fd))
		startOperator(t, ns, "")
		waitForSessionReady(t, c, fd)

		flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName(fd.Name), "rest")
		tms, err := flink.TaskManagers(ctx)
		require.NoError(t, err)
		require.Len(t, tms, 2)
		require.Equal(t, 2, tms[0].SlotsNumber)
		jar, err := os.Open(home.ExampleJar(flinkdist.TopSpeedWindowing))
		require.NoError(t, err)
		defer jar.Close()
		jarID, err := flink.UploadJar(ctx, "TopSpeedWindowing.jar", jar)
		require.NoError(t, err)
		_, err = flink.RunJar(ctx, jarID, flinkrest.RunRequest{Parallelism: 3})
		require.NoError(t, err)
		jobID := runningJob(t, flink)
		flinktest.WaitFor(t, time.Minute, "a checkpoint in the hostPath directory", func(context.Context) (bool, error) {
			matches, _ := filepath.Glob(filepath.Join(stateDir, "checkpoints", jobID, "chk-*"))
			return len(matches) > 0, nil
		})
		tmPods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + fd.Name + ",component=taskmanager"})
		require.NoError(t, err)
		require.Len(t, tmPods.Items, 2)
		require.Equal(t, corev1.PodRunning, tmPods.Items[0].Status.Phase)
	})
}

// versionField is the release as spec.flinkVersion spells it: v1_20, v2_3.
func versionField(r flinkdist.Release) string {
	return "v" + strings.ReplaceAll(r.MinorVersion(), ".", "_")
}

// TestRenderedStandaloneReactiveApplication runs a standalone application in reactive
// mode, its job jar given by URI (standalone-job --jars): with one TaskManager the job
// runs with parallelism 1; scaling the TaskManager Deployment to two — what the scale
// subresource will do — rescales the running job to 2.
func TestRenderedStandaloneReactiveApplication(t *testing.T) {
	t.Parallel()
	flinktest.ForEachRelease(t, cluster, func(t *testing.T, release flinkdist.Release, ns string) {
		ctx := t.Context()
		_, err := flinkdist.Provision(ctx, release)
		require.NoError(t, err)
		objs := deployRendered(t, ns, fmt.Sprintf(`
apiVersion: flok.dev/v1beta1
kind: FlinkDeployment
metadata:
  name: reactive
spec:
  mode: standalone
  image: flink:%s
  flinkVersion: %s
  flinkConfiguration:
    scheduler-mode: reactive
    execution.checkpointing.interval: 2s
  taskManager:
    replicas: 1
  job:
    jarURI: local:///opt/flink/examples/streaming/TopSpeedWindowing.jar
`, release.MinorVersion(), versionField(release)))

		flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName("reactive"), "rest")
		jobID := runningJob(t, flink)
		parallelism := func(ctx context.Context) int {
			job, err := flink.Job(ctx, jobID)
			if err != nil || job.State != flinkrest.JobRunning {
				return 0
			}
			p := 0
			for _, v := range job.Vertices {
				p = max(p, v.Parallelism)
			}
			return p
		}
		require.Equal(t, 1, parallelism(ctx))

		_, err = cluster.Kubectl(ctx, nil, "-n", ns, "scale", "deployment", objs.TaskManager.Name, "--replicas=2")
		require.NoError(t, err)
		flinktest.WaitFor(t, 3*time.Minute, "the job to rescale to two TaskManagers", func(ctx context.Context) (bool, error) {
			return parallelism(ctx) == 2, nil
		})
	})
}
