package flinkrest_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/flinkrest"
)

type call struct {
	method, endpoint string
	code             int
	failed           bool
}

type recordingObserver struct {
	mu    sync.Mutex
	calls []call
}

func (o *recordingObserver) ObserveRequest(method, endpoint string, code int, failed bool, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, call{method, endpoint, code, failed})
}

func TestEndpoint(t *testing.T) {
	for path, want := range map[string]string{
		"/overview": "/overview",
		"/jobs/4c5b4f3a1e8d9f0a2b3c4d5e6f708192/savepoints/0123456789abcdef0123456789abcdef": "/jobs/:id/savepoints/:id",
		"/jobs/4c5b4f3a1e8d9f0a2b3c4d5e6f708192/checkpoints/details/17":                      "/jobs/:id/checkpoints/details/:id",
		"/jars/5f1c…_TopSpeedWindowing.jar/run?allowNonRestoredState=true":                   "/jars/:id/run",
		"/jars/upload":  "/jars/upload",
		"/jobs?x=1":     "/jobs",
		"/taskmanagers": "/taskmanagers",
	} {
		require.Equal(t, want, flinkrest.Endpoint(path), path)
	}
}

// TestObserverSeesEveryAttempt: each HTTP call — each attempt of a retried read, an
// answer that is an error, a call nobody answers — reaches the observer once, by
// endpoint.
func TestObserverSeesEveryAttempt(t *testing.T) {
	attempts := 0
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/overview":
			if attempts++; attempts < 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte(`{"taskmanagers":1}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":["Job not found."]}`))
		}
	}))
	var observed recordingObserver
	c, err := flinkrest.New(server.URL, flinkrest.WithAttempts(2, time.Millisecond), flinkrest.WithObserver(&observed))
	require.NoError(t, err)
	_, err = c.Overview(t.Context())
	require.NoError(t, err)
	_, err = c.Job(t.Context(), "4c5b4f3a1e8d9f0a2b3c4d5e6f708192")
	require.True(t, flinkrest.IsNotFound(err))
	server.Close()
	_, err = c.Overview(t.Context())
	require.Error(t, err)
	require.Equal(t, []call{
		{"GET", "/overview", 503, true},
		{"GET", "/overview", 200, false},
		{"GET", "/jobs/:id", 404, true},
		{"GET", "/overview", 0, true},
	}, observed.calls)
}
