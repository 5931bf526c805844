package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/promtest"
)

// proveMetrics scrapes the JobManager and a TaskManager of deployment name the way
// Prometheus would, at their port named "metrics": the job's series are there,
// labelled with the namespace and the deployment, and none carries a variable Flok
// excludes.
func proveMetrics(t *testing.T, ns, name string) {
	t.Helper()
	for role, series := range map[string]string{
		"jobmanager":  "flink_jobmanager_job_uptime",
		"taskmanager": "flink_taskmanager_job_task_numRecordsIn",
	} {
		var body string
		flinktest.WaitFor(t, 2*time.Minute, role+" metrics with "+series, func(ctx context.Context) (bool, error) {
			var err error
			body, err = scrapeMetrics(ctx, ns, fmt.Sprintf("app=%s,component=%s", name, role))
			return err == nil && strings.Contains(body, series+"{"), nil
		})
		line := regexp.MustCompile(`(?m)^` + series + `\{.*$`).FindString(body)
		require.Contains(t, line, `namespace="`+ns+`"`)
		require.Contains(t, line, `flinkdeployment="`+name+`"`)
		for _, excluded := range []string{"task_attempt_id=", "task_attempt_num=", "tm_id="} {
			require.NotContains(t, body, excluded, "%s series carry no %s", role, excluded)
		}
	}
}

// scrapeMetrics reads /metrics from the first running Pod of selector, at the port
// its main container names "metrics".
func scrapeMetrics(ctx context.Context, ns, selector string) (string, error) {
	pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return "", err
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			continue
		}
		for _, port := range p.Spec.Containers[0].Ports {
			if port.Name == render.MetricsPortName {
				return get(ctx, fmt.Sprintf("http://%s:%d/metrics", p.Status.PodIP, port.ContainerPort))
			}
		}
		return "", fmt.Errorf("pod %s declares no %q port", p.Name, render.MetricsPortName)
	}
	return "", fmt.Errorf("no running pod of %s", selector)
}

func get(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(data), err
}

// provePrometheus scrapes deployment name's JobManager and TaskManagers with a real
// Prometheus that finds them as a PodMonitor selecting the deployment's Pods (app
// label, port "metrics") makes the Prometheus Operator find them: kubernetes_sd
// through the API server, the Operator's relabeling. The job's series are there with
// their namespace and deployment, and none carries an excluded variable.
func provePrometheus(t *testing.T, ns, name string) {
	t.Helper()
	prom := promtest.Start(t, fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
- job_name: podMonitor/%[1]s/%[2]s/0
  kubernetes_sd_configs:
  - role: pod
    kubeconfig_file: %[3]s
    namespaces:
      names: [%[1]s]
  relabel_configs:
  - source_labels: [__meta_kubernetes_pod_label_app]
    regex: %[2]s
    action: keep
  - source_labels: [__meta_kubernetes_pod_container_port_name]
    regex: %[4]s
    action: keep
  - source_labels: [__meta_kubernetes_namespace]
    target_label: namespace
  - source_labels: [__meta_kubernetes_pod_name]
    target_label: pod
  - source_labels: [__meta_kubernetes_pod_container_name]
    target_label: container
  - target_label: endpoint
    replacement: %[4]s
`, ns, name, cluster.KubeconfigPath, render.MetricsPortName))
	selector := fmt.Sprintf(`{namespace=%q, flinkdeployment=%q}`, ns, name)
	for _, series := range []string{"flink_jobmanager_job_uptime", "flink_taskmanager_job_task_numRecordsIn"} {
		flinktest.WaitFor(t, 2*time.Minute, series+" in Prometheus", func(ctx context.Context) (bool, error) {
			v, err := prom.Query(ctx, series+selector)
			return err == nil && len(v) > 0, nil
		})
	}
	for _, excluded := range []string{"task_attempt_id", "task_attempt_num", "tm_id"} {
		v, err := prom.Query(t.Context(), fmt.Sprintf(`count({__name__=~"flink_.+", namespace=%q, %s!=""})`, ns, excluded))
		require.NoError(t, err)
		require.Empty(t, v, "no series carries %s", excluded)
	}
}
