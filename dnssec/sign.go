package dnssec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Signer signs the RRsets of one zone with its keys for one validity
// period. A key with a Use set does what it says; the others take their
// usual role: with a ZSK among the keys, the ZSKs sign every RRset and
// the KSKs the DNSKEY, CDS and CDNSKEY RRsets only; with SEP keys alone,
// each is a CSK and signs everything.
type Signer struct {
	Zone       string // lowercase FQDN
	Keys       []*Key
	Inception  time.Time
	Expiration time.Time
}

// ErrNoKeys is returned by a Signer that has no key to sign with.
var ErrNoKeys = errors.New("no signing key")

// split reports whether the keys are a KSK/ZSK pair rather than CSKs.
func (s *Signer) split() bool {
	for _, k := range s.Keys {
		if !k.SEP() {
			return true
		}
	}
	return false
}

// UseOf is what k does: its Use, or when that is unset its usual role.
func (s *Signer) UseOf(k *Key) Use {
	if k.Use != (Use{}) {
		return k.Use
	}
	switch {
	case !s.split():
		return Use{Publish: true, SignKeys: true, SignZone: true, Parent: true}
	case k.SEP():
		return Use{Publish: true, SignKeys: true, Parent: true}
	default:
		return Use{Publish: true, SignZone: true}
	}
}

// KeysFor gives the keys that sign an RRset of type t (RFC 4035 2.1,
// RFC 7344 4.1 for CDS and CDNSKEY).
func (s *Signer) KeysFor(t uint16) []*Key {
	apexKeys := t == dns.TypeDNSKEY || t == dns.TypeCDS || t == dns.TypeCDNSKEY
	var out []*Key
	for _, k := range s.Keys {
		u := s.UseOf(k)
		if (apexKeys && u.SignKeys) || (!apexKeys && u.SignZone) {
			out = append(out, k)
		}
	}
	return out
}

