// Package flinksim simulates Flink JobManagers' REST APIs for benchmarks and fast tests:
// any number of clusters, each served on an address of its own, whose jobs run,
// checkpoint on an interval, take savepoints after a delay and fail when told.
//
// Its answers are real Flink's: every body is a response recorded from a real
// JobManager of the simulated version (test/flinkrecord) with the changing fields —
// ids, states, times, counts, paths — filled in, so a client decodes the simulator's
// answers exactly as it decodes Flink's (TestConformsToRecordings checks the shapes).
package flinksim

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flok-dev/flok/test/flinkrecord"
)

// Options shape the simulated clusters.
type Options struct {
	// Version is the Flink minor version whose recorded answers are served: "1.20" or "2.3".
	Version string
	// CheckpointInterval is how often running jobs complete a checkpoint; 0 never.
	CheckpointInterval time.Duration
	// SavepointDuration is how long a savepoint (or stop-with-savepoint, or triggered
	// checkpoint) takes.
	SavepointDuration time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Sim serves simulated clusters.
type Sim struct {
	opts      Options
	templates map[string][]byte
	mux       *http.ServeMux

	mu       sync.Mutex
	clusters map[string]*Cluster

	requests    atomic.Int64
	routeCounts sync.Map // route pattern -> *atomic.Int64
}

// New loads the recorded answers of opts.Version.
func New(opts Options) (*Sim, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if !slices.Contains(flinkrecord.Versions, opts.Version) {
		return nil, fmt.Errorf("flinksim: no recorded answers of Flink %q; have %v", opts.Version, flinkrecord.Versions)
	}
	recorded, err := flinkrecord.Responses(opts.Version)
	if err != nil {
		return nil, err
	}
	s := &Sim{opts: opts, templates: map[string][]byte{}, clusters: map[string]*Cluster{}}
	err = fs.WalkDir(recorded, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(recorded, path)
		s.templates[path] = data
		return err
	})
	if err != nil {
		return nil, err
	}
	s.mux = s.routes()
	return s, nil
}

// ClusterSpec is what a simulated JobManager starts with, as Flink would read it from
// its configuration.
type ClusterSpec struct {
	// JobID is the application's job; empty for a session cluster.
	JobID string
	// JobName names it.
	JobName string
	// RestorePath is the snapshot the job starts from.
	RestorePath string
}

// Start starts the cluster key (namespace/name, say) and serves it on addr ("" serves
// it nowhere: use Cluster.Handler). A cluster already started is stopped first, as a
// replaced JobManager would be.
func (s *Sim) Start(key, addr string, spec ClusterSpec) (*Cluster, error) {
	s.Stop(key)
	c := newCluster(s, key, spec)
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("flinksim: serving %s on %s: %w", key, addr, err)
		}
		c.listener = ln
		// Idle connections are closed soon, unlike Flink's (rest.idleness-timeout, 5
		// min): with 10,000 clusters a kept connection to each would take 10,000 of
		// the process's open files on top of the 10,000 listeners.
		c.server = &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Second}
		go func() { _ = c.server.Serve(ln) }()
	}
	s.mu.Lock()
	s.clusters[key] = c
	s.mu.Unlock()
	return c, nil
}

// Stop stops serving the cluster key: its address refuses connections from then on.
func (s *Sim) Stop(key string) {
	s.mu.Lock()
	c := s.clusters[key]
	delete(s.clusters, key)
	s.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// StopAll stops every cluster.
func (s *Sim) StopAll() {
	for _, key := range s.Keys() {
		s.Stop(key)
	}
}

// Cluster returns the running cluster key, or nil.
func (s *Sim) Cluster(key string) *Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clusters[key]
}

// Keys lists the running clusters, sorted.
func (s *Sim) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.clusters))
	for k := range s.clusters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ErrNoCluster is returned for a cluster that is not running.
var ErrNoCluster = errors.New("flinksim: no such cluster")

// Fail fails the running job of cluster key with message, as a task failure would.
func (s *Sim) Fail(key, message string) error {
	c := s.Cluster(key)
	if c == nil {
		return ErrNoCluster
	}
	return c.Fail(message)
}

// AnsweredSince counts the running clusters that answered a request at or after t,
// and all running clusters.
func (s *Sim) AnsweredSince(t time.Time) (answered, running int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clusters {
		if c.lastRequest.Load() >= t.UnixNano() {
			answered++
		}
	}
	return answered, len(s.clusters)
}

// Requests is how many requests every cluster served in all.
func (s *Sim) Requests() int64 { return s.requests.Load() }

// RequestsByRoute counts the requests served per route (method and path pattern).
func (s *Sim) RequestsByRoute() map[string]int64 {
	out := map[string]int64{}
	s.routeCounts.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

func (s *Sim) count(route string) {
	s.requests.Add(1)
	n, ok := s.routeCounts.Load(route)
	if !ok {
		n, _ = s.routeCounts.LoadOrStore(route, new(atomic.Int64))
	}
	n.(*atomic.Int64).Add(1)
}

func (s *Sim) now() time.Time { return s.opts.Now() }
