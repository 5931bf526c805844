package localk8s

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BinDirEnv names an environment variable that points at a directory holding the
// control-plane binaries, for callers that built them elsewhere.
const BinDirEnv = "FLOK_K8S_BIN"

const modulePath = "github.com/flok-dev/flok"

// BinDir returns the directory of the pinned control-plane binaries. Unless BinDirEnv
// is set, it runs hack/k8s-tools.sh, which builds them on first use (several minutes;
// its progress goes to stderr) and returns at once when they are cached.
func BinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "hack", "k8s-tools.sh"))
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/k8s-tools.sh could not provide the control-plane binaries (see its message above): %w", err)
	}
	return strings.TrimSpace(out.String()), nil
}

// RepoRoot finds the root of Flok's source tree above the working directory, which is
// where `go test` runs a package's tests.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside Flok's source tree (no go.mod of " + modulePath + " above the working directory)")
		}
		dir = parent
	}
}
