package render

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// TestDefaultLoggingIsWatched: lifecycle counts on Flok's default log4j file making
// log4j read it again, so that a first logging change needs no restart.
func TestDefaultLoggingIsWatched(t *testing.T) {
	require.True(t, flinkconf.Log4jWatched(DefaultLog4jConsole))
}
