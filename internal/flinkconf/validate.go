package flinkconf

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// memoryKeySuffixes mark options whose values are memory sizes.
var memoryKeySuffixes = []string{".size", ".min", ".max", "memory.process.size", "memory.flink.size"}

// isMemoryKey reports options that hold a memory size (jobmanager.memory.*,
// taskmanager.memory.*), so that their units are checked before Flink sees them.
func isMemoryKey(key string) bool {
	if !strings.HasPrefix(key, "jobmanager.memory.") && !strings.HasPrefix(key, "taskmanager.memory.") {
		return false
	}
	if strings.HasSuffix(key, ".fraction") {
		return false
	}
	for _, s := range memoryKeySuffixes {
		if strings.HasSuffix(key, s) {
			return true
		}
	}
	return false
}

// HighAvailability reports whether the configuration turns high availability on,
// under the current key or the deprecated ones.
func (c Config) HighAvailability() bool {
	for _, key := range []string{"high-availability.type", "high-availability", "recovery.mode"} {
		if v := strings.ToLower(strings.TrimSpace(c[key])); v != "" && v != "none" && v != "standalone" {
			return true
		}
	}
	return false
}

// Validate checks what Flink would only find out when it starts: memory sizes and their
// units, positive counts, and high availability without a storage directory. Each error
// names the key under path (say spec.flinkConfiguration), what is wrong and what would
// be right.
func (c Config) Validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, key := range slices.Sorted(maps.Keys(c)) {
		value := c[key]
		switch {
		case isMemoryKey(key):
			if _, err := ParseMemorySize(value); err != nil {
				errs = append(errs, field.Invalid(path.Key(key), value, err.Error()))
			}
		case key == "taskmanager.numberOfTaskSlots" || key == "parallelism.default":
			if n, err := strconv.Atoi(strings.TrimSpace(value)); err != nil || n < 1 {
				errs = append(errs, field.Invalid(path.Key(key), value, "must be a whole number of 1 or more"))
			}
		}
	}
	if c.HighAvailability() && strings.TrimSpace(c["high-availability.storageDir"]) == "" {
		errs = append(errs, field.Required(path.Key("high-availability.storageDir"),
			"high availability is on: Flink needs a durable directory for its metadata, such as s3://bucket/flink-ha or file:///flink-data/ha"))
	}
	return errs
}
