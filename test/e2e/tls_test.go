package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/flinktls"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinktest"
)

// tlsOptions turn on TLS for Flink's REST API, with client certificates, and for its
// internal connections, with certificates Flok generates.
var tlsOptions = map[string]string{
	"kubernetes.operator.ssl.generate":         "true",
	"security.ssl.rest.enabled":                "true",
	"security.ssl.rest.authentication-enabled": "true",
	"security.ssl.internal.enabled":            "true",
}

// tlsSecret waits for the TLS Secret Flok generates for cluster name.
func tlsSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	var secret *corev1.Secret
	flinktest.WaitFor(t, 2*time.Minute, "the generated TLS Secret", func(ctx context.Context) (bool, error) {
		var err error
		secret, err = cluster.Client.CoreV1().Secrets(ns).Get(ctx, render.SSLSecretName(name), metav1.GetOptions{})
		return err == nil, nil
	})
	return secret
}

// directTLSClient reaches the REST API of cluster name straight at its JobManager Pod
// (whichever runs now), verifying its certificate for the REST Service's name with the
// Secret's CA and presenting the Secret's client certificate when clientCertificate —
// as an operator in the cluster does. The API server's proxy can do neither.
func directTLSClient(t *testing.T, ns, name string, secret *corev1.Secret, clientCertificate bool) *flinkrest.Client {
	t.Helper()
	m, err := flinktls.Material(secret, clientCertificate)
	require.NoError(t, err)
	cfg, err := m.Config()
	require.NoError(t, err)
	transport := &http.Transport{TLSClientConfig: cfg, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		ip, err := jobManagerPodIP(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(ip, port))
	}}
	t.Cleanup(transport.CloseIdleConnections)
	flink, err := flinkrest.New(fmt.Sprintf("https://%s.%s.svc:8081", render.RESTServiceName(name), ns),
		flinkrest.WithHTTPClient(&http.Client{Transport: transport}), flinkrest.WithAttempts(1, 0), flinkrest.WithTimeout(10*time.Second))
	require.NoError(t, err)
	return flink
}

// jobManagerPodIP is the address of the running JobManager Pod of cluster name.
func jobManagerPodIP(ctx context.Context, ns, name string) (string, error) {
	pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name + ",component=jobmanager"})
	if err != nil {
		return "", err
	}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
			return p.Status.PodIP, nil
		}
	}
	return "", fmt.Errorf("no running JobManager Pod of %s", name)
}

// proveTLSRefusals checks that Flink's REST API speaks TLS only, and asks for a client
// certificate: a client without one, and a plain HTTP one, are turned away.
func proveTLSRefusals(t *testing.T, ns, name string, secret *corev1.Secret) {
	t.Helper()
	_, err := directTLSClient(t, ns, name, secret, false).Jobs(t.Context())
	require.Error(t, err, "a client without a certificate is refused")
	require.True(t, flinkrest.IsTLSFailure(err), "refused in the handshake: %v", err)
	ip, err := jobManagerPodIP(t.Context(), ns, name)
	require.NoError(t, err)
	plain, err := flinkrest.New("http://"+net.JoinHostPort(ip, "8081"), flinkrest.WithAttempts(1, 0), flinkrest.WithTimeout(10*time.Second))
	require.NoError(t, err)
	_, err = plain.Jobs(t.Context())
	require.Error(t, err, "no plain HTTP")
}

// replaceCA puts another CA's certificate into the Secret's ca.crt (the keystores Flink
// read stay) and returns the one it replaced.
func replaceCA(t *testing.T, ns, name string, ca []byte) []byte {
	t.Helper()
	secrets := cluster.Client.CoreV1().Secrets(ns)
	secret, err := secrets.Get(t.Context(), render.SSLSecretName(name), metav1.GetOptions{})
	require.NoError(t, err)
	old := secret.Data[flinktls.CAKey]
	secret.Data[flinktls.CAKey] = ca
	_, err = secrets.Update(t.Context(), secret, metav1.UpdateOptions{})
	require.NoError(t, err)
	return old
}

// otherCA is the certificate of a CA that signed nothing of the cluster's.
func otherCA(t *testing.T) []byte {
	t.Helper()
	data, err := flinktls.Generate("stranger", []string{"stranger"}, time.Now())
	require.NoError(t, err)
	return data[flinktls.CAKey]
}

// proveRESTOverTLS checks that cluster name's Flink runs its REST API and internal
// connections over TLS with the keystores of the generated Secret — Flink reports so,
// and a plain HTTP client gets no answer — and that its TaskManagers, Pods Flink
// itself created, mounted the Secret.
func proveRESTOverTLS(t *testing.T, ns, name string, overTLS *flinkrest.Client) {
	t.Helper()
	conf, err := overTLS.JobManagerConfig(t.Context())
	require.NoError(t, err)
	for _, key := range []string{"security.ssl.rest.enabled", "security.ssl.internal.enabled"} {
		require.Equal(t, "true", conf[key], key)
	}
	require.Equal(t, "/opt/flink/ssl/keystore.p12", conf["security.ssl.internal.keystore"])
	plain := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName(name), "rest")
	_, err = plain.Jobs(t.Context())
	require.Error(t, err, "plain HTTP gets no answer")
	tms, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + name + ",component=taskmanager"})
	require.NoError(t, err)
	require.NotEmpty(t, tms.Items)
	for _, tm := range tms.Items {
		mounted := slices.ContainsFunc(tm.Spec.Volumes, func(v corev1.Volume) bool {
			return v.Secret != nil && v.Secret.SecretName == render.SSLSecretName(name)
		})
		require.True(t, mounted, "TaskManager %s mounts the TLS Secret", tm.Name)
	}
}

// secretMaterial are pieces of the generated TLS Secret of cluster name that must
// show nowhere else: a line of its private key, and of its keystore as base64.
func secretMaterial(t *testing.T, ns, name string) []string {
	t.Helper()
	secret := tlsSecret(t, ns, name)
	keyLines := strings.Split(string(secret.Data[flinktls.PrivateKeyKey]), "\n")
	require.Greater(t, len(keyLines), 3)
	keystore := base64.StdEncoding.EncodeToString(secret.Data[flinktls.KeystoreKey])
	return []string{keyLines[2], keystore[64:128]}
}

// operatorPodLogs writes the logs of the operator's Pods in ns (all their containers'
// current logs) into one file, and returns its path.
func operatorPodLogs(t *testing.T, ns string) string {
	t.Helper()
	pods, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=flok-operator"})
	require.NoError(t, err)
	var all []byte
	for _, p := range pods.Items {
		data, err := cluster.Client.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{}).DoRaw(t.Context())
		require.NoError(t, err, "the log of %s", p.Name)
		all = append(all, data...)
	}
	require.NotEmpty(t, all)
	path := filepath.Join(t.TempDir(), "operator.log")
	require.NoError(t, os.WriteFile(path, all, 0o600))
	return path
}
