package statesnapshot

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
)

func withHistory(options string, history ...v1beta1.Snapshot) *v1beta1.FlinkDeployment {
	return &v1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "orders", UID: "uid-1"},
		Spec: v1beta1.FlinkDeploymentSpec{FlinkConfiguration: &runtime.RawExtension{Raw: []byte(options)},
			Job: &v1beta1.JobSpec{JarURI: "local:///job.jar"}},
		Status: v1beta1.FlinkDeploymentStatus{CommonStatus: v1beta1.CommonStatus{JobStatus: v1beta1.JobStatus{
			SavepointInfo: &v1beta1.SavepointInfo{SavepointHistory: history},
		}}},
	}
}

func records(t *testing.T, c client.Client) map[string]v1beta1.FlinkStateSnapshot {
	list := &v1beta1.FlinkStateSnapshotList{}
	require.NoError(t, c.List(t.Context(), list))
	out := map[string]v1beta1.FlinkStateSnapshot{}
	for _, s := range list.Items {
		out[s.Name] = s
	}
	return out
}

// TestHistoryRecords: every savepoint of the history gets a FlinkStateSnapshot that
// registers it; one the history dropped loses its record; reconciling again changes
// nothing; with snapshot resources off every record goes.
func TestHistoryRecords(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1beta1.AddToScheme(scheme))
	upgrade := v1beta1.Snapshot{Location: "s3://b/sp-1", TimeStamp: 1000, TriggerType: "UPGRADE", FormatType: "CANONICAL"}
	manual := v1beta1.Snapshot{Location: "s3://b/sp-2", TimeStamp: 2000, TriggerType: "MANUAL", FormatType: "CANONICAL"}
	fd := withHistory(`{"kubernetes.operator.savepoint.dispose-on-delete":"true"}`, upgrade, manual)
	dropped := recordOf(fd, v1beta1.Snapshot{Location: "s3://b/sp-0", TimeStamp: 500, TriggerType: "PERIODIC"}, false)
	before := recordOf(&v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "orders", UID: "uid-0"}},
		v1beta1.Snapshot{Location: "s3://b/old", TimeStamp: 100, TriggerType: "UPGRADE"}, true)
	byUser := v1beta1.FlinkStateSnapshot{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "by-user"},
		Spec: v1beta1.FlinkStateSnapshotSpec{JobReference: &v1beta1.JobReference{Kind: v1beta1.KindFlinkDeployment, Name: "orders"}, Savepoint: &v1beta1.SavepointSpec{}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(fd, &dropped, &before, &byUser).Build()
	r := historyReconciler{&History{Client: c, Settings: lifecycle.DefaultSettings()}, &v1beta1.FlinkDeployment{}}
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "orders"}}

	for range 2 {
		_, err := r.Reconcile(t.Context(), req)
		require.NoError(t, err)
		got := records(t, c)
		require.ElementsMatch(t, []string{"orders-savepoint-upgrade-1000", "orders-savepoint-manual-2000", "by-user", "orders-savepoint-upgrade-100"}, keys(got),
			"the dropped savepoint's record is gone; the user's own snapshot and those of an earlier orders stay")
		rec := got["orders-savepoint-manual-2000"]
		require.Equal(t, "MANUAL", rec.Labels[LabelTriggerType])
		require.Equal(t, "uid-1", rec.Labels[LabelHistoryOf])
		require.Equal(t, &v1beta1.JobReference{Kind: v1beta1.KindFlinkDeployment, Name: "orders"}, rec.Spec.JobReference)
		require.True(t, rec.Spec.Savepoint.AlreadyExists)
		require.Equal(t, "s3://b/sp-2", rec.Spec.Savepoint.Path)
		require.True(t, rec.Spec.DisposesOnDelete(), "kubernetes.operator.savepoint.dispose-on-delete")
	}

	// The history holds one savepoint; the record of the job's restore point (its last
	// savepoint, not in the history any more) is never dropped.
	fd = withHistory(`{}`, manual)
	fd.Status.JobStatus.SavepointInfo.LastSavepoint = &v1beta1.Snapshot{Location: "s3://b/sp-0"}
	c = fake.NewClientBuilder().WithScheme(scheme).WithObjects(fd, &dropped).Build()
	r.Client = c
	_, err := r.Reconcile(t.Context(), req)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"orders-savepoint-manual-2000", "orders-savepoint-periodic-500"}, keys(records(t, c)))

	// Turned off: nothing is recorded, nothing made before is deleted (it could
	// dispose of files).
	fd = withHistory(`{"kubernetes.operator.snapshot.resource.enabled":"false"}`, manual)
	c = fake.NewClientBuilder().WithScheme(scheme).WithObjects(fd, &dropped).Build()
	r.Client = c
	_, err = r.Reconcile(t.Context(), req)
	require.NoError(t, err)
	require.Equal(t, []string{"orders-savepoint-periodic-500"}, keys(records(t, c)))

	// Being deleted: the last savepoint (taken on the way out) is recorded, none let go.
	fd = withHistory(`{}`, manual)
	fd.DeletionTimestamp, fd.Finalizers = &metav1.Time{Time: time.Unix(1700000000, 0)}, []string{"flok.dev/finalizer"}
	c = fake.NewClientBuilder().WithScheme(scheme).WithObjects(fd, &dropped).Build()
	r.Client = c
	_, err = r.Reconcile(t.Context(), req)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"orders-savepoint-manual-2000", "orders-savepoint-periodic-500"}, keys(records(t, c)))
}

// TestHistoryKey: the controller is woken when the history changes, and when the
// job's restore point moves on while the history stays (a record it kept may go).
func TestHistoryKey(t *testing.T) {
	sp := v1beta1.Snapshot{Location: "s3://b/sp-1", TimeStamp: 1000}
	fd := withHistory(`{}`, sp)
	before := historyKey(fd)
	require.NotEmpty(t, before)
	fd.Status.JobStatus.UpgradeSavepointPath = "s3://b/sp-1"
	require.NotEqual(t, before, historyKey(fd), "the restore point moved")
	require.Empty(t, historyKey(withHistory(`{}`)), "no history: nothing to record")
}

func TestRecordNames(t *testing.T) {
	require.Equal(t, "orders-savepoint-upgrade-1700000000000", recordName("orders", "upgrade", 1700000000000))
	long := recordName(strings.Repeat("a", 250), "periodic", 1700000000000)
	require.Len(t, long, maxNameLength)
	require.True(t, strings.HasSuffix(long, "-savepoint-periodic-1700000000000"))
	require.NotEqual(t, long, recordName(strings.Repeat("a", 249)+"b", "periodic", 1700000000000), "the hash tells long names apart")
}

func keys(m map[string]v1beta1.FlinkStateSnapshot) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
