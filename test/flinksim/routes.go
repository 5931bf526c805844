package flinksim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
)

// handler serves one route of a cluster's REST API; it runs with the cluster locked
// and returns the status and body to send.
type handler func(c *Cluster, r *http.Request, now time.Time) (int, any)

// jobHandler serves a route of one job (/jobs/{id}/...).
type jobHandler func(c *Cluster, j *job, r *http.Request, now time.Time) (int, any)

// forJob serves a job's route, and Flink's answer for an unknown job.
func (s *Sim) forJob(h jobHandler) handler {
	return func(c *Cluster, r *http.Request, now time.Time) (int, any) {
		j := c.jobs[r.PathValue("id")]
		if j == nil {
			return s.jobNotFound(r.PathValue("id"))
		}
		return h(c, j, r, now)
	}
}

// routes are the REST API's routes Flok uses (and the Flink web UI's first page).
func (s *Sim) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for pattern, h := range map[string]handler{
		"GET /overview":                        s.overview,
		"GET /config":                          s.verbatim("GET_config_OK.json"),
		"GET /jobmanager/config":               s.verbatim("GET_jobmanager_config_OK.json"),
		"GET /taskmanagers":                    s.verbatim("GET_taskmanagers_OK.json"),
		"GET /jobs/overview":                   s.jobsOverview,
		"GET /jobs/{id}":                       s.forJob(s.jobDetails),
		"PATCH /jobs/{id}":                     s.forJob(s.cancel),
		"GET /jobs/{id}/config":                s.forJob(s.jobConfig),
		"GET /jobs/{id}/exceptions":            s.forJob(s.exceptions),
		"GET /jobs/{id}/checkpoints":           s.forJob(s.checkpoints),
		"GET /jobs/{id}/checkpoints/config":    s.forJob(s.checkpointConfig),
		"POST /jobs/{id}/checkpoints":          s.triggerOp(opCheckpoint),
		"GET /jobs/{id}/checkpoints/{trigger}": s.opStatus(opCheckpoint),
		"POST /jobs/{id}/savepoints":           s.triggerOp(opSavepoint),
		"GET /jobs/{id}/savepoints/{trigger}":  s.opStatus(opSavepoint),
		"POST /jobs/{id}/stop":                 s.triggerOp(opStop),
		"GET /jobs/{id}/resource-requirements": s.jobRoute("GET_jobs_ID_resource-requirements_OK.json"),
		"PUT /jobs/{id}/resource-requirements": s.jobRoute("PUT_jobs_ID_resource-requirements_OK.json"),
		"GET /jars":                            s.listJars,
		"POST /jars/upload":                    s.uploadJar,
		"POST /jars/{jar}/run":                 s.runJar,
		"DELETE /jars/{jar}":                   s.deleteJar,
		"DELETE /cluster":                      s.shutDown,
	} {
		mux.HandleFunc(pattern, s.serve(pattern, h))
	}
	return mux
}

func (s *Sim) serve(route string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.count(route)
		c := r.Context().Value(clusterKey{}).(*Cluster)
		c.lastRequest.Store(time.Now().UnixNano())
		c.mu.Lock()
		now := s.now()
		c.advance(now)
		status, body := h(c, r, now)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		if raw, ok := body.([]byte); ok {
			_, _ = w.Write(raw)
			return
		}
		_ = json.NewEncoder(w).Encode(body)
	}
}

// template returns a fresh copy of a recorded answer.
func (s *Sim) template(name string) map[string]any {
	var out map[string]any
	if err := json.Unmarshal(s.templates[name], &out); err != nil {
		panic(fmt.Sprintf("flinksim: recorded answer %s: %v", name, err))
	}
	return out
}

func (s *Sim) verbatim(name string) handler {
	return func(*Cluster, *http.Request, time.Time) (int, any) { return http.StatusOK, s.templates[name] }
}

// errorBody is Flink's error answer.
func errorBody(format string, args ...any) map[string]any {
	return map[string]any{"errors": []string{fmt.Sprintf(format, args...)}}
}

var errNotFound = fmt.Errorf("not found")

