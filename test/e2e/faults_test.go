package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/faultproxy"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// outage is how long the API server stays away from the operator.
const outage = time.Minute

// TestOperatorFaults cuts the operator off from the API server — and so from Flink,
// which it reaches through the API server — for a minute, once at steady state and
// once in the middle of a savepoint upgrade (right after Flink accepted the
// stop-with-savepoint), while Flink runs on. At steady state
// nothing changes: every status the deployment goes through, watched throughout, is
// the stable running job, and no warning is raised. In the upgrade, the savepoint
// Flink took while the operator was away is found by its trigger id once the API server
// is back; the new job restores it, and Flink never runs two copies of the job. Then
// the operator is cut off from the JobManager alone for a minute right after the next
// stop-with-savepoint: it waits, and carries the savepoint once Flink answers. Then
// three more savepoint upgrades go through faults of Flink's REST API alone: 500 for
// every call for 30 s, no answer at all for 40 s, and every answer 2 s late. Then Flink
// itself breaks in the middle of snapshots: its TaskManager killed during a checkpoint
// and during an upgrade's savepoint, and cut off from the JobManager during another.
// Last, the operator's leader is cut off in the middle of an upgrade and a standby
// finishes it.
func TestOperatorFaults(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	dir := flinktest.StateDir(t, cluster, ns)
	fd := topSpeedWindowing(t, ns, "outage", "native", release, dir)
	require.NoError(t, c.Create(ctx, fd))
	proxy := startFaultProxy(t)
	pause := t.TempDir()
	pauseEnv := []string{pauseAfterEnv + "=" + string(lifecycle.ActionStopWithSavepoint), pauseDirEnv + "=" + pause}
	op := startOperatorWith(t, ns, operatorKubeconfigVia(t, proxy.URL()), "", pauseEnv...)
	fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the first deployment", stableWith(""))
	first := fd.Status.JobStatus.JobID
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName(fd.Name), "rest")

	statuses := watchStatuses(t, fd)
	proxy.Cut()
	whileAway(t, func(ctx context.Context) {
		job, err := flink.Job(ctx, first)
		require.NoError(t, err)
		require.Equal(t, flinkrest.JobRunning, job.State, "Flink runs on without the operator")
	})
	healed := time.Now()
	proxy.Heal()
	waitForKeptCheckpointAfter(t, ns, fd.Name, first, healed) // the operator observes again
	for _, st := range statuses() {
		require.Equal(t, v1beta1.LifecycleStable, st.LifecycleState, "no transition at steady state: %+v", st)
		require.Equal(t, first, st.JobStatus.JobID)
		require.Equal(t, "RUNNING", st.JobStatus.State)
		require.False(t, meta.IsStatusConditionTrue(st.Conditions, lifecycle.ConditionDegraded), "%+v", st.Conditions)
	}
	requireNoWarnings(t, ns)

	// Cut right after Flink accepted the stop-with-savepoint: the operator, held there
	// by its test hook, goes on only once it is cut off.
	waitPaused, letGo := holdAfterAction(t, pause)
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 2 })
	waitPaused()
	proxy.Cut()
	letGo()
	finished := false
	whileAway(t, func(ctx context.Context) {
		jobs, err := flink.Jobs(ctx)
		require.NoError(t, err)
		for _, j := range jobs {
			require.Equal(t, first, j.ID, "no other job starts while the operator is away")
			finished = finished || j.State == flinkrest.JobFinished
		}
	})
	require.True(t, finished, "Flink took the savepoint and stopped the job while the operator was away")
	proxy.Heal()
	fd = upgradedFromNewSavepoint(t, c, fd, flink, dir, "the upgrade finished after the outage")
	requireNoWarnings(t, ns)

	// Cut off from the JobManager alone (the API server answers) right after Flink
	// accepted the stop-with-savepoint: the operator waits for Flink, and finds the
	// savepoint once it answers again.
	rest := func(r *http.Request) bool {
		// The operator names the Service's port by number, the tests by name.
		return strings.Contains(r.URL.Path, "/services/"+render.RESTServiceName(fd.Name)+":") && strings.Contains(r.URL.Path, "/proxy/")
	}
	statuses = watchStatuses(t, fd)
	waitPaused, letGo = holdAfterAction(t, pause)
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 1 })
	waitPaused()
	proxy.Inject(faultproxy.Rule{Match: rest, Fault: faultproxy.Fault{Hang: true}})
	letGo()
	whileAway(t, func(ctx context.Context) {
		jobs, err := flink.Jobs(ctx)
		require.NoError(t, err)
		for _, j := range jobs {
			require.NotEqual(t, flinkrest.JobRunning, j.State, "no job runs while the operator cannot reach Flink: %s", j.ID)
		}
	})
	require.Positive(t, proxy.Clear(), "the operator asked Flink while cut off")
	fd = upgradedFromNewSavepoint(t, c, fd, flink, dir, "the upgrade finished after the JobManager was cut off")
	requireUpgradeSteps(t, statuses())

	// Flink's REST API failing, silent or slow through whole upgrades.
	for _, f := range []struct {
		what  string
		fault faultproxy.Fault
		hold  time.Duration
	}{
		{"Flink answering 500 for 30 s", faultproxy.Fault{Status: http.StatusInternalServerError}, 30 * time.Second},
		{"Flink not answering for 40 s", faultproxy.Fault{Hang: true}, 40 * time.Second},
		{"every answer of Flink 2 s late", faultproxy.Fault{Delay: 2 * time.Second}, 0},
	} {
		fd = upgradeThrough(t, c, proxy, fd, faultproxy.Rule{Match: rest, Fault: f.fault}, f.hold, f.what, flink, dir)
	}

	fd = taskManagerKilledDuringSnapshots(t, c, fd, pause, flink, dir)
	fd = partitionedDuringUpgrade(t, c, fd, pause, flink, dir)
	op.Stop(10 * time.Second)
	fd = failOverDuringUpgrade(t, c, proxy, fd, pause, pauseEnv, flink, dir)
	require.NoError(t, c.Delete(ctx, fd))
	deletedCleanly(t, c, fd)
}

