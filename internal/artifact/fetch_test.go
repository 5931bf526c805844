package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func jarBytes(t *testing.T) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("META-INF/MANIFEST.MF")
	require.NoError(t, err)
	_, _ = f.Write([]byte("Manifest-Version: 1.0\n"))
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func server(t *testing.T, tls bool) *httptest.Server {
	jar := jarBytes(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/good.jar", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(jar) })
	mux.HandleFunc("/login.jar", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<html><body>sign in</body></html>"))
	})
	mux.HandleFunc("/disguised.jar", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/java-archive")
		_, _ = w.Write([]byte("<!DOCTYPE html><html></html>"))
	})
	mux.HandleFunc("/big.jar", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(append(jar, make([]byte, 4096)...)) })
	mux.HandleFunc("/streamed-big.jar", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(jar)
		w.(http.Flusher).Flush() // chunked: no Content-Length announces the size
		_, _ = w.Write(make([]byte, 4096))
	})
	if tls {
		srv := httptest.NewTLSServer(mux)
		t.Cleanup(srv.Close)
		return srv
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestFetch: good jars arrive; every bad artifact is refused with an error that names
// the URI and what is wrong with it.
func TestFetch(t *testing.T) {
	srv := server(t, false)
	local := filepath.Join(t.TempDir(), "job.jar")
	require.NoError(t, os.WriteFile(local, jarBytes(t), 0o644))
	f := &Fetcher{Dir: t.TempDir(), MaxSize: int64(len(jarBytes(t)) + 1024), AllowHTTP: true}
	ctx := context.Background()

	path, err := f.Fetch(ctx, Source{URI: srv.URL + "/good.jar"})
	require.NoError(t, err)
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, jarBytes(t), content)
	path, err = f.Fetch(ctx, Source{URI: "file://" + local})
	require.NoError(t, err)
	require.FileExists(t, path)

	for uri, want := range map[string]string{
		srv.URL + "/missing.jar":       "the server answered 404 Not Found",
		srv.URL + "/login.jar":         "is not a jar: the server answered an HTML page",
		srv.URL + "/disguised.jar":     "is not a jar: it is an HTML page",
		srv.URL + "/big.jar":           "larger than the limit of",
		srv.URL + "/streamed-big.jar":  "larger than the limit of",
		"file:///nonexistent/job.jar":  "no such file",
		"local:///opt/flink/job.jar":   "local:// names a file inside the Flink image",
		"s3:///job.jar":                "an s3:// URI names a bucket and an object",
		"gs://bucket/job.jar":          `scheme "gs" is not supported`,
		"https://example.test/job.zip": "must end in .jar",
		"job.jar":                      "has no scheme",
	} {
		_, err := f.Fetch(ctx, Source{URI: uri})
		require.ErrorContains(t, err, want, uri)
		if strings.Contains(uri, "://") && !strings.HasPrefix(uri, "local") {
			require.ErrorContains(t, err, strings.TrimSuffix(uri, "job.jar"), "the error names the URI")
		}
	}
	entries, err := os.ReadDir(f.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "refused artifacts leave nothing behind")
}

// TestFetchChecksum: a jar whose SHA-256 differs from the one given is refused with
// both digests; the right one, in either case, passes.
func TestFetchChecksum(t *testing.T) {
	srv := server(t, false)
	f := &Fetcher{Dir: t.TempDir(), AllowHTTP: true}
	sum := sha256.Sum256(jarBytes(t))
	want := hex.EncodeToString(sum[:])
	wrong := strings.Repeat("ab", 32)

	_, err := f.Fetch(context.Background(), Source{URI: srv.URL + "/good.jar", SHA256: wrong})
	require.ErrorContains(t, err, "its SHA-256 is "+want+", not the "+wrong+" the job expects (spec.job.artifact.sha256)")
	path, err := f.Fetch(context.Background(), Source{URI: srv.URL + "/good.jar", SHA256: strings.ToUpper(want)})
	require.NoError(t, err)
	require.FileExists(t, path)
	entries, err := os.ReadDir(f.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the refused jar leaves nothing behind")
}

// TestFetchTimeout: a server that never finishes its answer does not hold the fetch
// (and the reconciliation) forever.
func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("PK\x03\x04"))
		w.(http.Flusher).Flush()
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	f := &Fetcher{Dir: t.TempDir(), AllowHTTP: true, Timeout: 200 * time.Millisecond}
	_, err := f.Fetch(context.Background(), Source{URI: srv.URL + "/slow.jar"})
	require.ErrorContains(t, err, "deadline exceeded")
	require.ErrorContains(t, err, "/slow.jar")
}

// TestHTTPSAndPlainHTTP: https is always fetched; plain http only when allowed.
func TestHTTPSAndPlainHTTP(t *testing.T) {
	tlsSrv := server(t, true)
	f := &Fetcher{Dir: t.TempDir(), HTTP: tlsSrv.Client()}
	_, err := f.Fetch(context.Background(), Source{URI: tlsSrv.URL + "/good.jar"})
	require.NoError(t, err)

	plain := server(t, false)
	_, err = f.Fetch(context.Background(), Source{URI: plain.URL + "/good.jar"})
	require.ErrorContains(t, err, "plain http is refused")
	require.ErrorContains(t, err, "--allow-http-artifacts")
}
