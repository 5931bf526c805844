package localk8s

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// identity is a client certificate's subject: Kubernetes reads the user from the common
// name and the groups from the organizations.
type identity struct {
	file   string
	user   string
	groups []string
}

// The identities of the cluster's clients. The controller manager and the scheduler use
// their own users so that they run under Kubernetes' bootstrap RBAC policy, as they do
// in a real cluster.
var (
	adminIdentity      = identity{file: "admin", user: "flok-admin", groups: []string{"system:masters"}}
	controllerIdentity = identity{file: "kube-controller-manager", user: "system:kube-controller-manager"}
	schedulerIdentity  = identity{file: "kube-scheduler", user: "system:kube-scheduler"}
)

// pki holds the files of the cluster's certificate authority, written to dir.
type pki struct {
	dir    string
	ca     *x509.Certificate
	caKey  crypto.Signer
	caPEM  []byte
	client map[string]keyPair // by identity file name
}

// keyPair is a PEM-encoded certificate and its private key.
type keyPair struct {
	certPEM, keyPEM []byte
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

// newPKI creates a CA, the API server's serving certificate, a client certificate per
// identity and the service-account signing key pair. ECDSA P-256 keeps generation fast
// where every client accepts it.
func newPKI(dir, kubernetesServiceIP string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTemplate := certTemplate("flok-localk8s-ca")
	caTemplate.IsCA = true
	caTemplate.BasicConstraintsValid = true
	caTemplate.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p := &pki{dir: dir, ca: ca, caKey: caKey, client: map[string]keyPair{}}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	caKeyPEM, err := encodeKey(caKey)
	if err != nil {
		return nil, err
	}
	if err := p.write("ca", keyPair{certPEM: p.caPEM, keyPEM: caKeyPEM}); err != nil {
		return nil, err
	}
	if err := p.writeServingCert(kubernetesServiceIP); err != nil {
		return nil, err
	}
	for _, id := range []identity{adminIdentity, controllerIdentity, schedulerIdentity} {
		pair, err := p.issueRSA(clientTemplate(id))
		if err != nil {
			return nil, err
		}
		p.client[id.file] = pair
		if err := p.write(id.file, pair); err != nil {
			return nil, err
		}
	}
	return p, p.writeServiceAccountKeys()
}

// writeServingCert issues the API server's certificate for loopback and for the names
// and ClusterIP under which Pods reach it.
func (p *pki) writeServingCert(kubernetesServiceIP string) error {
	t := certTemplate("kube-apiserver")
	t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	t.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(kubernetesServiceIP)}
	t.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local"}
	pair, err := p.issue(t)
	if err != nil {
		return err
	}
	return p.write("apiserver", pair)
}

func (p *pki) writeServiceAccountKeys() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	if err := os.WriteFile(p.path("sa.key"), keyPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(p.path("sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600)
}

// issue signs a new key with the CA.
func (p *pki) issue(t *x509.Certificate) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	der, err := x509.CreateCertificate(rand.Reader, t, p.ca, key.Public(), p.caKey)
	if err != nil {
		return keyPair{}, fmt.Errorf("sign certificate for %q: %w", t.Subject.CommonName, err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM: keyPEM}, nil
}

// issueRSA signs a new RSA key with the CA. Client certificates use RSA: it is what
// kubeadm issues, and the Kubernetes client inside Flink 1.x reads EC keys only with
// BouncyCastle, which Flink does not ship.
func (p *pki) issueRSA(t *x509.Certificate) (keyPair, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return keyPair{}, err
	}
	der, err := x509.CreateCertificate(rand.Reader, t, p.ca, key.Public(), p.caKey)
	if err != nil {
		return keyPair{}, fmt.Errorf("sign certificate for %q: %w", t.Subject.CommonName, err)
	}
	return keyPair{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}, nil
}

// write stores a pair as <name>.crt and <name>.key.
func (p *pki) write(name string, pair keyPair) error {
	if err := os.WriteFile(p.path(name+".crt"), pair.certPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(p.path(name+".key"), pair.keyPEM, 0o600)
}

func certTemplate(commonName string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
}

func clientTemplate(id identity) *x509.Certificate {
	t := certTemplate(id.user)
	t.Subject.Organization = id.groups
	t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return t
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}
