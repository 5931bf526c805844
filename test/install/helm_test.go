package install

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/internal/helmchart"
	"github.com/flok-dev/flok/test/flinktest"
)

const (
	chartDir         = "../../charts/flok"
	releaseName      = "flok"
	releaseNamespace = "flok-system"
	helmTimeout      = 3 * time.Minute
)

// helmConfig is Helm's action configuration for the local cluster, releases kept in
// Secrets of flok-system.
func helmConfig(t *testing.T) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = ptr.To(cluster.KubeconfigPath), ptr.To(releaseNamespace)
	cfg := new(action.Configuration)
	require.NoError(t, cfg.Init(flags, releaseNamespace, "secret"))
	return cfg
}

// installWithHelm installs the chart as `helm install --wait --create-namespace`
// would, with its default values but the operator's image.
func installWithHelm(t *testing.T, image string) {
	t.Helper()
	chart, err := helmchart.Load(chartDir)
	require.NoError(t, err)
	install := action.NewInstall(helmConfig(t))
	install.ReleaseName, install.Namespace, install.CreateNamespace = releaseName, releaseNamespace, true
	install.WaitStrategy, install.Timeout = kube.StatusWatcherStrategy, helmTimeout
	_, err = install.RunWithContext(t.Context(), chart, imageValues(image, nil))
	require.NoError(t, err, "helm install")
}

// imageValues sets the chart's image to ref ("registry/repository:tag") in values.
func imageValues(ref string, values map[string]any) map[string]any {
	colon := strings.LastIndex(ref, ":")
	out := map[string]any{"image": map[string]any{"repository": ref[:colon], "tag": ref[colon+1:]}}
	maps.Copy(out, values)
	return out
}

// upgradeWithHelm upgrades the release to the operator's image and values, waiting
// for it as --wait does.
func upgradeWithHelm(t *testing.T, image string, values map[string]any) {
	t.Helper()
	chart, err := helmchart.Load(chartDir)
	require.NoError(t, err)
	upgrade := action.NewUpgrade(helmConfig(t))
	upgrade.Namespace, upgrade.WaitStrategy, upgrade.Timeout = releaseNamespace, kube.StatusWatcherStrategy, helmTimeout
	_, err = upgrade.RunWithContext(t.Context(), releaseName, chart, imageValues(image, values))
	require.NoError(t, err, "helm upgrade")
}

// uninstallWithHelm uninstalls the release and waits until the operator, its Pods
// and its webhook configuration are gone; the CRDs stay, as Helm keeps them.
func uninstallWithHelm(t *testing.T) {
	t.Helper()
	uninstall := action.NewUninstall(helmConfig(t))
	uninstall.WaitStrategy, uninstall.Timeout = kube.StatusWatcherStrategy, helmTimeout
	_, err := uninstall.Run(releaseName)
	require.NoError(t, err, "helm uninstall")
	flinktest.WaitFor(t, 2*time.Minute, "the chart's objects gone", func(ctx context.Context) (bool, error) {
		_, depErr := cluster.Client.AppsV1().Deployments(releaseNamespace).Get(ctx, "flok-operator", metav1.GetOptions{})
		pods, err := cluster.Client.CoreV1().Pods(releaseNamespace).List(ctx, metav1.ListOptions{})
		_, hookErr := cluster.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "flok", metav1.GetOptions{})
		return apierrors.IsNotFound(depErr) && apierrors.IsNotFound(hookErr) && err == nil && len(pods.Items) == 0, nil
	})
	crds, err := cluster.Kubectl(t.Context(), nil, "get", "crd", "-o", "name")
	require.NoError(t, err)
	require.Contains(t, string(crds), "flinkdeployments.flok.dev", "Helm keeps the CRDs (and so the users' resources)")
}

// operatorReady waits until the operator's Deployment has replicas ready Pods, each
// running imageID.
func operatorReady(t *testing.T, replicas int32, imageID string) {
	t.Helper()
	flinktest.WaitFor(t, 3*time.Minute, "the operator ready", func(ctx context.Context) (bool, error) {
		d, err := cluster.Client.AppsV1().Deployments(releaseNamespace).Get(ctx, "flok-operator", metav1.GetOptions{})
		return err == nil && *d.Spec.Replicas == replicas && d.Status.ReadyReplicas == replicas && d.Status.UpdatedReplicas == replicas, nil
	})
	pods, err := cluster.Client.CoreV1().Pods(releaseNamespace).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=flok-operator"})
	require.NoError(t, err)
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready {
				require.Equal(t, imageID, cs.ImageID, "pod %s runs the image pulled from the registry", p.Name)
			}
		}
	}
}

// refusesBadDeployments applies a deployment without jar times times: the admission
// webhook refuses each through its Service, with the field path.
func refusesBadDeployments(t *testing.T, ns string, times int) {
	t.Helper()
	bad := "apiVersion: flok.dev/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: no-jar\nspec:\n  image: flink:2.3\n  flinkVersion: v2_3\n  job:\n    jarURI: \"\"\n"
	for range times {
		refused, err := cluster.Kubectl(t.Context(), strings.NewReader(bad), "-n", ns, "apply", "-f", "-")
		require.Error(t, err)
		require.Contains(t, string(refused), `The FlinkDeployment "no-jar" is invalid: spec.job.jarURI: Required value`)
	}
}
