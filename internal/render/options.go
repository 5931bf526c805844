package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// splitEscaped splits a Flink option value on sep the way Flink's
// StructuredOptionsSplitter does: quotes (' or ") protect separators, a doubled quote
// inside quotes is a literal quote, and each part is trimmed.
func splitEscaped(value string, sep rune) ([]string, error) {
	var parts []string
	var cur strings.Builder
	var quote rune
	runes := []rune(value)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote != 0 && r == quote:
			if i+1 < len(runes) && runes[i+1] == quote {
				cur.WriteRune(r)
				i++
				continue
			}
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote = r
		case r == sep:
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q has an unclosed quote", value)
	}
	last := strings.TrimSpace(cur.String())
	if last != "" || len(parts) > 0 {
		parts = append(parts, last)
	}
	return parts, nil
}

// parseMap reads a Flink map option, "key1:value1,key2:value2".
func parseMap(value string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(value) == "" {
		return out, nil
	}
	entries, err := splitEscaped(value, ',')
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e == "" {
			continue
		}
		kv, err := splitEscaped(e, ':')
		if err != nil {
			return nil, err
		}
		if len(kv) != 2 || kv[0] == "" {
			return nil, fmt.Errorf("entry %q: want key:value, entries separated by commas, such as team:data,tier:gold", e)
		}
		out[kv[0]] = kv[1]
	}
	return out, nil
}

// parseMapList reads a Flink list of maps, "k:v,k2:v2;k:v3,k2:v4".
func parseMapList(value string) ([]map[string]string, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	items, err := splitEscaped(value, ';')
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, 0, len(items))
	for _, item := range items {
		if item == "" {
			continue
		}
		m, err := parseMap(item)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// parseList reads a Flink list option, "a;b;c".
func parseList(value string) ([]string, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	items, err := splitEscaped(value, ';')
	if err != nil {
		return nil, err
	}
	out := items[:0]
	for _, item := range items {
		if item != "" {
			out = append(out, item)
		}
	}
	return out, nil
}

// joinList writes a Flink list option, quoting the items that hold a separator or a
// quote so that Flink reads them back as they are.
func joinList(items []string) string {
	quoted := make([]string, len(items))
	for i, item := range items {
		if strings.ContainsAny(item, ";,:'\"") {
			item = "'" + strings.ReplaceAll(item, "'", "''") + "'"
		}
		quoted[i] = item
	}
	return strings.Join(quoted, ";")
}

func sortedKeys(c flinkconf.Config) []string { return slices.Sorted(maps.Keys(c)) }
