package flinkrest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// Defaults for every client; Options change them.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultAttempts = 3
)

// Client calls one Flink JobManager's REST API.
type Client struct {
	base     string // URL prefix, without a trailing slash
	http     *http.Client
	timeout  time.Duration
	attempts int
	backoff  time.Duration
	observer Observer
}

// Observer is told about every HTTP call a Client makes (each attempt of a retried
// one): its method, endpoint (Endpoint of its path), HTTP status (0 when no answer
// came), whether it failed, and how long it took.
type Observer interface {
	ObserveRequest(method, endpoint string, code int, failed bool, took time.Duration)
}

// WithObserver reports every call to o.
func WithObserver(o Observer) Option { return func(c *Client) { c.observer = o } }

// Option adjusts a Client.
type Option func(*Client)

// WithTimeout bounds each HTTP call (each attempt of a retried one).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithAttempts sets how often a retryable call is tried (transport errors, 503 while a
// JobManager elects its leader), with back-off starting at backoff.
func WithAttempts(attempts int, backoff time.Duration) Option {
	return func(c *Client) { c.attempts, c.backoff = max(attempts, 1), backoff }
}

// WithHTTPClient replaces the HTTP client (for TLS settings, say).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New returns a client for the REST endpoint at baseURL, such as
// http://my-job-rest.flink.svc:8081.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("flinkrest: base URL %q: want scheme://host[:port]", baseURL)
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{}, timeout: DefaultTimeout,
		attempts: DefaultAttempts, backoff: 200 * time.Millisecond}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// NewServiceProxy returns a client that reaches a Flink REST Service through the
// Kubernetes API server's service proxy
// (/api/v1/namespaces/<namespace>/services/[https:]<service>:<port>/proxy),
// authenticated as cfg says. Over TLS it is the API server that speaks TLS to Flink, and
// Kubernetes does not verify the certificate of a proxied Service: a client that must
// verify Flink's certificate, or present its own, reaches Flink directly.
func NewServiceProxy(cfg *rest.Config, port ServicePort, opts ...Option) (*Client, error) {
	proxy, err := NewProxyDialer(cfg)
	if err != nil {
		return nil, err
	}
	return proxy.Client(port, opts...)
}

// ServicePort is a port of a Flink REST Service: its namespace, Service, port (a name
// or number), and whether Flink's REST API speaks TLS there.
type ServicePort struct {
	Namespace, Service, Port string
	TLS                      bool
}

// ProxyDialer makes clients that reach Flink REST Services through the API server's
// service proxy, all sharing one authenticated HTTP client (its connections and TLS
// sessions) — what an operator watching many clusters from outside needs.
type ProxyDialer struct {
	host string
	http *http.Client
}

// NewProxyDialer prepares clients authenticated as cfg says.
func NewProxyDialer(cfg *rest.Config) (*ProxyDialer, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("flinkrest: API server client: %w", err)
	}
	host := strings.TrimRight(cfg.Host, "/")
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	return &ProxyDialer{host: host, http: httpClient}, nil
}

// Client returns a client for one Service port.
func (p *ProxyDialer) Client(port ServicePort, opts ...Option) (*Client, error) {
	return New(p.host+ProxyPath(port), append([]Option{WithHTTPClient(p.http)}, opts...)...)
}

// ProxyPath is the API server's path that proxies to port:
// /api/v1/namespaces/<namespace>/services/[https:]<service>:<port>/proxy.
func ProxyPath(port ServicePort) string {
	scheme := ""
	if port.TLS {
		scheme = "https:"
	}
	return fmt.Sprintf("/api/v1/namespaces/%s/services/%s%s:%s/proxy",
		url.PathEscape(port.Namespace), scheme, url.PathEscape(port.Service), url.PathEscape(port.Port))
}

// request is one REST call.
type request struct {
	method string
	path   string // with a leading slash and any query
	body   any    // JSON-encoded when not nil
	raw    io.Reader
	header http.Header
	// retry marks calls that may be repeated: reads, and triggers that carry a trigger
	// id (Flink recognises the repeat and starts nothing new).
	retry bool
	want  int // the success status; 0 means 200 or 202
}

// do sends req, retrying where that is safe, and decodes a JSON answer into out.
func (c *Client) do(ctx context.Context, req request, out any) error {
	var payload []byte
	if req.body != nil {
		var err error
		if payload, err = json.Marshal(req.body); err != nil {
			return err
		}
	}
	attempts := 1
	if req.retry && req.raw == nil {
		attempts = c.attempts
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = c.once(ctx, req, payload, out)
		if err == nil || attempt >= attempts || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(c.backoff << (attempt - 1)):
		}
	}
}

func (c *Client) once(ctx context.Context, req request, payload []byte, out any) error {
	if c.observer == nil {
		_, err := c.call(ctx, req, payload, out)
		return err
	}
	start := time.Now()
	code, err := c.call(ctx, req, payload, out)
	c.observer.ObserveRequest(req.method, Endpoint(req.path), code, err != nil, time.Since(start))
	return err
}

// call makes one HTTP call and returns the status that came back (0 when none did).
func (c *Client) call(ctx context.Context, req request, payload []byte, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body := req.raw
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.method, c.base+req.path, body)
	if err != nil {
		return 0, err
	}
	for k, v := range req.header {
		httpReq.Header[k] = v
	}
	if payload != nil {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	httpReq.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(httpReq)
	if err != nil {
		return 0, &TransportError{Method: req.method, Path: req.path, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, &TransportError{Method: req.method, Path: req.path, Err: err}
	}
	if !success(resp.StatusCode, req.want) {
		return resp.StatusCode, newHTTPError(req.method, req.path, resp.StatusCode, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("flinkrest: %s %s: decode answer: %w", req.method, req.path, err)
	}
	return resp.StatusCode, nil
}

func success(status, want int) bool {
	if want != 0 {
		return status == want
	}
	return status == http.StatusOK || status == http.StatusAccepted
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, request{method: http.MethodGet, path: path, retry: true}, out)
}
