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

// FuzzConvert: any text converts or is refused with an error, never a panic; what
// converts holds no Apache resource any more and converts again to itself.
func FuzzConvert(f *testing.F) {
	if apache, err := os.ReadFile("testdata/apache-basic.yaml"); err == nil {
		f.Add(string(apache))
	}
	f.Add("apiVersion: flink.apache.org/v1beta1\nkind: FlinkSessionJob\nmetadata: {name: j}\nspec: {deploymentName: s, job: {jarURI: 'https://x/j.jar'}}\n---\napiVersion: v1\nkind: ConfigMap\n")
	f.Add("apiVersion: flink.apache.org/v1beta1\nkind: FlinkStateSnapshot\nmetadata: {name: s}\nspec: {savepoint: {path: 'file:///sp'}}\nstatus: {state: COMPLETED}\n")
	f.Add("apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nspec: {flinkConfiguration: {a.b: 1, c: [1, 2]}}\n")
	f.Fuzz(func(t *testing.T, text string) {
		out, err := Convert([]byte(text))
		if err != nil {
			return
		}
		docs, err := decodeAll(out)
		require.NoError(t, err, "Convert wrote what it cannot read:\n%s", out)
		for _, u := range docs {
			require.NotEqual(t, apacheGroupVersion, u.GetAPIVersion())
		}
		again, err := Convert(out)
		require.NoError(t, err)
		// As objects: YAML's key order is not stable for some keys that mix digits and
		// letters (go-yaml's natural sort), and means nothing.
		againDocs, err := decodeAll(again)
		require.NoError(t, err)
		require.Equal(t, docs, againDocs, "converting Flok's resources changes them")
	})
}
