package zones

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/store"
)

var bigSlotNames = []string{"example.org.", "www.example.org.", "stage.example.org."}

// bigSigning is a CSK of alg for example.org., with the default
// signature times.
func bigSigning(b *testing.B, alg uint8) Signing {
	k, err := dnssec.Generate("example.org.", alg, dnssec.FlagsKSK, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return Signing{Keys: []*dnssec.Key{k}, Validity: 14 * 24 * time.Hour, Refresh: 7 * 24 * time.Hour, Jitter: 12 * time.Hour}
}

var benchAlgorithms = []struct {
	name string
	alg  uint8
}{{"ECDSAP256SHA256", dnssec.ECDSAP256SHA256}, {"ED25519", dnssec.ED25519}}

// BenchmarkSign100k is the first signing of a zone of 100,000 names
// (NSEC), with nothing to reuse: every RRset signed, on every CPU.
func BenchmarkSign100k(b *testing.B) {
	z := parseZone(b, "example.org.", bigZone(100_000), nil)
	for _, a := range benchAlgorithms {
		b.Run(a.name, func(b *testing.B) {
			s := bigSigning(b, a.alg)
			b.ReportAllocs()
			var signed *Zone
			for b.Loop() {
				var err error
				if signed, err = z.Sign(s, bigSlotNames, nil, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(signed.SignaturesMade()), "rrsets_signed")
		})
	}
}

// BenchmarkSign100kFromSaved is a start of the same zone whose
// signatures the database keeps: open the file, read them, and sign the
// zone reusing every one. SaveUnchanged is the save that follows such a
// start, and SaveFirst the first save, into a new file.
func BenchmarkSign100kFromSaved(b *testing.B) {
	z := parseZone(b, "example.org.", bigZone(100_000), nil)
	for _, a := range benchAlgorithms {
		s := bigSigning(b, a.alg)
		first, err := z.Sign(s, bigSlotNames, nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "state.db")
		db, err := store.Open(path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.SaveSignatures(z.Origin, first.SavedSignatures()); err != nil {
			b.Fatal(err)
		}
		db.Close()
		b.Run(a.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				db, err := store.Open(path, store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				entries, err := db.Signatures(z.Origin)
				if err != nil {
					b.Fatal(err)
				}
				saved := SavedSignatures(entries)
				if err := saved.Check(z.Origin); err != nil {
					b.Fatal(err)
				}
				signed, err := z.Sign(s, bigSlotNames, saved, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				if n := signed.SignaturesMade(); n != 0 {
					b.Fatalf("%d RRsets signed anew", n)
				}
				db.Close()
			}
		})
		b.Run(a.name+"/SaveUnchanged", func(b *testing.B) {
			db, err := store.Open(path, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for b.Loop() {
				if c, err := db.SaveSignatures(z.Origin, first.SavedSignatures()); err != nil || c.Written != 0 {
					b.Fatal(c, err)
				}
			}
		})
		b.Run(a.name+"/SaveFirst", func(b *testing.B) {
			dir := b.TempDir()
			i := 0
			for b.Loop() {
				i++
				db, err := store.Open(filepath.Join(dir, fmt.Sprintf("state%d.db", i)), store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.SaveSignatures(z.Origin, first.SavedSignatures()); err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
		})
	}
}