// Sign gives the RRSIGs of rrset (one owner, type and class), one per key
// that signs its type. The RRSIG's TTL is the RRset's (RFC 4034 3).
func (s *Signer) Sign(rrset []dns.RR) ([]dns.RR, error) {
	if len(rrset) == 0 {
		return nil, errors.New("sign: an empty RRset")
	}
	hdr := rrset[0].Header()
	keys := s.KeysFor(hdr.Rrtype)
	if len(keys) == 0 {
		return nil, fmt.Errorf("sign %s %s: %w", hdr.Name, dns.TypeToString[hdr.Rrtype], ErrNoKeys)
	}
	sigs := make([]dns.RR, 0, len(keys))
	for _, k := range keys {
		sig := &dns.RRSIG{
			Hdr:        dns.RR_Header{Name: hdr.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: hdr.Ttl},
			Algorithm:  k.DNSKEY.Algorithm,
			KeyTag:     k.Tag(),
			SignerName: s.Zone,
			Inception:  uint32(s.Inception.Unix()),
			Expiration: uint32(s.Expiration.Unix()),
		}
		if err := sig.Sign(k.Signer, rrset); err != nil {
			return nil, fmt.Errorf("sign %s %s with key %d: %w", hdr.Name, dns.TypeToString[hdr.Rrtype], k.Tag(), err)
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

// Apex gives the records DNSSEC adds at the apex: the DNSKEY of every
// published key, and the CDS (SHA-256) and CDNSKEY of the keys the
// parent should point at (RFC 7344), each with ttl.
func (s *Signer) Apex(ttl uint32) []dns.RR {
	var out []dns.RR
	for _, k := range s.Keys {
		if !s.UseOf(k).Publish {
			continue
		}
		key := *k.DNSKEY
		key.Hdr = dns.RR_Header{Name: s.Zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttl}
		out = append(out, &key)
	}
	for _, k := range s.Keys {
		if !s.UseOf(k).Parent {
			continue
		}
		cds, cdnskey := k.CDS(), k.CDNSKEY()
		cds.Hdr = dns.RR_Header{Name: s.Zone, Rrtype: dns.TypeCDS, Class: dns.ClassINET, Ttl: ttl}
		cdnskey.Hdr = dns.RR_Header{Name: s.Zone, Rrtype: dns.TypeCDNSKEY, Class: dns.ClassINET, Ttl: ttl}
		out = append(out, cds, cdnskey)
	}
	return out
}

// Name is one owner name of a zone as a chain of denial sees it, with
// the types it holds.
type Name struct {
	Name  string // lowercase FQDN
	Types []uint16
}

// NSECChain gives the NSEC records (RFC 4034 4) of names, which must be
// the zone's authoritative names and delegation points in canonical order,
// the apex first, without empty non-terminals or names below a cut. Each
// bitmap adds NSEC and RRSIG, which every NSEC has, at a delegation too
// (RFC 4035 2.3); the last NSEC points back at the apex. ttl is the SOA's
// negative TTL (RFC 9077).
func NSECChain(zone string, names []Name, ttl uint32) ([]*dns.NSEC, error) {
	if len(names) == 0 || !strings.EqualFold(names[0].Name, zone) {
		return nil, fmt.Errorf("NSEC chain of %s: the apex must come first", zone)
	}
	out := make([]*dns.NSEC, len(names))
	for i, n := range names {
		out[i] = NSEC(n.Name, names[(i+1)%len(names)].Name, n.Types, ttl)
	}
	return out, nil
}

// NSEC gives the NSEC record of owner, which holds types and is
// followed in its chain by next: NSEC and RRSIG join the bitmap.
func NSEC(owner, next string, types []uint16, ttl uint32) *dns.NSEC {
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
		NextDomain: next,
		TypeBitMap: bitmap(types, dns.TypeNSEC, true),
	}
}

// signedAt reports whether a name with types holds RRSIGs of its own
// records: every name but a delegation without DS (RFC 4035 2.2: NS at a
// cut is not signed). The NSEC3 bitmap tells it (RFC 5155 7.1).
func signedAt(name, zone string, types []uint16) bool {
	if strings.EqualFold(name, zone) || !slices.Contains(types, dns.TypeNS) {
		return true
	}
	return slices.Contains(types, dns.TypeDS)
}

// bitmap gives types with add, and RRSIG when signed, sorted, once each.
func bitmap(types []uint16, add uint16, signed bool) []uint16 {
	out := slices.Clone(types)
	if add != 0 {
		out = append(out, add)
	}
	if signed {
		out = append(out, dns.TypeRRSIG)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NSEC3 parameters of RFC 9276: SHA-1 (the only hash defined), no extra
// iterations, no salt, and no opt-out.
const (
	nsec3Hash       = dns.SHA1
	nsec3Iterations = 0
	nsec3Salt       = ""
)

// NSEC3PARAM is the apex record that names the chain's parameters.
func NSEC3PARAM(zone string) *dns.NSEC3PARAM {
	return &dns.NSEC3PARAM{
		Hdr:  dns.RR_Header{Name: zone, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET, Ttl: 0},
		Hash: nsec3Hash, Iterations: nsec3Iterations, SaltLength: 0, Salt: nsec3Salt,
	}
}

// HashedOwner is the owner of the NSEC3 record of name in zone.
func HashedOwner(name, zone string) string {
	return strings.ToLower(dns.HashName(name, nsec3Hash, nsec3Iterations, nsec3Salt)) + "." + zone
}

// NSEC3Chain gives the NSEC3 records (RFC 5155) of names: every name of
// the zone that exists, empty non-terminals (with no types) and
// delegation points included, names below a cut left out, in any order.
// The apex's types must include NSEC3PARAM. The records come in the order
// of their hashes, each pointing at the next and the last at the first.
func NSEC3Chain(zone string, names []Name, ttl uint32) []*dns.NSEC3 {
	type hashed struct {
		hash string
		n    Name
	}
	all := make([]hashed, len(names))
	for i, n := range names {
		all[i] = hashed{dns.HashName(n.Name, nsec3Hash, nsec3Iterations, nsec3Salt), n}
	}
	slices.SortFunc(all, func(a, b hashed) int { return strings.Compare(a.hash, b.hash) })
	out := make([]*dns.NSEC3, len(all))
	for i, h := range all {
		out[i] = NSEC3(h.n.Name, zone, all[(i+1)%len(all)].hash, h.n.Types, ttl)
	}
	return out
}

// NSEC3 gives the NSEC3 record of name, which holds types and whose
// hash is followed in the chain by next (base32hex): RRSIG joins the
// bitmap where the name's records are signed.
func NSEC3(name, zone, next string, types []uint16, ttl uint32) *dns.NSEC3 {
	signed := len(types) > 0 && signedAt(name, zone, types)
	return &dns.NSEC3{
		Hdr:        dns.RR_Header{Name: HashedOwner(name, zone), Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: ttl},
		Hash:       nsec3Hash,
		Iterations: nsec3Iterations,
		SaltLength: 0,
		Salt:       nsec3Salt,
		HashLength: 20,
		NextDomain: next,
		TypeBitMap: bitmap(types, 0, signed),
	}
}
