package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/flinkrest/flinkresttest"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// stateMount is where examples/standalone-session.yaml mounts its state directory.
const stateMount = "/dump/1/state"

// TestFlinkRESTThroughServiceProxy runs the REST client's whole scenario against a
// JobManager running as a Pod — Flink's documented standalone session cluster on the
// process node — reached through the API server's service proxy, as an operator or CLI
// outside the cluster reaches it.
func TestFlinkRESTThroughServiceProxy(t *testing.T) {
	for _, release := range flinkdist.Releases {
		t.Run(release.MinorVersion(), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			ns := cluster.Namespace(t)
			home, err := flinkdist.Provision(ctx, release)
			require.NoError(t, err)
			stateDir := flinktest.StateDir(t, cluster, ns)
			manifest, err := os.ReadFile("../../examples/standalone-session.yaml")
			require.NoError(t, err)
			expanded := os.Expand(string(manifest), func(k string) string {
				return map[string]string{"FLINK_VERSION": release.MinorVersion(), "STATE_DIR": stateDir}[k]
			})
			_, err = cluster.Kubectl(ctx, strings.NewReader(expanded), "-n", ns, "apply", "-f", "-")
			require.NoError(t, err)
			err = wait.PollUntilContextTimeout(ctx, time.Second, 4*time.Minute, true, func(ctx context.Context) (bool, error) {
				d, err := cluster.Client.AppsV1().Deployments(ns).Get(ctx, "flink-taskmanager", metav1.GetOptions{})
				return err == nil && d.Status.AvailableReplicas == 2, nil
			})
			require.NoError(t, err, "the session cluster's TaskManagers")

			client, err := flinkrest.NewServiceProxy(cluster.Config, ns, "flink-jobmanager", "webui")
			require.NoError(t, err)
			flinkresttest.Exercise(t, client, flinkresttest.Cluster{
				Release: release, Home: home, TaskManagers: 2, Slots: 4, CheckpointInterval: "2s",
				SavepointDir: "file://" + stateMount + "/savepoints",
				LocalPath: func(uri string) string {
					return stateDir + strings.TrimPrefix(flinkresttest.FilePath(uri), stateMount)
				},
			})
		})
	}
}
