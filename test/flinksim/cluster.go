package flinksim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Job states as Flink reports them.
const (
	stateRunning  = "RUNNING"
	stateFailed   = "FAILED"
	stateFinished = "FINISHED"
	stateCanceled = "CANCELED"
)

// Cluster is one simulated JobManager and its jobs.
type Cluster struct {
	sim      *Sim
	key      string
	spec     ClusterSpec
	listener net.Listener
	server   *http.Server
	// lastRequest is when the cluster last answered (Unix nanoseconds).
	lastRequest atomic.Int64

	mu             sync.Mutex
	jobs           map[string]*job
	jobOrder       []string
	jars           map[string]string // id -> file name
	ops            map[string]*operation
	savepointsFail bool
	snapshots      int
}

type job struct {
	id, name    string
	state       string
	start, end  time.Time
	restored    string
	restoredAt  time.Time
	failures    []failure
	snapshots   []*operation // savepoints and stops, oldest first
	stopping    *operation
	checkpoints int // completed before the current run of the checkpoint clock
}

type failure struct {
	at      time.Time
	message string
}

// operation is a savepoint, stop-with-savepoint or checkpoint trigger.
type operation struct {
	kind, jobID, trigger string
	done                 time.Time
	path                 string
	checkpointID         int
	failure              string
}

func newCluster(s *Sim, key string, spec ClusterSpec) *Cluster {
	c := &Cluster{sim: s, key: key, spec: spec, jobs: map[string]*job{}, jars: map[string]string{}, ops: map[string]*operation{}}
	if spec.JobID != "" {
		c.addJob(spec.JobID, spec.JobName, spec.RestorePath)
	}
	return c
}

// Handler serves the cluster's REST API.
func (c *Cluster) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.sim.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clusterKey{}, c)))
	})
}

type clusterKey struct{}

func (c *Cluster) close() {
	if c.server != nil {
		_ = c.server.Close()
	}
}

// Spec is what the cluster started with.
func (c *Cluster) Spec() ClusterSpec { return c.spec }

// FailSavepoints makes the cluster's savepoints fail (on) or succeed again (off).
func (c *Cluster) FailSavepoints(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.savepointsFail = on
}

// Fail fails the cluster's running job.
func (c *Cluster) Fail(message string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.sim.now()
	c.advance(now)
	for _, id := range c.jobOrder {
		if j := c.jobs[id]; j.state == stateRunning {
			c.end(j, stateFailed, now)
			j.failures = append(j.failures, failure{at: now, message: message})
			return nil
		}
	}
	return fmt.Errorf("flinksim: cluster %s runs no job", c.key)
}

// JobState reports the state of job id, or "" when the cluster has no such job.
func (c *Cluster) JobState(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(c.sim.now())
	if j := c.jobs[id]; j != nil {
		return j.state
	}
	return ""
}

// StopTriggered reports whether the operator asked for a stop-with-savepoint of one of
// the cluster's jobs.
func (c *Cluster) StopTriggered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, j := range c.jobs {
		for _, op := range j.snapshots {
			if op.kind == opStop {
				return true
			}
		}
	}
	return false
}

// RestoredFrom reports the snapshot job id started from.
func (c *Cluster) RestoredFrom(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j := c.jobs[id]; j != nil {
		return j.restored
	}
	return ""
}

func (c *Cluster) addJob(id, name, restore string) *job {
	if name == "" {
		name = "simulated-job"
	}
	now := c.sim.now()
	j := &job{id: id, name: name, state: stateRunning, start: now, restored: restore}
	if restore != "" {
		j.restoredAt = now
	}
	if _, ok := c.jobs[id]; !ok {
		c.jobOrder = append(c.jobOrder, id)
	}
	c.jobs[id] = j
	return j
}

// advance completes what time has completed: operations past their duration, and the
// stops they belong to.
func (c *Cluster) advance(now time.Time) {
	for _, id := range c.jobOrder {
		j := c.jobs[id]
		if op := j.stopping; op != nil && !now.Before(op.done) {
			j.stopping = nil
			if op.failure == "" && j.state == stateRunning {
				c.end(j, stateFinished, op.done)
			}
		}
	}
}

// latestSavepoint is the path of job j's latest savepoint completed by now, or "".
func (j *job) latestSavepoint(now time.Time) string {
	for i := len(j.snapshots) - 1; i >= 0; i-- {
		if op := j.snapshots[i]; op.failure == "" && !now.Before(op.done) {
			return op.path
		}
	}
	return ""
}

// end ends job j in state at the time given; its checkpoints stop there.
func (c *Cluster) end(j *job, state string, at time.Time) {
	j.checkpoints = c.completedCheckpoints(j, at)
	j.state, j.end = state, at
}

// completedCheckpoints counts the checkpoints job j completed by now.
func (c *Cluster) completedCheckpoints(j *job, now time.Time) int {
	every := c.sim.opts.CheckpointInterval
	if every <= 0 || j.state != stateRunning {
		return j.checkpoints
	}
	return j.checkpoints + int(now.Sub(j.start)/every)
}

// trigger starts an operation, or finds the one with the same trigger id.
func (c *Cluster) trigger(kind, jobID, trigger string) (*operation, error) {
	now := c.sim.now()
	c.advance(now)
	j := c.jobs[jobID]
	if j == nil {
		return nil, errNotFound
	}
	if trigger == "" {
		trigger = randomID()
	}
	key := kind + "/" + jobID + "/" + trigger
	if op := c.ops[key]; op != nil {
		return op, nil
	}
	c.snapshots++
	op := &operation{kind: kind, jobID: jobID, trigger: trigger, done: now.Add(c.sim.opts.SavepointDuration)}
	switch {
	case j.state != stateRunning:
		op.failure = fmt.Sprintf("org.apache.flink.runtime.checkpoint.CheckpointException: job %s is %s, not running", jobID, j.state)
	case kind == opCheckpoint:
		op.checkpointID = c.completedCheckpoints(j, now) + 1
		j.checkpoints++
	case c.savepointsFail:
		op.failure = "org.apache.flink.runtime.checkpoint.CheckpointException: An Exception occurred while triggering the checkpoint. IO-problem detected."
	default:
		op.path = fmt.Sprintf("file:/sim/savepoints/%s/savepoint-%s-%06d", strings.ReplaceAll(c.key, "/", "_"), jobID[:min(6, len(jobID))], c.snapshots)
	}
	if kind == opStop {
		j.stopping = op
	}
	if kind != opCheckpoint {
		j.snapshots = append(j.snapshots, op)
	}
	c.ops[key] = op
	return op, nil
}

// Operation kinds, as the status routes name their collections.
const (
	opSavepoint  = "savepoint"
	opStop       = "stop"
	opCheckpoint = "checkpoint"
)

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