// failOverDuringUpgrade runs two operators with leader election, the leader reaching
// the API server through the proxy, and cuts the leader off right after Flink accepted
// the stop-with-savepoint of an upgrade. The leader cannot renew its Lease and exits;
// the standby takes the Lease and finishes the upgrade from the savepoint the leader
// asked for — one savepoint taken, one job running, no failed or lost-state status.
func failOverDuringUpgrade(t *testing.T, c client.Client, proxy *faultproxy.Proxy, fd *v1beta1.FlinkDeployment, pause string, pauseEnv []string, flink *flinkrest.Client, dir string) *v1beta1.FlinkDeployment {
	t.Helper()
	t.Log("----- leader failover in the middle of an upgrade")
	ns := fd.Namespace
	elect := leaderElectionEnv + "=true"
	leading := startOperatorWith(t, ns, operatorKubeconfigVia(t, proxy.URL()), "", append(pauseEnv, elect)...)
	var holder string
	flinktest.WaitFor(t, time.Minute, "the first operator to lead", func(ctx context.Context) (bool, error) {
		holder = leaseHolder(ctx, ns)
		return holder != "", nil
	})
	startOperatorWith(t, ns, operatorKubeconfig(t), "", elect)
	savepoints := filepath.Dir(hostPath(dir, fd.Status.JobStatus.UpgradeSavepointPath))
	taken := countEntries(t, savepoints)
	statuses := watchStatuses(t, fd)
	waitPaused, letGo := holdAfterAction(t, pause)
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 3 - fd.Spec.Job.Parallelism })
	waitPaused()
	proxy.Cut()
	select {
	case <-leading.Done():
	case <-time.After(time.Minute):
		t.Fatal("the leader, cut off from the API server, did not give up")
	}
	leaderLog, err := os.ReadFile(leading.LogPath)
	require.NoError(t, err)
	require.Contains(t, string(leaderLog), "leader election lost", "the leader gave up its Lease")
	letGo()
	proxy.Heal()
	flinktest.WaitFor(t, time.Minute, "the standby to lead", func(ctx context.Context) (bool, error) {
		l := leaseHolder(ctx, ns)
		return l != "" && l != holder, nil
	})
	fd = upgradedFromNewSavepoint(t, c, fd, flink, dir, "the upgrade finished by the standby")
	require.Equal(t, taken+1, countEntries(t, savepoints), "one savepoint taken for the upgrade")
	requireUpgradeSteps(t, statuses())
	return fd
}

