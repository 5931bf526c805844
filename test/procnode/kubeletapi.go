package procnode

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// kubeletServer is the part of the kubelet API the API server calls on a node:
// container logs, for `kubectl logs`. It listens on the node's address, 127.0.0.1.
type kubeletServer struct {
	srv  *http.Server
	port int
}

func startKubeletServer(n *Node) (*kubeletServer, error) {
	cert, err := selfSignedCert()
	if err != nil {
		return nil, err
	}
	l, err := tls.Listen("tcp", net.JoinHostPort(nodeIP, "0"), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", n.serveContainerLogs)
	s := &kubeletServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, port: l.Addr().(*net.TCPAddr).Port}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *kubeletServer) close() { _ = s.srv.Close() }

// serveContainerLogs answers the API server's log requests: previous, tailLines and
// follow as `kubectl logs` sends them.
func (n *Node) serveContainerLogs(w http.ResponseWriter, req *http.Request) {
	worker := n.workerByName(req.PathValue("namespace"), req.PathValue("pod"))
	if worker == nil {
		http.Error(w, "pod not found on this node", http.StatusNotFound)
		return
	}
	r := worker.runner(req.PathValue("container"))
	if r == nil {
		http.Error(w, "container not found", http.StatusNotFound)
		return
	}
	q := req.URL.Query()
	r.mu.Lock()
	attempt := r.attempts - 1
	r.mu.Unlock()
	if q.Get("previous") == "true" {
		attempt--
	}
	if attempt < 0 {
		http.Error(w, "previous terminated container \""+r.spec.Name+"\" not found", http.StatusBadRequest)
		return
	}
	path := r.logPath(attempt)
	data, err := os.ReadFile(path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	offset := int64(len(data))
	if tail, err := strconv.Atoi(q.Get("tailLines")); err == nil && tail >= 0 {
		data = lastLines(data, tail)
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(data)
	if q.Get("follow") == "true" {
		follow(req, w, path, offset, func() bool { return r.running(attempt) })
	}
}

// follow streams what is appended to path from offset until the container attempt has
// ended and everything is sent, or the client goes.
func follow(req *http.Request, w http.ResponseWriter, path string, offset int64, running func() bool) {
	flusher, _ := w.(http.Flusher)
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return
	}
	reader := bufio.NewReader(f)
	for {
		alive := running()
		if _, err := io.Copy(w, reader); err != nil && !errors.Is(err, io.EOF) {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		if !alive {
			return
		}
		select {
		case <-req.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func lastLines(data []byte, n int) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, nil)
}

// running reports whether the given attempt of the container still runs.
func (r *containerRunner) running(attempt int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts-1 == attempt && r.state.Running != nil
}

func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	t := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "procnode"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(nodeIP)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, t, t, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
