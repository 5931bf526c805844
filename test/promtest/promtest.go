// Package promtest runs a real Prometheus server for tests: the version pinned in
// hack/tools/prometheus, built from the Go module proxy once into
// ~/.cache/flok/prometheus, listening on 127.0.0.1 with a configuration of the test's,
// and answering PromQL queries.
package promtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flok-dev/flok/test/hostnet"
	"github.com/flok-dev/flok/test/toolcache"
)

// toolsModule is the module that pins Prometheus, relative to this file.
const toolsModule = "../../hack/tools/prometheus"

// Binary returns the pinned Prometheus server, building it first when this machine
// has not yet (a cold build takes several minutes).
func Binary(ctx context.Context) (string, error) {
	_, self, _, _ := runtime.Caller(0)
	module := filepath.Join(filepath.Dir(self), toolsModule)
	goMod, err := os.ReadFile(filepath.Join(module, "go.mod"))
	if err != nil {
		return "", err
	}
	goSum, err := os.ReadFile(filepath.Join(module, "go.sum"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(goMod, goSum...))
	key := pinnedVersion(goMod) + "-" + hex.EncodeToString(sum[:5])
	dir, err := toolcache.Dir(ctx, "prometheus", key, "", func(ctx context.Context, work string) (string, error) {
		out := filepath.Join(work, "bin")
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out+"/", "github.com/prometheus/prometheus/cmd/prometheus")
		cmd.Dir = module
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "GOWORK=off")
		if text, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build prometheus: %w: %s", err, text)
		}
		return out, nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "prometheus"), nil
}

// pinnedVersion is the version of Prometheus's module that go.mod requires.
func pinnedVersion(goMod []byte) string {
	for _, line := range strings.Split(string(goMod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == "github.com/prometheus/prometheus" {
			return f[1]
		}
	}
	return "unknown"
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
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			text, _ := os.ReadFile(log.Name())
			t.Logf("prometheus log:\n%s", text)
		}
		log.Close()
	})
	s := &Server{URL: "http://" + addr}
	client, err := api.NewClient(api.Config{Address: s.URL})
	require.NoError(t, err)
	s.api = promv1.NewAPI(client)
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case <-exited:
			return false, fmt.Errorf("prometheus exited (its log follows)")
		default:
		}
		resp, err := http.Get(s.URL + "/-/ready")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	require.NoError(t, err, "prometheus ready")
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
