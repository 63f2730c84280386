package compact

import (
	"bytes"
	"cmp"
	"iter"
	"slices"
)

// Canonical gives the names of the zone in the canonical order of RFC
// 4034 section 6.1 (labels compared from the right, as lowercase octet
// strings, a shorter label first), as ids for Node. Transfers and DNSSEC
// chains need the order, and a lookup does not, so it is sorted on the
// first call, not when the zone is built; the order costs 4 bytes a name.
func (z *Zone) Canonical() iter.Seq[Node] {
	z.sortOnce.Do(func() {
		n := z.Names()
		keys := make([][]byte, n)
		arena := make([]byte, 0, len(z.names)+n*8)
		for id := range n {
			start := len(arena)
			arena = canonicalKey(arena, z.names[z.nameAt[id]:z.nameAt[id+1]])
			keys[id] = arena[start:len(arena):len(arena)]
		}
		order := make([]uint32, n)
		for i := range order {
			order[i] = uint32(i)
		}
		slices.SortFunc(order, func(a, b uint32) int { return bytes.Compare(keys[a], keys[b]) })
		z.canonical = order
	})
	return func(yield func(Node) bool) {
		for _, id := range z.canonical {
			if !yield(Node{z, id}) {
				return
			}
		}
	}
}

// canonicalKey appends a key of the wire name (lowercase) whose byte
// order is the canonical order of names: the labels from the right, each
// ended by 0x00 0x00, a 0x00 inside a label written 0x00 0x01 so that it
// sorts after the end of a shorter label and before any other byte.
func canonicalKey(b, name []byte) []byte {
	var small [128]int
	starts := labelStarts(small[:0], name)
	for i := len(starts) - 1; i >= 0; i-- {
		off := starts[i]
		for _, c := range name[off+1 : off+1+int(name[off])] {
			if c == 0 {
				b = append(b, 0, 1)
			} else {
				b = append(b, c)
			}
		}
		b = append(b, 0, 0)
	}
	return b
}

// Compare orders two names (uncompressed wire form, lowercase) as
// Canonical does: -1 when a comes first, 0 when they are one name.
func Compare(a, b []byte) int {
	var smallA, smallB [128]int
	la, lb := labelStarts(smallA[:0], a), labelStarts(smallB[:0], b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		x, y := a[la[i]+1:la[i]+1+int(a[la[i]])], b[lb[j]+1:lb[j]+1+int(b[lb[j]])]
		if c := bytes.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// labelStarts appends where each label of the wire name starts.
func labelStarts(starts []int, name []byte) []int {
	for off := 0; off < len(name) && name[off] != 0; off += 1 + int(name[off]) {
		starts = append(starts, off)
	}
	return starts
}
