package podmonitor

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShardsSpreadAndMoveLittle: 3,000 deployments spread evenly over two shards; a
// third shard takes about a third of them, all from the other two, and none moves
// between the old ones.
func TestShardsSpreadAndMoveLittle(t *testing.T) {
	const n = 3000
	count := map[int]int{}
	moved := 0
	for i := range n {
		ns, name := fmt.Sprintf("team-%d", i%37), fmt.Sprintf("job-%d", i)
		two, three := Shard(ns, name, 2), Shard(ns, name, 3)
		count[two]++
		if two != three {
			moved++
			require.Equal(t, 2, three, "a deployment moves only onto the new shard")
		}
		require.Equal(t, two, Shard(ns, name, 2), "the same deployment, the same shard")
	}
	require.InDelta(t, n/2, count[0], n*0.05, "shards share the deployments evenly: %v", count)
	require.InDelta(t, n/3, moved, n*0.05, "about a third moves to the third shard")
	require.Equal(t, 0, Shard("ns", "x", 1))
	require.Equal(t, 0, Shard("ns", "x", 0), "no sharding is one shard")
}
