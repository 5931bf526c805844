package flinkconf

import (
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
	for _, seed := range []string{"a.b: 1\nc: x", "state:\n  backend: {type: rocksdb}", "k: [1, 2]", "x: null", "a: 1\na.b: 2"} {
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
	})
}
