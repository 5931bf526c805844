package flinkconf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseFlatAndNested(t *testing.T) {
	c, err := Parse([]byte(`
taskmanager.numberOfTaskSlots: 2
state:
  backend:
    type: rocksdb
execution.checkpointing.interval: 10s
pipeline.jars: [a.jar, b.jar]
parallelism.default: 4
`))
	require.NoError(t, err)
	require.Equal(t, Config{
		"taskmanager.numberOfTaskSlots":    "2",
		"state.backend.type":               "rocksdb",
		"execution.checkpointing.interval": "10s",
		"pipeline.jars":                    "a.jar;b.jar",
		"parallelism.default":              "4",
	}, c)

	_, err = Parse([]byte("a.b: 1\na:\n  b: 2\n"))
	require.ErrorContains(t, err, `"a.b" is given twice`)
	_, err = Parse([]byte("a: [unclosed"))
	require.ErrorContains(t, err, "not valid YAML")
}

func TestMergeLaterWins(t *testing.T) {
	merged := Merge(Config{"a": "1", "b": "1"}, Config{"b": "2"}, nil, Config{"c": "3"})
	require.Equal(t, Config{"a": "1", "b": "2", "c": "3"}, merged)
}

func TestRenderPerVersion(t *testing.T) {
	c := Config{"taskmanager.numberOfTaskSlots": "2", "state.backend.type": "rocksdb", "rest.port": "8081"}
	name, data, err := Render(c, Version{1, 18})
	require.NoError(t, err)
	require.Equal(t, "flink-conf.yaml", name)
	require.Equal(t, "rest.port: 8081\nstate.backend.type: rocksdb\ntaskmanager.numberOfTaskSlots: 2\n", string(data))

	for _, v := range []Version{{1, 19}, {1, 20}, {2, 3}} {
		name, data, err = Render(c, v)
		require.NoError(t, err)
		require.Equal(t, "config.yaml", name)
		require.Equal(t, `rest:
  port: "8081"
state:
  backend:
    type: rocksdb
taskmanager:
  numberOfTaskSlots: "2"
`, string(data), v.String())
		// What is rendered reads back as the same configuration.
		back, err := Parse(data)
		require.NoError(t, err)
		require.Equal(t, c, back)
	}
}

func TestRenderRejectsOverlappingKeys(t *testing.T) {
	c := Config{"high-availability": "kubernetes", "high-availability.type": "kubernetes", "high-availability-x": "1"}
	_, _, err := Render(c, Version{2, 3})
	require.ErrorContains(t, err, `"high-availability" and "high-availability.type" overlap`)
	_, _, err = Render(c, Version{1, 18})
	require.NoError(t, err, "flink-conf.yaml is flat: no overlap")
	_, _, err = Render(Config{"a..b": "1"}, Version{2, 0})
	require.ErrorContains(t, err, "empty key segment")
	_, _, err = Render(Config{"a": "x\ny"}, Version{1, 17})
	require.ErrorContains(t, err, "line break")
}

func TestParseVersion(t *testing.T) {
	for text, want := range map[string]Version{"1.20": {1, 20}, "1.20.5": {1, 20}, "v1_20": {1, 20}, "2.3": {2, 3}, "v2_0": {2, 0}} {
		got, err := ParseVersion(text)
		require.NoError(t, err, text)
		require.Equal(t, want, got, text)
	}
	_, err := ParseVersion("latest")
	require.ErrorContains(t, err, "want major.minor")
	require.True(t, Version{2, 0}.StandardYAML())
	require.False(t, Version{1, 18}.StandardYAML())
}

// FuzzParseRender checks that any YAML the parser accepts renders (when its keys do not
// overlap) to a config.yaml that parses back to the same configuration, and that
// parsing is deterministic.
func FuzzParseRender(f *testing.F) {
	for _, seed := range []string{"a.b: 1\nc: x", "'<<.0': ''", "a: 'x #y'", "'a: b': c", "state:\n  backend: {type: rocksdb}", "k: [1, 2]", "x: null", "a: 1\na.b: 2"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse([]byte(text))
		if err != nil {
			return
		}
		again, err := Parse([]byte(text))
		require.NoError(t, err)
		require.Equal(t, c, again)
		_, data, err := Render(c, Version{2, 3})
		if err != nil {
			return
		}
		back, err := Parse(data)
		require.NoError(t, err)
		require.Equal(t, c, back, "config.yaml reads back as what was rendered")
		if _, legacy, err := Render(c, Version{1, 18}); err == nil {
			require.Equal(t, withoutEmpty(c), readLegacy(string(legacy)), "flink-conf.yaml reads back as what was rendered:\n%s", legacy)
		}
	})
}

// readLegacy reads flink-conf.yaml as Flink before 1.19 does (GlobalConfiguration):
// each line cut at its first "#", trimmed, split at its first ": ", both halves
// trimmed; a line without both halves is skipped.
func readLegacy(text string) Config {
	c := Config{}
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		key, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if key, value = strings.TrimSpace(key), strings.TrimSpace(value); ok && key != "" && value != "" {
			c[key] = value
		}
	}
	return c
}

func withoutEmpty(c Config) Config {
	out := Config{}
	for k, v := range c {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// TestRenderRefusesWhatFlinkWouldMisread: keys and values Flink would read back as
// something else are refused with the key and the reason, never written.
func TestRenderRefusesWhatFlinkWouldMisread(t *testing.T) {
	for _, tc := range []struct {
		conf    Config
		version Version
		want    string
	}{
		{Config{"<<.a": "1"}, Version{2, 3}, `"<<" is YAML's merge key`},
		{Config{"s3.secret-key": "a#b"}, Version{1, 18}, `cannot hold "#"`},
		{Config{"a: b": "c"}, Version{1, 18}, `cannot hold a key with ": "`},
		{Config{"env.java.opts": " -Dx=1"}, Version{1, 18}, "trims the spaces"},
		{Config{"a": "x\ny"}, Version{1, 18}, "line break"},
	} {
		_, _, err := Render(tc.conf, tc.version)
		require.ErrorContains(t, err, tc.want, "%v", tc.conf)
	}
	_, data, err := Render(Config{"s3.secret-key": "a#b"}, Version{2, 3})
	require.NoError(t, err, "config.yaml quotes what needs it")
	back, err := Parse(data)
	require.NoError(t, err)
	require.Equal(t, "a#b", back["s3.secret-key"])
}

// TestParseRefusesAmbiguousKeys: two spellings YAML reads as the same key (found by
// FuzzParseRender: which one won depended on map order) and lists of maps are refused.
func TestParseRefusesAmbiguousKeys(t *testing.T) {
	_, err := Parse([]byte("0: a\n.0: b"))
	require.ErrorContains(t, err, `key "0" is given twice`)
	_, err = Parse([]byte("a: [{b: 1}]"))
	require.ErrorContains(t, err, `key "a": a list holds values`)
	c, err := Parse([]byte("big: 12345678901234567890\nnum: 9007199254740993\nf: 2.50\ne: 1e3\nb: yes\nz: ~"))
	require.NoError(t, err)
	require.Equal(t, Config{"big": "12345678901234567890", "num": "9007199254740993", "f": "2.5", "e": "1000", "b": "true", "z": ""}, c,
		"numbers as written where YAML keeps them exactly, whole floats without exponent")
}
