// Package golden compares a test's output with a file kept under testdata, and rewrites
// the file when the test runs with -update: a change of output then shows in review.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// update is registered once here, so every package comparing golden files takes the
// same -update flag.
var update = flag.Bool("update", false, "rewrite the golden files from what the tests produce")

// Compare fails t when got differs from the file at path; with -update it writes got to
// path first.
func Compare(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file; run the test with -update to write it")
	require.Equal(t, string(want), string(got), "output differs from %s (if intended, run the test with -update)", path)
}
