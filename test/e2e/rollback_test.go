package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestRollback first changes a running job to a spec that cannot be deployed (the job
// keeps running), then upgrades it to a spec whose job cannot start (a main class that
// does not exist): with rollback enabled, the deployment returns to the last
// stable spec, restoring the savepoint taken for the upgrade, and reports ROLLED_BACK
// with a Degraded condition until the spec is changed again — an incident sent once to
// the namespace's alert receiver (also when the operator is killed between recording
// and sending it, and the receiver is down for a minute), never to another namespace's,
// and once more when the spec is changed back.
func TestRollback(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	fd := topSpeedWindowing(t, ns, "tsw", "native", release, flinktest.StateDir(t, cluster, ns))
	withOptions(t, fd, map[string]string{"kubernetes.operator.deployment.rollback.enabled": "true", "kubernetes.operator.deployment.readiness.timeout": "40s"})
	require.NoError(t, c.Create(ctx, fd))
	// Only the rollback: the upgrade is first NotReadyInTime, an incident of its own.
	inbox := routeAlerts(t, c, ns, "RolledBack")
	// Another namespace, watched by the same operator, routes all its incidents: it
	// hears nothing of this one's.
	other := cluster.Namespace(t)
	otherInbox := routeAlerts(t, c, other)
	watched := ns + "," + other
	operator := startOperator(t, watched, "")
	fd = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "the first deployment", stableWith(""))
	first := fd.Status.JobStatus.JobID
	proveBadChangeKeepsJob(t, c, fd)
	operator.Stop(10 * time.Second)

	// The operator is killed after it recorded the incident, before it sent it: the
	// next one sends it, once.
	// The receiver is down for a minute from then on: the alert goes out when it is back.
	inbox.SetDown(true)
	downSince := time.Now()
	operator = crashThenRestart(t, watched, "before:"+crashBeforeAlert, func() {
		update(t, c, fd, func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.JobManager = nil // the invalid change undone
			fd.Spec.Job.EntryClass = "org.example.DoesNotExist"
		})
	})
	fd = waitForDeployment(t, c, ns, "tsw", 6*time.Minute, "the rollback", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.LifecycleState == v1beta1.LifecycleRolledBack && fd.Status.JobStatus.State == "RUNNING" && fd.Status.JobStatus.JobID != first
	})
	cond := meta.FindStatusCondition(fd.Status.Conditions, "Degraded")
	require.NotNil(t, cond)
	require.Equal(t, "RolledBack", cond.Reason)
	last, err := lifecycle.DecodeSpec(fd.Status.ReconciliationStatus.LastReconciledSpec)
	require.NoError(t, err)
	require.Empty(t, last.Job.EntryClass, "the last stable spec runs")
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName("tsw"), "rest")
	require.Equal(t, fd.Status.JobStatus.UpgradeSavepointPath, restoredFrom(t, flink, fd.Status.JobStatus.JobID), "rolled back with the state saved before the upgrade")
	requireOneRunningJob(t, flink)
	proveReceiverFailing(t, c, ns, "hook")
	time.Sleep(time.Until(downSince.Add(time.Minute))) // the outage's length is the test's input
	inbox.SetDown(false)
	t.Logf("the receiver is back after %s", time.Since(downSince).Round(time.Second))
	proveAlertSent(t, inbox, fd, "RolledBack")

	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.EntryClass = "" })
	seen := ""
	waitForDeployment(t, c, ns, "tsw", 2*time.Minute, "the spec that runs, no longer Degraded", func(fd *v1beta1.FlinkDeployment) bool {
		d := meta.FindStatusCondition(fd.Status.Conditions, lifecycle.ConditionDegraded)
		if d == nil {
			return false
		}
		if now := fmt.Sprintf("%s %s: %s", d.Status, d.Reason, d.Message); now != seen {
			seen = now
			t.Logf("Degraded %s (generation %d, observed %d)", seen, fd.Generation, d.ObservedGeneration)
		}
		return d.Status == metav1.ConditionFalse
	})
	proveAlertResolved(t, c, inbox, ns, "RolledBack", operator.LogPath)
	require.Empty(t, otherInbox.Events(), "a route of another namespace")
}
