// Package flinkresttest holds the scenario that proves Flok's Flink REST client against
// a real Flink, shared by the test on a local cluster and the test through the
// Kubernetes API server's service proxy.
package flinkresttest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/test/flinkdist"
)

// Cluster describes the Flink cluster a scenario runs against.
type Cluster struct {
	Release flinkdist.Release
	// Home provides the example jars that are uploaded.
	Home *flinkdist.Home
	// TaskManagers and Slots (in all) are what the cluster has.
	TaskManagers, Slots int
	// CheckpointInterval is the cluster's execution.checkpointing.interval.
	CheckpointInterval string
	// SavepointDir is the savepoint directory as Flink sees it (file:///…).
	SavepointDir string
	// LocalPath maps a file: URI as Flink reports it to the path on this machine.
	LocalPath func(uri string) string
}

// Exercise runs every call of the client against the cluster: cluster reads, jars,
// jobs, checkpoints, savepoints (with a repeated trigger id), stop-with-savepoint, a
// restore from it, an in-place rescale where the adaptive scheduler runs, cancellation,
// a failing job's exception history and the typed errors.
func Exercise(t *testing.T, c *flinkrest.Client, cluster Cluster) {
	release, home := cluster.Release, cluster.Home
	ctx := t.Context()
	var err error
	var overview *flinkrest.Overview
	// Generous: on a loaded 2-core machine a JobManager has taken four minutes to
	// start after its TaskManagers were up; a wait that succeeds costs nothing more.
	eventually(t, 8*time.Minute, "the TaskManagers' slots", func(ctx context.Context) bool {
		overview, err = c.Overview(ctx)
		return err == nil && overview.SlotsTotal == cluster.Slots
	})
	require.Equal(t, cluster.TaskManagers, overview.TaskManagers)
	require.Equal(t, release.Version, overview.FlinkVersion)
	dash, err := c.DashboardConfig(ctx)
	require.NoError(t, err)
	require.Equal(t, release.Version, dash.FlinkVersion)
	require.True(t, dash.Features.WebSubmit)
	config, err := c.JobManagerConfig(ctx)
	require.NoError(t, err)
	require.Equal(t, cluster.CheckpointInterval, config["execution.checkpointing.interval"])
	tms, err := c.TaskManagers(ctx)
	require.NoError(t, err)
	require.Len(t, tms, cluster.TaskManagers)
	require.Equal(t, cluster.Slots/cluster.TaskManagers, tms[0].SlotsNumber)

	_, err = c.UploadJar(ctx, "notes.txt", strings.NewReader("not a jar"))
	require.Error(t, err, "a file that is not a jar is rejected")
	require.True(t, flinkrest.IsBadRequest(err), "%v", err)
	require.Contains(t, strings.ToLower(err.Error()), "jar", "the error carries Flink's reason")

	jarID := upload(t, c, home.ExampleJar(flinkdist.TopSpeedWindowing))
	jars, err := c.Jars(ctx)
	require.NoError(t, err)
	require.Contains(t, jarIDs(jars), jarID)

	jobID, err := c.RunJar(ctx, jarID, flinkrest.RunRequest{Parallelism: 2})
	require.NoError(t, err)
	waitJob(t, c, jobID, flinkrest.JobRunning)
	job, err := c.Job(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, "CarTopSpeedWindowingExample", job.Name)
	require.NotEmpty(t, job.Vertices)
	jobConfig, err := c.JobConfig(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, jobID, jobConfig.ID)
	jobs, err := c.Jobs(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 1)

	cpConfig, err := c.CheckpointConfig(ctx, jobID)
	require.NoError(t, err)
	interval, err := time.ParseDuration(cluster.CheckpointInterval)
	require.NoError(t, err)
	require.EqualValues(t, interval.Milliseconds(), cpConfig.Interval)
	var checkpoints *flinkrest.Checkpoints
	eventually(t, 2*time.Minute, "a completed checkpoint", func(ctx context.Context) bool {
		checkpoints, err = c.Checkpoints(ctx, jobID)
		return err == nil && checkpoints.Latest.Completed != nil
	})
	// The checkpoint reported may already be subsumed by a newer one (one is kept), so
	// the check is for a completed checkpoint in the job's directory, not that one.
	jobCheckpoints := filepath.Dir(cluster.LocalPath(checkpoints.Latest.Completed.ExternalPath))
	require.True(t, strings.HasSuffix(jobCheckpoints, jobID), "checkpoints of job %s in %s", jobID, jobCheckpoints)
	eventually(t, time.Minute, "a completed checkpoint on disk", func(context.Context) bool {
		done, _ := filepath.Glob(filepath.Join(jobCheckpoints, "chk-*", "_metadata"))
		return len(done) > 0
	})

	op, err := c.TriggerCheckpoint(ctx, jobID, flinkrest.CheckpointRequest{})
	require.NoError(t, err)
	result, err := c.Wait(ctx, op)
	require.NoError(t, err)
	require.Positive(t, result.CheckpointID)

	// A savepoint triggered twice with the same id is one savepoint.
	trigger := flinkrest.NewTriggerID()
	request := flinkrest.SavepointRequest{TargetDirectory: cluster.SavepointDir, TriggerID: trigger}
	op, err = c.TriggerSavepoint(ctx, jobID, request)
	require.NoError(t, err)
	again, err := c.TriggerSavepoint(ctx, jobID, request)
	require.NoError(t, err)
	require.Equal(t, op, again)
	result, err = c.Wait(ctx, op)
	require.NoError(t, err)
	require.DirExists(t, cluster.LocalPath(result.Location))
	savepoints, _ := filepath.Glob(filepath.Join(cluster.LocalPath(cluster.SavepointDir), "savepoint-*"))
	require.Len(t, savepoints, 1, "the repeated trigger started no second savepoint")

	// Disposal removes the files; a second one finds nothing to dispose of.
	disposal, err := c.DisposeSavepoint(ctx, result.Location)
	require.NoError(t, err)
	_, err = c.Wait(ctx, disposal)
	require.NoError(t, err)
	require.NoDirExists(t, cluster.LocalPath(result.Location))
	disposal, err = c.DisposeSavepoint(ctx, result.Location)
	require.NoError(t, err)
	_, err = c.Wait(ctx, disposal)
	require.True(t, flinkrest.IsSavepointGone(err), "disposing of a disposed savepoint: %v", err)

	stop, err := c.StopWithSavepoint(ctx, jobID, flinkrest.StopRequest{TargetDirectory: cluster.SavepointDir})
	require.NoError(t, err)
	stopped, err := c.Wait(ctx, stop)
	require.NoError(t, err)
	require.DirExists(t, cluster.LocalPath(stopped.Location))
	waitJob(t, c, jobID, flinkrest.JobFinished)

	// The run request's own configuration applies to the restored job only.
	restoredID, err := c.RunJar(ctx, jarID, flinkrest.RunRequest{
		SavepointPath: stopped.Location, ClaimMode: flinkrest.ClaimModeNoClaim, Parallelism: 2,
		FlinkConfiguration: map[string]string{"execution.checkpointing.interval": "500ms"},
	})
	require.NoError(t, err)
	waitJob(t, c, restoredID, flinkrest.JobRunning)
	eventually(t, time.Minute, "the restore to be reported", func(ctx context.Context) bool {
		checkpoints, err = c.Checkpoints(ctx, restoredID)
		return err == nil && checkpoints.Latest.Restored != nil
	})
	require.Equal(t, stopped.Location, checkpoints.Latest.Restored.ExternalPath)
	require.True(t, checkpoints.Latest.Restored.IsSavepoint)
	cpConfig, err = c.CheckpointConfig(ctx, restoredID)
	require.NoError(t, err)
	require.EqualValues(t, 500, cpConfig.Interval)
	if config["jobmanager.scheduler"] == "adaptive" {
		rescale(t, c, restoredID, len(job.Vertices))
	}

	require.NoError(t, c.CancelJob(ctx, restoredID))
	waitJob(t, c, restoredID, flinkrest.JobCanceled)
	err = c.CancelJob(ctx, restoredID)
	require.True(t, flinkrest.IsConflict(err) || err == nil, "cancelling a cancelled job: %v", err)

	_, err = c.Job(ctx, "00000000000000000000000000000000")
	require.True(t, flinkrest.IsNotFound(err), "%v", err)
	require.Contains(t, err.Error(), "not found")

	failing := upload(t, c, home.ExampleJar(flinkdist.WordCount))
	failedID, err := c.RunJar(ctx, failing, flinkrest.RunRequest{
		ProgramArgs:        []string{"--input", "/nonexistent/input.txt"},
		FlinkConfiguration: map[string]string{"restart-strategy.type": "none"},
	})
	if err == nil {
		waitJob(t, c, failedID, flinkrest.JobFailed)
		history, err := c.Exceptions(ctx, failedID, 10)
		require.NoError(t, err)
		require.NotEmpty(t, history.Entries)
		require.NotEmpty(t, history.Entries[0].ExceptionName)
		require.NotEmpty(t, history.Entries[0].Stacktrace)
	} else {
		require.True(t, flinkrest.IsBadRequest(err) || flinkrest.IsServerError(err), "%v", err)
	}
	require.NoError(t, c.DeleteJar(ctx, failing))
	jars, err = c.Jars(ctx)
	require.NoError(t, err)
	require.NotContains(t, jarIDs(jars), failing)
}

