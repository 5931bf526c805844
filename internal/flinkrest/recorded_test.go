package flinkrest_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/test/flinkrecord"
)

// replay serves the responses recorded from a real Flink (test/flinkrecord)
// on an in-process server: each request gets the file of its route, with the status
// its name ends in — the success unless the request is one the recording failed
// (an unknown job, a file that is not a jar). label selects the responses recorded
// under that label.
func replay(t *testing.T, version, label string) *flinkrest.Client {
	t.Helper()
	dir, err := flinkrecord.Responses(version)
	require.NoError(t, err)
	entries, err := fs.ReadDir(dir, ".")
	require.NoError(t, err)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := routeName(r.Method, r.URL.Path)
		if label != "" {
			route = label + "_" + route
		}
		wantFailure := recordedFailure(r)
		for _, e := range entries {
			status, ok := strings.CutPrefix(strings.TrimSuffix(e.Name(), ".json"), route+"_")
			if !ok || strings.Contains(status, "_") || (status != wantFailure && (wantFailure != "" || statusCode(status) >= 300)) {
				continue
			}
			data, err := fs.ReadFile(dir, e.Name())
			require.NoError(t, err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(statusCode(status))
			_, _ = w.Write(data)
			return
		}
		http.Error(w, "no recorded response for "+route, http.StatusTeapot)
	}))
	t.Cleanup(server.Close)
	client, err := flinkrest.New(server.URL, flinkrest.WithAttempts(1, 0))
	require.NoError(t, err)
	return client
}

// recordedFailure names the recorded failure a request asks for, or "".
func recordedFailure(r *http.Request) string {
	if strings.Contains(r.URL.Path, "/jobs/00000000000000000000000000000000") {
		return "NotFound"
	}
	if r.URL.Path == "/jars/upload" {
		if _, header, err := r.FormFile("jarfile"); err == nil && !strings.HasSuffix(header.Filename, ".jar") {
			return "BadRequest"
		}
	}
	return ""
}

func statusCode(text string) int {
	for code := 100; code < 600; code++ {
		if strings.ReplaceAll(http.StatusText(code), " ", "") == text {
			return code
		}
	}
	return http.StatusInternalServerError
}

var recordedVersions = flinkrecord.Versions

const someJob = "0123456789abcdef0123456789abcdef"

// TestDecodeRecordedResponses decodes every recorded answer of Flink 1.20 and 2.3 into
// the client's types and checks the fields Flok relies on.
func TestDecodeRecordedResponses(t *testing.T) {
	for _, version := range recordedVersions {
		t.Run(version, func(t *testing.T) {
			ctx := t.Context()
			c := replay(t, version, "")
			overview, err := c.Overview(ctx)
			require.NoError(t, err)
			require.Equal(t, 4, overview.SlotsTotal)
			require.True(t, strings.HasPrefix(overview.FlinkVersion, version+"."))
			config, err := c.JobManagerConfig(ctx)
			require.NoError(t, err)
			require.Equal(t, "adaptive", config["jobmanager.scheduler"])
			tms, err := c.TaskManagers(ctx)
			require.NoError(t, err)
			require.Equal(t, 4, tms[0].SlotsNumber)
			require.Positive(t, tms[0].Hardware.CPUCores)

			jobs, err := c.Jobs(ctx)
			require.NoError(t, err)
			require.NotEmpty(t, jobs)
			require.NotEmpty(t, jobs[0].ID)
			job, err := c.Job(ctx, someJob)
			require.NoError(t, err)
			require.Equal(t, flinkrest.JobFailed, job.State, "the last job read was the failing one")
			require.True(t, job.State.IsGloballyTerminal())
			require.NotEmpty(t, job.Vertices)

			history, err := c.Exceptions(ctx, someJob, 10)
			require.NoError(t, err)
			require.NotEmpty(t, history.Entries)
			require.Contains(t, history.Entries[0].Stacktrace, "Exception")

			cp, err := c.Checkpoints(ctx, someJob)
			require.NoError(t, err)
			require.NotNil(t, cp.Latest.Restored, "the last checkpoints read were of the restored job")
			require.True(t, cp.Latest.Restored.IsSavepoint)
			require.True(t, strings.HasPrefix(cp.Latest.Restored.ExternalPath, "file:/FLINK/savepoints/savepoint-"))
			require.Positive(t, cp.Counts.Completed)
			require.NotEmpty(t, cp.History)
			cpConfig, err := c.CheckpointConfig(ctx, someJob)
			require.NoError(t, err)
			require.Equal(t, "exactly_once", cpConfig.Mode, "Flink reports the mode in lower case")

			savepoint := flinkrest.Operation{Kind: flinkrest.SavepointOperation, JobID: someJob, TriggerID: flinkrest.NewTriggerID()}
			result, err := c.Wait(ctx, savepoint)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(result.Location, "file:/FLINK/savepoints/savepoint-"))
			checkpoint := flinkrest.Operation{Kind: flinkrest.CheckpointOperation, JobID: someJob, TriggerID: flinkrest.NewTriggerID()}
			result, err = c.Wait(ctx, checkpoint)
			require.NoError(t, err)
			require.Positive(t, result.CheckpointID)

			requirements, err := c.ResourceRequirements(ctx, someJob)
			require.NoError(t, err)
			for _, r := range requirements {
				require.Positive(t, r.Parallelism.UpperBound)
				require.LessOrEqual(t, r.Parallelism.LowerBound, r.Parallelism.UpperBound)
			}
			jars, err := c.Jars(ctx)
			require.NoError(t, err)
			require.NotEmpty(t, jars)
		})
	}
}

