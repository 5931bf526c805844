package flinksim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/test/flinkrecord"
	"github.com/flok-dev/flok/test/flinksim"
)

const jobID = "0123456789abcdef0123456789abcdef"

// TestConformsToRecordings drives a simulated cluster of each recorded version through
// every call of internal/flinkrest — the client decodes each answer — and checks that
// every answer has the shape of real Flink's recorded answer to the same route: the
// same fields, of the same JSON types.
func TestConformsToRecordings(t *testing.T) {
	for _, version := range flinkrecord.Versions {
		t.Run(version, func(t *testing.T) {
			clock := newClock()
			sim, err := flinksim.New(flinksim.Options{Version: version, CheckpointInterval: time.Second, SavepointDuration: 2 * time.Second, Now: clock.now})
			require.NoError(t, err)
			cluster, err := sim.Start("ns/app", "", flinksim.ClusterSpec{JobID: jobID, JobName: "app", RestorePath: "file:/sp/savepoint-012345-abc"})
			require.NoError(t, err)
			seen := &answers{byRoute: map[string][]byte{}}
			server := httptest.NewServer(seen.wrap(cluster.Handler()))
			defer server.Close()
			c, err := flinkrest.New(server.URL, flinkrest.WithAttempts(1, 0))
			require.NoError(t, err)
			exercise(t, c, clock, sim)

			recorded, err := flinkrecord.Responses(version)
			require.NoError(t, err)
			for route, body := range seen.byRoute {
				want, err := fs.ReadFile(recorded, route+".json")
				if errors.Is(err, fs.ErrNotExist) && !strings.HasSuffix(route, "_OK") && !strings.HasSuffix(route, "_Accepted") {
					want = []byte(`{"errors":["Flink's answer to every failed request"]}`)
				} else {
					require.NoError(t, err, "no recorded answer of real Flink for %s", route)
				}
				onlyFlink, onlySim := differ(shape(t, want), shape(t, body))
				require.Empty(t, onlyFlink, "%s: fields of Flink %s's answer the simulator lacks", route, version)
				require.Empty(t, onlySim, "%s: fields of the simulator's answer Flink %s lacks", route, version)
			}
			require.GreaterOrEqual(t, len(seen.byRoute), 20, "routes compared: %v", seen.routes())
		})
	}
}

// exercise makes every call Flok makes, checking what the simulated cluster answers.
func exercise(t *testing.T, c *flinkrest.Client, clock *clock, sim *flinksim.Sim) {
	ctx := t.Context()
	overview, err := c.Overview(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, overview.JobsRunning)
	_, err = c.DashboardConfig(ctx)
	require.NoError(t, err)
	_, err = c.JobManagerConfig(ctx)
	require.NoError(t, err)
	_, err = c.TaskManagers(ctx)
	require.NoError(t, err)

	clock.advance(3500 * time.Millisecond)
	jobs, err := c.Jobs(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, flinkrest.JobRunning, jobs[0].State)
	require.Equal(t, jobs[0].Tasks["total"], jobs[0].Tasks["running"])
	details, err := c.Job(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, flinkrest.JobRunning, details.State)
	_, err = c.JobConfig(ctx, jobID)
	require.NoError(t, err)
	cps, err := c.Checkpoints(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, 3, cps.Counts.Completed)
	require.Equal(t, "file:/sim/checkpoints/"+jobID+"/chk-3", cps.Latest.Completed.ExternalPath)
	require.Equal(t, "file:/sp/savepoint-012345-abc", cps.Latest.Restored.ExternalPath)
	_, err = c.CheckpointConfig(ctx, jobID)
	require.NoError(t, err)
	_, err = c.ResourceRequirements(ctx, jobID)
	require.NoError(t, err)
	require.NoError(t, c.SetResourceRequirements(ctx, jobID, flinkrest.ResourceRequirements{}))

	checkpoint, err := c.TriggerCheckpoint(ctx, jobID, flinkrest.CheckpointRequest{TriggerID: flinkrest.NewTriggerID(), CheckpointType: "FULL"})
	require.NoError(t, err)
	savepoint, err := c.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{TriggerID: flinkrest.NewTriggerID()})
	require.NoError(t, err)
	res, err := c.Status(ctx, savepoint)
	require.NoError(t, err)
	require.False(t, res.Done, "a savepoint takes SavepointDuration")
	clock.advance(2 * time.Second)
	res, err = c.Status(ctx, savepoint)
	require.NoError(t, err)
	require.True(t, res.Done)
	require.Contains(t, res.Location, "savepoint-012345")
	cpRes, err := c.Status(ctx, checkpoint)
	require.NoError(t, err)
	require.Equal(t, int64(4), cpRes.CheckpointID)
	cps, err = c.Checkpoints(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, res.Location, cps.Latest.Savepoint.ExternalPath)

	stop, err := c.StopWithSavepoint(ctx, jobID, flinkrest.StopRequest{TriggerID: flinkrest.NewTriggerID()})
	require.NoError(t, err)
	again, err := c.StopWithSavepoint(ctx, jobID, flinkrest.StopRequest{TriggerID: stop.TriggerID})
	require.NoError(t, err, "a repeated trigger id finds the same operation")
	clock.advance(2 * time.Second)
	stopped, err := c.Status(ctx, again)
	require.NoError(t, err)
	require.True(t, stopped.Done)
	require.NotEqual(t, res.Location, stopped.Location)
	details, err = c.Job(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, flinkrest.JobFinished, details.State)

	jar, err := c.UploadJar(ctx, "job.jar", strings.NewReader("PK"))
	require.NoError(t, err)
	jars, err := c.Jars(ctx)
	require.NoError(t, err)
	require.Len(t, jars, 1)
	second := "fedcba9876543210fedcba9876543210"
	id, err := c.RunJar(ctx, jar, flinkrest.RunRequest{JobID: second, SavepointPath: stopped.Location})
	require.NoError(t, err)
	require.Equal(t, second, id)
	require.NoError(t, c.DeleteJar(ctx, jar))
	require.NoError(t, sim.Fail("ns/app", "simulated task failure"))
	history, err := c.Exceptions(ctx, second, 16)
	require.NoError(t, err)
	require.Len(t, history.Entries, 1)
	require.Contains(t, history.Entries[0].Stacktrace, "simulated task failure")
	failed, err := c.Job(ctx, second)
	require.NoError(t, err)
	require.Equal(t, flinkrest.JobFailed, failed.State)

	_, err = c.Job(ctx, "00000000000000000000000000000000")
	require.True(t, flinkrest.IsNotFound(err), "%v", err)
	_, err = c.UploadJar(ctx, "notes.txt", strings.NewReader("x"))
	require.True(t, flinkrest.IsBadRequest(err), "%v", err)
	third := "00112233445566778899aabbccddeeff"
	id, err = c.RunJar(ctx, jar2(t, c), flinkrest.RunRequest{JobID: third})
	require.NoError(t, err)
	sim.Cluster("ns/app").FailSavepoints(true)
	failing, err := c.TriggerSavepoint(ctx, id, flinkrest.SavepointRequest{TriggerID: flinkrest.NewTriggerID()})
	require.NoError(t, err)
	clock.advance(2 * time.Second)
	_, err = c.Wait(ctx, failing)
	var opFailed *flinkrest.OperationFailedError
	require.ErrorAs(t, err, &opFailed)
	require.NoError(t, c.CancelJob(ctx, id))
	require.True(t, flinkrest.IsConflict(c.CancelJob(ctx, id)))
	require.NoError(t, c.ShutDownCluster(ctx))
}

