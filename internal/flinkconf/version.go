package flinkconf

import (
	"fmt"
	"regexp"
	"strconv"
)

// Version is a Flink major.minor version.
type Version struct{ Major, Minor int }

// versionText accepts 1.20, 1.20.5, 2.3 and the Apache operator's v1_20 / v2_0 style.
var versionText = regexp.MustCompile(`^v?(\d+)[._](\d+)(?:[._]\d+)?$`)

// ParseVersion reads a Flink version such as "1.20", "1.20.5" or "v1_20".
func ParseVersion(text string) (Version, error) {
	m := versionText.FindStringSubmatch(text)
	if m == nil {
		return Version{}, fmt.Errorf("flink version %q: want major.minor, such as 1.20 or 2.3 (or v1_20)", text)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return Version{major, minor}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// StandardYAML reports whether the version reads config.yaml as standard YAML (1.19
// and later) rather than flink-conf.yaml's flat legacy format.
func (v Version) StandardYAML() bool { return v.AtLeast(1, 19) }

// FileName is the configuration file the version reads.
func (v Version) FileName() string {
	if v.StandardYAML() {
		return "config.yaml"
	}
	return "flink-conf.yaml"
}

// Log4jConsoleFile is the logging configuration Flink's processes read on Kubernetes
// (their console log): every cluster has one, the default unless the spec gives it.
const Log4jConsoleFile = "log4j-console.properties"
