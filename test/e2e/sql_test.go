package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/sqlrunner"
)

// sqlRunnerEnv gives an operator process the SQL runner's jar (--sql-runner-jar).
const sqlRunnerEnv = "FLOK_E2E_SQL_RUNNER_JAR"

// sqlSample is the SQL application of config/samples, which TestSQLApplication runs.
const sqlSample = "flinkdeployment-sql.yaml"

// TestSQLApplication runs the SQL sample as a native application — on Flok's SQL runner
// on Flink 1.20, on Flink's own SqlDriver on 2.3 — and upgrades it with a changed
// statement (its sink moves) by a savepoint: the new job restores every operator's
// state, and its stream goes on where the old one stopped.
func TestSQLApplication(t *testing.T) {
	t.Parallel()
	jar, err := sqlrunner.Jar(t.Context())
	require.NoError(t, err)
	for _, release := range flinktest.Releases() {
		t.Run(release.MinorVersion(), func(t *testing.T) {
			t.Parallel()
			ns, c := operatorTest(t, release)
			startOperatorWith(t, ns, operatorKubeconfig(t), "", sqlRunnerEnv+"="+jar)
			dir := flinktest.StateDir(t, cluster, ns)
			fd := &v1beta1.FlinkDeployment{}
			require.NoError(t, yaml.UnmarshalStrict([]byte(sampleText(t, sqlSample, release, dir)), fd))
			fd.Namespace = ns
			require.NoError(t, c.Create(t.Context(), fd))
			fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the SQL job to run", stableWith(""))
			first := fd.Status.JobStatus.JobID
			before := waitForWindows(t, filepath.Join(dir, "orders-per-window"), 2)

			update(t, c, fd, func(fd *v1beta1.FlinkDeployment) {
				fd.Spec.Job.SQL.Script = strings.Replace(fd.Spec.Job.SQL.Script, "/orders-per-window'", "/orders-per-window-v2'", 1)
			})
			fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the upgraded SQL job", stableWith(first))
			flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName(fd.Name), "rest")
			require.Equal(t, fd.Status.JobStatus.UpgradeSavepointPath, restoredFrom(t, flink, fd.Status.JobStatus.JobID),
				"the new job restored the upgrade's savepoint")
			beforeUpgrade := lastOrder(waitForWindows(t, filepath.Join(dir, "orders-per-window"), len(before)))
			after := waitForWindows(t, filepath.Join(dir, "orders-per-window-v2"), 1)
			require.Greater(t, firstOrder(after), beforeUpgrade,
				"the upgraded job's stream goes on after the last order the old job wrote, not from 1")
			t.Logf("orders 1 to %d before the upgrade, from %d after it", beforeUpgrade, firstOrder(after))
		})
	}
}

// sqlWindow is a row the SQL job writes: the first and last order of a window.
type sqlWindow struct{ first, last int64 }

// waitForWindows waits until at least n windows are committed under dir (the file
// sink commits its files at checkpoints) and returns them.
func waitForWindows(t *testing.T, dir string, n int) []sqlWindow {
	t.Helper()
	var rows []sqlWindow
	flinktest.WaitFor(t, 2*time.Minute, fmt.Sprintf("%d windows committed in %s", n, dir), func(_ context.Context) (bool, error) {
		rows = readWindows(t, dir)
		return len(rows) >= n, nil
	})
	return rows
}

// readWindows reads the committed files of the file sink: those not hidden (in-progress
// files start with a dot).
func readWindows(t *testing.T, dir string) []sqlWindow {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	var rows []sqlWindow
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		records, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
		require.NoError(t, err, f)
		for _, r := range records {
			require.Len(t, r, 4, "a window row: %v", r)
			first, err := strconv.ParseInt(r[1], 10, 64)
			require.NoError(t, err)
			last, err := strconv.ParseInt(r[2], 10, 64)
			require.NoError(t, err)
			rows = append(rows, sqlWindow{first, last})
		}
	}
	return rows
}

func lastOrder(rows []sqlWindow) int64 {
	var last int64
	for _, r := range rows {
		last = max(last, r.last)
	}
	return last
}

func firstOrder(rows []sqlWindow) int64 {
	first := rows[0].first
	for _, r := range rows {
		first = min(first, r.first)
	}
	return first
}
