package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// operatorModule is the Prometheus Operator release whose CRDs the tests install.
const operatorModule = "github.com/prometheus-operator/prometheus-operator@v0.88.0"

// OperatorCRD is the file of one of the Prometheus Operator's CRDs (resource such as
// "podmonitors"), from its module as the Go module proxy serves it.
func OperatorCRD(ctx context.Context, resource string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", operatorModule)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, runErr := cmd.Output()
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Error != "" || runErr != nil {
		return "", fmt.Errorf("go mod download %s: %v %v %s", operatorModule, runErr, err, mod.Error)
	}
	return filepath.Join(mod.Dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_"+resource+".yaml"), nil
}

// scrapeConfig is the scrape job the Prometheus Operator makes of a PodMonitor, for
// the fields Flok's PodMonitors use — selector.matchLabels and matchExpressions (In),
// podMetricsEndpoints[].port, podTargetLabels — discovering Pods through the API server of kubeconfig.
func scrapeConfig(pm *unstructured.Unstructured, kubeconfig, redirect string) (string, error) {
	ns, name := pm.GetNamespace(), pm.GetName()
	matchLabels, _, err := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels")
	if err != nil {
		return "", err
	}
	endpoints, _, err := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
	if err != nil || len(endpoints) != 1 {
		return "", fmt.Errorf("PodMonitor %s/%s: want one podMetricsEndpoint (%v)", ns, name, err)
	}
	port, _ := endpoints[0].(map[string]any)["port"].(string)
	targetLabels, _, _ := unstructured.NestedStringSlice(pm.Object, "spec", "podTargetLabels")
	var b strings.Builder
	fmt.Fprintf(&b, "- job_name: podMonitor/%s/%s/0\n  kubernetes_sd_configs:\n  - role: pod\n    kubeconfig_file: %s\n    namespaces:\n      names: [%s]\n  relabel_configs:\n",
		ns, name, kubeconfig, ns)
	for k, v := range matchLabels {
		fmt.Fprintf(&b, "  - {action: keep, source_labels: [__meta_kubernetes_pod_label_%s], regex: %q}\n", sanitize(k), v)
	}
	expressions, _, _ := unstructured.NestedSlice(pm.Object, "spec", "selector", "matchExpressions")
	for _, e := range expressions {
		e, _ := e.(map[string]any)
		values, _, _ := unstructured.NestedStringSlice(e, "values")
		if e["operator"] != "In" {
			return "", fmt.Errorf("PodMonitor %s/%s: selector operator %v is not translated here", ns, name, e["operator"])
		}
		fmt.Fprintf(&b, "  - {action: keep, source_labels: [__meta_kubernetes_pod_label_%s], regex: %q}\n", sanitize(fmt.Sprint(e["key"])), "("+strings.Join(values, "|")+")")
	}
	fmt.Fprintf(&b, "  - {action: keep, source_labels: [__meta_kubernetes_pod_container_port_name], regex: %q}\n", port)
	for _, l := range [][2]string{{"__meta_kubernetes_namespace", "namespace"}, {"__meta_kubernetes_pod_container_name", "container"}, {"__meta_kubernetes_pod_name", "pod"}} {
		fmt.Fprintf(&b, "  - {source_labels: [%s], target_label: %s}\n", l[0], l[1])
	}
	for _, l := range targetLabels {
		fmt.Fprintf(&b, "  - {source_labels: [__meta_kubernetes_pod_label_%s], target_label: %s}\n", sanitize(l), sanitize(l))
	}
	fmt.Fprintf(&b, "  - {target_label: job, replacement: %q}\n  - {target_label: endpoint, replacement: %q}\n", ns+"/"+name, port)
	if redirect != "" {
		fmt.Fprintf(&b, "  - {target_label: __address__, replacement: %q}\n", redirect)
	}
	return b.String(), nil
}

var invalidLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// sanitize makes a Kubernetes label name a Prometheus one, as service discovery does.
func sanitize(label string) string { return invalidLabelChars.ReplaceAllString(label, "_") }

// StartForPodMonitor runs Prometheus (Start) scraping every second what pm selects,
// found through the API server of kubeconfig as the Prometheus Operator configures it,
// with ruleFiles.
func StartForPodMonitor(t *testing.T, pm *unstructured.Unstructured, kubeconfig string, ruleFiles ...string) *Server {
	t.Helper()
	return StartForPodMonitors(t, []*unstructured.Unstructured{pm}, kubeconfig, "", ruleFiles...)
}

// StartForPodMonitors is StartForPodMonitor for several PodMonitors — those one
// Prometheus shard selects. redirect, when set, is the address every target is scraped
// at instead of its Pod's: a kwok Pod's address leads nowhere, and the tests send no
// traffic off loopback.
func StartForPodMonitors(t *testing.T, pms []*unstructured.Unstructured, kubeconfig, redirect string, ruleFiles ...string) *Server {
	t.Helper()
	config := "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
	for _, pm := range pms {
		job, err := scrapeConfig(pm, kubeconfig, redirect)
		require.NoError(t, err)
		config += job
	}
	return Start(t, config, ruleFiles...)
}

// ActiveTargets are the targets Prometheus scrapes now, as its API lists them.
func (s *Server) ActiveTargets(ctx context.Context) ([]promv1.ActiveTarget, error) {
	targets, err := s.api.Targets(ctx)
	return targets.Active, err
}
