package zones

import (
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

const signedTestZone = `$ORIGIN example.com.
$TTL 3600
@        SOA  ns1 hostmaster 1 3600 600 1209600 300
@        NS   ns1
@        MX   10 mail
ns1      A    192.0.2.1
mail     A    192.0.2.25
docs     A    192.0.2.40
static   CNAME docs
*.wild   TXT  "wildcard"
deep.x.y A    192.0.2.50
secure   NS   ns.secure
secure   DS   12345 13 2 8CA1B2A1D3A15B5F6C1EF3A7C28F8E4D2F47A0C7E6B9C2D1F0A3B4C5D6E7F809
ns.secure A   192.0.2.60
insecure NS   ns.insecure
ns.insecure A 192.0.2.61
`

// signedFixture signs signedTestZone with one CSK (or a KSK and a ZSK)
// for slots at the apex, www, stage and a.b (below an empty
// non-terminal), and builds its snapshot.
func signedFixture(t *testing.T, split, nsec3 bool) (*Snapshot, []*dnssec.Key, Signing) {
	t.Helper()
	keys := []*dnssec.Key{newKey(t, dnssec.FlagsKSK)}
	if split {
		keys = append(keys, newKey(t, dnssec.FlagsZSK))
	}
	snap, s := signedWith(t, keys, nsec3)
	return snap, keys, s
}

func newKey(t *testing.T, flags uint16) *dnssec.Key {
	t.Helper()
	k, err := dnssec.Generate("example.com.", dnssec.ECDSAP256SHA256, flags, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signedWith is signedFixture with the keys given.
func signedWith(t *testing.T, keys []*dnssec.Key, nsec3 bool) (*Snapshot, Signing) {
	t.Helper()
	now := time.Now()
	s := Signing{Keys: keys, NSEC3: nsec3, Validity: 14 * 24 * time.Hour, Refresh: 7 * 24 * time.Hour, Jitter: time.Hour}
	file := parseZone(t, "example.com.", signedTestZone, nil)
	signed, err := file.Sign(s, []string{"example.com.", "www.example.com.", "stage.example.com.", "a.b.example.com."}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Build(Input{Now: now, Zones: []ZoneInput{{Zone: signed, Serial: 7, Slots: []Slot{
		{App: "web", Slot: "production", Names: []string{"example.com."}, Target: mustTarget(t, "192.0.2.10, 2001:db8::10"), TTL: 30},
		{App: "web", Slot: "www", Names: []string{"www.example.com."}, Target: mustTarget(t, "blue.cloud.test."), TTL: 30},
		{App: "web", Slot: "staging", Names: []string{"stage.example.com.", "a.b.example.com."}, Target: mustTarget(t, "green.cloud.test."), TTL: 30},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	return snap, s
}

// checkZone hands the zone as transferred, one record a line, to the
// three checkers of testkit.CheckSignedZone, in a subtest named step.
func checkZone(t *testing.T, step string, snap *Snapshot) {
	t.Helper()
	recs, ok := snap.Records("example.com.")
	if !ok {
		t.Fatal("no zone")
	}
	var text strings.Builder
	for _, rr := range recs {
		text.WriteString(rr.String() + "\n")
	}
	testkit.CheckSignedZone(t, step, "example.com.", text.String())
}

// TestSignedSnapshotVerifies has BIND's, Knot's and ldns's checkers
// verify the zone as transferred, CSK and KSK+ZSK, NSEC and NSEC3, as
// signed and after a swap.
func TestSignedSnapshotVerifies(t *testing.T) {
	for _, split := range []bool{false, true} {
		for _, nsec3 := range []bool{false, true} {
			name := map[bool]string{false: "CSK", true: "KSK+ZSK"}[split] + map[bool]string{false: " NSEC", true: " NSEC3"}[nsec3]
			t.Run(name, func(t *testing.T) {
				snap, _, _ := signedFixture(t, split, nsec3)
				checkZone(t, "signed", snap)
				// A swap: the apex becomes a hostname alias, www addresses.
				zi, _ := snap.ZoneInput("example.com.")
				zi.Serial++
				zi.Slots[0].Target = mustTarget(t, "docs.example.com.")
				zi.Slots[1].Target = mustTarget(t, "192.0.2.11")
				next, err := snap.With(Input{Zones: []ZoneInput{zi}})
				if err != nil {
					t.Fatal(err)
				}
				checkZone(t, "swapped", next)
			})
		}
	}
}

// TestSignedRolloverVerifies has the three checkers verify the zone at
// every stage of a CSK, a KSK and a ZSK rollover, with the keys doing
// what dnssec.StageUses says (as the server gives them to Sign; at done
// the old key is gone), NSEC and NSEC3.
func TestSignedRolloverVerifies(t *testing.T) {
	for _, kind := range []string{dnssec.RollCSK, dnssec.RollKSK, dnssec.RollZSK} {
		stages, err := dnssec.RolloverStages(kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, nsec3 := range []bool{false, true} {
			t.Run(strings.ToUpper(kind)+map[bool]string{false: " NSEC", true: " NSEC3"}[nsec3], func(t *testing.T) {
				t.Parallel()
				// The key replaced, its successor, and the key that stays.
				var old, next, other *dnssec.Key
				switch kind {
				case dnssec.RollCSK:
					old, next = newKey(t, dnssec.FlagsKSK), newKey(t, dnssec.FlagsKSK)
				case dnssec.RollKSK:
					old, next, other = newKey(t, dnssec.FlagsKSK), newKey(t, dnssec.FlagsKSK), newKey(t, dnssec.FlagsZSK)
				case dnssec.RollZSK:
					old, next, other = newKey(t, dnssec.FlagsZSK), newKey(t, dnssec.FlagsZSK), newKey(t, dnssec.FlagsKSK)
				}
				for _, stage := range stages {
					oldUse, nextUse := dnssec.StageUses(kind, stage)
					o, n := *old, *next
					o.Use, n.Use = oldUse, nextUse
					keys := []*dnssec.Key{&n}
					if stage != dnssec.StageDone {
						keys = append(keys, &o)
					}
					if other != nil {
						keys = append(keys, other)
					}
					snap, _ := signedWith(t, keys, nsec3)
					checkZone(t, stage, snap)
				}
			})
		}
	}
}

// TestSignedLookups checks that answers to DO queries carry valid
// signatures of every RRset, and the NSEC or NSEC3 records a validator
// needs; unbound validates them for real in the integration tests.
func TestSignedLookups(t *testing.T) {
	for _, nsec3 := range []bool{false, true} {
		snap, keys, _ := signedFixture(t, false, nsec3)
		key := keys[0].DNSKEY
		cases := []struct {
			qname  string
			qtype  uint16
			result Result
			proof  bool // NSEC or NSEC3 in the authority section
		}{
			{"example.com.", dns.TypeA, Success, false},
			{"example.com.", dns.TypeMX, Success, false},
			{"example.com.", dns.TypeDNSKEY, Success, false},
			{"www.example.com.", dns.TypeA, Success, false},
			{"a.b.example.com.", dns.TypeCNAME, Success, false},
			{"static.example.com.", dns.TypeA, Success, false},
			{"docs.example.com.", dns.TypeTXT, NoData, true},
			{"www.example.com.", dns.TypeTXT, Success, false}, // the CNAME
			{"stage.example.com.", dns.TypeCNAME, Success, false},
			{"b.example.com.", dns.TypeA, NoData, true}, // empty non-terminal
			{"nothing.example.com.", dns.TypeA, NameError, true},
			{"x.wild.example.com.", dns.TypeTXT, Success, true},
			{"x.wild.example.com.", dns.TypeA, NoData, true},
			{"host.insecure.example.com.", dns.TypeA, Delegation, true},
			{"host.secure.example.com.", dns.TypeA, Delegation, false},
			{"secure.example.com.", dns.TypeDS, Success, false},
			{"insecure.example.com.", dns.TypeDS, NoData, true},
		}
		for _, c := range cases {
			ans := snap.LookupDNSSEC(c.qname, c.qtype)
			if ans.Result != c.result {
				t.Errorf("nsec3 %v: %s %s: %v, want %v", nsec3, c.qname, dns.TypeToString[c.qtype], ans.Result, c.result)
				continue
			}
			proof := false
			for _, section := range [][]dns.RR{ans.Answer, ans.Ns} {
				sets := map[string][]dns.RR{}
				sigs := map[string][]*dns.RRSIG{}
				for _, rr := range section {
					k := strings.ToLower(rr.Header().Name) + "/"
					switch rr := rr.(type) {
					case *dns.RRSIG:
						k += dns.TypeToString[rr.TypeCovered]
						sigs[k] = append(sigs[k], rr)
					default:
						k += dns.TypeToString[rr.Header().Rrtype]
						sets[k] = append(sets[k], rr)
						if t := rr.Header().Rrtype; t == dns.TypeNSEC || t == dns.TypeNSEC3 {
							proof = true
						}
					}
				}
				for k, set := range sets {
					if strings.HasSuffix(k, "/NS") && ans.Result == Delegation || !dns.IsSubDomain("example.com.", set[0].Header().Name) {
						continue // not signed: the child's, or not ours
					}
					if len(sigs[k]) == 0 {
						t.Errorf("nsec3 %v: %s %s: %s has no RRSIG", nsec3, c.qname, dns.TypeToString[c.qtype], k)
						continue
					}
					if err := sigs[k][0].Verify(key, set); err != nil {
						t.Errorf("nsec3 %v: %s %s: %s: %v", nsec3, c.qname, dns.TypeToString[c.qtype], k, err)
					}
					if got, want := sigs[k][0].Hdr.Ttl, set[0].Header().Ttl; got != want && c.qtype != dns.TypeRRSIG {
						t.Errorf("nsec3 %v: %s %s: %s: RRSIG TTL %d, want the RRset's %d", nsec3, c.qname, dns.TypeToString[c.qtype], k, got, want)
					}
				}
			}
			if proof != c.proof {
				t.Errorf("nsec3 %v: %s %s: proof %v, want %v\n%v", nsec3, c.qname, dns.TypeToString[c.qtype], proof, c.proof, ans.Ns)
			}
			plain := snap.Lookup(c.qname, c.qtype)
			for _, rr := range append(plain.Answer, plain.Ns...) {
				switch rr.Header().Rrtype {
				case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
					if c.qtype != dns.TypeRRSIG {
						t.Errorf("%s %s without DO: %v", c.qname, dns.TypeToString[c.qtype], rr)
					}
				}
			}
		}
	}
}

// TestSignReuses checks that signing again reuses every signature that
// still serves, and that a swap signs only what it changed.
func TestSignReuses(t *testing.T) {
	snap, _, s := signedFixture(t, false, false)
	zi, _ := snap.ZoneInput("example.com.")
	again, err := zi.Zone.Sign(s, []string{"example.com.", "www.example.com.", "stage.example.com.", "a.b.example.com."}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n := again.SignaturesMade(); n != 0 {
		t.Errorf("signing again made %d signatures, want 0", n)
	}
	later, err := zi.Zone.Sign(s, []string{"example.com.", "www.example.com.", "stage.example.com.", "a.b.example.com."}, nil, time.Now().Add(8*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n, all := later.SignaturesMade(), zi.Zone.SignaturesMade(); n != all {
		t.Errorf("eight days on, signing made %d signatures, want all %d", n, all)
	}
	if _, due := later.SignaturesExpire(); !due.After(time.Now().Add(14 * 24 * time.Hour)) {
		t.Errorf("signatures due %v", due)
	}
}

func TestSignRefusesDNSSECRecords(t *testing.T) {
	z := parseZone(t, "example.com.", signedTestZone+"docs NSEC static.example.com. A RRSIG NSEC\n", nil)
	_, err := z.Sign(Signing{Keys: nil}, nil, nil, time.Now())
	if err == nil {
		t.Fatal("no error")
	}
	key, _ := dnssec.Generate("example.com.", dnssec.ECDSAP256SHA256, dnssec.FlagsKSK, time.Now())
	_, err = z.Sign(Signing{Keys: []*dnssec.Key{key}, Validity: 14 * 24 * time.Hour, Refresh: 7 * 24 * time.Hour}, nil, nil, time.Now())
	if err == nil || !strings.Contains(err.Error(), "zone.db:17: NSEC record at docs.example.com.") {
		t.Fatalf("error %v", err)
	}
}
