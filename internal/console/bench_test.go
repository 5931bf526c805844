package console

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// benchDeployments are n FlinkDeployments with the status a running job has: a
// serialized spec twice, conditions, a savepoint history and managed fields.
func benchDeployments(n int) []client.Object {
	spec := strings.Repeat(`{"job":{"jarURI":"local:///opt/flink/usrlib/job.jar","parallelism":2}}`, 30)
	var fields []string
	for i := range 60 {
		fields = append(fields, fmt.Sprintf(`"f:field%d":{}`, i))
	}
	managed := []byte(`{"f:status":{` + strings.Join(fields, ",") + `}}`)
	objs := make([]client.Object, n)
	for i := range objs {
		objs[i] = application("a", fmt.Sprintf("job-%05d", i), func(fd *v1beta1.FlinkDeployment) {
			fd.ManagedFields = []metav1.ManagedFieldsEntry{{
				Manager: "flok-operator", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "flok.dev/v1beta1",
				FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: managed}, Subresource: "status",
			}}
			fd.Status.ReconciliationStatus = v1beta1.ReconciliationStatus{LastReconciledSpec: spec, LastStableSpec: spec, State: "DEPLOYED"}
			fd.Status.Conditions = []metav1.Condition{{Type: lifecycle.ConditionReady, Status: metav1.ConditionTrue, Reason: "Running", Message: "the job runs"}}
			fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastPeriodicCheckpointTimestamp: time.Now().UnixMilli()}
			fd.Status.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{SavepointHistory: []v1beta1.Snapshot{{Location: "file:///state/savepoints/savepoint-1"}, {Location: "file:///state/savepoints/savepoint-2"}}}
			if i%50 == 0 {
				fd.Status.JobStatus.State = "FAILED"
			}
		})
	}
	return objs
}

// BenchmarkOverview1000 makes the overview of 1,000 deployments from the objects a
// live feed keeps (rows, problems first, JSON) — what every change sends to the pages
// and what a page's first load adds to the API server's list — and reports its p99
// and the memory the feed keeps for them (the objects as trimmed for rows).
func BenchmarkOverview1000(b *testing.B) {
	objs := benchDeployments(1000)
	fds := make([]v1beta1.FlinkDeployment, len(objs))
	for i, o := range objs {
		trimmed, _ := trimForRows(o.DeepCopyObject())
		fds[i] = *trimmed.(*v1beta1.FlinkDeployment)
	}
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := json.Marshal(rowsOf(fds, nil)); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(feedMiB(objs), "feed-MiB")
}

// feedMiB is the heap the trimmed copies of objs hold.
func feedMiB(objs []client.Object) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := make([]any, len(objs))
	for i, o := range objs {
		kept[i], _ = trimForRows(o.DeepCopyObject())
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	runtime.KeepAlive(objs)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
}
