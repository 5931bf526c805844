package flinkdist

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// WriteConfDir writes a Flink configuration directory: the home's own config.yaml with
// overrides applied, written back as flat keys, plus the home's logging files. Flink
// 1.19 and later read config.yaml as standard YAML, where flat dotted keys and nested
// maps mean the same.
func WriteConfDir(home *Home, dir string, overrides map[string]string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base, err := readConfig(filepath.Join(home.Dir, "conf", "config.yaml"))
	if err != nil {
		return "", err
	}
	for k, v := range overrides {
		base[k] = v
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), renderFlat(base), 0o644); err != nil {
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

// readConfig reads a config.yaml into flat keys.
func readConfig(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	flat := map[string]string{}
	flatten("", tree, flat)
	return flat, nil
}

func flatten(prefix string, tree map[string]any, into map[string]string) {
	for k, v := range tree {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			flatten(key, v, into)
		case []any:
			items := make([]string, 0, len(v))
			for _, item := range v {
				items = append(items, fmt.Sprint(item))
			}
			into[key] = strings.Join(items, ";")
		default:
			into[key] = fmt.Sprint(v)
		}
	}
}

// renderFlat writes one `key: "value"` line per key, sorted, values quoted as YAML
// strings so that Flink parses each value itself.
func renderFlat(config map[string]string) []byte {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(config)) {
		quoted, _ := yaml.Marshal(config[k])
		fmt.Fprintf(&b, "%s: %s", k, quoted)
	}
	return []byte(b.String())
}