// rescale lowers every vertex of a job to parallelism 1 through its resource
// requirements, which only the adaptive scheduler accepts.
func rescale(t *testing.T, c *flinkrest.Client, restoredID string, vertices int) {
	ctx := t.Context()
	requirements, err := c.ResourceRequirements(ctx, restoredID)
	require.NoError(t, err)
	require.Len(t, requirements, vertices)
	for id, r := range requirements {
		r.Parallelism.LowerBound, r.Parallelism.UpperBound = 1, 1
		requirements[id] = r
	}
	require.NoError(t, c.SetResourceRequirements(ctx, restoredID, requirements))
	eventually(t, 2*time.Minute, "the job rescaled to parallelism 1", func(ctx context.Context) bool {
		j, err := c.Job(ctx, restoredID)
		if err != nil || j.State != flinkrest.JobRunning {
			return false
		}
		for _, v := range j.Vertices {
			if v.Parallelism != 1 {
				return false
			}
		}
		return true
	})

}

// The operation completes with a failure cause, which Wait returns as an
// OperationFailedError.
// FailedSavepoint runs a job and asks for a savepoint where none can be written.
func FailedSavepoint(t *testing.T, c *flinkrest.Client, home *flinkdist.Home) {
	ctx := t.Context()
	jobID, err := c.RunJar(ctx, upload(t, c, home.ExampleJar(flinkdist.TopSpeedWindowing)), flinkrest.RunRequest{})
	require.NoError(t, err)
	waitJob(t, c, jobID, flinkrest.JobRunning)
	op, err := c.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{TargetDirectory: "file:///proc/flok-cannot-write-here"})
	require.NoError(t, err)
	_, err = c.Wait(ctx, op)
	var failed *flinkrest.OperationFailedError
	require.ErrorAs(t, err, &failed)
	require.NotEmpty(t, failed.Cause.StackTrace)
	require.NoError(t, c.CancelJob(ctx, jobID))
}

