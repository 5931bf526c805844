package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flok-dev/flok/api/v1beta1"
)

// newSession is a session cluster (no job), never deployed.
func newSession() *v1beta1.FlinkDeployment {
	fd := newDeployment()
	fd.Name, fd.Spec.Job = "shared", nil
	return fd
}

func readySession(jobs ...SessionJobRef) Observation {
	return Observation{Now: t0, Cluster: ClusterReady, DeployedHash: "h1", DesiredHash: "h1", SessionJobs: jobs,
		Session: &v1beta1.SessionStatus{TaskManagers: 2, TotalSlots: 4, AvailableSlots: 2,
			Jobs: []v1beta1.SessionJobSummary{{JobID: runningJobID, Name: "orders", State: JobRunning, SessionJob: "orders"}}}}
}

// deployedSession is newSession deployed and STABLE.
func deployedSession(t *testing.T) *v1beta1.FlinkDeployment {
	fd := newSession()
	d := decide(t, fd, missing())
	fd = then(fd, d)
	d = decide(t, fd, readySession())
	fd = then(fd, d)
	fd = then(fd, decide(t, fd, readySession()))
	require.Equal(t, v1beta1.LifecycleStable, fd.Status.LifecycleState)
	return fd
}

func TestSessionCluster(t *testing.T) {
	fd := newSession()
	d := decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Empty(t, d.Status.JobStatus.JobID, "a session cluster has no job of its own")

	// Its JobManager Pod is ready but its REST API does not answer yet: not deployed.
	fd = then(fd, d)
	notAnswering := readySession()
	notAnswering.Session = nil
	require.NotNil(t, decide(t, fd, notAnswering).Status.Operation)

	d = decide(t, fd, readySession())
	require.Nil(t, d.Status.Operation)
	require.Equal(t, v1beta1.LifecycleStable, d.Status.LifecycleState, "a session cluster that answers is STABLE at once")
	require.Equal(t, int32(4), d.Status.Session.TotalSlots, "what runs in the session is in its status")
	require.Equal(t, "orders", d.Status.Session.Jobs[0].SessionJob)

	fd = deployedSession(t)
	require.Equal(t, metav1.ConditionTrue, condition(decide(t, fd, readySession()), ConditionReady).Status)

	// Its JobManager Deployment vanished: it is deployed again.
	d = decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	require.Equal(t, v1beta1.OperationRecover, d.Status.Operation.Kind)
	require.Nil(t, d.Status.Session)
}

// TestSessionUpgradeWaitsForItsJobs: the cluster goes only when every session job has
// stopped with its state recorded; then it is redeployed.
func TestSessionUpgradeWaitsForItsJobs(t *testing.T) {
	fd := deployedSession(t)
	fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(`{"execution.checkpointing.interval":"20s"}`)}
	fd.Generation++
	obs := readySession(SessionJobRef{Name: "orders"}, SessionJobRef{Name: "payments", Released: true})
	d := decide(t, fd, obs)
	require.Equal(t, ActionNone, d.Action.Type, "nothing is removed while a job runs")
	require.Equal(t, v1beta1.StepSnapshotting, d.Status.Operation.Step)
	require.Contains(t, d.Status.Operation.Message, "orders")
	require.NotContains(t, d.Status.Operation.Message, "payments")
	require.Equal(t, v1beta1.LifecycleUpgrading, d.Status.LifecycleState)

	fd = then(fd, d)
	obs.SessionJobs[0].Released = true
	d = decide(t, fd, obs)
	require.Equal(t, ActionRemoveCluster, d.Action.Type)

	fd = then(fd, d)
	d = decide(t, fd, missing())
	require.Equal(t, ActionDeploy, d.Action.Type)
	d = decide(t, then(fd, d), readySession())
	require.Nil(t, d.Status.Operation)
	require.Equal(t, v1beta1.LifecycleStable, d.Status.LifecycleState)
}

func TestSessionUpgradeStopsWhenAJobDoesNotStop(t *testing.T) {
	fd := deployedSession(t)
	fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(`{"a":"b"}`)}
	fd.Generation++
	fd = withOperation(fd, v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepSnapshotting,
		StartTime: metav1.NewTime(t0.Add(-DefaultSettings().SavepointTimeout - 1))})
	d := decide(t, fd, readySession(SessionJobRef{Name: "orders"}))
	require.Nil(t, d.Status.Operation)
	require.Equal(t, ActionNone, d.Action.Type)
	c := condition(d, ConditionDegraded)
	require.Equal(t, reasonSavepointFailed, c.Reason)
	require.Contains(t, c.Message, "orders did not stop")
	// The same spec is not tried again.
	require.Nil(t, decide(t, then(fd, d), readySession(SessionJobRef{Name: "orders"})).Status.Operation)
}

func TestSessionDeletion(t *testing.T) {
	fd := deployedSession(t)
	now := metav1.NewTime(t0)
	fd.DeletionTimestamp = &now
	d := decide(t, fd, readySession(SessionJobRef{Name: "orders", Released: true}))
	require.Equal(t, ActionNone, d.Action.Type, "a session with jobs is not deleted")
	c := condition(d, ConditionDegraded)
	require.Equal(t, reasonDeletionBlocked, c.Reason)
	require.Contains(t, c.Message, "orders")
	require.Contains(t, c.Message, v1beta1.ForceDeletionAnnotation)
	require.Equal(t, reasonDeletionBlocked, d.Events[0].Reason)

	fd.Annotations = map[string]string{v1beta1.ForceDeletionAnnotation: "true"}
	require.Equal(t, ActionRemoveCluster, decide(t, fd, readySession(SessionJobRef{Name: "orders"})).Action.Type)
	fd.Annotations = nil
	require.Equal(t, ActionRemoveCluster, decide(t, fd, readySession()).Action.Type, "without jobs it goes")
}

// TestWaitsForUser: the reasons after which Flok waits for the user, which clients
// (flok --wait) stop waiting on; passing troubles are not among them.
func TestWaitsForUser(t *testing.T) {
	for _, r := range []string{reasonInvalidSpec, reasonSavepointFailed, reasonNoState, reasonRolledBack, reasonJobFailed, reasonStateLost, reasonArtifact, reasonDeletionBlocked} {
		require.True(t, WaitsForUser(r), r)
	}
	for _, r := range []string{reasonNotReady, reasonClusterFailing, reasonRestartLoop, reasonCheckpointsStalled, reasonHealthy} {
		require.False(t, WaitsForUser(r), r)
	}
}
