package flinkconf

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	for text, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "10 min": 10 * time.Minute, "1h": time.Hour, "500": 500 * time.Millisecond,
		"2 d": 48 * time.Hour, " 5 SECONDS ": 5 * time.Second, "0": 0,
	} {
		got, err := ParseDuration(text)
		require.NoError(t, err, text)
		require.Equal(t, want, got, text)
	}
	for _, text := range []string{"", "s", "10 fortnights", "-5s", "99999999999999999999s", "9999999999999d"} {
		_, err := ParseDuration(text)
		require.Error(t, err, text)
	}
}
