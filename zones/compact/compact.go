// Package compact holds the records of a zone in wire form in a few large
// slices, with a hash index by owner name. A record costs its RDATA, its
// TTL and length (6 bytes), and its share of its owner's name and RRset
// (about 40 bytes for a name with one record), where one dns.RR and the
// maps around it cost a kilobyte or more. Nothing in a Zone is a pointer
// per record, so the garbage collector has little to scan.
//
// Names are kept in uncompressed wire form, lowercase for owners; RDATA
// is kept as the file gave it (its names uncompressed, in their case), so
// that an answer is the bytes of the zone file's records.
package compact

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"iter"
	"slices"
	"sync"

	"github.com/miekg/dns"
)

// Zone is the records of one zone, built once by a Builder and read by
// any number of goroutines.
type Zone struct {
	names  []byte   // the owner names, wire form, lowercase, one after another
	nameAt []uint32 // name i is names[nameAt[i]:nameAt[i+1]]
	setsAt []uint32 // name i owns sets[setsAt[i]:setsAt[i+1]]
	sets   []rrset
	rdata  []byte   // per record: TTL (4 bytes), RDLENGTH (2), RDATA; each set's records together
	index  []uint32 // open addressing: 1 + a name's number, 0 empty; a power of two long
	seed   maphash.Seed
	rrs    int

	sortOnce  sync.Once
	canonical []uint32 // the names in canonical order, on first use
}

// rrset is the records of one type at one name: n records at rdata[at:],
// and the tag of the first record added.
type rrset struct {
	at  uint32
	typ uint16
	n   uint16
	tag uint32
}

// Names is the number of owner names; Records the number of records.
func (z *Zone) Names() int   { return len(z.nameAt) - 1 }
func (z *Zone) Records() int { return z.rrs }

// Bytes is the memory the zone's slices hold, for benchmarks.
func (z *Zone) Bytes() int {
	return cap(z.names) + 4*cap(z.nameAt) + 4*cap(z.setsAt) + 12*cap(z.sets) + cap(z.rdata) + 4*cap(z.index) + 4*cap(z.canonical)
}

// Lookup finds the owner name name (uncompressed wire form, lowercase).
func (z *Zone) Lookup(name []byte) (Node, bool) {
	mask := uint64(len(z.index) - 1)
	for slot := maphash.Bytes(z.seed, name) & mask; ; slot = (slot + 1) & mask {
		id := z.index[slot]
		if id == 0 {
			return Node{}, false
		}
		if n := (Node{z, id - 1}); bytes.Equal(n.Name(), name) {
			return n, true
		}
	}
}

// All gives every name of the zone, in the order the zone gave them first
// (empty non-terminals after the others).
func (z *Zone) All() iter.Seq[Node] {
	return func(yield func(Node) bool) {
		for id := range z.Names() {
			if !yield(Node{z, uint32(id)}) {
				return
			}
		}
	}
}

// Node is one owner name of a Zone.
type Node struct {
	z  *Zone
	id uint32
}

// Empty reports a name without records: an empty non-terminal.
func (n Node) Empty() bool { return n.z.setsAt[n.id] == n.z.setsAt[n.id+1] }

// Name is the owner name, wire form, lowercase.
func (n Node) Name() []byte { return n.z.names[n.z.nameAt[n.id]:n.z.nameAt[n.id+1]] }

// Types calls f with each type the name has records of, in the order the
// zone gave them first.
func (n Node) Types(f func(typ uint16) bool) {
	for _, s := range n.z.sets[n.z.setsAt[n.id]:n.z.setsAt[n.id+1]] {
		if !f(s.typ) {
			return
		}
	}
}

// Set is the RRset of type typ at the name, empty when there is none.
func (n Node) Set(typ uint16) Set {
	for _, s := range n.z.sets[n.z.setsAt[n.id]:n.z.setsAt[n.id+1]] {
		if s.typ == typ {
			return Set{n.z.rdata, s}
		}
	}
	return Set{}
}

// Sets calls f with each RRset of the name, in the order the zone gave
// their types first.
func (n Node) Sets(f func(Set) bool) {
	for _, s := range n.z.sets[n.z.setsAt[n.id]:n.z.setsAt[n.id+1]] {
		if !f(Set{n.z.rdata, s}) {
			return
		}
	}
}

