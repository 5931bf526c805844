package flinkrest_test

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinkrecord"
)

var record = flag.Bool("record", false, "record the real Flink responses into test/flinkrecord/responses/<version>/")

var (
	hexID = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	jarID = regexp.MustCompile(`[0-9a-f-]{36}_[A-Za-z0-9.]+\.jar`)
)

// routeName names a request by method and path with ids generalized, which is also
// the recorded file's name: GET /jobs/:id/checkpoints -> GET_jobs_ID_checkpoints.
func routeName(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	path = jarID.ReplaceAllString(hexID.ReplaceAllString(path, "ID"), "JAR")
	return method + strings.ReplaceAll(path, "/", "_")
}

// recorder returns, with -record, an option that saves every JSON answer (machine paths
// replaced by /FLINK) for the recorded-response tests, and a function that prefixes the
// names of the answers that follow (to keep, say, a failed savepoint's status apart).
func recorder(t *testing.T, release flinkdist.Release, machineDir string) (flinkrest.Option, func(label string)) {
	if !*record {
		return func(*flinkrest.Client) {}, func(string) {}
	}
	dir := flinkrecord.SourceDir(release.MinorVersion())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rt := &recordingTransport{dir: dir, machineDir: machineDir}
	return flinkrest.WithHTTPClient(&http.Client{Transport: rt}), rt.setLabel
}

type recordingTransport struct {
	dir, machineDir string
	mu              sync.Mutex
	label           string
}

func (r *recordingTransport) setLabel(label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.label = label
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	scrubbed := bytes.ReplaceAll(body, []byte(r.machineDir), []byte("/FLINK"))
	name := routeName(req.Method, req.URL.Path) + "_" + http.StatusText(resp.StatusCode)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.label != "" {
		name = r.label + "_" + name
	}
	return resp, os.WriteFile(filepath.Join(r.dir, strings.ReplaceAll(name, " ", "")+".json"), scrubbed, 0o644)
}
