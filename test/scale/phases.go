package scale

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/test/localk8s"
)

// flinkDeployment is a native application in savepoint mode whose Pods go to the kwok node.
func (r *run) flinkDeployment(name string) *unstructured.Unstructured {
	version := "v" + strings.ReplaceAll(r.opts.FlinkVersion, ".", "_")
	scheduling := map[string]any{"spec": map[string]any{
		"nodeSelector": map[string]any{"type": "kwok"},
		"tolerations": []any{map[string]any{
			"key": localk8s.KwokToleration.Key, "operator": string(localk8s.KwokToleration.Operator),
			"value": localk8s.KwokToleration.Value, "effect": string(localk8s.KwokToleration.Effect),
		}},
	}}
	resource := map[string]any{"memory": "1024m", "cpu": 0.1}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": r.opts.Resource.GroupVersion().String(), "kind": "FlinkDeployment",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"image": "flink:" + r.opts.FlinkVersion, "flinkVersion": version, "serviceAccount": "flink",
			"flinkConfiguration": map[string]any{
				"execution.checkpointing.interval": r.opts.CheckpointInterval.String(),
				"state.savepoints.dir":             "file:///sim/savepoints",
				"state.checkpoints.dir":            "file:///sim/checkpoints",
			},
			"podTemplate": scheduling,
			"jobManager":  map[string]any{"resource": resource},
			"taskManager": map[string]any{"resource": resource},
			"job": map[string]any{
				"jarURI":      "local:///opt/flink/examples/streaming/StateMachineExample.jar",
				"parallelism": int64(1), "upgradeMode": "savepoint",
			},
		},
	}}
}

// create creates names, workers at a time, or at rate per second when rate > 0.
func (r *run) create(ctx context.Context, names []string, rate float64) error {
	client := r.dyn.Resource(r.opts.Resource).Namespace(namespace)
	work := make(chan string)
	errs := make(chan error, len(names))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				if _, err := client.Create(ctx, r.flinkDeployment(name), metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("creating %s: %w", name, err)
					continue
				}
				r.watch.track(name, time.Now())
			}
		}()
	}
	start := time.Now()
	for i, name := range names {
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		}
		work <- name
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

func (r *run) burst(ctx context.Context) error {
	names := r.names("fd", r.opts.N)
	start := time.Now()
	if err := r.create(ctx, names, 0); err != nil {
		return err
	}
	r.report.Burst.CreateSeconds = time.Since(start).Seconds()
	if missing := r.watch.waitAll(ctx, names, r.opts.PhaseTimeout, func(s *deploymentState) bool { return !s.jobManager.IsZero() }); len(missing) > 0 {
		return fmt.Errorf("%d JobManager Deployments missing after %s, %s among them", len(missing), r.opts.PhaseTimeout, missing[0])
	}
	r.report.Burst.JobManagersSeconds = r.watch.latest(names, func(s *deploymentState) time.Time { return s.jobManager }).Sub(start).Seconds()
	r.logf("burst: every JobManager Deployment exists after %.1f s", r.report.Burst.JobManagersSeconds)
	if missing := r.watch.waitAll(ctx, names, r.opts.PhaseTimeout, func(s *deploymentState) bool { return !s.stable.IsZero() }); len(missing) > 0 {
		return fmt.Errorf("%d deployments not STABLE after %s, %s among them", len(missing), r.opts.PhaseTimeout, missing[0])
	}
	r.report.Burst.StableSeconds = r.watch.latest(names, func(s *deploymentState) time.Time { return s.stable }).Sub(start).Seconds()
	r.logf("burst: every deployment STABLE after %.1f s", r.report.Burst.StableSeconds)
	return nil
}

