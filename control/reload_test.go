package control

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

func TestReload(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	dir := filepath.Dir(st.path)
	zone := filepath.Join(dir, "example.com.zone")
	// A comment and another order are no change.
	testkit.WriteFile(t, zone, "; edited\n"+testkit.ExampleZone)
	res, err := st.c.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Zones[0]; got.Result != api.ReloadUnchanged || got.Serial != 2026010101 {
		t.Errorf("unchanged file: got %+v", got)
	}
	// A new record: a new serial, served and journaled.
	testkit.WriteFile(t, zone, testkit.ExampleZone+"docs2 IN A 192.0.2.41\n")
	before := st.s.DB().Stats().Commits
	if res, err = st.c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := res.Zones[0]; got.Result != api.ReloadChanged || got.Serial != 2026010102 || got.Removed != 0 || got.Added != 1 {
		t.Errorf("changed file: got %+v", got)
	}
	if got := st.s.DB().Stats().Commits - before; got != 1 {
		t.Errorf("commits of a reload: got %d, want 1", got)
	}
	if got := st.answer("docs2.example.com.", dns.TypeA); got != "A 192.0.2.41" {
		t.Errorf("new record: got %q", got)
	}
	// A file that now gives a slot name records is refused, and the zone
	// keeps serving what it served.
	testkit.WriteFile(t, zone, testkit.ExampleZone+"www IN A 192.0.2.42\n")
	if res, err = st.c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := res.Zones[0]; got.Result != api.ReloadError || !strings.Contains(got.Error, "www.example.com.") || got.Serial != 2026010102 {
		t.Errorf("conflicting file: got %+v", got)
	}
	if got := st.answer("www.example.com.", dns.TypeCNAME); got != "CNAME blue.deploy.test." {
		t.Errorf("www after the refused reload: got %q", got)
	}
}

// TestReloadNamesConfigChanges: what a reload cannot apply is named, not
// ignored.
func TestReloadNamesConfigChanges(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	edited := testkit.Edit(t, testkit.SiteConfig, `listen  = ["127.0.0.1:0"]`, `listen  = ["127.0.0.1:0", "[::1]:0"]`)
	edited = testkit.Edit(t, edited, "ttl  = 30", "ttl  = 60")
	testkit.WriteFile(t, st.path, edited)
	res, err := st.c.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.NeedRestart, func(s string) bool { return strings.HasPrefix(s, "listen:") }) ||
		!slices.ContainsFunc(res.NeedRestart, func(s string) bool { return strings.Contains(s, `app "site": ttl 30 -> 60`) }) {
		t.Errorf("need restart: got %q, want listen and the app's ttl", res.NeedRestart)
	}
	testkit.WriteFile(t, st.path, "listen = [")
	res, _ = st.c.Reload(context.Background())
	if len(res.NeedRestart) != 1 || !strings.Contains(res.NeedRestart[0], "no longer loads, and a restart would fail") {
		t.Errorf("a broken config: got %q", res.NeedRestart)
	}
}
