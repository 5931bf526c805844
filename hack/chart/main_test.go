package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/config"
	"github.com/flok-dev/flok/internal/helmchart"
)

const chartDir = "../../charts/flok"

// TestGeneratedFilesAreCurrent: generating again changes nothing — config/ is the
// chart rendered with its defaults, the chart's CRDs and rules are controller-gen's,
// its README lists every value.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(root, "config"), os.DirFS("../../config")))
	require.NoError(t, os.CopyFS(filepath.Join(root, "charts"), os.DirFS("../../charts")))
	require.NoError(t, generate(root))
	for _, dir := range []string{"config", "charts"} {
		require.NoError(t, fs.WalkDir(os.DirFS(filepath.Join(root, dir)), ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			got, err := os.ReadFile(filepath.Join(root, dir, path))
			require.NoError(t, err)
			want, err := os.ReadFile(filepath.Join("../..", dir, path))
			require.NoError(t, err, "%s/%s is generated but not in the repository (run make generate)", dir, path)
			require.Equal(t, string(want), string(got), "%s/%s is stale (run make generate)", dir, path)
			return nil
		}))
	}
}

// TestChartLints: Helm's linter finds nothing with the defaults nor with every option.
func TestChartLints(t *testing.T) {
	require.NoError(t, helmchart.Lint(chartDir, "flok-system", nil))
	require.NoError(t, helmchart.Lint(chartDir, "flok-system", allOptions()))
}

func allOptions() map[string]any {
	return map[string]any{
		"replicas": 2, "watchNamespaces": []any{"team-a", "team-b"},
		"flinkDefaults":    map[string]any{"taskmanager.numberOfTaskSlots": "4", "kubernetes.operator.savepoint.history.max.count": "5"},
		"extraArgs":        []any{"--concurrency=32"},
		"imagePullSecrets": []any{map[string]any{"name": "registry"}},
		"nodeSelector":     map[string]any{"kubernetes.io/os": "linux"},
	}
}

// TestWatchNamespaces: with a list of namespaces the operator's rights are bound in
// them (and its own) only, the webhook configuration is cluster-wide and sees only
// them, and the operator is told; default Flink options become a ConfigMap whose
// change restarts the operator.
func TestWatchNamespaces(t *testing.T) {
	rendered, err := helmchart.Render(chartDir, "flok", "flok-system", allOptions())
	require.NoError(t, err)
	objs := objects(t, rendered)
	require.NotContains(t, objs, "ClusterRoleBinding/flok-operator", "no cluster-wide rights over Flink resources")
	for _, ns := range []string{"team-a", "team-b", "flok-system"} {
		rb := objs["RoleBinding/"+ns+"/flok-operator-watch"]
		require.NotNil(t, rb, "the ClusterRole bound in %s", ns)
		require.Equal(t, "ClusterRole", field(rb, "roleRef", "kind"))
	}
	require.Contains(t, objs, "ClusterRoleBinding/flok-operator-webhook")
	require.Contains(t, objs, "RoleBinding/flok-system/flok-operator", "the CA Secret's Role")
	webhooks := objs["ValidatingWebhookConfiguration/flok"]["webhooks"].([]any)
	require.Len(t, webhooks, 3)
	for _, w := range webhooks {
		selector := w.(map[string]any)["namespaceSelector"].(map[string]any)["matchExpressions"].([]any)[0].(map[string]any)
		require.Equal(t, []any{"team-a", "team-b"}, selector["values"])
	}
	deployment := objs["Deployment/flok-system/flok-operator"]
	require.Equal(t, float64(2), field(deployment, "spec", "replicas"))
	pod := field(deployment, "spec", "template").(map[string]any)
	args := field(pod, "spec", "containers").([]any)[0].(map[string]any)["args"].([]any)
	require.Contains(t, args, "--namespaces=team-a,team-b")
	require.Contains(t, args, "--defaults-configmap=flok-system/flok-defaults")
	require.Contains(t, args, "--concurrency=32")
	require.NotEmpty(t, field(pod, "metadata", "annotations", "flok.dev/flink-defaults-hash"))
	defaults := objs["ConfigMap/flok-system/flok-defaults"]
	require.Contains(t, field(defaults, "data", "config.yaml"), "taskmanager.numberOfTaskSlots: \"4\"")

	off, err := helmchart.Render(chartDir, "flok", "flok-system", map[string]any{"webhook": map[string]any{"enabled": false}})
	require.NoError(t, err)
	objs = objects(t, off)
	require.NotContains(t, objs, "ValidatingWebhookConfiguration/flok")
	require.NotContains(t, objs, "Service/flok-system/flok-webhook")
	pod = field(objs["Deployment/flok-system/flok-operator"], "spec", "template").(map[string]any)
	require.Contains(t, field(pod, "spec", "containers").([]any)[0].(map[string]any)["args"], "--webhook-bind-address=0")
}

// TestKustomizeBaseIsFlokInstall: kubectl apply -k config applies exactly the objects
// flok install does.
func TestKustomizeBaseIsFlokInstall(t *testing.T) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "../../config")
	require.NoError(t, err)
	var kustomized []string
	for _, r := range resources.Resources() {
		kustomized = append(kustomized, key(r.GetKind(), r.GetNamespace(), r.GetName()))
	}
	var installed []string
	for _, dir := range config.InstallOrder {
		files, err := fs.Glob(config.Install, dir+"/*.yaml")
		require.NoError(t, err)
		for _, f := range files {
			data, err := fs.ReadFile(config.Install, f)
			require.NoError(t, err)
			for k := range objectsOf(t, string(data)) {
				installed = append(installed, k)
			}
		}
	}
	slices.Sort(kustomized)
	slices.Sort(installed)
	require.Equal(t, installed, kustomized)
}

// objects are the rendered objects by kind/namespace/name.
func objects(t *testing.T, rendered helmchart.Rendered) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, file := range rendered.Files() {
		for k, o := range objectsOf(t, rendered[file]) {
			out[k] = o
		}
	}
	return out
}

func objectsOf(t *testing.T, text string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, doc := range strings.Split(text, "\n---\n") {
		obj := map[string]any{}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &obj))
		if len(obj) == 0 {
			continue
		}
		meta := obj["metadata"].(map[string]any)
		ns, _ := meta["namespace"].(string)
		out[key(obj["kind"].(string), ns, meta["name"].(string))] = obj
	}
	return out
}

func key(kind, ns, name string) string {
	if ns == "" {
		return kind + "/" + name
	}
	return kind + "/" + ns + "/" + name
}

func field(obj map[string]any, path ...string) any {
	var v any = obj
	for _, p := range path {
		v = v.(map[string]any)[p]
	}
	return v
}
