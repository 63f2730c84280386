package dnssec

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

// testZone has what a chain of denial must get right: an apex with
// several types, a wildcard, an empty non-terminal (sub, above a.sub),
// a delegation with glue, and a signed delegation (DS).
const testZone = `$ORIGIN example.com.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 1209600 120
@ NS ns1
@ MX 10 mail
@ A 192.0.2.80
ns1 A 192.0.2.53
mail A 192.0.2.25
www CNAME @
*.w TXT "wild"
a.sub A 192.0.2.9
child NS ns.child
ns.child A 192.0.2.77
secure NS ns.secure
secure DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`

// signZone signs rrs as slotdns will: every authoritative RRset, the
// DNSKEY, CDS and CDNSKEY at the apex, and a chain of denial (NSEC, or
// NSEC3 when nsec3), each record of it signed.
func signZone(t *testing.T, s *Signer, rrs []dns.RR, nsec3 bool) []dns.RR {
	t.Helper()
	zone := s.Zone
	soa := rrs[0].(*dns.SOA)
	negTTL := min(soa.Hdr.Ttl, soa.Minttl)
	rrs = append(rrs, s.Apex(300)...)
	if nsec3 {
		rrs = append(rrs, NSEC3PARAM(zone))
	}
	type key struct {
		name string
		typ  uint16
	}
	sets := map[key][]dns.RR{}
	types := map[string][]uint16{}
	var cuts []string
	for _, rr := range rrs {
		h := rr.Header()
		k := key{strings.ToLower(h.Name), h.Rrtype}
		sets[k] = append(sets[k], rr)
		if !slices.Contains(types[k.name], h.Rrtype) {
			types[k.name] = append(types[k.name], h.Rrtype)
		}
		if h.Rrtype == dns.TypeNS && k.name != zone {
			cuts = append(cuts, k.name)
		}
	}
	below := func(name string) bool { // at or below a cut, not the cut itself
		for _, c := range cuts {
			if name != c && dns.IsSubDomain(c, name) {
				return true
			}
		}
		return false
	}
	// Every name, and the empty non-terminals between them and the apex.
	for name := range types {
		for p := name; p != zone; {
			i, end := dns.NextLabel(p, 0)
			if end {
				break
			}
			p = p[i:]
			if _, ok := types[p]; !ok && dns.IsSubDomain(zone, p) {
				types[p] = nil
			}
		}
	}
	var names []Name
	for name, ts := range types {
		if !below(name) {
			names = append(names, Name{Name: name, Types: ts})
		}
	}
	var denial []dns.RR
	if nsec3 {
		for _, n := range NSEC3Chain(zone, names, negTTL) {
			denial = append(denial, n)
		}
	} else {
		names = slices.DeleteFunc(names, func(n Name) bool { return len(n.Types) == 0 })
		canonical := make([]string, len(names))
		for i, n := range names {
			canonical[i] = n.Name
		}
		sortCanonical(canonical)
		byName := map[string]Name{}
		for _, n := range names {
			byName[n.Name] = n
		}
		for i, name := range canonical {
			names[i] = byName[name]
		}
		chain, err := NSECChain(zone, names, negTTL)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range chain {
			denial = append(denial, n)
		}
	}
	for _, rr := range denial {
		sets[key{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}] = []dns.RR{rr}
	}
	var out []dns.RR
	for k, set := range sets {
		out = append(out, set...)
		if below(k.name) || k.typ == dns.TypeNS && k.name != zone {
			continue // glue, and NS at a cut, are not signed
		}
		sigs, err := s.Sign(set)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sigs...)
	}
	return out
}

// sortCanonical sorts FQDNs in RFC 4034 6.1 order.
func sortCanonical(names []string) {
	key := func(n string) []string {
		labels := dns.SplitDomainName(n)
		slices.Reverse(labels)
		return labels
	}
	slices.SortFunc(names, func(a, b string) int { return slices.Compare(key(a), key(b)) })
}

func parseRecords(t *testing.T, text string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return rrs
}