// taskManagerKilledDuringSnapshots kills the job's TaskManager in the middle of a
// checkpoint, then in the middle of the stop-with-savepoint of an upgrade. To land
// there for sure, the TaskManager is first frozen (SIGSTOP): the snapshot Flink
// triggers cannot complete, and the kill (SIGKILL) finds it in progress. After the
// checkpoint, Flink restarts the same job from its latest completed checkpoint and the
// operator does nothing: no operation, no other job, no failed status. In the upgrade
// the savepoint fails; the operator asks again once Flink has restarted the job, and
// the new job restores that savepoint.
func taskManagerKilledDuringSnapshots(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment, pause string, flink *flinkrest.Client, dir string) *v1beta1.FlinkDeployment {
	t.Helper()
	t.Log("----- the TaskManager killed during a checkpoint")
	ns, jobID := fd.Namespace, fd.Status.JobStatus.JobID
	statuses := watchStatuses(t, fd)
	cps, err := flink.Checkpoints(t.Context(), jobID)
	require.NoError(t, err)
	require.NotNil(t, cps.Latest.Completed, "the job has checkpointed")
	completed := cps.Latest.Completed.ID
	_, frozen := freezeTaskManager(t, ns, fd.Name)
	flinktest.WaitFor(t, time.Minute, "a checkpoint in progress", func(ctx context.Context) (bool, error) {
		cps, err := flink.Checkpoints(ctx, jobID)
		return err == nil && cps.Counts.InProgress > 0, nil
	})
	killed := time.Now()
	signal(t, frozen, syscall.SIGKILL)
	restoredCheckpoint(t, flink, jobID, completed, killed, "the job restarted by Flink from its latest checkpoint")
	waitTasksRunning(t, flink, jobID)
	fd = waitForDeployment(t, c, ns, fd.Name, 2*time.Minute, "the job running again", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobStatus.State == "RUNNING"
	})
	for _, st := range statuses() {
		require.Equal(t, jobID, st.JobStatus.JobID, "the same job: %+v", st)
		require.Nil(t, st.Operation, "the operator leaves Flink's restart alone: %+v", st)
		require.NotEqual(t, v1beta1.LifecycleFailed, st.LifecycleState, "%+v", st)
	}
	requireOneRunningJob(t, flink)

	t.Log("----- the TaskManager killed during the stop-with-savepoint of an upgrade")
	statuses = watchStatuses(t, fd)
	_, frozen = freezeTaskManager(t, ns, fd.Name)
	waitPaused, letGo := holdAfterAction(t, pause)
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 3 - fd.Spec.Job.Parallelism })
	waitPaused()
	signal(t, frozen, syscall.SIGKILL)
	letGo()
	fd = upgradedFromNewSavepoint(t, c, fd, flink, dir, "the upgrade finished after the TaskManager was killed")
	requireUpgradeSteps(t, statuses())
	requireEvent(t, ns, fd.Name, "SavepointFailed") // the first attempt, said as it failed
	return fd
}

