package render

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/flinktls"
)

// Options of TLS: Flink's own, and Flok's for the Secret that holds the certificates.
const (
	keySSLSecret      = "kubernetes.operator.ssl.secret"
	keySSLGenerate    = "kubernetes.operator.ssl.generate"
	keyRESTSSL        = "security.ssl.rest.enabled"
	keyRESTClientAuth = "security.ssl.rest.authentication-enabled"
	keyInternalSSL    = "security.ssl.internal.enabled"
	// keySSLBefore2 turns on both planes before Flink 2.0, where the keys above are unset.
	keySSLBefore2    = "security.ssl.enabled"
	keySSLAlgorithms = "security.ssl.algorithms"
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
	generate := false
	if v := strings.TrimSpace(conf[keySSLGenerate]); v != "" {
		var err error
		if generate, err = strconv.ParseBool(v); err != nil {
			return nil, field.ErrorList{field.Invalid(path.Key(keySSLGenerate), v, "must be true or false")}
		}
	}
	t := &TLS{Secret: strings.TrimSpace(conf[keySSLSecret]), Generate: generate,
		REST: c.sslOn(conf, keyRESTSSL), ClientAuth: flinkconf.IsTrue(conf[keyRESTClientAuth])}
	if t.Generate && t.Secret == "" {
		t.Secret = SSLSecretName(c.name())
	}
	if t.Secret == "" {
		if t.REST {
			return nil, field.ErrorList{field.Required(path.Key(keySSLSecret), "Flink's REST API speaks TLS (security.ssl.rest.enabled): Flok verifies the JobManager's certificate with the CA of a Secret (ca.crt); name it here, or set "+keySSLGenerate+": true to have Flok create one")}
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
	// Each plane's option falls back to security.ssl.<option>, as Flink reads it.
	set := func(plane, option string) bool {
		return strings.TrimSpace(conf["security.ssl."+plane+"."+option]) != "" || strings.TrimSpace(conf["security.ssl."+option]) != ""
	}
	var errs field.ErrorList
	planes := map[string]bool{"rest": t.REST, "internal": c.sslOn(conf, keyInternalSSL)}
	for _, plane := range []string{"rest", "internal"} {
		if !planes[plane] {
			continue
		}
		prefix := "security.ssl." + plane + "."
		for option, file := range map[string]string{"keystore": flinktls.KeystoreKey, "truststore": flinktls.TruststoreKey} {
			if !set(plane, option) {
				out[prefix+option] = dir + "/" + file
			}
		}
		for _, pw := range []string{"keystore-password", "key-password", "truststore-password"} {
			switch {
			case set(plane, pw):
			case t.Generate:
				out[prefix+pw] = flinktls.GeneratedPassword
			default:
				errs = append(errs, field.Required(path.Key(prefix+pw), fmt.Sprintf("set it or security.ssl.%s: %s of Secret %s (Flink reads no keystore without one)", pw, passwordOf[pw], t.Secret)))
			}
		}
		if strings.TrimSpace(conf[keySSLAlgorithms]) == "" {
			out[keySSLAlgorithms] = sslAlgorithms
		}
	}
	return out, errs
}

var passwordOf = map[string]string{
	"keystore-password":   "the password of " + flinktls.KeystoreKey,
	"key-password":        "the password of the private key in " + flinktls.KeystoreKey,
	"truststore-password": "the password of " + flinktls.TruststoreKey,
}

// sslOn reads whether a plane speaks TLS (key is security.ssl.rest.enabled or
// security.ssl.internal.enabled) as the cluster's Flink reads it: before 2.0 the
// deprecated security.ssl.enabled stands for both where key is unset; Flink 2.0
// removed it.
func (c *cluster) sslOn(conf flinkconf.Config, key string) bool {
	if v := strings.TrimSpace(conf[key]); v != "" {
		return flinkconf.IsTrue(v)
	}
	return c.version.Major < 2 && flinkconf.IsTrue(conf[keySSLBefore2])
}

// restOverTLS reports a REST API that speaks TLS (a cluster without a TLS Secret has
// none: it does not render).
func (c *cluster) restOverTLS() bool { return c.ssl != nil && c.ssl.REST }