// TestSignedZoneVerifies signs the test zone with a CSK and with a
// KSK/ZSK pair, of each algorithm, with NSEC and with NSEC3, and hands
// each to BIND's dnssec-verify, which checks every signature and that
// the chain of denial covers the zone.
func TestSignedZoneVerifies(t *testing.T) {
	verify := testkit.RequireTool(t, "dnssec-verify", "apt-get install -y bind9-utils")
	for _, alg := range []uint8{ECDSAP256SHA256, ED25519} {
		for _, split := range []bool{false, true} {
			for _, nsec3 := range []bool{false, true} {
				name := dns.AlgorithmToString[alg]
				if split {
					name += " KSK+ZSK"
				}
				if nsec3 {
					name += " NSEC3"
				}
				t.Run(name, func(t *testing.T) {
					dir := t.TempDir()
					keys := []*Key{generate(t, dir, "example.com.", alg, FlagsKSK)}
					if split {
						keys = append(keys, generate(t, dir, "example.com.", alg, FlagsZSK))
					}
					s := &Signer{Zone: "example.com.", Keys: keys, Inception: time.Now().Add(-time.Hour), Expiration: time.Now().Add(14 * 24 * time.Hour)}
					signed := signZone(t, s, parseRecords(t, testZone), nsec3)
					var text strings.Builder
					for _, rr := range signed {
						text.WriteString(rr.String() + "\n")
					}
					path := filepath.Join(dir, "signed.zone")
					testkit.WriteFile(t, path, text.String())
					args := []string{"-o", "example.com.", path}
					if !split {
						args = append([]string{"-z"}, args...) // one key signs all
					}
					if out, err := exec.Command(verify, args...).CombinedOutput(); err != nil {
						t.Fatalf("dnssec-verify: %v\n%s", err, out)
					}
				})
			}
		}
	}
}

func TestSignerKeys(t *testing.T) {
	dir := t.TempDir()
	ksk := generate(t, dir, "example.com.", ECDSAP256SHA256, FlagsKSK)
	zsk := generate(t, dir, "example.com.", ECDSAP256SHA256, FlagsZSK)
	s := &Signer{Zone: "example.com.", Keys: []*Key{ksk, zsk}, Inception: now, Expiration: now.Add(time.Hour)}
	tags := func(rr string) []uint16 {
		t.Helper()
		sigs, err := s.Sign(parseRecords(t, rr))
		if err != nil {
			t.Fatal(err)
		}
		var out []uint16
		for _, sig := range sigs {
			out = append(out, sig.(*dns.RRSIG).KeyTag)
		}
		return out
	}
	if got := tags("example.com. 300 IN A 192.0.2.1"); !slices.Equal(got, []uint16{zsk.Tag()}) {
		t.Errorf("A signed by %v, want the ZSK %d", got, zsk.Tag())
	}
	if got := tags(ksk.DNSKEY.String() + "\n" + zsk.DNSKEY.String()); !slices.Equal(got, []uint16{ksk.Tag()}) {
		t.Errorf("DNSKEY signed by %v, want the KSK %d", got, ksk.Tag())
	}
	s.Keys = []*Key{ksk}
	if got := tags("example.com. 300 IN A 192.0.2.1"); !slices.Equal(got, []uint16{ksk.Tag()}) {
		t.Errorf("with a CSK alone, A signed by %v, want %d", got, ksk.Tag())
	}
	s.Keys = nil
	if _, err := s.Sign(parseRecords(t, "example.com. 300 IN A 192.0.2.1")); err == nil {
		t.Error("Sign without keys: no error")
	}
}

// BenchmarkSign is the cost of one RRSIG of each algorithm: what the
// first signing of a zone pays per RRset, and a swap per changed one.
//
//	go test -run '^$' -bench Sign ./dnssec
func BenchmarkSign(b *testing.B) {
	for _, alg := range []uint8{ECDSAP256SHA256, ED25519} {
		b.Run(dns.AlgorithmToString[alg], func(b *testing.B) {
			k, err := Generate("example.com.", alg, FlagsKSK, now)
			if err != nil {
				b.Fatal(err)
			}
			s := &Signer{Zone: "example.com.", Keys: []*Key{k}, Inception: now, Expiration: now.Add(time.Hour)}
			a, _ := dns.NewRR("www.example.com. 300 IN A 192.0.2.1")
			set := []dns.RR{a}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
