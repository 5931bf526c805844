package sqlrunner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/test/flinkdist"
)

// windowed is a SQL job of the kind users write: SET, two tables, comments holding
// semicolons, and a windowed aggregate from one into the other.
const windowed = `-- orders per window
SET 'parallelism.default' = '1';
CREATE TABLE orders (id BIGINT, amount INT, pt AS PROCTIME())
  WITH ('connector' = 'datagen', 'rows-per-second' = '5');
CREATE TABLE totals (window_end TIMESTAMP(3), orders BIGINT, amount BIGINT) WITH ('connector' = 'blackhole');
/* the job; its statements
   end in semicolons */
INSERT INTO totals
SELECT window_end, COUNT(*), SUM(amount)
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(pt), INTERVAL '2' SECOND))
GROUP BY window_start, window_end;
`

// TestValidate runs the runner's check of a script (--validate) on real Flink, one JVM
// per case, so few cases: a script plans on 2.3 (the runner is built against 1.20,
// which TestSQLApplication runs it on), an EXECUTE STATEMENT SET plans as one job on
// 1.20, and a script that does not parse or plan is refused with the statement and the
// line and column of the script it fails on.
func TestValidate(t *testing.T) {
	jar, err := Jar(t.Context())
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		release flinkdist.Release
		script  string
		valid   bool
		want    string
	}{
		{"plans on 2.3", flinkdist.Flink2, windowed, true, "the script's 4 statements plan as one job of 1 INSERT statements"},
		{"unknown column", flinkdist.Flink2, strings.Replace(windowed, "SUM(amount)", "SUM(amont)", 1), false,
			"statement 4 (line 9, column 34) of the SQL script: Column 'amont' not found in any table"},
		{"parse error", flinkdist.Flink1, strings.Replace(windowed, "GROUP BY", "GROUP BYE", 1), false,
			`statement 4 (line 11, column 7) of the SQL script: Encountered "BYE"`},
		{"statement set", flinkdist.Flink1, strings.Replace(windowed, "INSERT INTO totals", "EXECUTE STATEMENT SET BEGIN\nINSERT INTO totals", 1) +
			"INSERT INTO totals SELECT window_end, 0, 0 FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(pt), INTERVAL '1' SECOND)) GROUP BY window_start, window_end;\nEND;\n",
			true, "the script's 5 statements plan as one job of 2 INSERT statements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := validate(t, jar, tc.release, tc.script)
			if tc.valid {
				require.NoError(t, err, out)
			} else {
				require.Error(t, err, out)
			}
			require.Contains(t, out, tc.want)
		})
	}
}

// validate runs the runner's check of script on the release's table API and planner.
func validate(t *testing.T, jar string, release flinkdist.Release, script string) (string, error) {
	home, err := flinkdist.Provision(t.Context(), release)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "job.sql")
	require.NoError(t, os.WriteFile(file, []byte(script), 0o644))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "java", "-cp", filepath.Join(home.Dir, "lib", "*")+":"+jar, "dev.flok.sql.SqlRunner", "--script-file", file, "--validate")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
