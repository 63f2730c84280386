package zones

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

var testSlotNames = []string{"example.com.", "www.example.com.", "stage.example.com.", "a.b.example.com."}

// saveAndReload keeps z's signatures in a new database, closes it, and
// gives what a reopened one holds.
func saveAndReload(t *testing.T, z *Zone) SavedSignatures {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.SaveSignatures(z.Origin, z.SavedSignatures())
	if err != nil {
		t.Fatal(err)
	}
	if c.Written != z.SignaturesMade() {
		t.Errorf("wrote %d entries, want %d", c.Written, z.SignaturesMade())
	}
	// Saving the same again writes nothing.
	if again, err := db.SaveSignatures(z.Origin, z.SavedSignatures()); err != nil || again.Written != 0 || again.Deleted != 0 || again.Kept != c.Written {
		t.Errorf("saving again: %+v, %v", again, err)
	}
	db.Close()
	if db, err = store.Open(path, store.Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.Signatures(z.Origin)
	if err != nil {
		t.Fatal(err)
	}
	saved := SavedSignatures(entries)
	if err := saved.Check(z.Origin); err != nil {
		t.Fatal(err)
	}
	return saved
}

// TestSavedSignaturesReused signs a zone, keeps its signatures in the
// database, and signs the file again from them as a restart does:
// nothing is signed anew, but for an RRset that changed, all when a key
// is gone, and all once they are due.
func TestSavedSignaturesReused(t *testing.T) {
	for _, nsec3 := range []bool{false, true} {
		now := time.Now()
		ksk, _ := dnssec.Generate("example.com.", dnssec.ECDSAP256SHA256, dnssec.FlagsKSK, now)
		zsk, _ := dnssec.Generate("example.com.", dnssec.ECDSAP256SHA256, dnssec.FlagsZSK, now)
		s := Signing{Keys: []*dnssec.Key{ksk, zsk}, NSEC3: nsec3, Validity: 14 * 24 * time.Hour, Refresh: 7 * 24 * time.Hour, Jitter: time.Hour}
		first, err := parseZone(t, "example.com.", signedTestZone, nil).Sign(s, testSlotNames, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		saved := saveAndReload(t, first)

		again, err := parseZone(t, "example.com.", signedTestZone, nil).Sign(s, testSlotNames, saved, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n, r := again.SignaturesMade(), again.SignaturesReused(); n != 0 || r != first.SignaturesMade() {
			t.Errorf("nsec3 %v: from the saved signatures made %d and reused %d, want 0 and %d", nsec3, n, r, first.SignaturesMade())
		}
		if !again.SignedAsSaved() || first.SignedAsSaved() {
			t.Errorf("nsec3 %v: signed as saved: %v, and the first signing %v", nsec3, again.SignedAsSaved(), first.SignedAsSaved())
		}
		if !sameRecords(first, again) {
			t.Errorf("nsec3 %v: the zone signed from its saved signatures differs", nsec3)
		}

		// docs changes address: its A alone is signed again.
		changed := strings.Replace(signedTestZone, "192.0.2.40", "192.0.2.41", 1)
		z, err := parseZone(t, "example.com.", changed, nil).Sign(s, testSlotNames, saved, now)
		if err != nil {
			t.Fatal(err)
		}
		if n := z.SignaturesMade(); n != 1 || z.SignedAsSaved() {
			t.Errorf("nsec3 %v: one A record changed, %d RRsets signed, want 1 (signed as saved: %v)", nsec3, n, z.SignedAsSaved())
		}

		// The ZSK is gone: the KSK signs everything now. Only CDS and
		// CDNSKEY, which it signed already and which do not change, keep
		// their signatures.
		z, err = parseZone(t, "example.com.", signedTestZone, nil).Sign(Signing{Keys: []*dnssec.Key{ksk}, NSEC3: nsec3, Validity: s.Validity, Refresh: s.Refresh, Jitter: s.Jitter}, testSlotNames, saved, now)
		if err != nil {
			t.Fatal(err)
		}
		if n := z.SignaturesMade(); n != first.SignaturesMade()-2 {
			t.Errorf("nsec3 %v: with the ZSK removed %d RRsets signed, want all but CDS and CDNSKEY, %d", nsec3, n, first.SignaturesMade()-2)
		}

		// Eight days on, less than the refresh time is left of every one.
		z, err = parseZone(t, "example.com.", signedTestZone, nil).Sign(s, testSlotNames, saved, now.Add(8*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n := z.SignaturesMade(); n != first.SignaturesMade() {
			t.Errorf("nsec3 %v: eight days on %d RRsets signed, want all %d", nsec3, n, first.SignaturesMade())
		}
	}
}

// sameRecords reports whether two zones hold the same records.
func sameRecords(a, b *Zone) bool {
	return strings.Join(rrStrings(allRecords(a)), "\n") == strings.Join(rrStrings(allRecords(b)), "\n")
}

func allRecords(z *Zone) []dns.RR {
	var out []dns.RR
	for n := range z.recs.All() {
		n.Sets(func(set compact.Set) bool {
			rrs, _ := set.RRs(lowerName(n.Name()))
			out = append(out, rrs...)
			return true
		})
	}
	return out
}

// TestSavedSignaturesDamaged: an entry not in the form written is
// reported by Check, naming the RRset, and never reused.
func TestSavedSignaturesDamaged(t *testing.T) {
	_, _, s := signedFixture(t, false, false)
	first, err := parseZone(t, "example.com.", signedTestZone, nil).Sign(s, testSlotNames, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	saved := SavedSignatures{}
	for k, v := range first.SavedSignatures() {
		saved[string(k)] = v
	}
	docs := string(savedKey(packName("docs.example.com."), 1))
	if _, ok := saved[docs]; !ok {
		t.Fatal("no entry for docs.example.com. A")
	}
	saved[docs] = saved[docs][:40]
	if err := saved.Check("example.com."); err == nil || !strings.Contains(err.Error(), "docs.example.com. A") {
		t.Errorf("check: %v", err)
	}
	z, err := parseZone(t, "example.com.", signedTestZone, nil).Sign(s, testSlotNames, saved, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n := z.SignaturesMade(); n != 1 {
		t.Errorf("with one entry damaged, %d RRsets signed, want 1", n)
	}
}