// Set is an RRset: its records in the order the zone gave them.
type Set struct {
	rdata []byte
	s     rrset
}

// Len is the number of records.
func (s Set) Len() int { return int(s.s.n) }

// Type is the RRset's type.
func (s Set) Type() uint16 { return s.s.typ }

// Tag is the tag its first record was added with.
func (s Set) Tag() uint32 { return s.s.tag }

// Each calls f with each record's TTL and RDATA (a slice of the zone: do
// not keep or change it).
func (s Set) Each(f func(ttl uint32, rdata []byte) bool) {
	at := int(s.s.at)
	for range s.s.n {
		ttl := binary.BigEndian.Uint32(s.rdata[at:])
		l := int(binary.BigEndian.Uint16(s.rdata[at+4:]))
		if !f(ttl, s.rdata[at+6:at+6+l]) {
			return
		}
		at += 6 + l
	}
}

// Builder makes a Zone from records added in any order. It keeps one
// small entry per record until Build; the names and RDATA go into the
// slices the Zone keeps.
type Builder struct {
	z       Zone
	recs    []pending
	rdata   []byte // in the order added; Build regroups it by RRset
	count   int    // names so far
	scratch []byte // AddRR's packing buffer
}

type pending struct {
	name uint32
	typ  uint16
	ttl  uint32
	at   uint32 // in Builder.rdata: RDLENGTH (2), RDATA
	tag  uint32
}

// NewBuilder returns a builder expecting about records records (0: no
// idea), so that its slices need not grow.
func NewBuilder(records int) *Builder {
	b := &Builder{z: Zone{seed: maphash.MakeSeed(), nameAt: []uint32{0}}}
	b.z.index = make([]uint32, tableSize(records))
	b.recs = make([]pending, 0, records)
	return b
}

func tableSize(names int) int {
	n := 16
	for n < 2*names {
		n *= 2
	}
	return n
}

// ErrTooLarge is returned when a zone outgrows the 32-bit offsets.
var ErrTooLarge = errors.New("compact: zone too large (4 GiB of names or RDATA)")

// Add adds one record: owner in uncompressed wire form (lowercased here),
// its type, TTL and RDATA (copied), and a tag of the caller's (the line
// it came from, say), which its RRset keeps when it is the set's first.
// A record equal to one added before (same owner, type and RDATA) is
// left out, as RFC 2181 section 5 has it.
func (b *Builder) Add(owner []byte, typ uint16, ttl uint32, rdata []byte, tag uint32) error {
	if len(b.rdata)+len(rdata)+2 > 1<<32-1 || len(b.z.names)+len(owner) > 1<<32-1 || len(rdata) > 0xFFFF {
		return ErrTooLarge
	}
	id := b.name(owner)
	at := uint32(len(b.rdata))
	b.rdata = binary.BigEndian.AppendUint16(b.rdata, uint16(len(rdata)))
	b.rdata = append(b.rdata, rdata...)
	b.recs = append(b.recs, pending{name: id, typ: typ, ttl: ttl, at: at, tag: tag})
	return nil
}

// name gives the number of owner, adding it when new.
func (b *Builder) name(owner []byte) uint32 {
	if 2*(b.count+1) > len(b.z.index) {
		b.grow()
	}
	z := &b.z
	start := len(z.names)
	z.names = append(z.names, owner...)
	lower := z.names[start:]
	for i, c := range lower {
		lower[i] = lowerASCII(c)
	}
	mask := uint64(len(z.index) - 1)
	for slot := maphash.Bytes(z.seed, lower) & mask; ; slot = (slot + 1) & mask {
		id := z.index[slot]
		if id == 0 {
			z.index[slot] = uint32(b.count) + 1
			z.nameAt = append(z.nameAt, uint32(len(z.names)))
			b.count++
			return uint32(b.count - 1)
		}
		have := z.names[z.nameAt[id-1]:z.nameAt[id]]
		if bytes.Equal(have, lower) {
			z.names = z.names[:start] // known: drop the copy
			return id - 1
		}
	}
}