func (r *run) steadyState(ctx context.Context) error {
	r.logf("steady state: settling for %s, then measuring for %s", r.opts.Settle, r.opts.SteadyWindow)
	if err := sleep(ctx, r.opts.Settle); err != nil {
		return err
	}
	pid := r.operator.cmd.Process.Pid
	before, err := r.snapshot(ctx, pid)
	if err != nil {
		return err
	}
	profiled := r.profile(ctx, r.opts.SteadyWindow)
	if err := sleep(ctx, r.opts.SteadyWindow); err != nil {
		return err
	}
	if err := <-profiled; err != nil {
		r.logf("steady state: no profiles: %v", err)
	}
	after, err := r.snapshot(ctx, pid)
	if err != nil {
		return err
	}
	minutes := after.process.at.Sub(before.process.at).Minutes() * float64(r.opts.N)
	s := &r.report.Steady
	s.RSSMiB, s.CPUCores = after.process.rssMiB, cores(before.process, after.process)
	s.HeapMiB = after.operator["go_memstats_heap_inuse_bytes"] / (1 << 20)
	s.FlinkRequestsPerDeploymentMinute = float64(after.simRequests-before.simRequests) / minutes
	s.OperatorAPIRequestsPerDeploymentMinute = (after.operator.total("rest_client_requests_total") - before.operator.total("rest_client_requests_total")) / minutes
	s.APIServerRequestsPerDeploymentMinute = map[string]float64{}
	for k, v := range apiRequests(before.apiserver, after.apiserver) {
		s.APIServerRequestsPerDeploymentMinute[k] = v / minutes
	}
	r.logf("steady state: RSS %.0f MiB, %.3f cores, %.2f Flink REST requests per deployment per minute", s.RSSMiB, s.CPUCores, s.FlinkRequestsPerDeploymentMinute)
	return nil
}

type snapshot struct {
	process     processSample
	operator    metrics
	apiserver   metrics
	simRequests int64
}

func (r *run) snapshot(ctx context.Context, pid int) (snapshot, error) {
	var s snapshot
	var err error
	if s.process, err = sampleProcess(pid); err != nil {
		return s, err
	}
	s.simRequests = r.sim.Requests()
	if s.apiserver, err = scrapeAPIServer(ctx, r.kube); err != nil {
		return s, err
	}
	// Another operator may serve no Go metrics: its figures are left out, not failed.
	s.operator, _ = scrapeURL(ctx, r.operator.metrics)
	return s, nil
}

func (r *run) arrivals(ctx context.Context) error {
	names := r.names("arrival", r.opts.Arrivals)
	before, err := r.snapshot(ctx, r.operator.cmd.Process.Pid)
	if err != nil {
		return err
	}
	if err := r.create(ctx, names, r.opts.ArrivalRate); err != nil {
		return err
	}
	after, err := r.snapshot(ctx, r.operator.cmd.Process.Pid)
	if err != nil {
		return err
	}
	r.report.ArrivalsWhy = explainLatency(before, after)
	if missing := r.watch.waitAll(ctx, names, r.opts.PhaseTimeout, func(s *deploymentState) bool { return !s.jobManager.IsZero() && !s.stable.IsZero() }); len(missing) > 0 {
		return fmt.Errorf("%d arrivals without a STABLE job after %s, %s among them", len(missing), r.opts.PhaseTimeout, missing[0])
	}
	d := r.watch.durations(names, func(s *deploymentState) time.Time { return s.created }, func(s *deploymentState) time.Time { return s.jobManager })
	r.report.Arrivals = latencies(d)
	r.logf("arrivals: create -> JobManager Deployment p50 %.3f s, p99 %.3f s", r.report.Arrivals.P50, r.report.Arrivals.P99)
	return nil
}

// failures fails jobs in the simulator and times FAILED in status and a Warning event.
func (r *run) failures(ctx context.Context) error {
	names := r.spread(r.opts.Failures, 0)
	start := time.Now()
	for i, name := range names {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / r.opts.FailureRate * float64(time.Second)))))
		r.watch.markFailure(name, time.Now())
		if err := r.sim.Fail(namespace+"/"+name, "simulated task failure"); err != nil {
			return fmt.Errorf("failing %s: %w", name, err)
		}
	}
	failed := func(s *deploymentState) bool { return !s.failedStatus.IsZero() && !s.warning.IsZero() }
	if missing := r.watch.waitAll(ctx, names, r.opts.PhaseTimeout, failed); len(missing) > 0 {
		return fmt.Errorf("%d failed jobs not reported after %s, %s among them", len(missing), r.opts.PhaseTimeout, missing[0])
	}
	r.report.Failures = latencies(r.watch.durations(names, func(s *deploymentState) time.Time { return s.failedAt }, func(s *deploymentState) time.Time {
		return later(s.failedStatus, s.warning)
	}))
	r.failed = names
	r.logf("failures: failed job -> FAILED in status and an event p50 %.3f s, p99 %.3f s", r.report.Failures.P50, r.report.Failures.P99)
	return nil
}

// spread picks n of the first N deployments, evenly, starting at offset.
func (r *run) spread(n, offset int) []string {
	all := r.names("fd", r.opts.N)
	n = min(n, len(all))
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, all[(offset+i*len(all)/n)%len(all)])
	}
	return out
}

