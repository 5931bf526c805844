// Package flinkrecord holds the answers of real Flink JobManagers (1.20 and 2.3),
// recorded by internal/flinkrest's real-Flink test with -record: the client's tests
// replay them, and test/flinksim shapes its answers from them.
//
// A file is named by the request's route, ids generalized, and the answer's status:
// GET /jobs/:id/checkpoints answered 200 is GET_jobs_ID_checkpoints_OK.json. A label
// prefix (failed-savepoint_) keeps the answers of a scenario apart.
package flinkrecord

import (
	"embed"
	"io/fs"
	"path/filepath"
	"runtime"
)

//go:embed responses
var responses embed.FS

// Versions are the Flink minor versions recorded.
var Versions = []string{"1.20", "2.3"}

// Responses returns the recorded answers of one Flink minor version.
func Responses(version string) (fs.FS, error) {
	return fs.Sub(responses, "responses/"+version)
}

// SourceDir is where a recording of version is written: this package's own directory
// in the source tree.
func SourceDir(version string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "responses", version)
}