// grow doubles the index and places every name anew.
func (b *Builder) grow() {
	z := &b.z
	z.index = make([]uint32, 2*len(z.index))
	mask := uint64(len(z.index) - 1)
	for id := range b.count {
		slot := maphash.Bytes(z.seed, z.names[z.nameAt[id]:z.nameAt[id+1]]) & mask
		for z.index[slot] != 0 {
			slot = (slot + 1) & mask
		}
		z.index[slot] = uint32(id) + 1
	}
}

// AddEmptyNonTerminals adds every name that lies between a name added
// and origin (wire form, lowercase) without being one: the empty
// non-terminals, which exist (RFC 4592 2.2.2) though they own nothing.
// Every name added must lie at or below origin.
func (b *Builder) AddEmptyNonTerminals(origin []byte) {
	var ancestor []byte
	for id := range b.count {
		z := &b.z
		name := z.names[z.nameAt[id]:z.nameAt[id+1]]
		if len(name) <= len(origin) {
			continue
		}
		// Each ancestor, from the parent up, until origin or one known.
		for off := 1 + int(name[0]); len(name)-off > len(origin); off += 1 + int(name[off]) {
			ancestor = append(ancestor[:0], name[off:]...) // name moves if names grows
			before := b.count
			b.name(ancestor)
			if b.count == before {
				break // known, and so are the names above it
			}
			name = z.names[z.nameAt[id]:z.nameAt[id+1]]
		}
	}
}

// ErrSetTooLarge is returned for an RRset of more than 65,535 records,
// more than a message can carry.
var ErrSetTooLarge = errors.New("compact: an RRset of more than 65,535 records")

// Build groups the records by name and type and returns the Zone. The
// Builder must not be used after.
func (b *Builder) Build() (*Zone, error) {
	z := &b.z
	// Each name's records together, in the order added (a stable
	// counting sort by name), then each type's together at the name.
	starts := make([]uint32, b.count+1)
	for _, r := range b.recs {
		starts[r.name+1]++
	}
	for i := range b.count {
		starts[i+1] += starts[i]
	}
	order := make([]pending, len(b.recs))
	next := slices.Clone(starts[:b.count])
	for _, r := range b.recs {
		order[next[r.name]] = r
		next[r.name]++
	}
	b.recs = nil
	z.setsAt = make([]uint32, 1, b.count+1)
	z.sets = make([]rrset, 0, b.count)
	z.rdata = make([]byte, 0, len(b.rdata)+4*len(order))
	for id := range b.count {
		recs := order[starts[id]:starts[id+1]]
		sortByFirstType(recs)
		for i := 0; i < len(recs); {
			j := i
			for j < len(recs) && recs[j].typ == recs[i].typ {
				j++
			}
			set, err := b.set(recs[i:j])
			if err != nil {
				return nil, err
			}
			z.sets = append(z.sets, set)
			i = j
		}
		z.setsAt = append(z.setsAt, uint32(len(z.sets)))
	}
	b.rdata = nil
	return z, nil
}

// pairwiseLimit is the size of an RRset up to which duplicates are found
// by comparing every pair; a larger set finds them by a key per record.
const pairwiseLimit = 32

// set copies the records of one RRset into the zone, leaving out
// duplicates.
func (b *Builder) set(recs []pending) (rrset, error) {
	z := &b.z
	s := rrset{at: uint32(len(z.rdata)), typ: recs[0].typ, tag: recs[0].tag}
	var seen map[string]bool
	if len(recs) > pairwiseLimit {
		seen = make(map[string]bool, len(recs))
	}
	for i, r := range recs {
		rd := b.pendingRDATA(r)
		if seen != nil {
			k := duplicateKey(r.typ, rd)
			if seen[k] {
				continue
			}
			seen[k] = true
		} else if slices.ContainsFunc(recs[:i], func(o pending) bool { return sameRDATA(r.typ, b.pendingRDATA(o), rd) }) {
			continue
		}
		if s.n == 0xFFFF {
			return rrset{}, ErrSetTooLarge
		}
		z.rdata = binary.BigEndian.AppendUint32(z.rdata, r.ttl)
		z.rdata = binary.BigEndian.AppendUint16(z.rdata, uint16(len(rd)))
		z.rdata = append(z.rdata, rd...)
		s.n++
		z.rrs++
	}
	return s, nil
}

