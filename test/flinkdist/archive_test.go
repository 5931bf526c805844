package flinkdist

import "testing"

func TestHomePath(t *testing.T) {
	for entry, want := range map[string]string{
		"pyflink/lib/flink-dist-2.3.0.jar":                        "lib/flink-dist-2.3.0.jar",
		"pyflink/bin/flink":                                       "bin/flink",
		"apache_flink_libraries-1.20.5/deps/lib/flink-dist.jar":   "lib/flink-dist.jar",
		"apache_flink_libraries-1.20.5/deps/plugins/metrics-jmx/": "plugins/metrics-jmx",
		"pyflink/datastream/__init__.py":                          "",
		"pyflink/examples/word_count.py":                          "",
		"apache_flink_libraries-1.20.5/deps/licenses/LICENSE.x":   "",
		"apache_flink-2.3.0.dist-info/RECORD":                     "",
	} {
		if got := homePath(entry); got != want {
			t.Errorf("homePath(%q) = %q, want %q", entry, got, want)
		}
	}
}