// jobNotFound is Flink's answer for an unknown job, the recorded one with its id.
func (s *Sim) jobNotFound(id string) (int, any) {
	body := strings.ReplaceAll(string(s.templates["GET_jobs_ID_NotFound.json"]), "00000000000000000000000000000000", id)
	return http.StatusNotFound, []byte(body)
}

// jobRoute answers a recorded answer for a known job.
func (s *Sim) jobRoute(name string) handler {
	return s.forJob(func(*Cluster, *job, *http.Request, time.Time) (int, any) { return http.StatusOK, s.templates[name] })
}

func (s *Sim) overview(c *Cluster, _ *http.Request, _ time.Time) (int, any) {
	t := s.template("GET_overview_OK.json")
	counts := map[string]int{}
	for _, j := range c.jobs {
		counts[j.state]++
	}
	t["jobs-running"], t["jobs-finished"] = counts[stateRunning], counts[stateFinished]
	t["jobs-cancelled"], t["jobs-failed"] = counts[stateCanceled], counts[stateFailed]
	return http.StatusOK, t
}

func (s *Sim) jobsOverview(c *Cluster, _ *http.Request, now time.Time) (int, any) {
	t := s.template("GET_jobs_overview_OK.json")
	entry := t["jobs"].([]any)[0].(map[string]any)
	jobs := make([]any, 0, len(c.jobs))
	for _, id := range c.jobOrder {
		e := clone(entry).(map[string]any)
		j := c.jobs[id]
		j.fill(e, now)
		e["last-modification"] = millis(j.start)
		e["tasks"] = taskCounts(e["tasks"].(map[string]any), j.state)
		jobs = append(jobs, e)
	}
	t["jobs"] = jobs
	return http.StatusOK, t
}

// fill sets the fields every job answer shares.
func (j *job) fill(e map[string]any, now time.Time) {
	e["jid"], e["name"], e["state"], e["start-time"] = j.id, j.name, j.state, millis(j.start)
	e["end-time"], e["duration"] = int64(-1), now.Sub(j.start).Milliseconds()
	if !j.end.IsZero() {
		e["end-time"], e["duration"] = millis(j.end), j.end.Sub(j.start).Milliseconds()
	}
}

// taskCounts puts all of a job's tasks in the column of its state.
func taskCounts(tasks map[string]any, state string) map[string]any {
	total := tasks["total"]
	for k := range tasks {
		tasks[k] = 0
	}
	tasks["total"] = total
	column := map[string]string{stateRunning: "running", stateFinished: "finished", stateCanceled: "canceled", stateFailed: "failed"}[state]
	if column != "" {
		tasks[column] = total
	}
	return tasks
}

func (s *Sim) jobDetails(_ *Cluster, j *job, _ *http.Request, now time.Time) (int, any) {
	t := s.template("GET_jobs_ID_OK.json")
	j.fill(t, now)
	t["now"], t["isStoppable"] = millis(now), false
	for _, v := range t["vertices"].([]any) {
		vertex := v.(map[string]any)
		vertex["status"] = j.state
		vertex["tasks"] = taskCounts(vertex["tasks"].(map[string]any), j.state)
	}
	return http.StatusOK, t
}

func (s *Sim) jobConfig(_ *Cluster, j *job, _ *http.Request, _ time.Time) (int, any) {
	t := s.template("GET_jobs_ID_config_OK.json")
	t["jid"], t["name"] = j.id, j.name
	return http.StatusOK, t
}

func (s *Sim) cancel(c *Cluster, j *job, r *http.Request, now time.Time) (int, any) {
	switch {
	case r.URL.Query().Get("mode") != "cancel" && r.URL.Query().Get("mode") != "":
		return http.StatusBadRequest, errorBody("unknown mode %q", r.URL.Query().Get("mode"))
	case j.state != stateRunning:
		return http.StatusConflict, errorBody("Job %s is in state %s and cannot be canceled.", j.id, j.state)
	}
	c.end(j, stateCanceled, now)
	return http.StatusAccepted, s.templates["PATCH_jobs_ID_Accepted.json"]
}

