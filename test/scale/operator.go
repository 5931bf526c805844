package scale

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildFlok builds flok-operator into dir and returns the command line that runs it
// out of cluster, reaching Flink by the REST Services' DNS names.
func BuildFlok(dir string, extraArgs ...string) ([]string, error) {
	bin := filepath.Join(dir, "flok-operator")
	build := exec.Command("go", "build", "-o", bin, "./cmd/flok-operator")
	build.Dir = RepoRoot()
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building flok-operator: %w", err)
	}
	// kwok's Pods have no logs to keep: asking for them would only make the API server
	// dial the kwok node's address.
	args := []string{bin, "--kubeconfig={kubeconfig}", "--flink-access=direct", "--keep-ended-logs=false",
		"--metrics-bind-address={metrics}", "--pprof-bind-address={pprof}", "--health-probe-bind-address=0"}
	return append(args, extraArgs...), nil
}
