package dnsserver

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/source"
)

// Response rate limiting (RRL), as BIND, NSD and Knot have it: a source
// that spoofs its address cannot turn slotdns into an amplifier, because
// one prefix gets at most Rate copies a second of one response (the same
// answer, NXDOMAIN of one zone, NODATA of one name, a referral, an error).
// Past that, every Slip-th response goes out truncated so that a real
// client retries over TCP, which is never limited; the rest are dropped.

// RRL configures rate limiting; the zero Rate turns it off.
type RRL struct {
	Rate     int            // responses per second per prefix and response; 0: off
	Slip     int            // every Slip-th limited response is sent truncated; 0: none, 1: all
	IPv4Bits int            // the prefix of an IPv4 source; 0: 24
	IPv6Bits int            // of an IPv6 source; 0: 56
	Exempt   []netip.Prefix // sources never limited
	Buckets  int            // the table's size, a power of two; 0: 65536
}

const rrlLocks = 256

type rrlBucket struct {
	key    uint64
	second int64
	count  int32
	slip   uint32
}

// rrlTable holds one bucket per hashed (prefix, class, name): a bounded
// table, whatever the flood; a collision makes two responses share a
// bucket, which errs towards limiting.
type rrlTable struct {
	cfg     RRL
	seed    maphash.Seed
	buckets []rrlBucket
	locks   [rrlLocks]sync.Mutex

	limited, slipped, dropped atomic.Uint64
	logged                    *refusalLimiter
}

func newRRL(cfg RRL) *rrlTable {
	if cfg.Rate <= 0 {
		return nil
	}
	if cfg.IPv4Bits <= 0 || cfg.IPv4Bits > 32 {
		cfg.IPv4Bits = 24
	}
	if cfg.IPv6Bits <= 0 || cfg.IPv6Bits > 128 {
		cfg.IPv6Bits = 56
	}
	n := 1 << 16
	if cfg.Buckets > 0 {
		for n = 1; n < cfg.Buckets; n <<= 1 {
		}
	}
	return &rrlTable{cfg: cfg, seed: maphash.MakeSeed(), buckets: make([]rrlBucket, n), logged: newRefusalLimiter(time.Minute, 4096)}
}

// Response classes, each limited on its own.
const (
	rrlPositive = iota + 1
	rrlNXDomain
	rrlNoData
	rrlReferral
	rrlError
)

// verdict is what happens to a UDP response.
type verdict int

const (
	rrlSend verdict = iota
	rrlSlip
	rrlDrop
)

// judge decides the fate of resp, the answer to req from addr at now.
func (t *rrlTable) judge(req, resp []byte, addr netip.Addr, now time.Time) verdict {
	addr = addr.Unmap()
	for _, p := range t.cfg.Exempt {
		if p.Contains(addr) {
			return rrlSend
		}
	}
	class, name := classify(resp)
	if class == 0 {
		return rrlSend
	}
	prefix := source.Prefix(addr, t.cfg.IPv4Bits, t.cfg.IPv6Bits)
	var h maphash.Hash
	h.SetSeed(t.seed)
	a := prefix.Addr().As16()
	h.Write(a[:])
	h.WriteByte(byte(class))
	h.Write(name)
	key := h.Sum64()
	i := key & uint64(len(t.buckets)-1)
	sec := now.Unix()
	mu := &t.locks[i%rrlLocks]
	mu.Lock()
	b := &t.buckets[i]
	if b.key != key || b.second != sec {
		b.key, b.second, b.count = key, sec, 0
	}
	b.count++
	over := int(b.count) > t.cfg.Rate
	slip := uint32(0)
	if over {
		b.slip++
		slip = b.slip
	}
	mu.Unlock()
	if !over {
		return rrlSend
	}
	t.limited.Add(1)
	if t.cfg.Slip > 0 && slip%uint32(t.cfg.Slip) == 0 {
		t.slipped.Add(1)
		return rrlSlip
	}
	t.dropped.Add(1)
	return rrlDrop
}

// classify gives the class of a response and the wire name it is limited
// by: the question for answers, NODATA and errors; the zone (the SOA's
// owner in the authority section) for NXDOMAIN; the delegation for a
// referral. class 0 is a response that is not limited.
func classify(resp []byte) (class int, name []byte) {
	if len(resp) < headerLen || binary.BigEndian.Uint16(resp[4:]) != 1 {
		return rrlError, nil
	}
	qend, ok := skipName(resp, headerLen)
	if !ok || qend+4 > len(resp) {
		return rrlError, nil
	}
	qname := resp[headerLen : qend+2] // with the qtype
	rcode := resp[3] & 0xF
	an := binary.BigEndian.Uint16(resp[6:])
	aa := resp[2]&0x04 != 0
	switch {
	case rcode == dns.RcodeSuccess && an > 0:
		return rrlPositive, qname
	case rcode == dns.RcodeSuccess && aa:
		return rrlNoData, qname
	case rcode == dns.RcodeSuccess:
		return rrlReferral, authorityOwner(resp, qend+4, an)
	case rcode == dns.RcodeNameError:
		return rrlNXDomain, authorityOwner(resp, qend+4, an)
	}
	return rrlError, nil
}

// authorityOwner gives where the first authority record's owner starts
// as bytes to hash: the name itself, or for a compressed owner the part
// of the message it points into (within the question, the zone's name).
func authorityOwner(resp []byte, off int, an uint16) []byte {
	for range an {
		var ok bool
		if off, ok = skipName(resp, off); !ok || off+10 > len(resp) {
			return nil
		}
		off += 10 + int(binary.BigEndian.Uint16(resp[off+8:]))
	}
	if off+2 > len(resp) {
		return nil
	}
	if resp[off]&0xC0 == 0xC0 {
		ptr := int(binary.BigEndian.Uint16(resp[off:]) & 0x3FFF)
		if end, ok := skipName(resp, ptr); ok && ptr < len(resp) {
			return resp[ptr:end]
		}
		return nil
	}
	end, ok := skipName(resp, off)
	if !ok {
		return nil
	}
	return resp[off:end]
}

// slipped makes resp the truncated form of itself: the header with TC and
// the question, nothing else, so that the client asks again over TCP.
func slipped(resp []byte) []byte {
	qend, ok := skipName(resp, headerLen)
	if !ok || qend+4 > len(resp) {
		return resp[:headerLen]
	}
	resp = resp[:qend+4]
	resp[2] |= 0x02 // TC
	clear(resp[6:12])
	return resp
}