func (s *Sim) exceptions(_ *Cluster, j *job, _ *http.Request, _ time.Time) (int, any) {
	t := s.template("GET_jobs_ID_exceptions_OK.json")
	history := t["exceptionHistory"].(map[string]any)
	entry := history["entries"].([]any)[0].(map[string]any)
	entries := []any{}
	for i := len(j.failures) - 1; i >= 0; i-- {
		f := j.failures[i]
		e := clone(entry).(map[string]any)
		e["exceptionName"] = "org.apache.flink.util.FlinkException"
		e["stacktrace"] = "org.apache.flink.util.FlinkException: " + f.message + "\n\tat flinksim.Cluster.Fail(simulated)"
		e["timestamp"], e["concurrentExceptions"] = millis(f.at), []any{}
		entries = append(entries, e)
	}
	history["entries"], history["truncated"] = entries, false
	return http.StatusOK, t
}

func (s *Sim) checkpointConfig(*Cluster, *job, *http.Request, time.Time) (int, any) {
	t := s.template("GET_jobs_ID_checkpoints_config_OK.json")
	t["interval"] = s.opts.CheckpointInterval.Milliseconds()
	return http.StatusOK, t
}

func (s *Sim) checkpoints(c *Cluster, j *job, _ *http.Request, now time.Time) (int, any) {
	t := s.template("GET_jobs_ID_checkpoints_OK.json")
	latest := t["latest"].(map[string]any)
	completed := latest["completed"].(map[string]any)
	restored := latest["restored"].(map[string]any)
	n := c.completedCheckpoints(j, now)
	t["counts"] = map[string]any{"restored": boolInt(j.restored != ""), "total": n, "in_progress": 0, "completed": n, "failed": 0}
	latest["completed"], latest["savepoint"], latest["restored"], latest["failed"] = nil, nil, nil, nil
	t["history"] = []any{}
	if n > 0 {
		at := j.start.Add(time.Duration(n-j.checkpoints) * s.opts.CheckpointInterval)
		if n == j.checkpoints {
			at = now
		}
		cp := snapshotEntry(completed, n, at, fmt.Sprintf("file:/sim/checkpoints/%s/chk-%d", j.id, n), false)
		latest["completed"], t["history"] = cp, []any{clone(cp)}
	}
	if path := j.latestSavepoint(now); path != "" {
		latest["savepoint"] = snapshotEntry(completed, n, now, path, true)
	}
	if j.restored != "" {
		restored["external_path"], restored["restore_timestamp"] = j.restored, millis(j.restoredAt)
		restored["is_savepoint"] = strings.Contains(path.Base(j.restored), "savepoint")
		latest["restored"] = restored
	}
	return http.StatusOK, t
}

// snapshotEntry is a completed checkpoint or savepoint in the recorded shape.
func snapshotEntry(recorded map[string]any, id int, at time.Time, path string, savepoint bool) map[string]any {
	e := clone(recorded).(map[string]any)
	e["id"], e["trigger_timestamp"], e["latest_ack_timestamp"] = id, millis(at), millis(at)
	e["external_path"], e["is_savepoint"] = path, savepoint
	if savepoint {
		e["checkpoint_type"], e["savepointFormat"] = "SAVEPOINT", "CANONICAL"
	}
	return e
}

func (s *Sim) triggerOp(kind string) handler {
	return func(c *Cluster, r *http.Request, _ time.Time) (int, any) {
		var body struct {
			TriggerID string `json:"triggerId"`
		}
		if r.Body != nil {
			_ = json.NewDecoder(r.Body).Decode(&body)
		}
		op, err := c.trigger(kind, r.PathValue("id"), body.TriggerID)
		if err != nil {
			return s.jobNotFound(r.PathValue("id"))
		}
		return http.StatusAccepted, map[string]any{"request-id": op.trigger}
	}
}

