package flinkdist_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flok-dev/flok/test/flinkdist"
)

func TestLookup(t *testing.T) {
	for _, v := range []string{"1", "1.20", "1.20.5"} {
		r, err := flinkdist.Lookup(v)
		require.NoError(t, err)
		require.Equal(t, flinkdist.Flink1.Version, r.Version)
	}
	r, err := flinkdist.Lookup("2")
	require.NoError(t, err)
	require.Equal(t, flinkdist.Flink2.Version, r.Version)
	_, err = flinkdist.Lookup("1.17")
	require.ErrorContains(t, err, `no provisioned Flink release matches "1.17"`)
}

// TestLocalClusterRunsCheckpointingJob provisions each release, starts a standalone
// cluster of real JVMs, runs TopSpeedWindowing with Flink's own client and waits for a
// completed checkpoint on disk.
func TestLocalClusterRunsCheckpointingJob(t *testing.T) {
	for _, release := range flinkdist.Releases {
		t.Run(release.Version, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			home, err := flinkdist.Provision(ctx, release)
			require.NoError(t, err)
			for _, dir := range []string{"bin", "lib", "conf", "plugins"} {
				require.DirExists(t, filepath.Join(home.Dir, dir))
			}
			info, err := os.Stat(filepath.Join(home.Dir, "bin", "flink"))
			require.NoError(t, err)
			require.NotZero(t, info.Mode()&0o111, "bin/flink is executable")
			require.FileExists(t, home.ExampleJar(flinkdist.TopSpeedWindowing))

			cluster, err := flinkdist.StartLocal(ctx, home, flinkdist.LocalOptions{
				TaskManagers: 1,
				Config:       map[string]string{"execution.checkpointing.interval": "1s"},
			})
			require.NoError(t, err)
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(cluster.LogTails(40))
				}
				pids := cluster.PIDs()
				cluster.Stop()
				for _, pid := range pids {
					require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "JVM %d outlived Stop", pid)
				}
			})

			out, err := cluster.Flink(ctx, "run", "--detached", home.ExampleJar(flinkdist.TopSpeedWindowing))
			require.NoError(t, err)
			jobID := regexp.MustCompile(`JobID ([0-9a-f]{32})`).FindStringSubmatch(out)
			require.NotNil(t, jobID, "flink run printed no job id:\n%s", out)

			err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
				matches, _ := filepath.Glob(filepath.Join(cluster.CheckpointDir, jobID[1], "chk-*", "_metadata"))
				return len(matches) > 0, nil
			})
			require.NoError(t, err, "no completed checkpoint of job %s under %s", jobID[1], cluster.CheckpointDir)
		})
	}
}
