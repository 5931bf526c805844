package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Keys of the CA Secret.
const (
	// keyCACert and keyCAKey are the CA that signs serving certificates.
	keyCACert = "ca.crt"
	keyCAKey  = "ca.key"
	// keyNextCACert and keyNextCAKey are the CA that replaces it once
	// annotationNextCAFrom has passed; until then it is only trusted.
	keyNextCACert = "next-ca.crt"
	keyNextCAKey  = "next-ca.key"
	// keyBundle is every CA the API server must trust: the signing one, the next one,
	// and a replaced one until it expires (replicas may still serve certificates it
	// signed).
	keyBundle            = "ca-bundle.crt"
	annotationNextCAFrom = "flok.dev/next-ca-from"
)

// Certs serves the webhook's certificate. It keeps a CA in a Secret (created by the
// first replica to need it), issues each replica a serving certificate of its own
// from it, renews that when two thirds of its life have passed, rotates the CA when
// two thirds of its life have passed — trusted first, signing only after
// TrustDelay, so that the API server never meets a certificate it does not trust
// yet — and patches the bundle of trusted CAs into the webhook configurations. It
// runs on every replica (all serve) and needs no cert-manager.
type Certs struct {
	// Client writes the Secret and the webhook configurations; Reader reads them
	// from the API server (the operator caches neither).
	Client client.Client
	Reader client.Reader
	// Namespace and SecretName locate the CA Secret.
	Namespace, SecretName string
	// Hosts are the names and addresses the certificate is valid for: the webhook
	// Service's DNS names in cluster, a loopback address out of cluster.
	Hosts []string
	// WebhookConfigurations are the ValidatingWebhookConfigurations whose webhooks
	// get the CA bundle.
	WebhookConfigurations []string
	// CAValidity and CertValidity are how long a CA and a serving certificate last;
	// TrustDelay is how long a new CA is trusted before it signs.
	CAValidity, CertValidity, TrustDelay time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	current atomic.Pointer[tls.Certificate]
}

// DefaultCAValidity, DefaultCertValidity and DefaultTrustDelay are the defaults of
// flok-operator's flags.
const (
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultCertValidity = 90 * 24 * time.Hour
	DefaultTrustDelay   = 5 * time.Minute
)

// retryAfterError is how soon a round that failed is tried again.
const retryAfterError = 5 * time.Second

// GetCertificate is the TLS server's certificate callback.
func (c *Certs) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if cert := c.current.Load(); cert != nil {
		return cert, nil
	}
	return nil, errors.New("the webhook's serving certificate is not issued yet")
}

// Ready is a readiness check: ready once a certificate is served.
func (c *Certs) Ready(*http.Request) error {
	_, err := c.GetCertificate(nil)
	return err
}

// NeedLeaderElection is false: every replica serves the webhook.
func (c *Certs) NeedLeaderElection() bool { return false }

// Start keeps the certificate, the CA and the bundle current until ctx ends.
func (c *Certs) Start(ctx context.Context) error {
	tick := min(c.CertValidity/20, time.Hour)
	for {
		wait := tick
		if err := c.Refresh(ctx); err != nil {
			// The API server away for a moment, say: try again soon, not in an hour.
			log.FromContext(ctx).Error(err, "keeping the webhook's certificate current")
			wait = min(tick, retryAfterError)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Refresh does one round: it reads (or creates) the CA Secret, rotates the CA when
// due, renews the serving certificate when due and patches the bundle.
func (c *Certs) Refresh(ctx context.Context) error {
	signer, bundle, err := c.authority(ctx)
	if err != nil {
		return err
	}
	// The bundle first: the API server must trust a CA before it meets a
	// certificate the CA signed (readiness waits on the first certificate).
	patchErr := c.patchBundles(ctx, bundle)
	if c.due(signer) {
		cert, err := signer.issue(c.Hosts, c.now(), c.CertValidity)
		if err != nil {
			return fmt.Errorf("issuing the serving certificate: %w", err)
		}
		c.current.Store(cert)
		log.FromContext(ctx).Info("webhook serving certificate issued", "hosts", c.Hosts, "notAfter", cert.Leaf.NotAfter, "ca", signer.cert.Subject.CommonName)
	}
	return patchErr
}

func (c *Certs) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// due reports a serving certificate to issue: none yet, two thirds of its life
// passed, or signed by another CA than signer.
func (c *Certs) due(signer *authority) bool {
	cert := c.current.Load()
	if cert == nil {
		return true
	}
	leaf := cert.Leaf
	return !c.now().Before(renewalTime(leaf)) || !bytes.Equal(leaf.RawIssuer, signer.cert.RawSubject)
}

// authority returns the CA that signs now and the bundle to trust, creating,
// rotating and promoting CAs in the Secret as due. A write that lost a race with
// another replica is read again.
func (c *Certs) authority(ctx context.Context) (*authority, []byte, error) {
	for attempt := 1; ; attempt++ {
		signer, bundle, err := c.readAuthority(ctx)
		switch {
		case err == nil && signer != nil:
			return signer, bundle, nil
		case err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsConflict(err):
			return nil, nil, fmt.Errorf("the webhook CA Secret %s/%s: %w", c.Namespace, c.SecretName, err)
		case attempt == 4:
			return nil, nil, fmt.Errorf("the webhook CA Secret %s/%s changed under every write; trying again later", c.Namespace, c.SecretName)
		}
	}
}

// readAuthority reads the Secret and returns its signer and bundle, or — having
// created or moved it on — nothing, to be read again.
func (c *Certs) readAuthority(ctx context.Context) (*authority, []byte, error) {
	secret := &corev1.Secret{}
	err := c.Reader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.SecretName}, secret)
	if apierrors.IsNotFound(err) {
		return nil, nil, c.createSecret(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	signer, changed, err := c.advance(secret)
	if err != nil || changed {
		if err == nil {
			err = c.Client.Update(ctx, secret)
		}
		return nil, nil, err
	}
	return signer, secret.Data[keyBundle], nil
}

func (c *Certs) createSecret(ctx context.Context) error {
	ca, err := newAuthority(c.now(), c.CAValidity)
	if err != nil {
		return err
	}
	key, err := ca.keyPEM()
	if err != nil {
		return err
	}
	return c.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: c.SecretName, Labels: map[string]string{"app.kubernetes.io/name": "flok-operator"}},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{keyCACert: ca.certPEM, keyCAKey: key, keyBundle: ca.certPEM},
	})
}

