package control

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// rolloverKeys writes an old CSK to dir and a new one to dir/pending, as
// a rollover's start leaves them before it has committed.
func rolloverKeys(t *testing.T, dir string) (old, fresh *dnssec.Key, ro store.Rollover) {
	t.Helper()
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	var err error
	if old, err = dnssec.Generate("example.com.", dnssec.ECDSAP256SHA256, dnssec.FlagsKSK, now); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, pendingKeys), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := old.Write(dir); err != nil {
		t.Fatal(err)
	}
	for fresh == nil || fresh.Tag() == old.Tag() {
		if fresh, err = dnssec.Generate("example.com.", dnssec.ECDSAP256SHA256, dnssec.FlagsKSK, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := fresh.Write(filepath.Join(dir, pendingKeys)); err != nil {
		t.Fatal(err)
	}
	ro = store.Rollover{Zone: "example.com.", Kind: dnssec.RollCSK, Old: old.Tag(), OldFile: old.File, New: fresh.Tag(),
		NewFile: filepath.Join(dir, filepath.Base(fresh.File)), Stage: dnssec.StagePublished}
	return old, fresh, ro
}

// TestRolloverKeysAtStart: a start after a crash anywhere in a rollover
// step finds the keys the stored stage names, moving a new key out of
// pending and a retired one out of the key folder, and gives each the
// stage's use.
func TestRolloverKeysAtStart(t *testing.T) {
	dir := t.TempDir()
	old, fresh, ro := rolloverKeys(t, dir)
	cfg := &config.Config{Path: "slotdns.toml", Zones: []config.Zone{{Origin: "example.com.", DNSSEC: &config.DNSSEC{KeyDir: dir, Algorithm: dnssec.ECDSAP256SHA256, Line: 3}}}}
	log := slog.New(slog.DiscardHandler)

	stages, _ := dnssec.RolloverStages(ro.Kind)
	for _, stage := range stages {
		ro.Stage = stage
		keys, err := loadSigningKeys(cfg, false, time.Now(), log, map[string]store.Rollover{ro.Zone: ro})
		if err != nil {
			t.Fatalf("stage %s: %v", stage, err)
		}
		wantOld, wantNew := dnssec.StageUses(ro.Kind, stage)
		got := map[uint16]dnssec.Use{}
		for _, k := range keys["example.com."] {
			got[k.Tag()] = k.Use
		}
		if stage == dnssec.StageDone {
			if _, ok := got[old.Tag()]; ok || len(got) != 1 {
				t.Errorf("done: keys %v, want the new key %d alone", got, fresh.Tag())
			}
			if _, err := os.Stat(filepath.Join(dir, retiredKeys, old.BaseName()+".private")); err != nil {
				t.Errorf("done: the old key is not in retired/: %v", err)
			}
		} else if got[old.Tag()] != wantOld {
			t.Errorf("stage %s: old key %+v, want %+v", stage, got[old.Tag()], wantOld)
		}
		if got[fresh.Tag()] != wantNew {
			t.Errorf("stage %s: new key %+v, want %+v", stage, got[fresh.Tag()], wantNew)
		}
		if _, err := os.Stat(ro.NewFile); err != nil {
			t.Errorf("stage %s: the new key is not in the key folder: %v", stage, err)
		}
	}
}

// TestRolloverKeyMissing: a stage whose key file is gone is refused,
// naming the key, rather than signed without it.
func TestRolloverKeyMissing(t *testing.T) {
	dir := t.TempDir()
	_, fresh, ro := rolloverKeys(t, dir)
	os.Remove(filepath.Join(dir, pendingKeys, fresh.BaseName()+".private"))
	os.Remove(filepath.Join(dir, pendingKeys, fresh.BaseName()+".key"))
	cfg := &config.Config{Path: "slotdns.toml", Zones: []config.Zone{{Origin: "example.com.", DNSSEC: &config.DNSSEC{KeyDir: dir, Algorithm: dnssec.ECDSAP256SHA256, Line: 3}}}}
	_, err := loadSigningKeys(cfg, false, time.Now(), slog.New(slog.DiscardHandler), map[string]store.Rollover{ro.Zone: ro})
	if err == nil || !strings.Contains(err.Error(), filepath.Base(ro.NewFile)) || !strings.Contains(err.Error(), "stage published") {
		t.Fatalf("got %v, want an error naming the stage and the missing key %s", err, filepath.Base(ro.NewFile))
	}
}

// TestDSMatches: the parent's DS matches when it points at every key in
// CDS, by any digest type, and at no other key.
func TestDSMatches(t *testing.T) {
	dir := t.TempDir()
	old, fresh, ro := rolloverKeys(t, dir)
	keysAt := func(stage string) []*dnssec.Key {
		ro.Stage = stage
		oldUse, newUse := dnssec.StageUses(ro.Kind, stage)
		o, n := *old, *fresh
		o.Use, n.Use = oldUse, newUse
		return []*dnssec.Key{&o, &n}
	}
	sha384 := fresh.DNSKEY.ToDS(dns.SHA384)
	for _, tc := range []struct {
		name  string
		stage string
		ds    []*dns.DS
		want  bool
	}{
		{"the old key's at published", dnssec.StagePublished, []*dns.DS{old.DS()}, true},
		{"none", dnssec.StagePublished, nil, false},
		{"the new key's too early", dnssec.StagePublished, []*dns.DS{fresh.DS()}, false},
		{"the old key's still at ds", dnssec.StageDS, []*dns.DS{old.DS()}, false},
		{"the new key's at ds", dnssec.StageDS, []*dns.DS{fresh.DS()}, true},
		{"the new key's by SHA-384", dnssec.StageDS, []*dns.DS{sha384}, true},
		{"both at ds", dnssec.StageDS, []*dns.DS{old.DS(), fresh.DS()}, false},
	} {
		if got := dsMatches(tc.ds, keysAt(tc.stage)); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
