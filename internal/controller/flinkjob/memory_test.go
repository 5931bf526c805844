package flinkjob_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/test/flinksim"
)

const jobID = "0123456789abcdef0123456789abcdef"

// TestMemoryReadsOnlyWhatChanged observes a simulated job round after round: a steady
// job costs one request a round and its checkpoints are read when due; a failure is
// read at once; a resource about to act reads everything.
func TestMemoryReadsOnlyWhatChanged(t *testing.T) {
	now := time.UnixMilli(1_795_000_000_000)
	sim, err := flinksim.New(flinksim.Options{Version: "2.3", CheckpointInterval: time.Second, Now: func() time.Time { return now }})
	require.NoError(t, err)
	cluster, err := sim.Start("ns/app", "", flinksim.ClusterSpec{JobID: jobID})
	require.NoError(t, err)
	server := httptest.NewServer(cluster.Handler())
	defer server.Close()
	client, err := flinkrest.New(server.URL, flinkrest.WithAttempts(1, 0))
	require.NoError(t, err)
	memory := flinkjob.NewMemory(time.Minute)
	status := &v1beta1.CommonStatus{JobStatus: v1beta1.JobStatus{JobID: jobID}}
	res := flinkjob.Resource{Key: types.NamespacedName{Namespace: "ns", Name: "app"}, Status: status}

	round := func() (*lifecycle.Job, int64) {
		t.Helper()
		before := sim.Requests()
		jobs, err := client.Jobs(t.Context())
		require.NoError(t, err)
		obs := lifecycle.Observation{Now: now}
		flinkjob.Observe(t.Context(), client, memory, res, jobs, &obs)
		require.NotNil(t, obs.Job)
		return obs.Job, sim.Requests() - before
	}
	job, requests := round()
	require.EqualValues(t, 3, requests, "the first round reads the job's overview, checkpoints and failures")
	now = now.Add(10 * time.Second)
	next, requests := round()
	require.EqualValues(t, 1, requests, "a steady job costs one request")
	require.Equal(t, job.LatestCheckpoint, next.LatestCheckpoint, "its checkpoints are remembered")

	now = now.Add(time.Minute)
	next, requests = round()
	require.EqualValues(t, 2, requests, "checkpoints are read again when due; failures are not")
	require.NotEqual(t, job.LatestCheckpoint, next.LatestCheckpoint)

	require.NoError(t, sim.Fail("ns/app", "boom"))
	failed, requests := round()
	require.EqualValues(t, 3, requests, "a changed job is read whole")
	require.Equal(t, "FAILED", failed.State)
	require.Contains(t, failed.Exception, "boom")

	res.Fresh = true
	_, requests = round()
	require.EqualValues(t, 3, requests, "a resource about to act reads everything")
}
