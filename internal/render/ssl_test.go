package render

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestGeneratedTLS(t *testing.T) {
	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {
  security.ssl.rest.enabled: "true", security.ssl.internal.enabled: "true",
  kubernetes.operator.ssl.generate: "true", kubernetes.secrets: "db:/opt/db"}}`)})
	require.NoError(t, err)
	require.Equal(t, &TLS{Secret: "orders-ssl", Generate: true, REST: true, DNSNames: []string{
		"orders-rest", "orders-rest.streaming", "orders-rest.streaming.svc", "orders-rest.streaming.svc.cluster.local",
		"orders", "orders.streaming", "orders.streaming.svc", "orders.streaming.svc.cluster.local"}}, objs.TLS)
	conf := objs.Configuration
	require.Equal(t, "db:/opt/db,orders-ssl:/opt/flink/ssl", conf[keySecrets], "mounted in Flink's TaskManagers too")
	for _, plane := range []string{"rest", "internal"} {
		require.Equal(t, "/opt/flink/ssl/keystore.p12", conf["security.ssl."+plane+".keystore"])
		require.Equal(t, "/opt/flink/ssl/truststore.p12", conf["security.ssl."+plane+".truststore"])
		require.Equal(t, "flok-generated", conf["security.ssl."+plane+".keystore-password"])
	}
	require.Contains(t, conf[keySSLAlgorithms], "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
	require.Equal(t, ptr.To("https"), objs.RESTService.Spec.Ports[0].AppProtocol)
	require.True(t, objs.RESTOverTLS())
	jm := objs.JobManager.Spec.Template.Spec
	require.Contains(t, jm.Volumes, corev1.Volume{Name: "orders-ssl-volume", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "orders-ssl"}}})
	require.Contains(t, jm.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "orders-ssl-volume", MountPath: "/opt/flink/ssl"})
}

func TestTLSFromUserSecret(t *testing.T) {
	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {
  security.ssl.internal.enabled: "true", kubernetes.operator.ssl.secret: certs, kubernetes.secrets: "certs:/etc/certs/",
  security.ssl.internal.keystore: /etc/certs/ks.jks, security.ssl.keystore-password: a, security.ssl.key-password: b, security.ssl.truststore-password: c}}`)})
	require.NoError(t, err)
	require.False(t, objs.RESTOverTLS(), "internal connections only: REST stays plain HTTP")
	require.Nil(t, objs.RESTService.Spec.Ports[0].AppProtocol)
	conf := objs.Configuration
	require.Equal(t, "certs:/etc/certs/", conf[keySecrets], "the user's own mount is used")
	require.Equal(t, "/etc/certs/ks.jks", conf["security.ssl.internal.keystore"], "the user's keystore kept")
	require.Equal(t, "/etc/certs/truststore.p12", conf["security.ssl.internal.truststore"])
	require.NotContains(t, conf, "security.ssl.internal.keystore-password", "Flink falls back to security.ssl.keystore-password")

	_, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {security.ssl.rest.enabled: "true"}}`)})
	require.ErrorContains(t, err, "spec.flinkConfiguration[kubernetes.operator.ssl.secret]: Required value: Flink's REST API speaks TLS (security.ssl.rest.enabled): Flok verifies the JobManager's certificate")
	_, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {security.ssl.rest.enabled: "true", kubernetes.operator.ssl.secret: certs}}`)})
	require.ErrorContains(t, err, "spec.flinkConfiguration[security.ssl.rest.key-password]: Required value: set it or security.ssl.key-password: the password of the private key in keystore.p12 of Secret certs")
	_, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {kubernetes.operator.ssl.secret: Certs_1}}`)})
	require.ErrorContains(t, err, `spec.flinkConfiguration[kubernetes.operator.ssl.secret]: Invalid value: "Certs_1": a Secret's name`)
}

// Before Flink 2.0, security.ssl.enabled turns on both planes where their own keys are
// unset (Flink 2.0 removed it); each plane's keystore options fall back to
// security.ssl.<option>, and a user's global keystore is kept.
func TestTLSKeysAsFlinkReadsThem(t *testing.T) {
	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkVersion: v1_20, flinkConfiguration: {
  security.ssl.enabled: "true", security.ssl.internal.enabled: "false", kubernetes.operator.ssl.generate: "true",
  security.ssl.keystore: /etc/certs/ks.p12}}`)})
	require.NoError(t, err)
	require.True(t, objs.RESTOverTLS(), "security.ssl.enabled on 1.20")
	require.Equal(t, corev1.URISchemeHTTPS, objs.JobManager.Spec.Template.Spec.Containers[0].StartupProbe.HTTPGet.Scheme)
	require.NotContains(t, objs.Configuration, "security.ssl.internal.keystore", "internal TLS is off")
	require.NotContains(t, objs.Configuration, "security.ssl.rest.keystore", "the user's security.ssl.keystore is what Flink reads")
	require.Equal(t, "/opt/flink/ssl/truststore.p12", objs.Configuration["security.ssl.rest.truststore"])

	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkVersion: v2_3, flinkConfiguration: {security.ssl.enabled: "true"}}`)})
	require.NoError(t, err)
	require.False(t, objs.RESTOverTLS(), "Flink 2 ignores security.ssl.enabled")

	_, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {flinkConfiguration: {kubernetes.operator.ssl.generate: "yes"}}`)})
	require.ErrorContains(t, err, `spec.flinkConfiguration[kubernetes.operator.ssl.generate]: Invalid value: "yes": must be true or false`)
}
