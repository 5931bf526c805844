package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/podmonitor"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/promtest"
)

// provePrometheus scrapes deployment name's JobManager and TaskManagers with a real
// Prometheus that finds them through the API server as the PodMonitor Flok keeps for
// the deployment makes the Prometheus Operator find them — only Pods that declare the
// port "metrics". The job's series are there with the deployment, component and the
// namespace Flink itself labels them with (renamed exported_namespace beside the
// target's own), and none carries an excluded variable.
func provePrometheus(t *testing.T, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	ns, name := fd.Namespace, fd.Name
	pm, err := podmonitor.Desired(fd, 1)
	require.NoError(t, err)
	rules, err := os.ReadFile("../../config/monitoring/prometheus-rules.yaml")
	require.NoError(t, err)
	ruleFile, err := promtest.RuleFile(rules)
	require.NoError(t, err)
	prom := promtest.StartForPodMonitor(t, pm, cluster.KubeconfigPath, ruleFile)
	selector := fmt.Sprintf(`{namespace=%q, exported_namespace=%q, flinkdeployment=%q}`, ns, ns, name)
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
