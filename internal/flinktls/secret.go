package flinktls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	corev1 "k8s.io/api/core/v1"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/flok-dev/flok/internal/flinkrest"
)

// The keys of a cluster's TLS Secret: PEM as cert-manager writes them, and PKCS #12
// keystores as Flink reads them (cert-manager writes those too when asked).
const (
	CAKey         = "ca.crt"
	CertKey       = corev1.TLSCertKey
	PrivateKeyKey = corev1.TLSPrivateKeyKey
	KeystoreKey   = "keystore.p12"
	TruststoreKey = "truststore.p12"
)

// GeneratedPassword protects the keystores of a Secret Flok generates. Java's PKCS #12
// keystores need a password and Flink reads it from its configuration, which lives in
// a ConfigMap; the keystores live only in the Secret, so it is the Secret's access
// rights that protect the key, not this password.
const GeneratedPassword = "flok-generated"

// validity is how long generated certificates last. Flok does not renew them: a
// Secret deleted is generated anew at the cluster's next deployment.
const validity = 10 * 365 * 24 * time.Hour

// Generate makes the data of a cluster's TLS Secret: a CA of its own, a certificate
// it signs (ECDSA P-256 keys: made in a millisecond, spoken by Java and Go) for dnsNames (for servers and clients alike — Flink's internal connections
// authenticate both ends), and the keystore (that certificate and its key) and
// truststore (the CA) Flink reads, with GeneratedPassword.
func Generate(cluster string, dnsNames []string, now time.Time) (map[string][]byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cluster + " CA (Flok)"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	ca, err := sign(caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf, err := sign(&x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cluster}, DNSNames: dnsNames,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keystore, err := pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{ca}, GeneratedPassword)
	if err != nil {
		return nil, fmt.Errorf("the keystore: %w", err)
	}
	truststore, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca}, GeneratedPassword)
	if err != nil {
		return nil, fmt.Errorf("the truststore: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		CAKey:         pemBlock("CERTIFICATE", ca.Raw),
		CertKey:       pemBlock("CERTIFICATE", leaf.Raw),
		PrivateKeyKey: pemBlock("PRIVATE KEY", keyDER),
		KeystoreKey:   keystore,
		TruststoreKey: truststore,
	}, nil
}

func sign(template, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

// Material reads from a cluster's TLS Secret what the operator needs to talk to Flink:
// the CA, and the client certificate and key when Flink asks clients for one. A key
// that is missing is an error naming the Secret and the key.
func Material(secret *corev1.Secret, clientCertificate bool) (flinkrest.TLSMaterial, error) {
	need := []string{CAKey}
	if clientCertificate {
		need = append(need, CertKey, PrivateKeyKey)
	}
	for _, key := range need {
		if len(secret.Data[key]) == 0 {
			return flinkrest.TLSMaterial{}, fmt.Errorf("secret %s/%s has no %s: %s", secret.Namespace, secret.Name, key, why[key])
		}
	}
	m := flinkrest.TLSMaterial{CA: secret.Data[CAKey]}
	if clientCertificate {
		m.Cert, m.Key = secret.Data[CertKey], secret.Data[PrivateKeyKey]
	}
	return m, nil
}

var why = map[string]string{
	CAKey:         "the PEM certificate of the CA that signed the JobManager's, with which Flok verifies it",
	CertKey:       "the PEM certificate Flok presents to Flink, whose REST API asks clients for one (security.ssl.rest.authentication-enabled)",
	PrivateKeyKey: "the PEM key of the certificate Flok presents to Flink (security.ssl.rest.authentication-enabled)",
}