// upgrades changes the parallelism of deployments at once and times each until it is
// STABLE again with its job restored from the savepoint the simulator took.
func (r *run) upgrades(ctx context.Context) error {
	picked := r.unfailed(r.spread(r.opts.Upgrades, max(1, r.opts.N/max(1, 2*r.opts.Upgrades))))
	previous := r.restorePaths(picked)
	if err := r.setParallelism(ctx, picked, 2); err != nil {
		return err
	}
	if missing := r.watch.waitAll(ctx, picked, r.opts.PhaseTimeout, upgradedToChange); len(missing) > 0 {
		return fmt.Errorf("%d upgrades not STABLE after %s, %s among them", len(missing), r.opts.PhaseTimeout, missing[0])
	}
	if err := r.restoredFromNewSavepoints(picked, previous); err != nil {
		return err
	}
	overhead := r.watch.durations(picked, func(s *deploymentState) time.Time { return s.changed.Add(r.opts.SavepointDuration) },
		func(s *deploymentState) time.Time { return s.stable })
	r.report.Upgrades = latencies(overhead)
	r.report.Upgrades.Count = len(picked)
	r.logf("upgrades: %d carried their state; overhead beyond the savepoint p50 %.3f s, p99 %.3f s", len(picked), r.report.Upgrades.P50, r.report.Upgrades.P99)
	return nil
}

// unfailed leaves out of names the deployments whose jobs the failures phase failed.
func (r *run) unfailed(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(r.failed, n) })
}

// setParallelism changes the parallelism of the named deployments at once, marking
// when each changed and to which generation.
func (r *run) setParallelism(ctx context.Context, names []string, parallelism int) error {
	client := r.dyn.Resource(r.opts.Resource).Namespace(namespace)
	patch := []byte(fmt.Sprintf(`{"spec":{"job":{"parallelism":%d}}}`, parallelism))
	var g errgroup.Group
	for _, name := range names {
		g.Go(func() error {
			at := time.Now()
			u, err := client.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
			if err != nil {
				return err
			}
			r.watch.markChange(name, at, u.GetGeneration())
			return nil
		})
	}
	return g.Wait()
}

// upgradedToChange holds once a deployment is STABLE at the generation of its latest
// change.
func upgradedToChange(s *deploymentState) bool {
	return !s.stable.IsZero() && s.stableGen >= s.changedGen
}

// restorePaths are the snapshots the named deployments' jobs started from.
func (r *run) restorePaths(names []string) map[string]string {
	out := map[string]string{}
	for _, name := range names {
		if c := r.sim.Cluster(namespace + "/" + name); c != nil {
			out[name] = c.Spec().RestorePath
		}
	}
	return out
}

// restoredFromNewSavepoints checks that each named deployment's JobManager started its
// job from a savepoint of that deployment's previous job: not the one it started from
// before (previous, from restorePaths).
func (r *run) restoredFromNewSavepoints(names []string, previous map[string]string) error {
	for _, name := range names {
		c := r.sim.Cluster(namespace + "/" + name)
		if c == nil {
			return fmt.Errorf("%s: no JobManager runs after its upgrade", name)
		}
		restore := c.Spec().RestorePath
		if !strings.Contains(restore, "/savepoints/"+namespace+"_"+name+"/") || restore == previous[name] {
			return fmt.Errorf("%s: the upgraded job started from %q, not from the savepoint of its previous job", name, restore)
		}
	}
	return nil
}

// restart kills the operator and starts it again, and times until every running
// cluster was asked again; it counts the requests of the first RestartWindow.
func (r *run) restart(ctx context.Context) error {
	before, err := scrapeAPIServer(ctx, r.kube)
	if err != nil {
		return err
	}
	simBefore := r.sim.Requests()
	r.operator.kill()
	start := time.Now()
	if r.operator, err = r.startOperator(); err != nil {
		return err
	}
	if err := r.observedAllSince(ctx, start); err != nil {
		return err
	}
	r.report.Restart.ObservedAllSeconds = time.Since(start).Seconds()
	r.logf("restart: every cluster observed again after %.1f s", r.report.Restart.ObservedAllSeconds)
	if err := sleep(ctx, time.Until(start.Add(r.opts.RestartWindow))); err != nil {
		return err
	}
	after, err := scrapeAPIServer(ctx, r.kube)
	if err != nil {
		return err
	}
	r.report.Restart.APIServerRequests = apiRequests(before, after)
	r.report.Restart.FlinkRequests = r.sim.Requests() - simBefore
	if m, err := scrapeURL(ctx, r.operator.metrics); err == nil {
		r.report.Restart.OperatorAPIRequests = m.total("rest_client_requests_total")
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
