// Package install tests installing Flok — its Helm chart, and `flok install` — on a
// cluster of its own: the installed operator watches every namespace, so it must not
// share a cluster with the end-to-end tests' operators.
package install

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/internal/ociimage/ocitest"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/localk8s"
	"github.com/flok-dev/flok/test/procnode"
	"github.com/flok-dev/flok/test/promtest"
)

var (
	cluster *localk8s.Cluster
	// registryHost is a registry on loopback ("127.0.0.1:<port>") the operator's image
	// is pushed to and the process node pulls it from.
	registryHost string
)

func TestMain(m *testing.M) {
	host, stopRegistry := ocitest.Serve()
	registryHost = host
	addNode := procnode.AddOn(procnode.Options{
		Log: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
	}, nil)
	// No CRDs: `flok install` brings them.
	code := localk8s.Run(m, localk8s.Options{AddOns: []localk8s.AddOn{addNode}}, &cluster)
	stopRegistry()
	os.Exit(code)
}

// operatorImage is the operator's image as the tests pushed it.
type operatorImage struct {
	ref string // registry/repository:tag
	// id is the digest reference of this platform's image, which the operator's
	// containers report as their imageID once the node runs it.
	id string
}

// pushOperatorImage builds the operator's image as `make image PUSH=…` does, for this
// machine's platform, and pushes it to the registry on loopback.
func pushOperatorImage(t *testing.T) operatorImage {
	t.Helper()
	ref := registryHost + "/flok-operator:install-test"
	cmd := exec.CommandContext(t.Context(), "go", "run", "./hack/image", "-platforms", "linux/"+runtime.GOARCH,
		"-o", filepath.Join(t.TempDir(), "image"), "-push", ref)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make image: %s", out)
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	img, err := ociimage.PullImage(t.Context(), r, v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	require.NoError(t, err)
	digest, err := img.Digest()
	require.NoError(t, err)
	return operatorImage{ref: ref, id: r.Context().Digest(digest.String()).String()}
}

// TestInstallRunUninstall installs Flok both ways a platform team would, on one
// cluster, one after the other. With Helm (charts/flok): the operator runs, its
// webhook refuses a bad deployment at apply, it runs a real job `flok run` deploys;
// upgraded to two replicas watching only the job's namespace (rights bound there, not
// cluster-wide), both serve the webhook, the job runs on and is deleted cleanly;
// uninstalled, nothing of it is left but the CRDs. With `flok install` (config/, the same chart
// rendered): the operator and webhook come back; `flok uninstall --crds` is refused
// while a Flok resource or a FlinkStateSnapshot exists, and once they are deleted
// removes it all.
func TestInstallRunUninstall(t *testing.T) {
	ctx := t.Context()
	image := pushOperatorImage(t)
	_, err := flinkdist.Provision(ctx, flinkdist.Flink2)
	require.NoError(t, err)
	ns := cluster.Namespace(t)
	flinktest.DumpOnFailure(t, cluster, ns)
	flinktest.DumpOnFailure(t, cluster, "flok-system")

	code, _, errOut := flinktest.Flok(t, cluster.KubeconfigPath, "-n", ns, "list")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "run `flok install` first")
	// The Prometheus Operator's PodMonitors are served: the operator keeps one per job.
	crd, err := promtest.OperatorCRD(ctx, "podmonitors")
	require.NoError(t, err)
	require.NoError(t, cluster.InstallCRDs(ctx, crd))

	installWithHelm(t, image.ref)
	operatorReady(t, 1, image.id)
	refusesBadDeployments(t, ns, 1)
	code, stdout, _ := flinktest.Flok(t, cluster.KubeconfigPath, "-n", ns, "run", "local:///opt/flink/examples/streaming/TopSpeedWindowing.jar", "-p", "1", "--wait")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "STABLE")
	scrapedThroughItsPodMonitor(t, ns, "topspeedwindowing", 1)
	// Two replicas, watching the job's namespace only: the operator's rights are bound
	// there (and in its own namespace), no longer cluster-wide; three Prometheus shards.
	upgradeWithHelm(t, image.ref, map[string]any{"replicas": 2, "watchNamespaces": []any{ns}, "metrics": map[string]any{"shards": 3}})
	operatorReady(t, 2, image.id)
	podMonitorOnShard(t, ns, "topspeedwindowing", 3)
	podMonitorRepaired(t, ns, "topspeedwindowing")
	consoleServedInCluster(t, ns, "topspeedwindowing")
	_, err = cluster.Client.RbacV1().ClusterRoleBindings().Get(ctx, "flok-operator", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "no cluster-wide binding of the operator's ClusterRole: %v", err)
	refusesBadDeployments(t, ns, 6)
	code, stdout, _ = flinktest.Flok(t, cluster.KubeconfigPath, "-n", ns, "list")
	require.Equal(t, 0, code)
	require.Regexp(t, `topspeedwindowing\s+`+ns+`\s+application\s+native\s+2.3\s+RUNNING\s+STABLE`, stdout)
	code, _, _ = flinktest.Flok(t, cluster.KubeconfigPath, "-n", ns, "delete", "topspeedwindowing", "--wait")
	require.Equal(t, 0, code)
	uninstallWithHelm(t)

	code, stdout, _ = flinktest.Flok(t, cluster.KubeconfigPath, "install", "--image", image.ref)
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "CustomResourceDefinition flinkdeployments.flok.dev applied")
	require.Contains(t, stdout, "Deployment flok-operator applied")
	operatorReady(t, 1, image.id)
	refusesBadDeployments(t, ns, 1)
	// A session job waiting for its session cluster (a Flok resource without Flink),
	// then a FlinkStateSnapshot: each holds the operator's finalizer.
	uninstallRefusedWhile(t, ns, "flinksessionjob", "waiting",
		"kind: FlinkSessionJob\nmetadata:\n  name: waiting\nspec:\n  deploymentName: none\n  job:\n    jarURI: https://127.0.0.1:1/job.jar\n",
		"1 Flok resources remain, such as "+ns+"/waiting")
	uninstallRefusedWhile(t, ns, "flinkstatesnapshot", "registered",
		"kind: FlinkStateSnapshot\nmetadata:\n  name: registered\nspec:\n  savepoint:\n    alreadyExists: true\n    path: file:///savepoints/savepoint-1\n    disposeOnDelete: false\n",
		"1 FlinkStateSnapshots remain, such as "+ns+"/registered")

	code, stdout, _ = flinktest.Flok(t, cluster.KubeconfigPath, "uninstall", "--crds")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "Deployment flok-operator deleted")
	flinktest.WaitFor(t, 2*time.Minute, "the operator and the CRDs gone", func(ctx context.Context) (bool, error) {
		_, depErr := cluster.Client.AppsV1().Deployments("flok-system").Get(ctx, "flok-operator", metav1.GetOptions{})
		pods, err := cluster.Client.CoreV1().Pods("flok-system").List(ctx, metav1.ListOptions{})
		crds, _ := cluster.Kubectl(ctx, nil, "get", "crd", "-o", "name")
		return apierrors.IsNotFound(depErr) && err == nil && len(pods.Items) == 0 && !strings.Contains(string(crds), "flok.dev"), nil
	})
	code, _, errOut = flinktest.Flok(t, cluster.KubeconfigPath, "-n", ns, "list")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "flok install")
}

// uninstallRefusedWhile applies a flok.dev/v1beta1 object (manifest without its
// apiVersion), checks that `flok uninstall --crds` is refused with message while it
// exists, and deletes it.
func uninstallRefusedWhile(t *testing.T, ns, resource, name, manifest, message string) {
	t.Helper()
	_, err := cluster.Kubectl(t.Context(), strings.NewReader("apiVersion: flok.dev/v1beta1\n"+manifest), "-n", ns, "apply", "-f", "-")
	require.NoError(t, err)
	code, _, errOut := flinktest.Flok(t, cluster.KubeconfigPath, "uninstall", "--crds")
	require.Equal(t, 1, code, "uninstalling while %s %s exists is refused", resource, name)
	require.Contains(t, errOut, message)
	_, err = cluster.Kubectl(t.Context(), nil, "-n", ns, "delete", resource, name, "--wait")
	require.NoError(t, err)
}
