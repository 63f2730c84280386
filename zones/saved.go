package zones

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"iter"
	"slices"

	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

// Reuse is where Sign finds signatures to reuse: a signed *Zone (the
// zone served before), or SavedSignatures (those kept from an earlier
// start). Either way a signature is reused only for the very RRset it
// covers, by a key that signs that type now, with more than Refresh
// left.
type Reuse interface {
	// signatures gives the RRSIG RDATA kept for j's RRset, nil when
	// there are none or the RRset is not the one they cover.
	signatures(zs *zoneSigner, j *signJob) [][]byte
}

// SavedSignatures are a signed zone's signatures as they are kept
// between starts (see Zone.SavedSignatures), for Sign to reuse: one entry
// per signed RRset, keyed by the RRset's owner (wire form, lowercase)
// and type, holding a hash of the RRset and of the keys that sign its
// type, then the RRSIGs' RDATA.
type SavedSignatures map[string][]byte

// savedVersion is the first byte of every entry's value, so that a
// later layout is told apart rather than misread.
const savedVersion = 1

// savedKey is the entry key of owner's RRset of type typ.
func savedKey(owner []byte, typ uint16) []byte {
	return binary.BigEndian.AppendUint16(slices.Clip(owner), typ)
}

// Check reports the first entry that is not in the form
// Zone.SavedSignatures gives, naming its RRset; zone names the zone.
func (s SavedSignatures) Check(zone string) error {
	for k, v := range s {
		if _, ok := decodeSaved(v); ok && len(k) > 2 {
			if _, _, err := dns.UnpackDomainName([]byte(k[:len(k)-2]), 0); err == nil {
				continue
			}
		}
		return fmt.Errorf("zone %s: saved signatures of %s: not in the form slotdns writes", zone, describeKey([]byte(k)))
	}
	return nil
}

// describeKey gives an entry key as "name TYPE", or in hex when it is
// no name.
func describeKey(k []byte) string {
	if len(k) > 2 {
		if name, end, err := dns.UnpackDomainName(k[:len(k)-2], 0); err == nil && end == len(k)-2 {
			return name + " " + dns.Type(binary.BigEndian.Uint16(k[len(k)-2:])).String()
		}
	}
	return fmt.Sprintf("key %x", k)
}

// decodeSaved splits an entry's value into the RRset hash and the
// RRSIGs' RDATA (which alias v).
func decodeSaved(v []byte) (saved, bool) {
	if len(v) < 1+sha256.Size || v[0] != savedVersion {
		return saved{}, false
	}
	out := saved{hash: v[1 : 1+sha256.Size]}
	for rest := v[1+sha256.Size:]; len(rest) > 0; {
		if len(rest) < 2 {
			return saved{}, false
		}
		n := int(binary.BigEndian.Uint16(rest))
		if n < 18 || len(rest) < 2+n {
			return saved{}, false
		}
		out.sigs = append(out.sigs, rest[2:2+n:2+n])
		rest = rest[2+n:]
	}
	return out, len(out.sigs) > 0
}

type saved struct {
	hash []byte
	sigs [][]byte
}

func (s SavedSignatures) signatures(zs *zoneSigner, j *signJob) [][]byte {
	v, ok := s[string(savedKey(j.owner, j.typ))]
	if !ok {
		return nil
	}
	sv, ok := decodeSaved(v)
	if !ok {
		return nil
	}
	if h := zs.jobHash(j); !bytes.Equal(h[:], sv.hash) {
		return nil
	}
	return sv.sigs
}

// signatures gives what z, signed, holds for j's RRset when it holds
// exactly j's records.
func (z *Zone) signatures(zs *zoneSigner, j *signJob) [][]byte {
	pn, ok := z.recs.Lookup(j.owner)
	if !ok || !zs.sameSet(j, pn.Set(j.typ)) {
		return nil
	}
	return coveringSigs(pn, j.typ)
}

// coveringSigs gives the RDATA of the RRSIGs at n that cover typ.
func coveringSigs(n compact.Node, typ uint16) [][]byte {
	var sigs [][]byte
	n.Set(dns.TypeRRSIG).Each(func(_ uint32, rdata []byte) bool {
		if len(rdata) >= 18 && binary.BigEndian.Uint16(rdata) == typ {
			sigs = append(sigs, rdata)
		}
		return true
	})
	return sigs
}

// ttlRDATA is one record of an RRset, for its hash.
type ttlRDATA struct {
	ttl   uint32
	rdata []byte
}

