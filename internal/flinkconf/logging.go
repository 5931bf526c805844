package flinkconf

import (
	"regexp"
	"strconv"
	"strings"
)

// log4jProperty is one "key = value" (or "key: value") line of a log4j2 properties
// file; comments (# or !) and blank lines are not.
var log4jProperty = regexp.MustCompile(`^\s*([^#!\s=:][^=:]*?)\s*[=:]\s*(.*?)\s*$`)

// Log4jProperty reads one line of a log4j2 properties file: its key and value, or
// ok false for a comment, a blank line or a line without a separator.
func Log4jProperty(line string) (key, value string, ok bool) {
	m := log4jProperty.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// Log4jWatched says whether a log4j2 properties file makes log4j read it again while
// running (monitorInterval above 0 seconds): only then does a change of the file
// take effect without a restart.
func Log4jWatched(file string) bool {
	for line := range strings.Lines(file) {
		if key, value, ok := Log4jProperty(line); ok && key == "monitorInterval" {
			n, err := strconv.Atoi(value)
			return err == nil && n > 0
		}
	}
	return false
}
