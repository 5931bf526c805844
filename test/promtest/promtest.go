// Package promtest runs a real Prometheus server for tests: the version pinned in
// hack/tools/prometheus, built from the Go module proxy once into
// ~/.cache/flok/prometheus, listening on 127.0.0.1 with a configuration of the test's,
// and answering PromQL queries.
package promtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/test/hostnet"
	"github.com/flok-dev/flok/test/testproc"
	"github.com/flok-dev/flok/test/toolcache"
)

// toolsModule is the module that pins Prometheus, relative to this file.
const toolsModule = "../../hack/tools/prometheus"

// Binary returns the pinned Prometheus server, building it first when this machine
// has not yet (a cold build takes several minutes).
func Binary(ctx context.Context) (string, error) {
	_, self, _, _ := runtime.Caller(0)
	return toolcache.GoTool{
		Kind: "prometheus", Module: filepath.Join(filepath.Dir(self), toolsModule),
		Requires: "github.com/prometheus/prometheus", Package: "github.com/prometheus/prometheus/cmd/prometheus",
	}.Binary(ctx)
}

// Server is a running Prometheus.
type Server struct {
	// URL is its HTTP address, http://127.0.0.1:<port>.
	URL string
	api promv1.API
}

// Start runs Prometheus with config (a prometheus.yml) and rule files (their
// contents) until the test ends, and returns once it is ready: rules that do not parse
// keep it from starting.
func Start(t *testing.T, config string, ruleFiles ...string) *Server {
	t.Helper()
	bin, err := Binary(t.Context())
	require.NoError(t, err)
	dir := t.TempDir()
	if len(ruleFiles) > 0 {
		config += "rule_files:\n"
	}
	for i, rules := range ruleFiles {
		file := filepath.Join(dir, fmt.Sprintf("rules-%d.yml", i))
		require.NoError(t, os.WriteFile(file, []byte(rules), 0o644))
		config += "- " + file + "\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644))
	ports, err := hostnet.FreePorts(1)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	proc := testproc.Start(t, "prometheus", exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn"))
	s := &Server{URL: "http://" + addr}
	client, err := api.NewClient(api.Config{Address: s.URL})
	require.NoError(t, err)
	s.api = promv1.NewAPI(client)
	proc.WaitReady(t, func(ctx context.Context) bool {
		resp, err := http.Get(s.URL + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// Query evaluates an instant PromQL query now.
func (s *Server) Query(ctx context.Context, query string) (model.Vector, error) {
	value, _, err := s.api.Query(ctx, query, time.Now())
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", query, err)
	}
	vector, ok := value.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %s: a %s, not a vector", query, value.Type())
	}
	return vector, nil
}