// ShutDown shuts the cluster down over REST and waits until it no longer answers.
func ShutDown(t *testing.T, c *flinkrest.Client) {
	require.NoError(t, c.ShutDownCluster(t.Context()))
	eventually(t, time.Minute, "the JobManager to stop answering", func(ctx context.Context) bool {
		_, err := c.Overview(ctx)
		return flinkrest.IsUnavailable(err)
	})
}

func upload(t *testing.T, c *flinkrest.Client, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	id, err := c.UploadJar(t.Context(), filepath.Base(path), f)
	require.NoError(t, err)
	return id
}

func jarIDs(jars []flinkrest.Jar) []string {
	ids := make([]string, 0, len(jars))
	for _, j := range jars {
		ids = append(ids, j.ID)
	}
	return ids
}

func waitJob(t *testing.T, c *flinkrest.Client, jobID string, state flinkrest.JobState) {
	t.Helper()
	eventually(t, 2*time.Minute, "job "+jobID+" "+string(state), func(ctx context.Context) bool {
		job, err := c.Job(ctx, jobID)
		return err == nil && job.State == state
	})
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, timeout, true,
		func(ctx context.Context) (bool, error) { return cond(ctx), nil })
	require.NoError(t, err, "waiting for %s", what)
}

// FilePath turns Flink's file: URIs into paths.
func FilePath(uri string) string {
	return "/" + strings.TrimLeft(strings.TrimPrefix(uri, "file:"), "/")
}