func (b *Builder) pendingRDATA(r pending) []byte {
	l := int(binary.BigEndian.Uint16(b.rdata[r.at:]))
	return b.rdata[r.at+2 : int(r.at)+2+l]
}

// sortByFirstType orders recs by type, the types in the order they first
// appear, keeping the order within a type.
func sortByFirstType(recs []pending) {
	if len(recs) < 2 {
		return
	}
	var small [8]uint16
	seen := small[:0] // the types in the order they first appear
	for _, r := range recs {
		if !slices.Contains(seen, r.typ) {
			seen = append(seen, r.typ)
		}
	}
	if len(seen) == 1 {
		return
	}
	slices.SortStableFunc(recs, func(a, b pending) int {
		return slices.Index(seen, a.typ) - slices.Index(seen, b.typ)
	})
}

// sameRDATA reports whether two RDATA of type typ are one record's
// (RFC 2181 5): equal, the case of the names they hold aside (RFC 4343),
// as dns.IsDuplicate has it.
func sameRDATA(typ uint16, a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	if bytes.Equal(a, b) {
		return true
	}
	if at, ok := namesFrom(typ, len(a)); ok {
		return bytes.Equal(a[:at.start], b[:at.start]) && EqualFold(a[at.start:at.end], b[at.start:at.end]) && bytes.Equal(a[at.end:], b[at.end:])
	}
	if !namesInside(typ) {
		return false
	}
	ra, rb := unpackRDATA(typ, a), unpackRDATA(typ, b)
	return ra != nil && rb != nil && dns.IsDuplicate(ra, rb)
}

// duplicateKey gives a key of rdata that two records share when
// sameRDATA holds for them.
func duplicateKey(typ uint16, rdata []byte) string {
	if at, ok := namesFrom(typ, len(rdata)); ok {
		key := []byte(string(rdata))
		for i := at.start; i < at.end; i++ {
			key[i] = lowerASCII(key[i])
		}
		return string(key)
	}
	if namesInside(typ) {
		if rr := unpackRDATA(typ, rdata); rr != nil {
			// The names lowercased in their canonical form (RFC 4034
			// 6.2) would be exact, but miekg/dns lowercases only some
			// types; the text with its names lowercased is the key.
			return canonicalText(rr)
		}
	}
	return string(rdata)
}

// span is where a record's names lie in its RDATA.
type span struct{ start, end int }

// namesFrom gives where the names of typ lie in an RDATA of length n, for
// the types whose names run from a fixed offset to a fixed distance
// before the end.
func namesFrom(typ uint16, n int) (span, bool) {
	start, tail := 0, 0
	switch typ {
	case dns.TypeNS, dns.TypeMD, dns.TypeMF, dns.TypeCNAME, dns.TypeMB, dns.TypeMG, dns.TypeMR,
		dns.TypePTR, dns.TypeDNAME, dns.TypeMINFO, dns.TypeRP, dns.TypeNSAPPTR:
	case dns.TypeMX, dns.TypeAFSDB, dns.TypeRT, dns.TypeKX, dns.TypePX, dns.TypeLP:
		start = 2
	case dns.TypeSRV:
		start = 6
	case dns.TypeSOA:
		tail = 20 // serial, refresh, retry, expire, minimum
	default:
		return span{}, false
	}
	if n < start+tail {
		return span{}, false
	}
	return span{start, n - tail}, true
}

// namesInside reports the types that hold names among other variable
// data, compared by dns.IsDuplicate.
func namesInside(typ uint16) bool {
	switch typ {
	case dns.TypeNAPTR, dns.TypeRRSIG, dns.TypeSIG, dns.TypeNSEC, dns.TypeNXT, dns.TypeHIP,
		dns.TypeSVCB, dns.TypeHTTPS, dns.TypeTALINK, dns.TypeAMTRELAY:
		return true
	}
	return false
}

// EqualFold compares wire names with ASCII letters in either case alike
// (RFC 4343), every other byte as it is. A label length is at most 63,
// below 'A', so that folding every byte folds only the labels' letters.
func EqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
