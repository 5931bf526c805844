package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/podmonitor"
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
// Prometheus that finds them through the API server as the PodMonitor Flok keeps for
// the deployment makes the Prometheus Operator find them. The job's series are there
// with their namespace, deployment and component, and none carries an excluded
// variable.
func provePrometheus(t *testing.T, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	ns, name := fd.Namespace, fd.Name
	pm, err := podmonitor.Desired(fd, 1)
	require.NoError(t, err)
	job, err := promtest.ScrapeConfig(pm, cluster.KubeconfigPath)
	require.NoError(t, err)
	rules, err := os.ReadFile("../../config/monitoring/prometheus-rules.yaml")
	require.NoError(t, err)
	ruleFile, err := promtest.RuleFile(rules)
	require.NoError(t, err)
	prom := promtest.Start(t, promtest.Config(job), ruleFile)
	selector := fmt.Sprintf(`{namespace=%q, flinkdeployment=%q}`, ns, name)
	for series, component := range map[string]string{"flink_jobmanager_job_uptime": "jobmanager", "flink_taskmanager_job_task_numRecordsIn": "taskmanager"} {
		flinktest.WaitFor(t, 2*time.Minute, series+" in Prometheus", func(ctx context.Context) (bool, error) {
			v, err := prom.Query(ctx, series+selector)
			return err == nil && len(v) > 0 && string(v[0].Metric["component"]) == component, nil
		})
	}
	for _, excluded := range []string{"task_attempt_id", "task_attempt_num", "tm_id"} {
		v, err := prom.Query(t.Context(), fmt.Sprintf(`count({__name__=~"flink_.+", namespace=%q, %s!=""})`, ns, excluded))
		require.NoError(t, err)
		require.Empty(t, v, "no series carries %s", excluded)
	}
	proveDashboardsAndRules(t, prom, ns, name)
}

// proveDashboardsAndRules checks what config/monitoring ships against a Prometheus
// scraping a running, checkpointing job: every panel of the job dashboard shows data;
// every query of the operator's dashboard is valid PromQL (its metric names are
// checked against the operator's own in internal/operator); every alerting rule loads
// and evaluates without error.
func proveDashboardsAndRules(t *testing.T, prom *promtest.Server, ns, name string) {
	t.Helper()
	vars := map[string]string{"namespace": ns, "deployment": name, "__rate_interval": "1m", "datasource": "prometheus"}
	job, err := os.ReadFile("../../config/monitoring/grafana-flink-job.json")
	require.NoError(t, err)
	queries, err := promtest.DashboardQueries(job, vars)
	require.NoError(t, err)
	for _, q := range queries {
		flinktest.WaitFor(t, time.Minute, "data for the panel query "+q, func(ctx context.Context) (bool, error) {
			v, err := prom.Query(ctx, q)
			return err == nil && len(v) > 0, nil
		})
	}
	operator, err := os.ReadFile("../../config/monitoring/grafana-flok-operator.json")
	require.NoError(t, err)
	queries, err = promtest.DashboardQueries(operator, vars)
	require.NoError(t, err)
	for _, q := range queries {
		_, err := prom.Query(t.Context(), q)
		require.NoError(t, err, "the operator dashboard's query %s", q)
	}
	flinktest.WaitFor(t, time.Minute, "every alerting rule evaluated without error", func(ctx context.Context) (bool, error) {
		health, lastErr, err := prom.Rules(ctx)
		if err != nil || len(health) == 0 {
			return false, nil
		}
		for rule, h := range health {
			if h == "err" {
				return false, fmt.Errorf("rule %s: %s", rule, lastErr[rule])
			}
			if h != "ok" {
				return false, nil
			}
		}
		return true, nil
	})
}