// partitionedDuringUpgrade cuts the network between the JobManager and its
// TaskManager — silently, packets vanish — in the middle of the stop-with-savepoint of
// an upgrade (the TaskManager frozen until then, so the savepoint cannot complete
// first). Flink learns of it when the TaskManager's heartbeats time out: the savepoint
// fails and Flink restarts the job on a new TaskManager; the operator asks again once
// the job runs, and the upgrade carries that savepoint. The partitioned Pods go with the
// old cluster.
func partitionedDuringUpgrade(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment, pause string, flink *flinkrest.Client, dir string) *v1beta1.FlinkDeployment {
	t.Helper()
	t.Log("----- the JobManager and its TaskManager partitioned during the stop-with-savepoint of an upgrade")
	ns := fd.Namespace
	jobManagers := runningJobManagers(t.Context(), fd)
	require.Len(t, jobManagers, 1)
	statuses := watchStatuses(t, fd)
	taskManager, frozen := freezeTaskManager(t, ns, fd.Name)
	waitPaused, letGo := holdAfterAction(t, pause)
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 3 - fd.Spec.Job.Parallelism })
	waitPaused()
	require.NoError(t, node.Partition(ns, jobManagers[0].Name, taskManager))
	signal(t, frozen, syscall.SIGCONT)
	letGo()
	fd = upgradedFromNewSavepoint(t, c, fd, flink, dir, "the upgrade finished after the partition")
	requireUpgradeSteps(t, statuses())
	return fd
}

// freezeTaskManager stops (SIGSTOP) the processes of the deployment's running
// TaskManager Pod; it returns the Pod's name and the processes.
func freezeTaskManager(t *testing.T, ns, name string) (pod string, pids []int) {
	t.Helper()
	flinktest.WaitFor(t, 2*time.Minute, "a running TaskManager", func(ctx context.Context) (bool, error) {
		pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name + ",component=taskmanager"})
		if err != nil {
			return false, nil
		}
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				pod, pids = p.Name, node.PodPIDs(ns, p.Name)
			}
		}
		return len(pids) > 0, nil
	})
	signal(t, pids, syscall.SIGSTOP)
	return pod, pids
}

// signal sends sig to each process.
func signal(t *testing.T, pids []int, sig syscall.Signal) {
	t.Helper()
	for _, pid := range pids {
		require.NoError(t, syscall.Kill(pid, sig))
	}
}

// countEntries counts the entries of a directory.
func countEntries(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	return len(entries)
}

// startFaultProxy puts a fault proxy in front of the API server, for an operator's
// kubeconfig (operatorKubeconfigVia): it forwards as the flok-operator ServiceAccount.
func startFaultProxy(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	api, err := url.Parse(cluster.Config.Host)
	require.NoError(t, err)
	token, err := operatorToken()
	require.NoError(t, err)
	transport, err := rest.TransportFor(&rest.Config{Host: cluster.Config.Host, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cluster.Config.CAData}})
	require.NoError(t, err)
	proxy, err := faultproxy.Start(api, transport)
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	return proxy
}

// upgradeThrough upgrades the deployment (a new parallelism) with rule in force — for
// hold, or throughout when hold is 0 — and waits until it converges as it would without:
// a new job from a new savepoint. Every status on the way is a step of an upgrade: the
// job is never reported failed or its state lost.
func upgradeThrough(t *testing.T, c client.Client, proxy *faultproxy.Proxy, fd *v1beta1.FlinkDeployment, rule faultproxy.Rule, hold time.Duration, what string, flink *flinkrest.Client, dir string) *v1beta1.FlinkDeployment {
	t.Helper()
	t.Logf("----- an upgrade through %s", what)
	statuses := watchStatuses(t, fd)
	proxy.Inject(rule)
	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 3 - fd.Spec.Job.Parallelism })
	matched := 0
	if hold > 0 {
		time.Sleep(hold) // the fault's duration, not a wait for something to happen
		matched = proxy.Clear()
	}
	fd = upgradedFromNewSavepoint(t, c, fd, flink, dir, "the upgrade through "+what)
	matched += proxy.Clear()
	require.Positive(t, matched, "the fault met Flink's REST calls")
	requireUpgradeSteps(t, statuses())
	return fd
}

