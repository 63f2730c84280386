package zones

import (
	"iter"
	"maps"
)

// zoneShards is how many maps a zoneSet splits its zones over.
const zoneShards = 256

// zoneSet is a snapshot's zones by origin. It is copied on write in
// shards, so that a change copies the shards of the zones it builds (a
// few dozen entries among 10,000 zones), not one map of every zone.
type zoneSet struct {
	shards [zoneShards]map[string]*zoneView
	owned  [zoneShards]bool // the shard is this set's own, not shared with the set it was cloned from
	n      int
}

// shardOf spreads origins over the shards (FNV-1a).
func shardOf(origin string) int {
	h := uint32(2166136261)
	for i := 0; i < len(origin); i++ {
		h = (h ^ uint32(origin[i])) * 16777619
	}
	return int(h % zoneShards)
}

// get gives the zone with origin, nil when there is none. A nil set has
// no zones, like the empty snapshot that Build starts from.
func (zs *zoneSet) get(origin string) *zoneView {
	if zs == nil {
		return nil
	}
	return zs.shards[shardOf(origin)][origin]
}

// put adds or replaces the zone of zv.origin, copying its shard first
// when the shard is shared.
func (zs *zoneSet) put(zv *zoneView) {
	i := shardOf(zv.origin)
	if !zs.owned[i] {
		zs.shards[i] = maps.Clone(zs.shards[i])
		if zs.shards[i] == nil {
			zs.shards[i] = make(map[string]*zoneView, 1)
		}
		zs.owned[i] = true
	}
	if _, ok := zs.shards[i][zv.origin]; !ok {
		zs.n++
	}
	zs.shards[i][zv.origin] = zv
}

// clone gives a set with the same zones whose shards it shares until it
// writes to them.
func (zs *zoneSet) clone() *zoneSet {
	if zs == nil {
		return &zoneSet{}
	}
	return &zoneSet{shards: zs.shards, n: zs.n}
}

// len is the number of zones.
func (zs *zoneSet) len() int {
	if zs == nil {
		return 0
	}
	return zs.n
}

// all gives every zone, in no order.
func (zs *zoneSet) all() iter.Seq2[string, *zoneView] {
	return func(yield func(string, *zoneView) bool) {
		if zs == nil {
			return
		}
		for _, m := range zs.shards {
			for origin, zv := range m {
				if !yield(origin, zv) {
					return
				}
			}
		}
	}
}
