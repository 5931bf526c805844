package flinkconf

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Config is a Flink configuration as Flink holds it: flat keys, string values.
type Config map[string]string

// Parse reads a configuration given as YAML: flat keys ("state.backend.type: rocksdb"),
// nested maps ("state: {backend: {type: rocksdb}}") or both. Lists become Flink's
// ";"-separated form. A key given twice — flat and nested — is an error.
func Parse(data []byte) (Config, error) {
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("flink configuration is not valid YAML: %w", err)
	}
	c := Config{}
	return c, c.flatten("", tree)
}

func (c Config) flatten(prefix string, tree map[string]any) error {
	for _, k := range slices.Sorted(maps.Keys(tree)) {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		var value string
		switch v := tree[k].(type) {
		case map[string]any:
			if err := c.flatten(key, v); err != nil {
				return err
			}
			continue
		case []any:
			items := make([]string, 0, len(v))
			for _, item := range v {
				items = append(items, scalar(item))
			}
			value = strings.Join(items, ";")
		case nil:
			value = ""
		default:
			value = scalar(v)
		}
		if _, dup := c[key]; dup {
			return fmt.Errorf("flink configuration key %q is given twice (flat and nested); keep one", key)
		}
		c[key] = value
	}
	return nil
}

// scalar renders a YAML scalar the way Flink reads it: whole numbers without exponent.
func scalar(v any) string {
	if f, ok := v.(float64); ok && f == float64(int64(f)) {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprint(v)
}

// Merge layers configurations; a later layer's value wins for the same key.
func Merge(layers ...Config) Config {
	out := Config{}
	for _, l := range layers {
		maps.Copy(out, l)
	}
	return out
}

// Render returns the configuration file for a Flink version: its name and content.
func Render(c Config, v Version) (string, []byte, error) {
	if v.StandardYAML() {
		data, err := c.nestedYAML()
		return v.FileName(), data, err
	}
	data, err := c.flatLegacy()
	return v.FileName(), data, err
}

// flatLegacy writes flink-conf.yaml: "key: value" lines, values as they are (the
// legacy parser takes the rest of the line literally).
func (c Config) flatLegacy() ([]byte, error) {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if strings.ContainsAny(k+c[k], "\n\r") {
			return nil, fmt.Errorf("flink configuration key %q: flink-conf.yaml cannot hold a line break", k)
		}
		fmt.Fprintf(&b, "%s: %s\n", k, c[k])
	}
	return []byte(b.String()), nil
}

// nestedYAML writes config.yaml as standard nested YAML. A key that is also the prefix
// of another (high-availability and high-availability.type) cannot be nested; Flink 2.x
// rejects such files, so it is an error that names both keys.
func (c Config) nestedYAML() ([]byte, error) {
	if err := c.checkPrefixes(); err != nil {
		return nil, err
	}
	root := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(c)) {
		node := root
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		node[parts[len(parts)-1]] = c[k]
	}
	return yaml.Marshal(root)
}

func (c Config) checkPrefixes() error {
	keys := slices.Sorted(maps.Keys(c))
	for i, k := range keys {
		if k == "" || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || strings.Contains(k, "..") {
			return fmt.Errorf("flink configuration key %q: empty key segment", k)
		}
		// In sorted order, the keys under k.* follow k directly (after other keys that
		// merely share its text, such as k-suffix, which sort before ".").
		for _, next := range keys[i+1:] {
			if !strings.HasPrefix(next, k) {
				break
			}
			if strings.HasPrefix(next, k+".") {
				return fmt.Errorf("flink configuration keys %q and %q overlap: in config.yaml (Flink 1.19 and later) a key cannot also be the prefix of another; use the newer key (for example %q) only", k, next, next)
			}
		}
	}
	return nil
}
