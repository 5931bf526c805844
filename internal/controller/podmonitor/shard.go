package podmonitor

import (
	"hash/fnv"
	"strconv"
)

// Shard is the Prometheus shard, of shards, that scrapes the deployment namespace/name:
// the one with the highest score of hash(identity, shard) — rendezvous hashing. When a
// shard is added, a deployment moves only if the new shard scores higher than its old
// one: about 1/shards of them, and only onto the new shard.
func Shard(namespace, name string, shards int) int {
	best, bestScore := 0, uint64(0)
	for s := range max(shards, 1) {
		h := fnv.New64a()
		_, _ = h.Write([]byte(namespace + "/" + name + "#" + strconv.Itoa(s)))
		if score := mix(h.Sum64()); s == 0 || score > bestScore {
			best, bestScore = s, score
		}
	}
	return best
}

// mix spreads FNV's bits (its high bits vary little for keys that differ only at the
// end), so that each shard wins about as often as the others.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
