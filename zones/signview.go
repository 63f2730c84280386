package zones

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/dnssec"

	"github.com/miekg/dns"
)

// signView signs what the view of a signed zone makes: the SOA at the
// served serial, the slot names' records and the apex alias's
// addresses, and the NSEC or NSEC3 of the apex and of each slot name,
// whose bitmaps follow the slots. Signatures of RRsets a view before
// signed alike are reused, so a swap signs the SOA and what it changed.
func (b *builder) signView(zv *zoneView) error {
	sg := zv.file.signing
	if sg == nil {
		return nil
	}
	if !slices.Equal(sg.slotNames, slices.Sorted(maps.Keys(zv.slotNames))) {
		return fmt.Errorf("zone %s: signed for the slot names %s, served with %s: sign the zone for the names it serves",
			zv.origin, strings.Join(sg.slotNames, " "), strings.Join(slices.Sorted(maps.Keys(zv.slotNames)), " "))
	}
	for _, name := range append([]string{zv.origin}, sg.slotNames...) {
		n := b.own(zv, name)
		if err := b.signNode(zv, sg, n); err != nil {
			return fmt.Errorf("zone %s: %w", zv.origin, err)
		}
	}
	return nil
}

// signNode signs the view's records at n and makes its NSEC or NSEC3.
func (b *builder) signNode(zv *zoneView, sg *signing, n *node) error {
	delete(n.own, dns.TypeRRSIG)
	delete(n.own, dns.TypeNSEC)
	var sigs []dns.RR
	if n.inFile {
		// The file's signatures at the name: the apex's NS, MX, DNSKEY...
		sigs = n.set(dns.TypeRRSIG)
	}
	for _, t := range slices.Sorted(maps.Keys(n.own)) {
		if len(n.own[t]) == 0 {
			continue
		}
		s, err := sg.views.sign(sg, zv.origin, n.own[t], b.now)
		if err != nil {
			return err
		}
		sigs = append(sigs, s...)
	}
	types := slices.DeleteFunc(n.types(), func(t uint16) bool { return t == dns.TypeRRSIG || t == dns.TypeNSEC })
	link := sg.viewLinks[n.name]
	var denial dns.RR
	if sg.NSEC3 {
		denial = dnssec.NSEC3(n.name, zv.origin, link.next, types, sg.negTTL)
	} else {
		denial = dnssec.NSEC(n.name, link.next, types, sg.negTTL)
	}
	denialSigs, err := sg.views.sign(sg, zv.origin, []dns.RR{denial}, b.now)
	if err != nil {
		return err
	}
	if sg.NSEC3 {
		zv.own[link.owner] = &node{name: link.owner, denial: true, own: map[uint16][]dns.RR{
			dns.TypeNSEC3: {denial}, dns.TypeRRSIG: denialSigs,
		}}
	} else {
		n.own[dns.TypeNSEC] = []dns.RR{denial}
		sigs = append(sigs, denialSigs...)
	}
	n.own[dns.TypeRRSIG] = sigs
	return nil
}

// sigCache keeps the signatures views made, by RRset, so that the
// views that follow serve the same ones for the same records: a swap
// back signs nothing but the SOA, and a secondary's IXFR carries only
// what changed.
type sigCache struct {
	mu   sync.Mutex
	sigs map[string][]dns.RR
}

// maxViewSignatures bounds a cache; a full one starts over.
const maxViewSignatures = 4096

func newSigCache() *sigCache { return &sigCache{sigs: map[string][]dns.RR{}} }

// sign gives the RRSIGs of rrset, made at now or reused from the cache
// while they have more than the refresh time left.
func (c *sigCache) sign(sg *signing, zone string, rrset []dns.RR, now time.Time) ([]dns.RR, error) {
	key := rrsetKey(rrset)
	c.mu.Lock()
	cached, ok := c.sigs[key]
	c.mu.Unlock()
	if ok && sigsServe(cached, now, sg.Refresh) {
		return cached, nil
	}
	hdr := rrset[0].Header()
	inception, expiration := signatureLife(sg.Signing, now, hdr.Name, hdr.Rrtype)
	signer := dnssec.Signer{Zone: zone, Keys: sg.Keys, Inception: inception, Expiration: expiration}
	sigs, err := signer.Sign(rrset)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.sigs) >= maxViewSignatures {
		clear(c.sigs)
	}
	c.sigs[key] = sigs
	c.mu.Unlock()
	return sigs, nil
}

// sigsServe reports whether every signature has more than refresh left.
func sigsServe(sigs []dns.RR, now time.Time, refresh time.Duration) bool {
	for _, s := range sigs {
		sig := s.(*dns.RRSIG)
		if int64(sig.Inception) > now.Unix() || int64(sig.Expiration) <= now.Add(refresh).Unix() {
			return false
		}
	}
	return true
}

// rrsetKey identifies an RRset by its owner, type, TTLs and RDATA.
func rrsetKey(rrset []dns.RR) string {
	hdr := rrset[0].Header()
	key := binary.BigEndian.AppendUint16([]byte(strings.ToLower(hdr.Name)), hdr.Rrtype)
	for _, rr := range rrset {
		rdata, err := packRDATA(rr)
		if err != nil {
			rdata = []byte(rr.String())
		}
		key = binary.BigEndian.AppendUint32(key, rr.Header().Ttl)
		key = binary.BigEndian.AppendUint16(key, uint16(len(rdata)))
		key = append(key, rdata...)
	}
	return string(key)
}

// timeNow is the clock of the signatures made as answers are, RFC
// 8482's HINFO.
var timeNow = time.Now
