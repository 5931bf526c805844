package flinkconf

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLog4jWatched(t *testing.T) {
	require.True(t, Log4jWatched("monitorInterval = 30\nrootLogger.level = INFO\n"))
	require.True(t, Log4jWatched("rootLogger.level=INFO\nmonitorInterval=5"))
	require.True(t, Log4jWatched("monitorInterval: 10\n"))
	require.False(t, Log4jWatched("rootLogger.level = INFO\n"), "no interval: never read again")
	require.False(t, Log4jWatched("monitorInterval = 0\n"))
	require.False(t, Log4jWatched("# monitorInterval = 30\n"))
}
