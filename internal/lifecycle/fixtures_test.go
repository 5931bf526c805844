package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flok-dev/flok/api/v1beta1"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const (
	runningJobID = "0123456789abcdef0123456789abcdef"
	savepointA   = "file:///state/savepoints/savepoint-a"
	checkpointA  = "file:///state/checkpoints/0123/chk-7"
	checkpointB  = "file:///state/checkpoints/0123/chk-8"
)

// newDeployment is an application in savepoint mode, never deployed.
func newDeployment() *v1beta1.FlinkDeployment {
	return &v1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "streaming", UID: "uid-1", Generation: 1},
		Spec: v1beta1.FlinkDeploymentSpec{
			Image: "flink:2.3", FlinkVersion: "v2_3",
			FlinkConfiguration: &runtime.RawExtension{Raw: []byte(`{"execution.checkpointing.interval":"10s"}`)},
			Job: &v1beta1.JobSpec{
				JarURI: "local:///opt/flink/usrlib/orders.jar", Parallelism: 2,
				UpgradeMode: v1beta1.UpgradeModeSavepoint, State: v1beta1.JobStateRunning,
			},
		},
	}
}

// runningDeployment is newDeployment deployed and STABLE, its job running.
func runningDeployment() *v1beta1.FlinkDeployment {
	fd := newDeployment()
	fd.Status = v1beta1.FlinkDeploymentStatus{CommonStatus: v1beta1.CommonStatus{
		LifecycleState:     v1beta1.LifecycleStable,
		ObservedGeneration: 1,
		JobStatus:          v1beta1.JobStatus{JobID: runningJobID, State: JobRunning, StartTime: "1700000000000"},
		ReconciliationStatus: v1beta1.ReconciliationStatus{
			LastReconciledSpec: encodeSpec(&fd.Spec), LastStableSpec: encodeSpec(&fd.Spec),
			ReconciliationTimestamp: t0.Add(-time.Hour).UnixMilli(), State: "DEPLOYED",
		},
	}}
	return fd
}

// changed is fd with a new parallelism, as a user's edit makes it: a new generation.
func changed(fd *v1beta1.FlinkDeployment) *v1beta1.FlinkDeployment {
	fd.Spec.Job.Parallelism = 4
	fd.Generation++
	return fd
}

func withOperation(fd *v1beta1.FlinkDeployment, op v1beta1.Operation) *v1beta1.FlinkDeployment {
	if op.StartTime.IsZero() {
		op.StartTime = metav1.NewTime(t0.Add(-10 * time.Second))
	}
	fd.Status.Operation = &op
	return fd
}

// running is what the controller observes of a healthy cluster running job id.
func running(id string) Observation {
	return Observation{
		Now: t0, Cluster: ClusterReady, DeployedHash: "h1", DesiredHash: "h1",
		Job: &Job{ID: id, Name: "orders", State: JobRunning, TasksRunning: true, StartTime: 1700000000000,
			LatestCheckpointTime: t0.Add(-5 * time.Second).UnixMilli()},
		Checkpointing: true,
	}
}

func missing() Observation { return Observation{Now: t0, Cluster: ClusterMissing} }

func decide(t *testing.T, fd *v1beta1.FlinkDeployment, obs Observation, mutate ...func(*Settings)) Decision {
	t.Helper()
	s := DefaultSettings()
	for _, m := range mutate {
		m(&s)
	}
	before := fd.DeepCopy()
	d := Next(Input{Deployment: fd, Observed: obs, Settings: s})
	require.Equal(t, before, fd, "Next must not modify its input")
	compared := CompareSpec(fd)
	again := Next(Input{Deployment: fd, Observed: obs, Settings: s, Compared: compared})
	require.Equal(t, d, again, "the same input must give the same decision, with the spec comparison kept or not")
	require.Equal(t, CompareSpec(fd), compared, "Next must not modify a kept spec comparison")
	return d
}

func condition(d Decision, kind string) *metav1.Condition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == kind {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// then applies a decision's status, as the controller records it, for the next round.
func then(fd *v1beta1.FlinkDeployment, d Decision) *v1beta1.FlinkDeployment {
	next := fd.DeepCopy()
	next.Status = d.Status
	return next
}
