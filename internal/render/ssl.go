package render

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/flinktls"
)

// Options of TLS: Flink's own, and Flok's for the Secret that holds the certificates.
const (
	keySSLSecret         = "kubernetes.operator.ssl.secret"
	keySSLGenerate       = "kubernetes.operator.ssl.generate"
	keyRESTSSL           = "security.ssl.rest.enabled"
	keyRESTClientAuth    = "security.ssl.rest.authentication-enabled"
	keyInternalSSL       = "security.ssl.internal.enabled"
	keyInternalSSLBefore = "security.ssl.enabled" // the deprecated name of the one above
	keySSLAlgorithms     = "security.ssl.algorithms"
	// sslMountDir is where the TLS Secret is mounted in Flink's Pods, unless
	// kubernetes.secrets already mounts it elsewhere.
	sslMountDir = "/opt/flink/ssl"
)

// sslAlgorithms replace Flink's default cipher suite (TLS_RSA_WITH_AES_128_CBC_SHA,
// without forward secrecy, which Go's clients — the operator's, the CLI's — no
// longer offer) unless security.ssl.algorithms is set: suites both Java 17 and Go
// speak, for RSA and ECDSA keys.
const sslAlgorithms = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384," +
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"

// TLS says how a cluster uses the certificates of its TLS Secret.
type TLS struct {
	// Secret is the name of the Secret: ca.crt (and tls.crt, tls.key), keystore.p12,
	// truststore.p12.
	Secret string
	// Generate: Flok creates the Secret when it is missing (kubernetes.operator.ssl.generate),
	// with a certificate for DNSNames.
	Generate bool
	DNSNames []string
	// REST: Flink's REST API speaks TLS (security.ssl.rest.enabled); ClientAuth: it asks
	// clients for a certificate (security.ssl.rest.authentication-enabled).
	REST, ClientAuth bool
}

// SSLSecretName is the Secret Flok generates for a cluster's certificates when
// kubernetes.operator.ssl.generate is on and kubernetes.operator.ssl.secret is unset.
func SSLSecretName(cluster string) string { return cluster + "-ssl" }

// tlsSettings reads the cluster's TLS settings from its configuration; nil when it
// names no Secret.
func (c *cluster) tlsSettings(conf flinkconf.Config) (*TLS, field.ErrorList) {
	path := field.NewPath("spec", "flinkConfiguration")
	t := &TLS{Secret: strings.TrimSpace(conf[keySSLSecret]), Generate: isTrue(conf[keySSLGenerate]),
		REST: isTrue(conf[keyRESTSSL]), ClientAuth: isTrue(conf[keyRESTClientAuth])}
	if t.Generate && t.Secret == "" {
		t.Secret = SSLSecretName(c.name())
	}
	if t.Secret == "" {
		if t.REST {
			return nil, field.ErrorList{field.Required(path.Key(keySSLSecret), "security.ssl.rest.enabled is true: Flok verifies the JobManager's certificate with the CA of a Secret (ca.crt); name it here, or set "+keySSLGenerate+": true to have Flok create one")}
		}
		return nil, nil
	}
	if msgs := validation.IsDNS1123Subdomain(t.Secret); len(msgs) > 0 {
		return nil, field.ErrorList{field.Invalid(path.Key(keySSLSecret), t.Secret, "a Secret's name: "+strings.Join(msgs, "; "))}
	}
	svc := RESTServiceName(c.name())
	for _, host := range []string{svc, c.name()} {
		t.DNSNames = append(t.DNSNames, host, host+"."+c.namespace(), host+"."+c.namespace()+".svc", host+"."+c.namespace()+".svc.cluster.local")
	}
	return t, nil
}

// sslOptions mount the TLS Secret in Flink's Pods (through kubernetes.secrets, so that
// Flink's own TaskManagers have it too) and point each plane that speaks TLS (REST,
// internal) at its keystores, where the user did not set them.
func (c *cluster) sslOptions(conf flinkconf.Config, t *TLS) (flinkconf.Config, field.ErrorList) {
	if t == nil {
		return nil, nil
	}
	path := field.NewPath("spec", "flinkConfiguration")
	secrets, err := parseMap(conf[keySecrets])
	if err != nil {
		return nil, field.ErrorList{field.Invalid(path.Key(keySecrets), conf[keySecrets], err.Error())}
	}
	out := flinkconf.Config{}
	dir, mounted := secrets[t.Secret]
	if !mounted {
		dir = sslMountDir
		out[keySecrets] = strings.TrimPrefix(conf[keySecrets]+","+t.Secret+":"+dir, ",")
	}
	dir = strings.TrimRight(dir, "/")
	setDefault := func(key, value string) {
		if strings.TrimSpace(conf[key]) == "" {
			out[key] = value
		}
	}
	var errs field.ErrorList
	planes := map[string]bool{"rest": t.REST, "internal": isTrue(conf[keyInternalSSL]) || isTrue(conf[keyInternalSSLBefore])}
	for _, plane := range []string{"rest", "internal"} {
		if !planes[plane] {
			continue
		}
		prefix := "security.ssl." + plane + "."
		setDefault(prefix+"keystore", dir+"/"+flinktls.KeystoreKey)
		setDefault(prefix+"truststore", dir+"/"+flinktls.TruststoreKey)
		for _, pw := range []string{"keystore-password", "key-password", "truststore-password"} {
			switch {
			case conf[prefix+pw] != "" || conf["security.ssl."+pw] != "":
			case t.Generate:
				out[prefix+pw] = flinktls.GeneratedPassword
			default:
				errs = append(errs, field.Required(path.Key(prefix+pw), "the password of the keystores in Secret "+t.Secret+" (Flink reads no keystore without one)"))
			}
		}
		setDefault(keySSLAlgorithms, sslAlgorithms)
	}
	return out, errs
}