func jar2(t *testing.T, c *flinkrest.Client) string {
	jar, err := c.UploadJar(t.Context(), "other.jar", strings.NewReader("PK"))
	require.NoError(t, err)
	return jar
}

// answers keeps the latest body the simulator sent for each route, named as the
// recordings are (test/flinkrecord).
type answers struct {
	mu      sync.Mutex
	byRoute map[string][]byte
	failed  bool
}

var (
	hexID = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	jarID = regexp.MustCompile(`[0-9a-f-]{36}_[A-Za-z0-9.]+\.jar`)
)

func (a *answers) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		route := r.Method + strings.ReplaceAll(jarID.ReplaceAllString(hexID.ReplaceAllString(r.URL.Path, "ID"), "JAR"), "/", "_")
		name := route + "_" + strings.ReplaceAll(http.StatusText(rec.Code), " ", "")
		if strings.Contains(r.URL.Path, "/savepoints/") && bytes.Contains(rec.Body.Bytes(), []byte("failure-cause")) {
			name = "failed-savepoint_" + name
		}
		body := rec.Body.Bytes()
		if !bytes.Contains(body, []byte("IN_PROGRESS")) && name != "DELETE_cluster_OK" && !strings.HasSuffix(name, "_NotFound") || strings.HasPrefix(name, "GET_jobs_ID_NotFound") {
			a.mu.Lock()
			a.byRoute[name] = bytes.Clone(body)
			a.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, rec.Body)
	})
}

func (a *answers) routes() []string {
	var out []string
	for r := range a.byRoute {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// shape lists a JSON document's field paths with their JSON types. Array elements
// share one path ([]); objects keyed by ids (resource requirements) share one key
// ({id}); a null value or an empty array stands for whatever the other side has there.
func shape(t *testing.T, doc []byte) []string {
	var v any
	require.NoError(t, json.Unmarshal(doc, &v), "%s", doc)
	set := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			set[path+":object"] = true
			for k, e := range v {
				if hexID.MatchString(k) {
					k = "{id}"
				}
				walk(path+"."+k, e)
			}
		case []any:
			set[path+":array"] = true
			if len(v) == 0 {
				set[path+"[]:any"] = true
			}
			for _, e := range v[:min(len(v), 1)] {
				walk(path+"[]", e)
			}
		case nil:
			set[path+":any"] = true
		default:
			set[path+":"+typeName(v)] = true
		}
	}
	walk("", v)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// differ returns the paths only a has and only b has, where a path of type any (null,
// or an empty array's element) stands for whatever the other side has there.
func differ(a, b []string) (onlyA, onlyB []string) {
	wild := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			if prefix, ok := strings.CutSuffix(p, ":any"); ok {
				out = append(out, prefix)
			}
		}
		return out
	}
	covered := func(p string, wildcards []string) bool {
		for _, w := range wildcards {
			if strings.HasPrefix(p, w+".") || strings.HasPrefix(p, w+":") || strings.HasPrefix(p, w+"[]") {
				return true
			}
		}
		return false
	}
	only := func(x, y []string) []string {
		var out []string
		for _, p := range x {
			if !slices.Contains(y, p) && !covered(p, wild(y)) && !strings.HasSuffix(p, ":any") {
				out = append(out, p)
			}
		}
		return out
	}
	return only(a, b), only(b, a)
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	}
	return "number"
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_795_000_000_000)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
