package cli

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNaturalCompare: TaskManager Pods are numbered as people count them.
func TestNaturalCompare(t *testing.T) {
	names := []string{"tm-taskmanager-1-10", "tm-taskmanager-2-1", "tm-taskmanager-1-2", "tm-taskmanager-1-1", "tm-taskmanager-1-9"}
	slices.SortFunc(names, naturalCompare)
	require.Equal(t, []string{"tm-taskmanager-1-1", "tm-taskmanager-1-2", "tm-taskmanager-1-9", "tm-taskmanager-1-10", "tm-taskmanager-2-1"}, names)
	require.Equal(t, 0, naturalCompare("a-1", "a-1"))
	require.Negative(t, naturalCompare("a", "a-1"))
	require.Negative(t, naturalCompare("top-speed-abc", "top-speed-abd"))
}
