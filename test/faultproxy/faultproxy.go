// Package faultproxy puts an HTTP reverse proxy between a client under test — the
// operator — and the Kubernetes API server, through which the operator also reaches
// Flink (the API server's service proxy). A test cuts it, as when the API server or
// the network to it goes away: the requests it carries are broken off, watches
// included, and new connections are closed unanswered until it heals. Or it injects
// faults into the requests a rule matches — Flink's REST calls, say: an error status,
// no answer at all, or a slow one.
package faultproxy

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Fault is what the proxy does to a request a rule matches.
type Fault struct {
	// Status answers at once with this HTTP status (500, say) and a short body.
	Status int
	// Hang answers nothing: the request waits until its client gives up.
	Hang bool
	// Delay holds the request this long, then forwards it.
	Delay time.Duration
}

// Rule applies a fault to the requests Match selects.
type Rule struct {
	Match func(*http.Request) bool
	Fault Fault
}

// Proxy forwards HTTP requests on a loopback address to the API server.
type Proxy struct {
	server *http.Server
	addr   string
	proxy  *httputil.ReverseProxy

	mu       sync.Mutex
	cut      bool
	inFlight map[*context.CancelFunc]bool
	rules    []Rule
	matched  int
}

// Start serves on a free port of 127.0.0.1 and forwards to target (the API server's
// https URL) through transport, which trusts its certificate and carries the clients'
// credentials: clients reach the proxy at URL() over plain HTTP, over which client-go
// sends none of its own.
func Start(target *url.URL, transport http.RoundTripper) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{addr: l.Addr().String(), inFlight: map[*context.CancelFunc]bool{}}
	p.proxy = &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     transport,
		FlushInterval: -1, // watches stream
		ErrorHandler:  func(w http.ResponseWriter, _ *http.Request, _ error) { p.drop(w) },
	}
	p.server = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.server.Serve(l) }()
	return p, nil
}

// URL is where clients reach the proxy.
func (p *Proxy) URL() string { return "http://" + p.addr }

// Cut breaks off every request the proxy carries and refuses new ones until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for cancel := range p.inFlight {
		(*cancel)()
	}
}

// Heal forwards requests again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Inject applies rule to the requests from now on, in place of any earlier rule.
func (p *Proxy) Inject(rule Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.matched = []Rule{rule}, 0
}

// Clear removes the rules and reports how many requests they matched.
func (p *Proxy) Clear() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.matched
	p.rules, p.matched = nil, 0
	return n
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.Cut()
	_ = p.server.Close()
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	fault, ok := p.admit(&cancel, r)
	if !ok {
		p.drop(w)
		return
	}
	defer p.release(&cancel)
	switch {
	case fault.Status != 0:
		http.Error(w, "faultproxy: injected failure", fault.Status)
		return
	case fault.Hang:
		<-ctx.Done()
		p.drop(w)
		return
	case fault.Delay > 0:
		select {
		case <-ctx.Done():
			p.drop(w)
			return
		case <-time.After(fault.Delay):
		}
	}
	p.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// admit registers a request to be broken off by Cut and finds its fault; false when
// the proxy is cut.
func (p *Proxy) admit(cancel *context.CancelFunc, r *http.Request) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return Fault{}, false
	}
	p.inFlight[cancel] = true
	for _, rule := range p.rules {
		if rule.Match(r) {
			p.matched++
			return rule.Fault, true
		}
	}
	return Fault{}, true
}

func (p *Proxy) release(cancel *context.CancelFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inFlight, cancel)
}

// drop closes the client's connection without an answer, as a server that went away.
func (p *Proxy) drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// A response already under way (a watch) cannot be hijacked: ending the handler
	// ends it.
	panic(http.ErrAbortHandler)
}
