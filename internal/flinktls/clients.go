package flinktls

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/internal/flinkrest"
)

// rereadAfter is how long a Secret read is trusted before it is read again: a CA
// replaced in the Secret is taken up within it, or at once after a handshake failed.
const rereadAfter = 5 * time.Minute

// ConfigError is a TLS configuration that cannot work as it stands — its Secret
// missing or not readable by the operator, a key of it missing or unreadable, a client
// certificate the way to Flink cannot show — unlike a passing failure (an API server
// slow to answer), which the next round may not meet.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Clients keeps an HTTP client per TLS Secret for an operator that reaches
// JobManagers directly: it trusts the Secret's CA and presents its client certificate
// when one is asked for. Secrets are read with Reader — not through a cache, so the
// operator neither watches nor keeps every Secret of the cluster — once per
// rereadAfter while handshakes succeed (one read for all the rounds that need it at
// once), and again after a handshake failed.
type Clients struct {
	Reader client.Reader
	Now    func() time.Time

	mu      sync.Mutex
	clients map[clientKey]cachedClient
	// forgotten counts Forget calls per Secret: a read that began before one is not
	// kept, as it may hold what was forgotten.
	forgotten map[types.NamespacedName]int
	reads     singleflight.Group
}

type clientKey struct {
	secret            types.NamespacedName
	clientCertificate bool
}

type cachedClient struct {
	http *http.Client
	read time.Time
}

// For returns the HTTP client for clusters whose TLS Secret is secret.
func (c *Clients) For(ctx context.Context, secret types.NamespacedName, clientCertificate bool) (*http.Client, error) {
	key := clientKey{secret, clientCertificate}
	c.mu.Lock()
	cached, ok := c.clients[key]
	c.mu.Unlock()
	if ok && c.now().Sub(cached.read) < rereadAfter {
		return cached.http, nil
	}
	h, err, _ := c.reads.Do(fmt.Sprintf("%s/%t", secret, clientCertificate), func() (any, error) {
		return c.read(ctx, key)
	})
	if err != nil {
		return nil, err
	}
	return h.(*http.Client), nil
}

// read reads the Secret and keeps the client made from it.
func (c *Clients) read(ctx context.Context, key clientKey) (*http.Client, error) {
	c.mu.Lock()
	generation := c.forgotten[key.secret]
	c.mu.Unlock()
	now := c.now()
	s := &corev1.Secret{}
	if err := c.Reader.Get(ctx, key.secret, s); err != nil {
		err = fmt.Errorf("reading the TLS Secret %s: %w", key.secret, err)
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			return nil, &ConfigError{Err: err}
		}
		return nil, err
	}
	material, err := Material(s, key.clientCertificate)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	cfg, err := material.Config()
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("the TLS Secret %s: %w", key.secret, err)}
	}
	h := flinkrest.NewManyClustersHTTPClient(cfg)
	h.Transport = forgetOnTLSFailure{next: h.Transport, forget: func() { c.Forget(key.secret) }}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forgotten[key.secret] != generation {
		return h, nil // used once, not kept
	}
	if c.clients == nil {
		c.clients = map[clientKey]cachedClient{}
	}
	for k, old := range c.clients {
		// Replaced, or of a cluster gone: no cluster asked for it for a while.
		if k == key || now.Sub(old.read) >= 2*rereadAfter {
			old.http.CloseIdleConnections()
			delete(c.clients, k)
		}
	}
	c.clients[key] = cachedClient{http: h, read: now}
	return h, nil
}

// Forget drops what was read of secret: the next client reads it again (after a
// handshake failed, say, the CA may have been replaced).
func (c *Clients) Forget(secret types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forgotten == nil {
		c.forgotten = map[types.NamespacedName]int{}
	}
	c.forgotten[secret]++
	for key, cached := range c.clients {
		if key.secret == secret {
			cached.http.CloseIdleConnections()
			delete(c.clients, key)
		}
	}
}

func (c *Clients) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// forgetOnTLSFailure has the Secret read again after a handshake failed: the CA or
// certificate that failed may have been replaced since.
type forgetOnTLSFailure struct {
	next   http.RoundTripper
	forget func()
}

func (f forgetOnTLSFailure) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.next.RoundTrip(req)
	if err != nil && flinkrest.IsTLSFailure(err) {
		f.forget()
	}
	return resp, err
}
