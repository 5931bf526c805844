package scale

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flok-dev/flok/test/flinksim"
)

// etcdRestart restarts etcd in the middle of savepoint upgrades. It changes the
// parallelism of Upgrades deployments, kills etcd as soon as the simulator was asked
// for every one's stop-with-savepoint, keeps it away for EtcdDown and starts it again
// on its data. Each upgrade must then converge from the savepoint its stop took; every
// other deployment that was STABLE must stay so — the same job in the same JobManager,
// no other status, no Warning event — and every running cluster must be observed again.
func (r *run) etcdRestart(ctx context.Context) error {
	picked := r.unfailed(r.spread(r.opts.Upgrades, 1+max(1, r.opts.N/max(1, 2*r.opts.Upgrades))))
	steady := r.steadyJobs(picked)
	previous := r.restorePaths(picked)
	start := time.Now()
	if err := r.setParallelism(ctx, picked, 3); err != nil {
		return err
	}
	if err := r.waitStopsTriggered(ctx, picked); err != nil {
		return err
	}
	killed := time.Now()
	if err := r.cluster.RestartEtcd(ctx, r.opts.EtcdDown); err != nil {
		return fmt.Errorf("restarting etcd: %w", err)
	}
	back := time.Now()
	r.logf("etcd restart: killed %.1f s after the changes, healthy again %.1f s later", killed.Sub(start).Seconds(), back.Sub(killed).Seconds())
	if missing := r.watch.waitAll(ctx, picked, r.opts.PhaseTimeout, upgradedToChange); len(missing) > 0 {
		return fmt.Errorf("%d upgrades not STABLE %s after etcd came back, %s among them", len(missing), r.opts.PhaseTimeout, missing[0])
	}
	r.report.EtcdRestart.ConvergedSeconds = time.Since(back).Seconds()
	if err := r.restoredFromNewSavepoints(picked, previous); err != nil {
		return err
	}
	if err := r.observedAllSince(ctx, back); err != nil {
		return err
	}
	r.report.EtcdRestart.ObservedAllSeconds = time.Since(back).Seconds()
	if err := r.stillSteady(steady, start); err != nil {
		return err
	}
	r.report.EtcdRestart.DownSeconds = back.Sub(killed).Seconds()
	r.report.EtcdRestart.Upgrades, r.report.EtcdRestart.Steady = len(picked), len(steady)
	r.logf("etcd restart: %d upgrades converged %.1f s after etcd came back, %d steady jobs untouched",
		len(picked), r.report.EtcdRestart.ConvergedSeconds, len(steady))
	return nil
}

// steadyJobs are the simulated clusters of the deployments, other than those left
// out, that are STABLE with their job running, by deployment name.
func (r *run) steadyJobs(leftOut []string) map[string]*flinksim.Cluster {
	out := map[string]*flinksim.Cluster{}
	for _, name := range r.unfailed(append(r.names("fd", r.opts.N), r.names("arrival", r.opts.Arrivals)...)) {
		if slices.Contains(leftOut, name) || !r.watch.settled(name) {
			continue
		}
		if c := r.sim.Cluster(namespace + "/" + name); c != nil && c.JobState(c.Spec().JobID) == "RUNNING" {
			out[name] = c
		}
	}
	return out
}

// stillSteady checks that each steady deployment runs the same job in the same
// JobManager as before, and that since it saw no other status and no Warning event.
func (r *run) stillSteady(steady map[string]*flinksim.Cluster, since time.Time) error {
	// Events carry their time in whole seconds.
	since = since.Truncate(time.Second)
	for name, c := range steady {
		if now := r.sim.Cluster(namespace + "/" + name); now != c {
			return fmt.Errorf("%s: its JobManager was replaced", name)
		}
		if state := c.JobState(c.Spec().JobID); state != "RUNNING" {
			return fmt.Errorf("%s: its job is %s", name, state)
		}
		if unsettled, warned := r.watch.disturbedSince(name, since); unsettled || warned {
			return fmt.Errorf("%s: a status other than STABLE (%t) or a Warning event (%t)", name, unsettled, warned)
		}
	}
	return nil
}

// waitStopsTriggered waits until the simulator was asked for a stop-with-savepoint of
// each named deployment's job.
func (r *run) waitStopsTriggered(ctx context.Context, names []string) error {
	return r.poll(ctx, "the stop-with-savepoint of every upgraded job", func() bool {
		for _, name := range names {
			if c := r.sim.Cluster(namespace + "/" + name); c == nil || !c.StopTriggered() {
				return false
			}
		}
		return true
	})
}

// observedAllSince waits until every running simulated cluster answered a request at
// or after t.
func (r *run) observedAllSince(ctx context.Context, t time.Time) error {
	return r.poll(ctx, "every running cluster observed", func() bool {
		answered, running := r.sim.AnsweredSince(t)
		return answered == running
	})
}

// poll checks cond every 100 ms until it holds, for at most PhaseTimeout.
func (r *run) poll(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(r.opts.PhaseTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not after %s", what, r.opts.PhaseTimeout)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
