package flinkconf

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// Config is a Flink configuration as Flink holds it: flat keys, string values.
type Config map[string]string

// Parse reads a configuration given as YAML: flat keys ("state.backend.type: rocksdb"),
// nested maps ("state: {backend: {type: rocksdb}}") or both. Lists become Flink's
// ";"-separated form. A key given twice — flat and nested, or as two spellings YAML
// reads as one value (0 and 0.0) — is an error: which of the two Flink takes is not
// defined.
func Parse(data []byte) (Config, error) {
	var tree yamlv2.MapSlice
	if err := yamlv2.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("flink configuration is not valid YAML: %w", err)
	}
	c := Config{}
	return c, c.flatten("", tree)
}

func (c Config) flatten(prefix string, tree yamlv2.MapSlice) error {
	// Sorted, so that which of two overlapping keys an error names does not depend
	// on the order they were written in.
	items := slices.Clone(tree)
	slices.SortStableFunc(items, func(a, b yamlv2.MapItem) int { return strings.Compare(scalar(a.Key), scalar(b.Key)) })
	for _, item := range items {
		key := scalar(item.Key)
		if prefix != "" {
			key = prefix + "." + key
		}
		var value string
		switch v := item.Value.(type) {
		case yamlv2.MapSlice:
			if err := c.flatten(key, v); err != nil {
				return err
			}
			continue
		case []any:
			parts := make([]string, 0, len(v))
			for _, part := range v {
				switch part.(type) {
				case yamlv2.MapSlice, []any:
					return fmt.Errorf("flink configuration key %q: a list holds values, not maps or lists", key)
				}
				parts = append(parts, scalar(part))
			}
			value = strings.Join(parts, ";")
		default:
			value = scalar(v)
		}
		if _, dup := c[key]; dup {
			return fmt.Errorf("flink configuration key %q is given twice (flat and nested, or spelt two ways); keep one", key)
		}
		c[key] = value
	}
	return nil
}

// scalar renders a YAML scalar the way Flink reads it: whole numbers without exponent,
// null as nothing.
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
			return strconv.FormatInt(int64(v), 10)
		}
	}
	return fmt.Sprint(v)
}

// IsTrue reads a Flink boolean option as Flink does: "true" in any case is on,
// anything else off.
func IsTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

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

// flatLegacy writes flink-conf.yaml: "key: value" lines, values as they are. Flink's
// legacy parser cuts each line at its first "#", splits it at its first ": " and trims
// both halves, so what it would read differently is refused, not written.
func (c Config) flatLegacy() ([]byte, error) {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if err := legacyLine(k, c[k]); err != nil {
			return nil, fmt.Errorf("flink configuration key %q: flink-conf.yaml (Flink before 1.19) %s", k, err)
		}
		fmt.Fprintf(&b, "%s: %s\n", k, c[k])
	}
	return []byte(b.String()), nil
}

// legacyLine says why Flink's legacy parser would not read "key: value" back as
// written, nil when it would.
func legacyLine(key, value string) error {
	switch {
	case strings.ContainsAny(key+value, "\n\r"):
		return errors.New("cannot hold a line break")
	case strings.Contains(key+value, "#"):
		return errors.New(`cannot hold "#": Flink reads the rest of the line as a comment; use Flink 1.19 or later (config.yaml) for such a value`)
	case strings.Contains(key, ": "):
		return errors.New(`cannot hold a key with ": ": Flink splits the line there`)
	case strings.TrimSpace(key) != key || key == "":
		return errors.New("cannot hold an empty key or one with spaces around it")
	case strings.TrimSpace(value) != value:
		return errors.New("trims the spaces around a value; remove them")
	}
	return nil
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

// yamlMergeKey is the key YAML 1.1 readers take for a merge of the map it names. YAML
// encoders write it unquoted as a key, so a configuration key with this segment cannot
// be written to config.yaml and read back as itself.
const yamlMergeKey = "<<"

func (c Config) checkPrefixes() error {
	keys := slices.Sorted(maps.Keys(c))
	for i, k := range keys {
		if k == "" || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || strings.Contains(k, "..") {
			return fmt.Errorf("flink configuration key %q: empty key segment", k)
		}
		if slices.Contains(strings.Split(k, "."), yamlMergeKey) {
			return fmt.Errorf("flink configuration key %q: %q is YAML's merge key; config.yaml (Flink 1.19 and later) would read it as a merge of the map below it, not as a key", k, yamlMergeKey)
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