func TestRecordedErrors(t *testing.T) {
	for _, version := range recordedVersions {
		t.Run(version, func(t *testing.T) {
			ctx := t.Context()
			_, err := replay(t, version, "").Job(ctx, "00000000000000000000000000000000")
			require.True(t, flinkrest.IsNotFound(err))
			require.Contains(t, err.Error(), "Job 00000000000000000000000000000000 not found")

			_, err = replay(t, version, "").UploadJar(ctx, "notes.txt", strings.NewReader("x"))
			require.True(t, flinkrest.IsBadRequest(err))
			require.Contains(t, err.Error(), "Only Jar files are allowed.")

			c := replay(t, version, "failed-savepoint")
			_, err = c.Wait(ctx, flinkrest.Operation{Kind: flinkrest.SavepointOperation, JobID: someJob, TriggerID: flinkrest.NewTriggerID()})
			var failed *flinkrest.OperationFailedError
			require.ErrorAs(t, err, &failed)
			require.Contains(t, failed.Error(), "CheckpointException")
		})
	}
}

// TestRetriesOnlyWhereSafe checks that reads and id-carrying triggers are retried while
// Flink answers 503 (leader election), and that a jar run is never repeated.
func TestRetriesOnlyWhereSafe(t *testing.T) {
	var calls atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"errors":["Service temporarily unavailable due to an ongoing leader election. Please refresh."]}`))
			return
		}
		_, _ = w.Write([]byte(`{"taskmanagers":2}`))
	}))
	defer server.Close()
	c, err := flinkrest.New(server.URL, flinkrest.WithAttempts(3, time.Millisecond))
	require.NoError(t, err)
	overview, err := c.Overview(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, overview.TaskManagers)
	require.EqualValues(t, 3, calls.Load())

	calls.Store(0)
	_, err = c.RunJar(t.Context(), "a.jar", flinkrest.RunRequest{})
	require.True(t, flinkrest.IsUnavailable(err))
	require.Contains(t, err.Error(), "leader election")
	require.EqualValues(t, 1, calls.Load(), "a jar run is not retried: it could start the job twice")
}

func TestTransportErrorAndTimeout(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
	}))
	defer server.Close()
	c, err := flinkrest.New(server.URL, flinkrest.WithTimeout(20*time.Millisecond), flinkrest.WithAttempts(2, time.Millisecond))
	require.NoError(t, err)
	_, err = c.Overview(t.Context())
	require.True(t, flinkrest.IsUnavailable(err), "%v", err)

	_, err = flinkrest.New("not a url")
	require.ErrorContains(t, err, "want scheme://host")
}

// TestNoPauseWhenNothingListens checks that a refused connection is not retried: the
// JobManager is not up, and a pause would only hold the caller.
func TestNoPauseWhenNothingListens(t *testing.T) {
	server := httptest.NewServer(http.NotFoundHandler())
	url := server.URL
	server.Close()
	c, err := flinkrest.New(url, flinkrest.WithAttempts(3, time.Hour))
	require.NoError(t, err)
	_, err = c.Overview(t.Context())
	require.True(t, flinkrest.IsUnavailable(err), "%v", err)
	require.True(t, flinkrest.IsNotListening(err), "%v", err)
}
