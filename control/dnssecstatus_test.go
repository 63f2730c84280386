package control

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/internal/testkit"
)

// signedSiteConfig is the test site with example.com. signed, its keys
// made at the first start.
func signedSiteConfig(t *testing.T, config string) string {
	if config == "" {
		config = testkit.SiteConfig
	}
	return testkit.Edit(t, config, "file   = \"example.com.zone\"\n", "file   = \"example.com.zone\"\n\n[zone.dnssec]\ngenerate_keys = true\n")
}

// TestStatusDNSSEC: status shows a signed zone's keys, its signatures'
// expiry and next re-sign, its rollover with when the next step is safe,
// and the DS the parent should serve with how to compare it; without a
// server, all but the signatures, which are the server's.
func TestStatusDNSSEC(t *testing.T) {
	t.Parallel()
	opts, _ := fakeClock()
	st := startSite(t, signedSiteConfig(t, ""), opts)
	ctx := context.Background()
	app, err := st.c.App(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	d := app.DNSSEC
	if d == nil {
		t.Fatal("status of an app in a signed zone: no dnssec")
	}
	if d.Zone != "example.com." || d.Denial != "nsec" || len(d.Keys) != 1 {
		t.Fatalf("dnssec: got %+v, want example.com., nsec, one key", *d)
	}
	k := d.Keys[0]
	if k.Role != "CSK" || k.Algorithm != "ECDSAP256SHA256" || k.Use != "published, signs all, in CDS" || !k.Created.Equal(epoch) || !strings.HasSuffix(k.File, ".private") {
		t.Errorf("key: got %+v, want the CSK made at start", k)
	}
	dc := st.cfg.Zones[0].DNSSEC
	if min, max := epoch.Add(dc.Validity-dc.Jitter-time.Hour), epoch.Add(dc.Validity); d.OldestExpires.Before(min) || d.OldestExpires.After(max) {
		t.Errorf("oldest expires %v, want between %v and %v", d.OldestExpires, min, max)
	}
	if want := d.OldestExpires.Add(-dc.Refresh); !d.NextResign.Equal(want) || d.SignaturesMade == 0 {
		t.Errorf("next re-sign %v, %d made; want %v and some made", d.NextResign, d.SignaturesMade, want)
	}
	keys, err := dnssec.Load(dc.KeyDir, "example.com.")
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	if len(d.DS) != 1 || d.DS[0] != keys[0].DS().String() {
		t.Errorf("DS: got %q, want the CSK's %q", d.DS, keys[0].DS().String())
	}
	if want := `dig +short DS example.com @"$(dig +short NS com. | head -n 1)", against slotdns dnssec ds example.com`; d.CheckDS != want {
		t.Errorf("check_ds: got %q, want %q", d.CheckDS, want)
	}
	if d.Rollover != nil {
		t.Errorf("rollover: got %+v before any", *d.Rollover)
	}

	// A rollover: the new key is published, and the parent should still
	// serve the old key's DS.
	ro, err := st.c.Rollover(ctx, "example.com.", api.RolloverRequest{Start: true})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := st.c.Apps(ctx)
	if err != nil || len(apps) != 1 || apps[0].DNSSEC == nil {
		t.Fatalf("status of every app: %+v, %v", apps, err)
	}
	d = apps[0].DNSSEC
	if r := d.Rollover; r == nil || r.Kind != dnssec.RollCSK || r.Old != k.Tag || r.New != ro.New || r.Stage != dnssec.StagePublished || r.Next != dnssec.StageDS ||
		!r.SafeAt.Equal(ro.SafeAt) || r.SafeAt.IsZero() || !strings.Contains(r.Waiting, "DNSKEY") {
		t.Errorf("rollover in status: got %+v, want stage published, next ds, safe at %v", r, ro.SafeAt)
	}
	uses := map[uint16]string{}
	for _, k := range d.Keys {
		uses[k.Tag] = k.Role + " " + k.Use
	}
	oldUse, newUse := dnssec.StageUses(dnssec.RollCSK, dnssec.StagePublished)
	if len(d.Keys) != 2 || uses[k.Tag] != "CSK "+oldUse.String() || uses[ro.New] != "CSK "+newUse.String() {
		t.Errorf("keys at stage published: got %v, want %s and %s", uses, oldUse, newUse)
	}
	if len(d.DS) != 1 || d.DS[0] != keys[0].DS().String() {
		t.Errorf("DS at stage published: got %q, want the old key's alone", d.DS)
	}

	// Without a server: the keys and the rollover, no signatures.
	st.stop()
	cfg, err := config.Load(st.path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenLocal(cfg, ReadOnly, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	app, err = l.App(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	if d := app.DNSSEC; d == nil || len(d.Keys) != 2 || d.Rollover == nil || d.Rollover.Stage != dnssec.StagePublished || len(d.DS) != 1 ||
		!d.OldestExpires.IsZero() || !d.NextResign.IsZero() || d.SignaturesMade != 0 {
		t.Errorf("status without a server: got %+v, want the keys and the rollover, and no signature times", d)
	}
}