// upgradedFromNewSavepoint waits until the upgrade of fd (as it was before the change)
// is done: a new job, STABLE, that restored the upgrade's savepoint — a new one, on
// disk — and runs alone in Flink.
func upgradedFromNewSavepoint(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment, flink *flinkrest.Client, dir, what string) *v1beta1.FlinkDeployment {
	t.Helper()
	before := fd.Status.JobStatus.UpgradeSavepointPath
	fd = waitForDeployment(t, c, fd.Namespace, fd.Name, 5*time.Minute, what, stableWith(fd.Status.JobStatus.JobID))
	savepoint := fd.Status.JobStatus.UpgradeSavepointPath
	require.NotEmpty(t, savepoint)
	require.NotEqual(t, before, savepoint, "a new savepoint")
	require.DirExists(t, hostPath(dir, savepoint))
	require.Equal(t, savepoint, restoredFrom(t, flink, fd.Status.JobStatus.JobID), "the new job restored the upgrade's savepoint")
	requireOneRunningJob(t, flink)
	waitTasksRunning(t, flink, fd.Status.JobStatus.JobID)
	return fd
}

// waitTasksRunning waits until Flink runs every task of the job. Flink reports a job
// RUNNING — and its restore — as soon as it schedules it again, while its tasks may
// still wait for a TaskManager; a change made then finds no job to take a savepoint of.
func waitTasksRunning(t *testing.T, flink *flinkrest.Client, jobID string) {
	t.Helper()
	flinktest.WaitFor(t, 3*time.Minute, "every task of the job running", func(ctx context.Context) (bool, error) {
		job, err := flink.Job(ctx, jobID)
		if err != nil || job.State != flinkrest.JobRunning || len(job.Vertices) == 0 {
			return false, nil
		}
		for _, v := range job.Vertices {
			if v.Status != "RUNNING" {
				return false, nil
			}
		}
		return true, nil
	})
}

// requireUpgradeSteps checks that every status an upgrade went through is a step of
// it: the job is never reported failed or its state lost.
func requireUpgradeSteps(t *testing.T, statuses []v1beta1.FlinkDeploymentStatus) {
	t.Helper()
	for _, st := range statuses {
		require.NotEqual(t, v1beta1.LifecycleFailed, st.LifecycleState, "%+v", st)
		require.NotEqual(t, "FAILED", st.JobStatus.State, "%+v", st.JobStatus)
		if cond := meta.FindStatusCondition(st.Conditions, lifecycle.ConditionDegraded); cond != nil && cond.Status == metav1.ConditionTrue {
			require.NotContains(t, []string{"StateUnrecoverable", "NoStateToCarry", "JobFailed", "SavepointFailed"}, cond.Reason, cond.Message)
		}
	}
}

// whileAway runs check every few seconds for the length of the outage.
func whileAway(t *testing.T, check func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), outage)
	defer cancel()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		check(t.Context())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watchStatuses records every status of the deployment from now on; the function it
// returns lists those seen so far.
func watchStatuses(t *testing.T, fd *v1beta1.FlinkDeployment) func() []v1beta1.FlinkDeploymentStatus {
	t.Helper()
	wc, err := client.NewWithWatch(cluster.Config, client.Options{Scheme: cli.Scheme()})
	require.NoError(t, err)
	w, err := wc.Watch(t.Context(), &v1beta1.FlinkDeploymentList{}, client.InNamespace(fd.Namespace),
		client.MatchingFields{"metadata.name": fd.Name}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: fd.ResourceVersion}})
	require.NoError(t, err)
	t.Cleanup(w.Stop)
	var mu sync.Mutex
	var seen []v1beta1.FlinkDeploymentStatus
	go func() {
		for ev := range w.ResultChan() {
			if got, ok := ev.Object.(*v1beta1.FlinkDeployment); ok && ev.Type == watch.Modified {
				mu.Lock()
				seen = append(seen, got.Status)
				mu.Unlock()
			}
		}
	}()
	return func() []v1beta1.FlinkDeploymentStatus {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// requireNoWarnings checks that no Warning event was recorded in ns.
func requireNoWarnings(t *testing.T, ns string) {
	t.Helper()
	evs, err := cluster.Client.EventsV1().Events(ns).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	for _, e := range evs.Items {
		require.NotEqual(t, "Warning", e.Type, fmt.Sprintf("%s %s: %s", e.Regarding.Name, e.Reason, e.Note))
	}
}
