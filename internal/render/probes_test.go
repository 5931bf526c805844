package render

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestProbes: JobManagers get a startup and a liveness probe on their REST API,
// TaskManagers a liveness probe on their RPC port, in both modes; a template's own
// probe wins; each can be turned off; a wrong switch is an error with its key.
func TestProbes(t *testing.T) {
	for _, mode := range []string{"native", "standalone"} {
		objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {mode: `+mode+`}`)})
		require.NoError(t, err)
		jm := objs.JobManager.Spec.Template.Spec.Containers[0]
		require.Equal(t, &corev1.HTTPGetAction{Path: "/config", Port: intstr.FromInt32(8081), Scheme: corev1.URISchemeHTTP}, jm.StartupProbe.HTTPGet)
		require.EqualValues(t, 60, jm.StartupProbe.FailureThreshold)
		require.Equal(t, intstr.FromInt32(8081), jm.LivenessProbe.TCPSocket.Port, "liveness: the REST port takes connections (a REST call fails during leader elections)")
		require.EqualValues(t, 15*8, jm.LivenessProbe.PeriodSeconds*jm.LivenessProbe.FailureThreshold, "two minutes without an answer")
		if mode == "standalone" {
			tm := objs.TaskManager.Spec.Template.Spec.Containers[0]
			require.Equal(t, intstr.FromInt32(6122), tm.LivenessProbe.TCPSocket.Port)
		} else {
			require.Contains(t, objs.TaskManagerPodTemplate.Data[tmTemplateFile], "livenessProbe:\n      failureThreshold: 8\n      initialDelaySeconds: 30")
			require.Contains(t, objs.TaskManagerPodTemplate.Data[tmTemplateFile], "tcpSocket:\n        port: 6122")
		}
	}

	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication,
		`spec: {jobManager: {podTemplate: {spec: {containers: [{name: flink-main-container, livenessProbe: {exec: {command: ["true"]}}}]}}}}`)})
	require.NoError(t, err)
	jm := objs.JobManager.Spec.Template.Spec.Containers[0]
	require.NotNil(t, jm.LivenessProbe.Exec, "the template's probe wins")
	require.NotNil(t, jm.StartupProbe.HTTPGet)

	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication,
		`spec: {mode: standalone, flinkConfiguration: {kubernetes.operator.jm-deployment.startup.probe.enabled: "false", kubernetes.operator.liveness.probes.enabled: "false"}}`)})
	require.NoError(t, err)
	require.Nil(t, objs.JobManager.Spec.Template.Spec.Containers[0].StartupProbe)
	require.Nil(t, objs.JobManager.Spec.Template.Spec.Containers[0].LivenessProbe)
	require.Nil(t, objs.TaskManager.Spec.Template.Spec.Containers[0].LivenessProbe)

	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {security.ssl.rest.enabled: "true", kubernetes.operator.ssl.generate: "true"}}`)})
	require.NoError(t, err)
	require.Equal(t, corev1.URISchemeHTTPS, objs.JobManager.Spec.Template.Spec.Containers[0].StartupProbe.HTTPGet.Scheme)

	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {security.ssl.rest.enabled: "true", security.ssl.rest.authentication-enabled: "true", kubernetes.operator.ssl.generate: "true"}}`)})
	require.NoError(t, err)
	require.NotNil(t, objs.JobManager.Spec.Template.Spec.Containers[0].StartupProbe.TCPSocket, "the kubelet has no client certificate for Flink to accept")

	// Native host networking: Flink binds its ports anew each start, none is known to
	// probe. Standalone Flink binds the configured ones.
	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {kubernetes.hostnetwork.enabled: "true"}}`)})
	require.NoError(t, err)
	require.Nil(t, objs.JobManager.Spec.Template.Spec.Containers[0].StartupProbe)
	require.Nil(t, objs.JobManager.Spec.Template.Spec.Containers[0].LivenessProbe)
	if tm := objs.TaskManagerPodTemplate; tm != nil {
		require.NotContains(t, tm.Data[tmTemplateFile], "livenessProbe")
	}
	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {mode: standalone, flinkConfiguration: {kubernetes.hostnetwork.enabled: "true"}}`)})
	require.NoError(t, err)
	require.NotNil(t, objs.JobManager.Spec.Template.Spec.Containers[0].StartupProbe)
	require.NotNil(t, objs.TaskManager.Spec.Template.Spec.Containers[0].LivenessProbe)

	_, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {kubernetes.operator.liveness.probes.enabled: "sometimes"}}`)})
	require.ErrorContains(t, err, `spec.flinkConfiguration[kubernetes.operator.liveness.probes.enabled]: Invalid value: "sometimes": must be true or false`)
}
