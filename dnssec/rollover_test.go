package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

// TestRolloverStages checks what each stage has the two keys do: the
// zone is always signed, its DNSKEY RRset always signed by a key the
// parent points at or pointed at a stage before, and a key signs only
// while published.
func TestRolloverStages(t *testing.T) {
	for _, kind := range []string{RollCSK, RollKSK, RollZSK} {
		stages, err := RolloverStages(kind)
		if err != nil {
			t.Fatal(err)
		}
		prevParent := "old" // the key the parent's DS pointed at a stage before
		for i, stage := range stages {
			old, new := StageUses(kind, stage)
			for name, u := range map[string]Use{"old": old, "new": new} {
				if (u.SignKeys || u.SignZone || u.Parent) && !u.Publish {
					t.Errorf("%s %s: the %s key signs or is at the parent unpublished: %+v", kind, stage, name, u)
				}
				if u.Parent && kind != RollZSK && !u.SignKeys {
					t.Errorf("%s %s: the %s key is at the parent but does not sign the DNSKEY RRset: %+v", kind, stage, name, u)
				}
			}
			if kind != RollKSK && !old.SignZone && !new.SignZone {
				t.Errorf("%s %s: no key signs the zone", kind, stage)
			}
			if kind != RollZSK && !old.SignKeys && !new.SignKeys {
				t.Errorf("%s %s: no key signs the DNSKEY RRset", kind, stage)
			}
			// A validator may still hold the parent's DS of the stage
			// before: the key it points at must sign the DNSKEY RRset.
			if kind != RollZSK && i > 0 && stage != StageDone {
				if prevParent == "old" && !old.SignKeys || prevParent == "new" && !new.SignKeys {
					t.Errorf("%s %s: the key at the parent a stage before no longer signs the DNSKEY RRset", kind, stage)
				}
			}
			if new.Parent {
				prevParent = "new"
			}
			if next := NextStage(kind, stage); (next == "") != (i == len(stages)-1) {
				t.Errorf("%s %s: next stage %q", kind, stage, next)
			}
		}
	}
	if _, err := RolloverStages("both"); err == nil {
		t.Error("RolloverStages(both): want an error")
	}
}

// TestSignerUses: a key's Use decides what it signs and whether it is
// published; without one it takes its usual role.
func TestSignerUses(t *testing.T) {
	csk := generate(t, t.TempDir(), "example.com.", ECDSAP256SHA256, FlagsKSK)
	fresh := generate(t, t.TempDir(), "example.com.", ECDSAP256SHA256, FlagsKSK)
	fresh.Use = Use{Publish: true, SignKeys: true}
	s := Signer{Zone: "example.com.", Keys: []*Key{csk, fresh}}
	if got := s.KeysFor(dns.TypeA); len(got) != 1 || got[0] != csk {
		t.Errorf("A RRset signed by %v, want the CSK alone", got)
	}
	if got := s.KeysFor(dns.TypeDNSKEY); len(got) != 2 {
		t.Errorf("DNSKEY RRset signed by %d keys, want both", len(got))
	}
	var dnskeys, cds int
	for _, rr := range s.Apex(300) {
		switch rr.Header().Rrtype {
		case dns.TypeDNSKEY:
			dnskeys++
		case dns.TypeCDS:
			cds++
		}
	}
	if dnskeys != 2 || cds != 1 {
		t.Errorf("apex: %d DNSKEY and %d CDS, want 2 and 1 (the new key is not at the parent yet)", dnskeys, cds)
	}
}
