package procnode

import (
	_ "embed"
	"os"
	"path/filepath"
)

//go:embed assets/docker-entrypoint.sh
var dockerEntrypoint []byte

// writeEntrypoint installs the stand-in for the Flink image's /docker-entrypoint.sh.
func writeEntrypoint(dir string) (string, error) {
	path := filepath.Join(dir, "docker-entrypoint.sh")
	return path, os.WriteFile(path, dockerEntrypoint, 0o755)
}