func (s *Sim) opStatus(kind string) handler {
	return func(c *Cluster, r *http.Request, now time.Time) (int, any) {
		id, trigger := r.PathValue("id"), r.PathValue("trigger")
		op := c.ops[kind+"/"+id+"/"+trigger]
		if op == nil && kind == opSavepoint {
			op = c.ops[opStop+"/"+id+"/"+trigger]
		}
		switch {
		case op == nil:
			return http.StatusNotFound, errorBody("Operation not found under key: %s", trigger)
		case now.Before(op.done):
			return http.StatusOK, map[string]any{"status": map[string]any{"id": "IN_PROGRESS"}}
		case op.failure != "":
			t := s.template("failed-savepoint_GET_jobs_ID_savepoints_ID_OK.json")
			cause := t["operation"].(map[string]any)["failure-cause"].(map[string]any)
			cause["stack-trace"] = "java.util.concurrent.CompletionException: " + op.failure + "\n\tat flinksim(simulated)"
			return http.StatusOK, t
		case kind == opCheckpoint:
			t := s.template("GET_jobs_ID_checkpoints_ID_OK.json")
			t["operation"].(map[string]any)["checkpointId"] = op.checkpointID
			return http.StatusOK, t
		}
		t := s.template("GET_jobs_ID_savepoints_ID_OK.json")
		t["operation"].(map[string]any)["location"] = op.path
		return http.StatusOK, t
	}
}

func (s *Sim) listJars(c *Cluster, _ *http.Request, _ time.Time) (int, any) {
	t := s.template("GET_jars_OK.json")
	entry := t["files"].([]any)[0].(map[string]any)
	files := []any{}
	for id, name := range c.jars {
		e := clone(entry).(map[string]any)
		e["id"], e["name"] = id, name
		files = append(files, e)
	}
	t["files"] = files
	return http.StatusOK, t
}

func (s *Sim) uploadJar(c *Cluster, r *http.Request, _ time.Time) (int, any) {
	_, header, err := r.FormFile("jarfile")
	if err != nil || !strings.HasSuffix(header.Filename, ".jar") {
		return http.StatusBadRequest, s.templates["POST_jars_upload_BadRequest.json"]
	}
	id := randomID()[:8] + "-0000-0000-0000-000000000000_" + header.Filename
	c.jars[id] = header.Filename
	t := s.template("POST_jars_upload_OK.json")
	t["filename"] = "/sim/flink-web-upload/" + id
	return http.StatusOK, t
}

func (s *Sim) runJar(c *Cluster, r *http.Request, _ time.Time) (int, any) {
	if _, ok := c.jars[r.PathValue("jar")]; !ok {
		return http.StatusBadRequest, errorBody("Jar file /sim/flink-web-upload/%s does not exist", r.PathValue("jar"))
	}
	var body struct {
		JobID         string `json:"jobId"`
		SavepointPath string `json:"savepointPath"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return http.StatusBadRequest, errorBody("Request did not match expected format: %v", err)
	}
	if body.JobID == "" {
		body.JobID = randomID()
	}
	if j := c.jobs[body.JobID]; j != nil && !j.terminal() {
		return http.StatusInternalServerError, errorBody("org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.")
	}
	c.addJob(body.JobID, strings.TrimSuffix(c.jars[r.PathValue("jar")], ".jar"), body.SavepointPath)
	t := s.template("POST_jars_JAR_run_OK.json")
	for k := range t {
		t[k] = body.JobID
	}
	return http.StatusOK, t
}

func (j *job) terminal() bool {
	return j.state == stateFailed || j.state == stateFinished || j.state == stateCanceled
}

func (s *Sim) deleteJar(c *Cluster, r *http.Request, _ time.Time) (int, any) {
	delete(c.jars, r.PathValue("jar"))
	return http.StatusOK, s.templates["DELETE_jars_JAR_OK.json"]
}

// shutDown answers, then stops serving the cluster, as a JobManager that exits.
func (s *Sim) shutDown(c *Cluster, _ *http.Request, _ time.Time) (int, any) {
	go func() {
		time.Sleep(50 * time.Millisecond)
		if s.Cluster(c.key) == c {
			s.Stop(c.key)
		}
	}()
	return http.StatusOK, []byte("{}")
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// clone deep-copies decoded JSON.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = clone(e)
		}
		return out
	}
	return v
}
