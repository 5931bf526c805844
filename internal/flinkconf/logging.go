package flinkconf

import (
	"strconv"
	"strings"
)

// Log4jWatched says whether a log4j2 properties file makes log4j read it again while
// running (monitorInterval above 0 seconds): only then does a change of the file
// take effect without a restart.
func Log4jWatched(file string) bool {
	for line := range strings.Lines(file) {
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			key, value, ok = strings.Cut(line, ":")
		}
		if ok && strings.TrimSpace(key) == "monitorInterval" {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			return err == nil && n > 0
		}
	}
	return false
}
