package dnsserver

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// The fast path serves the common query — one question of class IN, no
// other records but an optional OPT of version 0 — from responses packed
// once per snapshot, without building a dns.Msg. Everything else, and
// whatever the fast path is unsure of, goes through respondSlow, which
// produces the same bytes (handler_test.go checks that).

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
	nsid     bool   // it asks for the server's NSID (RFC 5001)
	cookie   []byte // its COOKIE option's data, in the query; nil: none
}

// respondFast answers req from the cache, filling the cache on a miss. ok is
// false when the query is not one the fast path takes. tl, when not nil,
// gets what the response counts as, which the cache keeps beside it.
func (st *state) respondFast(req, out []byte, udp bool, tl *tally, ck *cookieCtx) (resp []byte, ok bool) {
	var keyBuf [maxKeyLen]byte
	fq, n, ok := parseFast(req, &keyBuf)
	if !ok || (fq.nsid && st.nsid != nil) {
		return nil, false // an NSID answer is the slow path's to add
	}
	key := keyBuf[:n]
	entry := st.cache.get(key)
	if entry == nil {
		if entry = st.fill(key, fq.edns); entry == nil {
			return nil, false
		}
	}
	cached := entry.wire
	limit := maxTCPSize
	if udp {
		limit = minUDPSize
		if fq.edns {
			limit = clampUDPSize(fq.udpSize)
		}
	}
	withCookie := fq.cookie != nil && ck != nil
	if withCookie && entry.optRDLen == 0 {
		return nil, false
	}
	if len(cached) > limit || (withCookie && len(cached)+cookieOptionLen > limit) {
		return nil, false // the slow path truncates
	}
	out = append(out[:0], cached...)
	out[0], out[1] = req[0], req[1] // ID
	out[2] |= req[2] & rdBit
	out[3] |= req[3] & cdBit
	copy(out[headerLen:], req[headerLen:fq.qnameEnd]) // the client's case
	if withCookie {
		// The cached answer ends with its OPT: the cookie, which depends
		// on the client and is never cached, is added to its RDATA.
		var cookie uint8
		out, cookie = ck.appendOption(out, fq.cookie)
		rdlen := binary.BigEndian.Uint16(out[entry.optRDLen:])
		binary.BigEndian.PutUint16(out[entry.optRDLen:], rdlen+cookieOptionLen)
		if tl != nil {
			*tl = entry.tally
			tl.cookie = cookie
		}
	} else if tl != nil {
		*tl = entry.tally
	}
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
		// An OPT owned by the root, version 0, whose options fill its
		// RDATA exactly, and nothing after.
		if off+11 > len(req) || req[off] != 0 || binary.BigEndian.Uint16(req[off+1:]) != dns.TypeOPT ||
			req[off+6] != 0 {
			return fq, 0, false
		}
		options := req[off+11:]
		if int(binary.BigEndian.Uint16(req[off+9:])) != len(options) {
			return fq, 0, false
		}
		if fq.nsid, fq.cookie, ok = ignoredOptions(options); !ok {
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

// ignoredOptions reports whether an OPT's RDATA is a sequence of options,
// each framed exactly, that the response does not depend on, and whether
// NSID is among them. The fast path ignores them (RFC 6891 section 6.1.2;
// for cookies RFC 7873 section 5.2.1) and the answer is the one to the
// same query with a bare OPT, which shares its cache key; NSID, when the
// server has one, is the slow path's to add. Only well-formed
// instances of the options resolvers commonly send are taken; the slow path
// answers anything else, since its parser rejects some malformed framing and
// content (a client subnet of an unknown family) with FORMERR.
func ignoredOptions(rdata []byte) (nsid bool, cookie []byte, ok bool) {
	for len(rdata) > 0 {
		if len(rdata) < 4 {
			return false, nil, false
		}
		code := binary.BigEndian.Uint16(rdata)
		end := 4 + int(binary.BigEndian.Uint16(rdata[2:]))
		if end > len(rdata) {
			return false, nil, false
		}
		data := rdata[4:end]
		switch code {
		case dns.EDNS0COOKIE:
			// A client cookie alone, or with a server cookie (RFC 7873 section 4).
			if !wellFormedCookie(data) || cookie != nil {
				return false, nil, false
			}
			cookie = data
		case dns.EDNS0PADDING:
		case dns.EDNS0NSID:
			if len(data) != 0 { // a request is empty (RFC 5001 section 2.3)
				return false, nil, false
			}
			nsid = true
		case dns.EDNS0SUBNET:
			if !wellFormedSubnet(data) {
				return false, nil, false
			}
		default:
			return false, nil, false
		}
		rdata = rdata[end:]
	}
	return nsid, cookie, true
}

// wellFormedSubnet reports whether data is a client-subnet option as a
// query carries it (RFC 7871 section 6): an IPv4 or IPv6 family, a source
// prefix within the address, scope 0, and exactly the address bytes the
// prefix covers.
func wellFormedSubnet(data []byte) bool {
	if len(data) < 4 || data[3] != 0 {
		return false
	}
	bits := 0
	switch binary.BigEndian.Uint16(data) {
	case 1:
		bits = 32
	case 2:
		bits = 128
	default:
		return false
	}
	prefix := int(data[2])
	return prefix <= bits && len(data) == 4+(prefix+7)/8
}

// fill computes the response for a cache key through the slow path's
// builder, with ID 0 and RD and CD clear, and keeps it if there is room.
func (st *state) fill(key []byte, edns bool) *cachedResponse {
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
	resp, a := st.answer(q)
	wire, err := resp.Pack()
	if err != nil {
		return nil
	}
	entry := &cachedResponse{wire: wire, optRDLen: optRDLenAt(wire)}
	if st.ids != nil {
		entry.tally.qtype = qtypeIndex(q.qtype)
		entry.tally.zone, entry.tally.pair = st.ids.ofAnswer(q.name, a)
	}
	st.cache.put(key, entry)
	return entry
}

// cachedResponse is a packed response and what it counts as: the zone,
// slot and query type, worked out once when it is packed.
type cachedResponse struct {
	wire  []byte
	tally tally
	// optRDLen is the offset of the RDLENGTH of the OPT when it is the
	// answer's last record, where a cookie is added; 0 otherwise.
	optRDLen int
}

// responseCache maps a cache key to a packed response. It hangs off one
// published state and is dropped with it.
type responseCache struct {
	mu       sync.RWMutex
	entries  map[string]*cachedResponse
	bytes    int // of the responses kept
	max      int
	maxBytes int
	// full is set once no more entries fit, so that a flood of names
	// never asked before stops taking the write lock, which would hold
	// up every reader's lookup.
	full atomic.Bool
}

func newResponseCache(max, maxBytes int) *responseCache {
	return &responseCache{entries: make(map[string]*cachedResponse), max: max, maxBytes: maxBytes}
}

func (c *responseCache) get(key []byte) *cachedResponse {
	c.mu.RLock()
	resp := c.entries[string(key)] // no allocation for the lookup
	c.mu.RUnlock()
	return resp
}

func (c *responseCache) put(key []byte, resp *cachedResponse) {
	if c.full.Load() {
		return
	}
	c.mu.Lock()
	if _, ok := c.entries[string(key)]; !ok && len(c.entries) < c.max && c.bytes+len(resp.wire) <= c.maxBytes {
		c.entries[string(key)] = resp
		c.bytes += len(resp.wire)
	}
	// Full when the count is reached, or when not even a small answer
	// would fit (a large one that does not is no reason to stop).
	if len(c.entries) >= c.max || c.bytes+smallAnswer > c.maxBytes {
		c.full.Store(true)
	}
	c.mu.Unlock()
}

// smallAnswer is the size of a typical answer, for responseCache.full.
const smallAnswer = 512

func (c *responseCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// optRDLenAt is the offset of the RDLENGTH of msg's last record when that
// is an OPT, 0 otherwise.
func optRDLenAt(msg []byte) int {
	if len(msg) < headerLen || binary.BigEndian.Uint16(msg[10:]) == 0 {
		return 0
	}
	off := headerLen
	for range int(binary.BigEndian.Uint16(msg[4:])) {
		var ok bool
		if off, ok = skipName(msg, off); !ok {
			return 0
		}
		off += 4
	}
	n := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:])) + int(binary.BigEndian.Uint16(msg[10:]))
	last := 0
	for range n {
		var ok bool
		if off, ok = skipName(msg, off); !ok || off+10 > len(msg) {
			return 0
		}
		last = off
		off += 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
	}
	if off != len(msg) || binary.BigEndian.Uint16(msg[last:]) != dns.TypeOPT {
		return 0
	}
	return last + 8
}
