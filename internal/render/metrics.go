package render

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// Flink's Prometheus reporter as Flok configures it by default.
const (
	keyReporters          = "metrics.reporters"
	reporterPrefix        = "metrics.reporter."
	prometheusPrefix      = reporterPrefix + "prom."
	keyPrometheusFactory  = prometheusPrefix + "factory.class"
	keyPrometheusPort     = prometheusPrefix + "port"
	keyPrometheusExcludes = prometheusPrefix + "scope.variables.excludes"
	keyPrometheusExtra    = prometheusPrefix + "scope.variables.additional"
	keyPrometheusFilter   = prometheusPrefix + "filterLabelValueCharacters"
	prometheusFactory     = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
	// DefaultMetricsPort is where the JobManagers and TaskManagers serve their metrics
	// to Prometheus, the container port named MetricsPortName.
	DefaultMetricsPort = 9249
	// MetricsPortName names the metrics container port (a PodMonitor's port).
	MetricsPortName = "metrics"
	// hostNetworkMetricsPorts lets the JVMs sharing a host's network each find a port.
	hostNetworkMetricsPorts = "9249-9259"
	// excludedMetricVariables are the variables that make series churn or multiply
	// without telling more than the scrape target does: a task's attempt (new at every
	// restart) and the TaskManager's id (each TaskManager is its own target).
	excludedMetricVariables = "task_attempt_id;task_attempt_num;tm_id"
)

// metricsDefaults turn on Flink's Prometheus reporter — every JobManager and TaskManager
// serves its metrics on port 9249, labelled with the namespace and the FlinkDeployment's
// name as they are written (Flink would turn "team-a" into "team_a": Prometheus takes
// any label value, and queries name namespaces as Kubernetes does), without the
// variables that only churn — unless one of layers (the operator's
// defaults, the user's options) configures reporters of its own or lists which run
// (metrics.reporters; "none" turns reporting off). Options of the "prom" reporter
// itself override these one by one.
func (c *cluster) metricsDefaults(layers ...flinkconf.Config) flinkconf.Config {
	for _, conf := range layers {
		for key := range conf {
			if key == keyReporters || (strings.HasPrefix(key, reporterPrefix) && !strings.HasPrefix(key, prometheusPrefix)) {
				return nil
			}
		}
	}
	port := strconv.Itoa(DefaultMetricsPort)
	if flinkconf.IsTrue(flinkconf.Merge(layers...)[keyHostNetwork]) {
		port = hostNetworkMetricsPorts
	}
	return flinkconf.Config{
		keyPrometheusFactory:  prometheusFactory,
		keyPrometheusPort:     port,
		keyPrometheusExcludes: excludedMetricVariables,
		keyPrometheusExtra:    "namespace:" + c.namespace() + ",flinkdeployment:" + c.name(),
		keyPrometheusFilter:   "false",
	}
}

// metricsPorts is the container port of the Prometheus reporter, when it runs ("prom")
// and listens on one port of the Pod's own network.
func (c *cluster) metricsPorts() []corev1.ContainerPort {
	if c.conf[keyPrometheusFactory] != prometheusFactory || c.hostNetwork() {
		return nil
	}
	if reporters, ok := c.conf[keyReporters]; ok && !listsReporter(reporters, "prom") {
		return nil
	}
	port := DefaultMetricsPort
	if v := strings.TrimSpace(c.conf[keyPrometheusPort]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return nil // a range: the JVM picks
		}
		port = n
	}
	return []corev1.ContainerPort{{Name: MetricsPortName, ContainerPort: int32(port), Protocol: corev1.ProtocolTCP}}
}

func listsReporter(list, name string) bool {
	for _, r := range strings.Split(list, ",") {
		if strings.TrimSpace(r) == name {
			return true
		}
	}
	return false
}
