package cli

import (
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestConvert(t *testing.T) {
	apache, err := os.ReadFile("testdata/apache-basic.yaml")
	require.NoError(t, err)
	out, err := Convert(apache)
	require.NoError(t, err)
	matchGolden(t, "convert-basic", out)

	_, err = Convert([]byte("apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: x}\nspec: {jobManagr: {}}\n"))
	require.ErrorContains(t, err, `unknown field "spec.jobManagr"`)
	_, err = Convert([]byte("apiVersion: flink.apache.org/v1beta1\nkind: FlinkBlueGreenDeployment\nmetadata: {name: x}\n"))
	require.ErrorContains(t, err, "has no Flok counterpart")
}

func TestInstallObjects(t *testing.T) {
	objs, err := InstallObjects("")
	require.NoError(t, err)
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
	}
	require.Equal(t, "CustomResourceDefinition/alertreceivers.flok.dev", kinds[0], "the CRDs first")
	require.Contains(t, kinds, "CustomResourceDefinition/flinkdeployments.flok.dev")
	require.Contains(t, kinds, "CustomResourceDefinition/alertroutes.flok.dev")
	require.Contains(t, kinds, "Namespace/flok-system")
	require.Contains(t, kinds, "ClusterRole/flok-operator")
	require.Equal(t, "ValidatingWebhookConfiguration/flok", kinds[len(kinds)-1], "the webhook is registered after the operator that serves it")
	require.Less(t, slices.Index(kinds, "Deployment/flok-operator"), slices.Index(kinds, "Service/flok-webhook"))
	require.Contains(t, kinds, "Role/flok-operator")
	ns := -1
	for i, k := range kinds {
		if k == "Namespace/flok-system" {
			ns = i
		}
		if k == "ServiceAccount/flok-operator" {
			require.Less(t, ns, i, "the namespace is applied before what lives in it")
		}
	}
}

func TestInstallObjectsWithImage(t *testing.T) {
	objs, err := InstallObjects("127.0.0.1:5000/flok-operator:v1")
	require.NoError(t, err)
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			require.Equal(t, "127.0.0.1:5000/flok-operator:v1", containers[0].(map[string]any)["image"])
		}
	}
	_, err = InstallObjects("Not An Image")
	require.ErrorContains(t, err, `--image "Not An Image"`)
}
