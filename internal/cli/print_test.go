package cli

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/test/golden"
)

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// matchGolden compares got with testdata/NAME.golden.
func matchGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Compare(t, filepath.Join("testdata", name+".golden"), got)
}

func application() *v1beta1.FlinkDeployment {
	return &v1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "streaming", UID: "u1", Generation: 3, CreationTimestamp: metav1.NewTime(now.Add(-26 * time.Hour))},
		Spec: v1beta1.FlinkDeploymentSpec{FlinkVersion: "v2_3", Mode: v1beta1.ModeNative,
			Job: &v1beta1.JobSpec{JarURI: "local:///opt/flink/usrlib/orders.jar", Parallelism: 4, UpgradeMode: v1beta1.UpgradeModeSavepoint}},
		Status: v1beta1.FlinkDeploymentStatus{
			CommonStatus: v1beta1.CommonStatus{
				LifecycleState: v1beta1.LifecycleStable, ObservedGeneration: 3,
				JobStatus: v1beta1.JobStatus{JobID: "0123456789abcdef0123456789abcdef", State: "RUNNING",
					CheckpointInfo: &v1beta1.CheckpointInfo{LastCheckpoint: &v1beta1.Snapshot{Location: "file:///state/checkpoints/0123/chk-42", TimeStamp: now.Add(-5 * time.Second).UnixMilli()}},
					SavepointInfo: &v1beta1.SavepointInfo{
						LastSavepoint: &v1beta1.Snapshot{Location: "file:///state/savepoints/savepoint-0123-b", TimeStamp: now.Add(-time.Hour).UnixMilli(), TriggerType: "MANUAL", TriggerNonce: ptr.To[int64](1)},
						SavepointHistory: []v1beta1.Snapshot{
							{Location: "file:///state/savepoints/savepoint-0123-a", TimeStamp: now.Add(-3 * time.Hour).UnixMilli(), TriggerType: "UPGRADE"},
							{Location: "file:///state/savepoints/savepoint-0123-b", TimeStamp: now.Add(-time.Hour).UnixMilli(), TriggerType: "MANUAL"},
						}},
				},
			},
			Conditions: []metav1.Condition{
				{Type: "Ready", Status: "True", Reason: "JobRunning", Message: "job 0123456789abcdef0123456789abcdef is running"},
				{Type: "Progressing", Status: "False", Reason: "Idle"},
				{Type: "Degraded", Status: "False", Reason: "Healthy"},
			},
		},
	}
}

func session() *v1beta1.FlinkDeployment {
	return &v1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: "streaming", UID: "u2", CreationTimestamp: metav1.NewTime(now.Add(-3 * time.Minute))},
		Spec:       v1beta1.FlinkDeploymentSpec{FlinkVersion: "v1_20", Mode: v1beta1.ModeStandalone},
		Status: v1beta1.FlinkDeploymentStatus{
			CommonStatus: v1beta1.CommonStatus{LifecycleState: v1beta1.LifecycleStable},
			Session: &v1beta1.SessionStatus{TaskManagers: 2, TotalSlots: 4, AvailableSlots: 1, Jobs: []v1beta1.SessionJobSummary{
				{JobID: "aaaabbbbccccddddaaaabbbbccccdddd", Name: "payments", State: "RUNNING", SessionJob: "payments"},
				{JobID: "eeeeffff00001111eeeeffff00001111", Name: "ad-hoc sql", State: "RUNNING"},
			}},
		},
	}
}

func sessionJob() *v1beta1.FlinkSessionJob {
	return &v1beta1.FlinkSessionJob{
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: "streaming", UID: "u3", CreationTimestamp: metav1.NewTime(now.Add(-90 * time.Second))},
		Spec:       v1beta1.FlinkSessionJobSpec{DeploymentName: "shared", Job: &v1beta1.JobSpec{JarURI: "https://repo.example.com/payments.jar", Parallelism: 2}},
		Status: v1beta1.FlinkSessionJobStatus{CommonStatus: v1beta1.CommonStatus{
			LifecycleState: v1beta1.LifecycleUpgrading,
			JobStatus:      v1beta1.JobStatus{JobID: "aaaabbbbccccddddaaaabbbbccccdddd", State: "RUNNING"},
			Operation: &v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepSnapshotting,
				StartTime: metav1.NewTime(now.Add(-4 * time.Second)), Message: "stopping the job with a savepoint"},
		}},
	}
}

// TestListGolden: `flok list` in every output format.
func TestListGolden(t *testing.T) {
	items := []Summary{SummarizeDeployment(application()), SummarizeDeployment(session()), SummarizeSessionJob(sessionJob())}
	for _, format := range []string{OutputTable, OutputWide, OutputJSON, OutputYAML} {
		var out bytes.Buffer
		require.NoError(t, PrintSummaries(&out, items, format, now))
		matchGolden(t, "list-"+format, out.Bytes())
	}
	var out bytes.Buffer
	require.NoError(t, PrintSummaries(&out, nil, OutputTable, now))
	matchGolden(t, "list-empty", out.Bytes())
}

func snapshots() []v1beta1.FlinkStateSnapshot {
	of := &v1beta1.JobReference{Kind: v1beta1.KindFlinkDeployment, Name: "orders"}
	return []v1beta1.FlinkStateSnapshot{
		{ObjectMeta: metav1.ObjectMeta{Name: "orders-before-migration", CreationTimestamp: metav1.NewTime(now.Add(-50 * time.Minute))},
			Spec:   v1beta1.FlinkStateSnapshotSpec{JobReference: of, Savepoint: &v1beta1.SavepointSpec{}},
			Status: v1beta1.FlinkStateSnapshotStatus{State: v1beta1.SnapshotCompleted, Path: "file:///state/savepoints/savepoint-0123-c"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "orders-check", CreationTimestamp: metav1.NewTime(now.Add(-20 * time.Second))},
			Spec:   v1beta1.FlinkStateSnapshotSpec{JobReference: of, Checkpoint: &v1beta1.CheckpointSpec{}},
			Status: v1beta1.FlinkStateSnapshotStatus{State: v1beta1.SnapshotFailed, Error: "CheckpointException: Checkpoint expired before completing."}},
	}
}

// TestStatusGolden: `flok status` of an application (with its FlinkStateSnapshots),
// a session and a session job.
func TestStatusGolden(t *testing.T) {
	events := []eventsv1.Event{
		{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-2 * time.Hour))}, Type: "Normal", Reason: "SavepointCompleted", Note: "MANUAL savepoint file:///state/savepoints/savepoint-0123-b"},
		{EventTime: metav1.NewMicroTime(now.Add(-time.Minute)), Type: "Normal", Reason: "Stable", Note: "job 0123456789abcdef0123456789abcdef is running"},
	}
	ui := "https://127.0.0.1:6443/api/v1/namespaces/streaming/services/orders-rest:rest/proxy/"
	for name, st := range map[string]*Status{
		"application": {Object: application(), Events: events, UI: ui, Snapshots: snapshots()},
		"session":     {Object: session(), UI: ui},
		"sessionjob":  {Object: sessionJob(), UI: ui},
	} {
		for _, format := range []string{OutputTable, OutputJSON, OutputYAML} {
			if format != OutputTable && name != "application" {
				continue
			}
			var out bytes.Buffer
			require.NoError(t, PrintStatus(&out, st, format, now))
			matchGolden(t, "status-"+name+"-"+format, out.Bytes())
		}
	}
}

func TestCheckOutput(t *testing.T) {
	require.NoError(t, CheckOutput("wide"))
	require.ErrorContains(t, CheckOutput("xml"), "use table, wide, json or yaml")
}
