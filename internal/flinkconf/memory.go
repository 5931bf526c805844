package flinkconf

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// memoryUnits are Flink's memory units (MemorySize.MemoryUnit): binary multiples, case
// insensitive, with or without a space after the number; no unit means bytes.
var memoryUnits = []struct {
	names []string
	shift uint
}{
	{[]string{"b", "bytes"}, 0},
	{[]string{"k", "kb", "kibibytes"}, 10},
	{[]string{"m", "mb", "mebibytes"}, 20},
	{[]string{"g", "gb", "gibibytes"}, 30},
	{[]string{"t", "tb", "tebibytes"}, 40},
}

// ParseMemorySize reads a Flink memory size such as "1600m", "2 gb" or "1073741824".
func ParseMemorySize(text string) (int64, error) {
	s := strings.TrimSpace(text)
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, fmt.Errorf("memory size %q: want a whole number followed by an optional unit (b, k, m, g, t), such as 1600m", text)
	}
	number, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory size %q: the number is too large", text)
	}
	unit := strings.ToLower(strings.TrimSpace(s[end:]))
	if unit == "" {
		return number, nil
	}
	for _, u := range memoryUnits {
		for _, name := range u.names {
			if unit == name {
				if number > math.MaxInt64>>u.shift {
					return 0, fmt.Errorf("memory size %q is too large", text)
				}
				return number << u.shift, nil
			}
		}
	}
	return 0, fmt.Errorf("memory size %q: unknown unit %q; use b, k (kb), m (mb), g (gb) or t (tb)", text, unit)
}

// MemoryQuantity turns a Flink memory size into the Kubernetes quantity Flink's own
// client requests for a container: whole mebibytes, rounded down (as Flink's
// process-memory utilities compute them).
func MemoryQuantity(text string) (resource.Quantity, error) {
	bytes, err := ParseMemorySize(text)
	if err != nil {
		return resource.Quantity{}, err
	}
	return resource.MustParse(strconv.FormatInt(bytes>>20, 10) + "Mi"), nil
}

// isKubernetesQuantity reports sizes such as 2Gi or 512Mi, which the Apache operator
// also accepts for resource.memory.
func isKubernetesQuantity(text string) bool {
	_, err := resource.ParseQuantity(strings.TrimSpace(text))
	return err == nil
}
