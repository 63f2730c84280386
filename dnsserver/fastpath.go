package dnsserver

import (
	"encoding/binary"
	"sync"

	"github.com/miekg/dns"
)

// The fast path serves the common query — one question of class IN, no
// other records but an optional plain OPT — from responses packed once per
// snapshot, without building a dns.Msg. Everything else, and whatever the
// fast path is unsure of, goes through respondSlow, which produces the same
// bytes (handler_test.go checks that).

// maxCachedResponses and maxCachedBytes bound the cache, so that queries
// for random names cannot grow it: past either bound, misses are answered
// without being kept.
const (
	maxCachedResponses = 10000
	maxCachedBytes     = 32 << 20
)

// maxKeyLen is a wire qname (at most 255 bytes), the qtype and a flags byte.
const maxKeyLen = 255 + 2 + 1

// Header bits the fast path looks at, in the third and fourth header bytes.
const (
	rdBit = 0x01 // byte 2
	adBit = 0x20 // byte 3
	cdBit = 0x10 // byte 3
)

// Flags in the last byte of a cache key.
const (
	keyEDNS = 1 << iota
	keyDO
)

// fastQuery is what the fast path learns from a query beyond its cache key.
type fastQuery struct {
	qnameEnd int    // offset just past the qname in the query
	edns     bool   // the query has an OPT
	udpSize  uint16 // the OPT's payload size
}

// respondFast answers req from the cache, filling the cache on a miss. ok is
// false when the query is not one the fast path takes.
func (st *state) respondFast(req, out []byte, udp bool) (resp []byte, ok bool) {
	var keyBuf [maxKeyLen]byte
	fq, n, ok := parseFast(req, &keyBuf)
	if !ok {
		return nil, false
	}
	key := keyBuf[:n]
	cached := st.cache.get(key)
	if cached == nil {
		if cached = st.fill(key, fq.edns); cached == nil {
			return nil, false
		}
	}
	limit := maxTCPSize
	if udp {
		limit = minUDPSize
		if fq.edns {
			limit = clampUDPSize(fq.udpSize)
		}
	}
	if len(cached) > limit {
		return nil, false // the slow path truncates
	}
	out = append(out[:0], cached...)
	out[0], out[1] = req[0], req[1] // ID
	out[2] |= req[2] & rdBit
	out[3] |= req[3] & cdBit
	copy(out[headerLen:], req[headerLen:fq.qnameEnd]) // the client's case
	return out, true
}

// parseFast reads the header and question straight from the bytes and
// writes the cache key (lowercase wire qname, qtype, flags) into key. It
// accepts only what it fully understands.
func parseFast(req []byte, key *[maxKeyLen]byte) (fq fastQuery, n int, ok bool) {
	if len(req) < headerLen+5 {
		return fq, 0, false
	}
	// QR clear, opcode QUERY, AA and TC clear; RA, Z and rcode clear.
	if req[2]&^rdBit != 0 || req[3]&^(adBit|cdBit) != 0 {
		return fq, 0, false
	}
	// QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1.
	if req[4] != 0 || req[5] != 1 || req[6]|req[7]|req[8]|req[9]|req[10] != 0 || req[11] > 1 {
		return fq, 0, false
	}
	off := headerLen
	for {
		if off >= len(req) {
			return fq, 0, false
		}
		l := int(req[off])
		if l == 0 {
			break
		}
		if l > 63 || off+1+l >= len(req) || n+1+l+1 > 255 {
			return fq, 0, false // a compression pointer, or too long
		}
		key[n] = byte(l)
		n++
		for _, c := range req[off+1 : off+1+l] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			key[n] = c
			n++
		}
		off += 1 + l
	}
	key[n] = 0
	n++
	off++
	fq.qnameEnd = off
	if off+4 > len(req) || binary.BigEndian.Uint16(req[off+2:]) != dns.ClassINET {
		return fq, 0, false
	}
	if qtype := binary.BigEndian.Uint16(req[off:]); qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
		return fq, 0, false // transfers are the server's (xfr.go)
	}
	key[n], key[n+1] = req[off], req[off+1]
	n += 2
	off += 4

	var flags byte
	if req[11] == 1 {
		// An OPT owned by the root, version 0, no options, and nothing after.
		if len(req) != off+11 || req[off] != 0 || binary.BigEndian.Uint16(req[off+1:]) != dns.TypeOPT ||
			req[off+6] != 0 || req[off+9]|req[off+10] != 0 {
			return fq, 0, false
		}
		fq.edns = true
		fq.udpSize = binary.BigEndian.Uint16(req[off+3:])
		flags = keyEDNS
		if req[off+7]&0x80 != 0 {
			flags |= keyDO
		}
	} else if len(req) != off {
		return fq, 0, false
	}
	key[n] = flags
	n++
	return fq, n, true
}

// fill computes the response for a cache key through the slow path's
// builder, with ID 0 and RD and CD clear, and keeps it if there is room.
func (st *state) fill(key []byte, edns bool) []byte {
	name, nameLen, err := dns.UnpackDomainName(key, 0)
	if err != nil || nameLen+3 != len(key) {
		return nil
	}
	q := question{
		name:   name,
		qtype:  binary.BigEndian.Uint16(key[nameLen:]),
		qclass: dns.ClassINET,
		edns:   edns,
		do:     key[len(key)-1]&keyDO != 0,
	}
	wire, err := st.answer(q).Pack()
	if err != nil {
		return nil
	}
	st.cache.put(key, wire)
	return wire
}

// responseCache maps a cache key to a packed response. It hangs off one
// published state and is dropped with it.
type responseCache struct {
	mu       sync.RWMutex
	entries  map[string][]byte
	bytes    int // of the responses kept
	max      int
	maxBytes int
}

func newResponseCache(max, maxBytes int) *responseCache {
	return &responseCache{entries: make(map[string][]byte), max: max, maxBytes: maxBytes}
}

func (c *responseCache) get(key []byte) []byte {
	c.mu.RLock()
	resp := c.entries[string(key)] // no allocation for the lookup
	c.mu.RUnlock()
	return resp
}

func (c *responseCache) put(key, resp []byte) {
	c.mu.Lock()
	if _, ok := c.entries[string(key)]; !ok && len(c.entries) < c.max && c.bytes+len(resp) <= c.maxBytes {
		c.entries[string(key)] = resp
		c.bytes += len(resp)
	}
	c.mu.Unlock()
}

func (c *responseCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