// advance moves the Secret's CAs on: a next CA whose time has come signs; a CA
// past two thirds of its life gets a next one; expired CAs leave the bundle. It
// reports whether the Secret changed (and must be written).
func (c *Certs) advance(secret *corev1.Secret) (*authority, bool, error) {
	now := c.now()
	signer, err := parseAuthority(secret.Data[keyCACert], secret.Data[keyCAKey])
	if err != nil {
		return nil, false, fmt.Errorf("reading its CA: %w (delete the Secret to make a new CA)", err)
	}
	changed := false
	if from, err := time.Parse(time.RFC3339, secret.Annotations[annotationNextCAFrom]); err == nil && !now.Before(from) {
		next, err := parseAuthority(secret.Data[keyNextCACert], secret.Data[keyNextCAKey])
		if err != nil {
			return nil, false, fmt.Errorf("reading its next CA: %w", err)
		}
		signer = next
		secret.Data[keyCACert], secret.Data[keyCAKey] = secret.Data[keyNextCACert], secret.Data[keyNextCAKey]
		delete(secret.Data, keyNextCACert)
		delete(secret.Data, keyNextCAKey)
		delete(secret.Annotations, annotationNextCAFrom)
		changed = true
	}
	if _, pending := secret.Data[keyNextCACert]; !pending && !now.Before(renewalTime(signer.cert)) {
		next, err := newAuthority(now, c.CAValidity)
		if err != nil {
			return nil, false, err
		}
		key, err := next.keyPEM()
		if err != nil {
			return nil, false, err
		}
		secret.Data[keyNextCACert], secret.Data[keyNextCAKey] = next.certPEM, key
		if secret.Annotations == nil {
			secret.Annotations = map[string]string{}
		}
		secret.Annotations[annotationNextCAFrom] = now.Add(c.TrustDelay).UTC().Format(time.RFC3339)
		changed = true
	}
	bundle := c.trusted(secret, now)
	if !bytes.Equal(bundle, secret.Data[keyBundle]) {
		secret.Data[keyBundle] = bundle
		changed = true
	}
	return signer, changed, nil
}

// trusted is the bundle the Secret should hold: its signing and next CAs and the
// unexpired CAs of its bundle, each once.
func (c *Certs) trusted(secret *corev1.Secret, now time.Time) []byte {
	var out []*x509.Certificate
	seen := map[string]bool{}
	add := func(certs []*x509.Certificate) {
		for _, cert := range certs {
			if key := string(cert.Raw); !seen[key] && now.Before(cert.NotAfter) {
				seen[key] = true
				out = append(out, cert)
			}
		}
	}
	add(parseBundle(secret.Data[keyCACert]))
	add(parseBundle(secret.Data[keyNextCACert]))
	add(parseBundle(secret.Data[keyBundle]))
	return encodeBundle(out)
}

// patchBundles sets bundle as the CA bundle of every webhook of the configurations.
// A configuration that does not exist (yet) is skipped.
func (c *Certs) patchBundles(ctx context.Context, bundle []byte) error {
	var errs []error
	for _, name := range c.WebhookConfigurations {
		cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := c.Reader.Get(ctx, client.ObjectKey{Name: name}, cfg); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
			continue
		}
		patch := client.MergeFromWithOptions(cfg.DeepCopy(), client.MergeFromWithOptimisticLock{})
		changed := false
		for i := range cfg.Webhooks {
			if !bytes.Equal(cfg.Webhooks[i].ClientConfig.CABundle, bundle) {
				cfg.Webhooks[i].ClientConfig.CABundle = bundle
				changed = true
			}
		}
		if changed {
			if err := c.Client.Patch(ctx, cfg, patch); err != nil {
				errs = append(errs, fmt.Errorf("patching the CA bundle of %s: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}
