package flinktls

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/flok-dev/flok/internal/flinkrest"
)

// flinkLike serves HTTPS with a generated Secret's certificate, asking clients for
// theirs when clientAuth (as Flink with security.ssl.rest.authentication-enabled).
func flinkLike(t *testing.T, data map[string][]byte, clientAuth bool) *httptest.Server {
	t.Helper()
	pair, err := tls.X509KeyPair(data[CertKey], data[PrivateKeyKey])
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"jobs":[]}`)) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	if clientAuth {
		m, err := Material(&corev1.Secret{Data: data}, false)
		require.NoError(t, err)
		cfg, err := m.Config()
		require.NoError(t, err)
		srv.TLS.ClientCAs, srv.TLS.ClientAuth = cfg.RootCAs, tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// clientOf is a client of srv that trusts the CA of a Secret's data, and shows its
// certificate when clientCertificate.
func clientOf(t *testing.T, data map[string][]byte, clientCertificate bool, srv *httptest.Server) *flinkrest.Client {
	t.Helper()
	m, err := Material(&corev1.Secret{Data: data}, clientCertificate)
	require.NoError(t, err)
	cfg, err := m.Config()
	require.NoError(t, err)
	c, err := flinkrest.New(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1),
		flinkrest.WithHTTPClient(flinkrest.NewManyClustersHTTPClient(cfg)), flinkrest.WithAttempts(1, 0))
	require.NoError(t, err)
	return c
}

func TestGeneratedSecretServesAndVerifies(t *testing.T) {
	data, err := Generate("orders", []string{"localhost", "orders-rest.streaming.svc"}, time.Now())
	require.NoError(t, err)
	for _, key := range []string{CAKey, CertKey, PrivateKeyKey, KeystoreKey, TruststoreKey} {
		require.NotEmpty(t, data[key], key)
	}
	// What Flink reads: the keystore holds the key and the certificate signed by the
	// CA, the truststore the CA.
	key, leaf, chain, err := pkcs12.DecodeChain(data[KeystoreKey], GeneratedPassword)
	require.NoError(t, err)
	require.NotNil(t, key)
	require.Equal(t, []string{"localhost", "orders-rest.streaming.svc"}, leaf.DNSNames)
	trusted, err := pkcs12.DecodeTrustStore(data[TruststoreKey], GeneratedPassword)
	require.NoError(t, err)
	require.Len(t, trusted, 1)
	require.Equal(t, chain[0].Raw, trusted[0].Raw)
	require.NoError(t, leaf.CheckSignatureFrom(trusted[0]))

	for _, clientAuth := range []bool{false, true} {
		_, err = clientOf(t, data, clientAuth, flinkLike(t, data, clientAuth)).Jobs(t.Context())
		require.NoError(t, err, "client certificate asked: %v", clientAuth)
	}

	// Another CA's certificate is refused, and the failure is told apart from silence.
	other, err := Generate("other", []string{"localhost"}, time.Now())
	require.NoError(t, err)
	_, err = clientOf(t, data, false, flinkLike(t, other, false)).Jobs(t.Context())
	require.ErrorContains(t, err, "certificate signed by unknown authority")
	require.True(t, flinkrest.IsTLSFailure(err))
}

func TestMaterialNamesWhatIsMissing(t *testing.T) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "streaming", Name: "certs"}, Data: map[string][]byte{CAKey: []byte("x")}}
	_, err := Material(secret, false)
	require.NoError(t, err)
	_, err = Material(secret, true)
	require.EqualError(t, err, "secret streaming/certs has no tls.crt: the PEM certificate Flok presents to Flink, whose REST API asks clients for one (security.ssl.rest.authentication-enabled)")
	delete(secret.Data, CAKey)
	_, err = Material(secret, false)
	require.ErrorContains(t, err, "secret streaming/certs has no ca.crt")
	_, err = flinkrest.TLSMaterial{CA: []byte("not PEM")}.Config()
	require.EqualError(t, err, "the CA holds no PEM certificate")
}

func TestClientsReadTheSecretAgainAfterAHandshakeFailed(t *testing.T) {
	right, err := Generate("orders", []string{"localhost"}, time.Now())
	require.NoError(t, err)
	wrong, err := Generate("orders", []string{"localhost"}, time.Now())
	require.NoError(t, err)
	srv := flinkLike(t, right, false)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "streaming", Name: "orders-ssl"}, Data: wrong}
	reader := fake.NewClientBuilder().WithObjects(secret).Build()
	clients := &Clients{Reader: reader}
	name := types.NamespacedName{Namespace: "streaming", Name: "orders-ssl"}
	call := func() error {
		h, err := clients.For(context.Background(), name, false)
		require.NoError(t, err)
		c, _ := flinkrest.New(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), flinkrest.WithHTTPClient(h), flinkrest.WithAttempts(1, 0))
		_, err = c.Jobs(t.Context())
		return err
	}
	require.ErrorContains(t, call(), "unknown authority")
	secret.Data = right
	require.NoError(t, reader.Update(context.Background(), secret))
	require.NoError(t, call(), "the corrected CA is read at once after the failure")

	_, err = clients.For(context.Background(), types.NamespacedName{Namespace: "streaming", Name: "missing"}, false)
	require.ErrorContains(t, err, `reading the TLS Secret streaming/missing: secrets "missing" not found`)
	var config *ConfigError
	require.ErrorAs(t, err, &config, "a missing Secret does not pass by waiting")
}

func TestRefusedClientCertificateIsATLSFailure(t *testing.T) {
	data, err := Generate("orders", []string{"localhost"}, time.Now())
	require.NoError(t, err)
	_, err = clientOf(t, data, false, flinkLike(t, data, true)).Jobs(t.Context())
	require.Error(t, err, "no client certificate shown")
	require.True(t, flinkrest.IsTLSFailure(err), "%v", err)
}
