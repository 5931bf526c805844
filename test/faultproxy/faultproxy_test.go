package faultproxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// backend is a TLS server standing in for the API server: /stream writes a line a
// tick until the client goes, anything else echoes its path.
func backend(t *testing.T) *Proxy {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stream" {
			fmt.Fprint(w, r.URL.Path)
			return
		}
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "event %d\n", i); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(srv.Close)
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	p, err := Start(target, srv.Client().Transport)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

func get(t *testing.T, p *Proxy, path string, timeout time.Duration) (int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+path, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

func TestCutBreaksOffWatchesAndRefusesUntilHealed(t *testing.T) {
	p := backend(t)
	code, body, err := get(t, p, "/api/v1/pods", 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "/api/v1/pods", body)

	res, err := http.Get(p.URL() + "/stream")
	require.NoError(t, err)
	defer res.Body.Close()
	lines := bufio.NewReader(res.Body)
	first, err := lines.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "event 0\n", first)
	p.Cut()
	_, err = io.ReadAll(lines)
	require.Error(t, err, "a watch carried before the cut is broken off")

	_, _, err = get(t, p, "/api/v1/pods", 10*time.Second)
	require.Error(t, err, "no answer while cut")

	p.Heal()
	code, _, err = get(t, p, "/api/v1/pods", 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
}

func TestInjectedFaults(t *testing.T) {
	p := backend(t)
	flink := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/services/tsw-rest:rest/proxy/") }
	const flinkPath = "/api/v1/namespaces/ns/services/tsw-rest:rest/proxy/jobs/overview"

	p.Inject(Rule{Match: flink, Fault: Fault{Status: http.StatusInternalServerError}})
	code, _, err := get(t, p, flinkPath, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, code)
	code, _, err = get(t, p, "/api/v1/pods", 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "requests the rule does not match pass")

	p.Inject(Rule{Match: flink, Fault: Fault{Hang: true}})
	_, _, err = get(t, p, flinkPath, 200*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded, "no answer until the client gives up")

	p.Inject(Rule{Match: flink, Fault: Fault{Delay: 300 * time.Millisecond}})
	start := time.Now()
	code, body, err := get(t, p, flinkPath, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "/api/v1/namespaces/ns/services/tsw-rest:rest/proxy/jobs/overview", body)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "held before it is forwarded")
	require.Equal(t, 1, p.Clear())

	code, _, err = get(t, p, flinkPath, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
}