// rrsetHash hashes an RRset (its type, and each record's TTL and RDATA,
// in any order) with keys, the DNSKEY RDATA of the keys that sign it.
func rrsetHash(typ uint16, recs []ttlRDATA, keys []byte) [sha256.Size]byte {
	slices.SortFunc(recs, func(a, b ttlRDATA) int {
		if c := bytes.Compare(a.rdata, b.rdata); c != 0 {
			return c
		}
		return int(a.ttl) - int(b.ttl)
	})
	h := sha256.New()
	var buf [8]byte
	h.Write(binary.BigEndian.AppendUint16(buf[:0], typ))
	for _, r := range recs {
		b := binary.BigEndian.AppendUint32(buf[:0], r.ttl)
		h.Write(binary.BigEndian.AppendUint16(b, uint16(len(r.rdata))))
		h.Write(r.rdata)
	}
	h.Write(keys)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// keyPrint is the DNSKEY RDATA of the keys that sign typ, one after the
// other: part of an RRset's hash, so that a key replaced by another of
// the same tag does not pass for it.
func keyPrint(keys []*dnssec.Key, typ uint16) []byte {
	signer := dnssec.Signer{Keys: keys}
	var out []byte
	for _, k := range signer.KeysFor(typ) {
		rdata, err := packRDATA(k.DNSKEY)
		if err != nil {
			continue
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(rdata)))
		out = append(out, rdata...)
	}
	return out
}

// jobHash is the hash of j's RRset as SavedSignatures keeps it.
func (zs *zoneSigner) jobHash(j *signJob) [sha256.Size]byte {
	var recs []ttlRDATA
	if j.rrs != nil {
		for _, rr := range j.rrs {
			rdata, err := packRDATA(rr)
			if err != nil {
				return [sha256.Size]byte{}
			}
			recs = append(recs, ttlRDATA{rr.Header().Ttl, rdata})
		}
	} else {
		j.set.Each(func(ttl uint32, rdata []byte) bool {
			recs = append(recs, ttlRDATA{ttl, rdata})
			return true
		})
	}
	return rrsetHash(j.typ, recs, zs.keyPrint(j.typ))
}

// keyPrint caches keyPrint by the kind of type: the apex's key types,
// or the others.
func (zs *zoneSigner) keyPrint(typ uint16) []byte {
	apex := typ == dns.TypeDNSKEY || typ == dns.TypeCDS || typ == dns.TypeCDNSKEY
	if zs.prints == nil {
		zs.prints = map[bool][]byte{}
	}
	p, ok := zs.prints[apex]
	if !ok {
		p = keyPrint(zs.s.Keys, typ)
		zs.prints[apex] = p
	}
	return p
}

// SavedSignatures gives the entries of the zone's signatures as
// SavedSignatures keeps them, every RRset the file's records sign (not
// those the views sign); nothing for an unsigned zone.
func (z *Zone) SavedSignatures() iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		sg := z.signing
		if sg == nil {
			return
		}
		prints := map[bool][]byte{}
		for n := range z.recs.All() {
			owner := n.Name()
			sigSet := n.Set(dns.TypeRRSIG)
			if sigSet.Len() == 0 {
				continue
			}
			var sigs [][]byte
			sigSet.Each(func(_ uint32, rdata []byte) bool {
				if len(rdata) >= 18 {
					sigs = append(sigs, rdata)
				}
				return true
			})
			var recs []ttlRDATA
			stop := false
			n.Sets(func(set compact.Set) bool {
				typ := set.Type()
				if typ == dns.TypeRRSIG {
					return true
				}
				var v []byte
				for _, sig := range sigs {
					if binary.BigEndian.Uint16(sig) == typ {
						v = binary.BigEndian.AppendUint16(v, uint16(len(sig)))
						v = append(v, sig...)
					}
				}
				if v == nil {
					return true // not signed here: the views', or a delegation's
				}
				apex := typ == dns.TypeDNSKEY || typ == dns.TypeCDS || typ == dns.TypeCDNSKEY
				p, ok := prints[apex]
				if !ok {
					p = keyPrint(sg.Keys, typ)
					prints[apex] = p
				}
				recs = recs[:0]
				set.Each(func(ttl uint32, rdata []byte) bool {
					recs = append(recs, ttlRDATA{ttl, rdata})
					return true
				})
				h := rrsetHash(typ, recs, p)
				value := make([]byte, 0, 1+len(h)+len(v))
				value = append(append(append(value, savedVersion), h[:]...), v...)
				if !yield(savedKey(owner, typ), value) {
					stop = true
					return false
				}
				return true
			})
			if stop {
				return
			}
		}
	}
}
