package flinkrest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/flinkrest/flinkresttest"
	"github.com/flok-dev/flok/test/flinkdist"
)

// TestClientAgainstRealFlink runs every call of the client against a real local Flink
// cluster of each release: jars, jobs, checkpoints, savepoints (with a repeated trigger
// id), stop-with-savepoint, a restore from it, cancellation, a failing job's exception
// history and the typed errors.
func TestClientAgainstRealFlink(t *testing.T) {
	for _, release := range flinkdist.Releases {
		t.Run(release.MinorVersion(), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			home, err := flinkdist.Provision(ctx, release)
			require.NoError(t, err)
			cluster, err := flinkdist.StartLocal(ctx, home, flinkdist.LocalOptions{
				Slots: 4, Config: map[string]string{
					"execution.checkpointing.interval": "1s",
					// The adaptive scheduler lets the test rescale a job in place.
					"jobmanager.scheduler": "adaptive",
				},
			})
			require.NoError(t, err)
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(cluster.LogTails(60))
				}
				cluster.Stop()
			})
			record, label := recorder(t, release, cluster.Dir)
			client, err := flinkrest.New(cluster.RESTURL, record)
			require.NoError(t, err)
			flinkresttest.Exercise(t, client, flinkresttest.Cluster{
				Release: release, Home: home, TaskManagers: 1, Slots: 4, CheckpointInterval: "1s",
				SavepointDir: "file://" + cluster.SavepointDir, LocalPath: flinkresttest.FilePath,
			})
			label("failed-savepoint")
			flinkresttest.FailedSavepoint(t, client, home)
			label("shutdown")
			flinkresttest.ShutDown(t, client)
		})
	}
}
