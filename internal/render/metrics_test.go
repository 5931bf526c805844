package render

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// TestMetricsByDefault: every JobManager and TaskManager serves Prometheus metrics on
// a port named "metrics", labelled with namespace and deployment, without the churning
// variables — unless the user configures reporters of their own; the "prom" reporter's
// own options override Flok's one by one.
func TestMetricsByDefault(t *testing.T) {
	metricsPort := corev1.ContainerPort{Name: "metrics", ContainerPort: 9249, Protocol: corev1.ProtocolTCP}
	for _, mode := range []string{"native", "standalone"} {
		objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {mode: `+mode+`}`)})
		require.NoError(t, err)
		require.Equal(t, prometheusFactory, objs.Configuration[keyPrometheusFactory])
		require.Equal(t, "9249", objs.Configuration[keyPrometheusPort])
		require.Equal(t, "task_attempt_id;task_attempt_num;tm_id", objs.Configuration[keyPrometheusExcludes])
		require.Equal(t, "namespace:streaming,flinkdeployment:orders", objs.Configuration[keyPrometheusExtra])
		require.Equal(t, "false", objs.Configuration[keyPrometheusFilter], "label values as written")
		require.Contains(t, objs.JobManager.Spec.Template.Spec.Containers[0].Ports, metricsPort, mode)
		if mode == "standalone" {
			require.Contains(t, objs.TaskManager.Spec.Template.Spec.Containers[0].Ports, metricsPort)
		} else {
			require.Contains(t, objs.TaskManagerPodTemplate.Data[tmTemplateFile], "containerPort: 9249\n      name: metrics")
		}
	}

	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication,
		`spec: {flinkConfiguration: {metrics.reporter.prom.port: "9300", metrics.reporter.prom.scope.variables.excludes: ""}}`)})
	require.NoError(t, err)
	require.Equal(t, "", objs.Configuration[keyPrometheusExcludes], "the user's option wins")
	require.Equal(t, "namespace:streaming,flinkdeployment:orders", objs.Configuration[keyPrometheusExtra])
	require.Contains(t, objs.JobManager.Spec.Template.Spec.Containers[0].Ports,
		corev1.ContainerPort{Name: "metrics", ContainerPort: 9300, Protocol: corev1.ProtocolTCP})

	for _, own := range []string{
		`{metrics.reporter.jmx.factory.class: org.apache.flink.metrics.jmx.JMXReporterFactory}`,
		`{metrics.reporters: none}`,
	} {
		objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: `+own+`}`)})
		require.NoError(t, err)
		require.NotContains(t, objs.Configuration, keyPrometheusFactory, own)
		for _, p := range objs.JobManager.Spec.Template.Spec.Containers[0].Ports {
			require.NotEqual(t, MetricsPortName, p.Name, own)
		}
	}
	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication), Defaults: map[string]string{keyReporters: "none"}})
	require.NoError(t, err)
	require.NotContains(t, objs.Configuration, keyPrometheusFactory, "the operator's defaults can turn it off for every deployment")

	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {kubernetes.hostnetwork.enabled: "true"}}`)})
	require.NoError(t, err)
	require.Equal(t, "9249-9259", objs.Configuration[keyPrometheusPort], "JVMs sharing a host each find a port")
	for _, p := range objs.JobManager.Spec.Template.Spec.Containers[0].Ports {
		require.NotEqual(t, MetricsPortName, p.Name)
	}
}
