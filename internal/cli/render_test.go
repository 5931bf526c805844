package cli

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRenderGolden: `flok render` of the native sample prints the objects the operator
// would create, in the order it applies them.
func TestRenderGolden(t *testing.T) {
	data, err := os.ReadFile("../../config/samples/flinkdeployment-native.yaml")
	require.NoError(t, err)
	out, err := Render(data)
	require.NoError(t, err)
	matchGolden(t, "render-native", out)
}

// TestRenderRefuses: what render cannot take is named with the document, the kind and
// what to do instead.
func TestRenderRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"session job": {
			yaml: "apiVersion: flok.dev/v1beta1\nkind: FlinkSessionJob\nmetadata: {name: a}\nspec: {deploymentName: s}\n",
			want: "document 1 (FlinkSessionJob a): render takes flok.dev/v1beta1 FlinkDeployments only (a FlinkSessionJob creates no Kubernetes objects: it is submitted to its session cluster)",
		},
		"apache resource": {
			yaml: "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: b}\n",
			want: "document 1 (FlinkDeployment b): render takes flok.dev/v1beta1 FlinkDeployments only (an Apache operator resource: `flok convert` turns it into Flok's)",
		},
		"unknown field, second document": {
			yaml: "apiVersion: flok.dev/v1beta1\nkind: FlinkDeployment\nmetadata: {name: c}\nspec: {flinkVersion: v2_3}\n---\n" +
				"apiVersion: flok.dev/v1beta1\nkind: FlinkDeployment\nmetadata: {name: d}\nspec: {flinkVersion: v2_3, job: {jarUri: x}}\n",
			want: `document 2 (FlinkDeployment d): unknown field "spec.job.jarUri"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Render([]byte(tc.yaml))
			require.EqualError(t, err, tc.want)
		})
	}
}
