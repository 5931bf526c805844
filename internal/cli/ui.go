package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/flok-dev/flok/internal/flinkrest"
)

// UIProxy serves a Flink cluster's web UI and REST API on a local address, through the
// API server's service proxy with the user's credentials (as `kubectl proxy` does for
// one Service).
type UIProxy struct {
	// URL is where the UI is served.
	URL      string
	listener net.Listener
	server   *http.Server
}

// ServeUI starts a proxy on addr (127.0.0.1:0 picks a free port) to the REST Service
// of name's cluster (a session job's session cluster).
func (c *Client) ServeUI(ctx context.Context, name, addr string) (*UIProxy, error) {
	obj, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	proxy, err := c.FlinkUIHandler(c.FlinkREST(ctx, ClusterName(obj)), "")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &UIProxy{URL: "http://" + l.Addr().String() + "/", listener: l, server: &http.Server{Handler: OnlyAddressedByIP(proxy), ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = p.server.Serve(l) }()
	return p, nil
}

// FlinkUIHandler serves the web UI and REST API of a Flink cluster's REST Service port
// through the API server's service proxy, with the client's credentials: a request for
// /x reaches the cluster's /x (strip any prefix of your own first). Flink lets any
// origin read its answers (Access-Control-Allow-Origin: *); through a proxy that acts
// with someone's credentials only corsOrigin may ("": none but the proxy's own).
func (c *Client) FlinkUIHandler(port flinkrest.ServicePort, corsOrigin string) (http.Handler, error) {
	transport, err := rest.TransportFor(c.Config)
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(strings.TrimSuffix(c.Config.Host, "/"))
	if err != nil {
		return nil, err
	}
	prefix := flinkrest.ProxyPath(port)
	return &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.URL.Path = prefix + "/" + strings.TrimPrefix(r.In.URL.Path, "/")
			r.Out.URL.RawPath = ""
			r.Out.Host = target.Host
			// The caller's credentials are for this proxy, never for Flink (the API server
			// passes cookies on to the JobManager).
			r.Out.Header.Del("Cookie")
			r.Out.Header.Del("Authorization")
		},
		// Flink may not set cookies on the proxy's origin.
		ModifyResponse: func(res *http.Response) error {
			res.Header.Del("Set-Cookie")
			res.Header.Del("Access-Control-Allow-Origin")
			if corsOrigin != "" {
				res.Header.Set("Access-Control-Allow-Origin", corsOrigin)
			}
			return nil
		},
	}, nil
}

// OnlyAddressedByIP refuses requests whose Host is a name other than localhost. The
// proxy acts with the user's credentials, and Flink's REST API runs uploaded jars: a web
// page whose own domain name was made to resolve to this address (DNS rebinding) must
// not reach it. (kubectl proxy guards itself the same way with --accept-hosts.)
func OnlyAddressedByIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		host = strings.Trim(host, "[]")
		if net.ParseIP(host) == nil && !strings.EqualFold(host, "localhost") {
			http.Error(w, "flok answers requests addressed to an IP address or localhost only", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Close stops the proxy.
func (p *UIProxy) Close() error {
	if err := p.server.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
