package flinkdist

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// WriteConfDir writes a Flink configuration directory: the home's own config.yaml with
// overrides applied, rendered by flinkconf as the home's Flink version reads it, plus
// the home's logging files.
func WriteConfDir(home *Home, dir string, overrides map[string]string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(home.Dir, "conf", "config.yaml"))
	if err != nil {
		return "", err
	}
	base, err := flinkconf.Parse(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", home.Dir, err)
	}
	version, err := flinkconf.ParseVersion(home.Release.Version)
	if err != nil {
		return "", err
	}
	name, rendered, err := flinkconf.Render(flinkconf.Merge(base, overrides), version)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, name), rendered, 0o644); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(filepath.Join(home.Dir, "conf"))
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, "log4j") || strings.HasPrefix(name, "logback") {
			data, err := os.ReadFile(filepath.Join(home.Dir, "conf", name))
			if err != nil {
				return "", err
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}
