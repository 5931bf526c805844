package flinktls

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/internal/flinkrest"
)

// rereadAfter is how long a Secret read is trusted before it is read again: a CA
// replaced in the Secret is taken up within it, or at once after a handshake failed.
const rereadAfter = 5 * time.Minute

// Clients keeps an HTTP client per TLS Secret for an operator that reaches
// JobManagers directly: it trusts the Secret's CA and presents its client certificate
// when one is asked for. Secrets are read with Reader — not through a cache, so the
// operator neither watches nor keeps every Secret of the cluster — at most once per
// rereadAfter each, and again after Forget.
type Clients struct {
	Reader client.Reader
	Now    func() time.Time

	mu      sync.Mutex
	clients map[clientKey]cachedClient
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
	now := c.now()
	c.mu.Lock()
	cached, ok := c.clients[key]
	c.mu.Unlock()
	if ok && now.Sub(cached.read) < rereadAfter {
		return cached.http, nil
	}
	s := &corev1.Secret{}
	if err := c.Reader.Get(ctx, secret, s); err != nil {
		return nil, fmt.Errorf("reading the TLS Secret %s: %w", secret, err)
	}
	material, err := Material(s, clientCertificate)
	if err != nil {
		return nil, err
	}
	cfg, err := material.Config()
	if err != nil {
		return nil, fmt.Errorf("the TLS Secret %s: %w", secret, err)
	}
	h := flinkrest.NewManyClustersHTTPClient(cfg)
	h.Transport = forgetOnTLSFailure{next: h.Transport, forget: func() { c.Forget(secret) }}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil {
		c.clients = map[clientKey]cachedClient{}
	}
	if old, ok := c.clients[key]; ok {
		old.http.CloseIdleConnections()
	}
	c.clients[key] = cachedClient{http: h, read: now}
	return h, nil
}

// Forget drops what was read of secret: the next client reads it again (after a
// handshake failed, say, the CA may have been replaced).
func (c *Clients) Forget(secret types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
