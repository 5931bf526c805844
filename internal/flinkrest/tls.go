package flinkrest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// TLSMaterial is what a client needs to speak TLS to a JobManager whose REST API uses
// it (security.ssl.rest.enabled): the certificate of the CA that signed the
// JobManager's certificate and, when Flink asks clients for a certificate
// (security.ssl.rest.authentication-enabled), the client's own certificate and key.
// All PEM.
type TLSMaterial struct {
	CA   []byte
	Cert []byte // empty: no client certificate
	Key  []byte
}

// Config is the client's TLS configuration: only the CA is trusted, and TLS 1.2 at
// least (Flink's security.ssl.protocol default).
func (m TLSMaterial) Config() (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(m.CA) {
		return nil, errors.New("the CA holds no PEM certificate")
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if len(m.Cert) > 0 {
		pair, err := tls.X509KeyPair(m.Cert, m.Key)
		if err != nil {
			return nil, fmt.Errorf("the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// IsTLSFailure reports an error of the TLS handshake with Flink: a certificate the
// client does not trust or that names another host, a client certificate Flink
// refused, or a JobManager that does not speak TLS. Waiting does not cure these.
func IsTLSFailure(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		header   tls.RecordHeaderError
	)
	if errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &header) {
		return true
	}
	// An alert the server sent (a client certificate it refused: "remote error: tls:
	// bad certificate") comes as the operation "remote error".
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// NewManyClustersHTTPClient returns an HTTP client to share among the clients of many
// clusters: it keeps an idle connection to every JobManager it talks to (Go's default
// keeps 100 in all, so an operator observing thousands of clusters would connect anew
// for almost every request). tlsConfig is for JobManagers whose REST API speaks TLS
// (nil for those that do not).
func NewManyClustersHTTPClient(tlsConfig *tls.Config) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 0, 2
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig
	}
	return &http.Client{Transport: t}
}
