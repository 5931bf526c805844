package flinkjob

import (
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// Memory keeps, per resource, the details last read of its job — checkpoints and
// failures — so that a round whose job overview shows nothing new reads nothing more:
// a steady job costs one request (GET /jobs/overview) per round, its failures are read
// again only when its state changed, and its checkpoints every CheckpointEvery. It is
// lost with the process; a restarted operator reads everything once.
type Memory struct {
	// CheckpointEvery is how old the checkpoints read may be for a steady job.
	CheckpointEvery time.Duration
	// History, when set, is handed every job's recent checkpoints as they are read, to
	// keep them longer than Flink does.
	History CheckpointSink

	mu   sync.Mutex
	jobs map[types.NamespacedName]remembered
}

type remembered struct {
	fingerprint     string
	job             lifecycle.Job
	checkpointsRead time.Time
}

// NewMemory remembers job details for up to checkpointEvery.
func NewMemory(checkpointEvery time.Duration) *Memory {
	return &Memory{CheckpointEvery: checkpointEvery, jobs: map[types.NamespacedName]remembered{}}
}

// CheckpointSink takes the recent checkpoints Flink reported for a resource's job, and
// forgets a resource that is gone.
type CheckpointSink interface {
	Saw(key types.NamespacedName, jobID string, recent []flinkrest.CheckpointStats)
	Forget(key types.NamespacedName)
}

// historyOf hands a resource's checkpoints to the History, if any.
func (m *Memory) historyOf(key types.NamespacedName) func(jobID string, recent []flinkrest.CheckpointStats) {
	return func(jobID string, recent []flinkrest.CheckpointStats) {
		if m != nil && m.History != nil {
			m.History.Saw(key, jobID, recent)
		}
	}
}

// Forget drops what is remembered of a resource (deleted).
func (m *Memory) Forget(key types.NamespacedName) {
	if m == nil {
		return
	}
	m.forgetDetails(key)
	if m.History != nil {
		m.History.Forget(key)
	}
}

// forgetDetails drops the job details remembered of a resource, to read them all again.
func (m *Memory) forgetDetails(key types.NamespacedName) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.jobs, key)
}

// need says which details of job j must be read now: everything when nothing usable is
// remembered or fresh is set, the failures only when the job's state changed since, the
// checkpoints when those are due. It returns what is remembered for the rest.
func (m *Memory) need(key types.NamespacedName, j flinkrest.JobOverview, now time.Time, fresh bool) (checkpoints, failures bool, known lifecycle.Job) {
	if m == nil || fresh {
		return true, true, lifecycle.Job{}
	}
	m.mu.Lock()
	r, ok := m.jobs[key]
	m.mu.Unlock()
	if !ok || r.job.ID != j.ID || r.fingerprint != fingerprint(j) {
		return true, true, lifecycle.Job{}
	}
	return now.Sub(r.checkpointsRead) >= m.CheckpointEvery, false, r.job
}

// remember keeps the details of job j, its checkpoints read now.
func (m *Memory) remember(key types.NamespacedName, j flinkrest.JobOverview, job lifecycle.Job, now time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[key] = remembered{fingerprint: fingerprint(j), job: job, checkpointsRead: now}
}

// fingerprint changes whenever the job's state does: Flink moves last-modification on
// every state change (a restart among them), and the task counts as tasks deploy.
func fingerprint(j flinkrest.JobOverview) string {
	return fmt.Sprintf("%s/%d/%d/%v", j.State, j.StartTime, j.LastModification, j.Tasks)
}
