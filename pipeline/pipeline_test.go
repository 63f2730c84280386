package pipeline

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// recorder is a Sink that keeps what it was handed.
type recorder struct {
	mu      sync.Mutex
	snaps   []*zones.Snapshot
	changed [][]string
}

func (r *recorder) Publish(s *zones.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps = append(r.snaps, s)
}

func (r *recorder) Changed(z []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changed = append(r.changed, z)
}

func (r *recorder) last() ([]*zones.Snapshot, [][]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.snaps), slices.Clone(r.changed)
}

// site is a pipeline on a test site's config and database.
type site struct {
	t     *testing.T
	path  string // the config
	cfg   *config.Config
	db    *store.DB
	p     *Pipeline
	sink  *recorder
	clock *clock.Fake
}

var epoch = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// openSite writes the test site (config, or testkit.SiteConfig) and opens
// a pipeline on it.
func openSite(t *testing.T, config string) *site {
	t.Helper()
	s := &site{t: t, path: testkit.Site(t, config), clock: clock.NewFake(epoch)}
	s.reopen()
	return s
}

// reopen closes the database and opens the pipeline again, as a restart.
func (s *site) reopen() {
	s.t.Helper()
	if s.db != nil {
		s.db.Close()
	}
	cfg, err := config.Load(s.path)
	if err != nil {
		s.t.Fatal(err)
	}
	files, err := cfg.LoadZones()
	if err != nil {
		s.t.Fatal(err)
	}
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	s.cfg, s.db, s.sink = cfg, db, &recorder{}
	s.p, err = Open(db, cfg, files, Options{Clock: s.clock, Sink: s.sink})
	if err != nil {
		s.t.Fatalf("Open: %v", err)
	}
}

func (s *site) answer(name string, qtype uint16) string {
	return strings.Join(rrStrings(s.p.Snapshot().Lookup(name, qtype).Answer), "; ")
}

func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		f := strings.Fields(rr.String())
		out = append(out, f[0]+" "+f[1]+" "+strings.Join(f[3:], " "))
	}
	return out
}

func (s *site) history(app string) []store.Entry {
	s.t.Helper()
	var out []store.Entry
	if err := s.db.Read(func(v store.View) error {
		var err error
		out, err = v.History(app, 0)
		return err
	}); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func (s *site) journal(zone string, from uint32) []store.Delta {
	s.t.Helper()
	var out []store.Delta
	if err := s.db.Read(func(v store.View) error {
		var err error
		out, _, err = v.Journal(zone, from)
		return err
	}); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func TestOpenSeedsOnceAndPublishes(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	if got := s.db.Stats().Commits; got != 2 {
		t.Errorf("commits of a first start: got %d, want 2 (the new file's buckets, the seed)", got)
	}
	if got := s.answer("www.example.com.", dns.TypeCNAME); got != "www.example.com. 30 CNAME blue.deploy.test." {
		t.Errorf("www: got %q", got)
	}
	if got := s.answer("example.com.", dns.TypeA); got != "example.com. 30 A 198.51.100.10" {
		t.Errorf("apex alias: got %q", got)
	}
	snaps, changed := s.sink.last()
	if len(snaps) != 1 || !slices.Equal(changed[0], []string{"example.com.", "deploy.test."}) {
		t.Errorf("published %d snapshots and told of %v, want 1 and both zones", len(snaps), changed)
	}
	s.reopen()
	if got := s.db.Stats().Commits; got != 0 {
		t.Errorf("commits of a restart with nothing new: got %d, want 0", got)
	}
}

// TestSwapIsOneTransaction pins the change pipeline's promise: a swap
// commits its slots, serial, history entry (final, drain instant
// included), journal delta and drain state in one transaction, then
// publishes and notifies.
func TestSwapIsOneTransaction(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	before := s.db.Stats().Commits
	res, err := s.p.Swap("site", "staging", "production", "", Meta{Actor: "alice", Reason: "release 7"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.db.Stats().Commits - before; got != 1 {
		t.Errorf("commits of one swap: got %d, want 1", got)
	}
	e := res.Entry
	wantDrained := epoch.Add(commitMargin + 31*time.Second)
	if e.Seq != 1 || e.Kind != "swap" || e.Actor != "alice" || e.Version != 1 || e.Serial != 2026010102 || e.After["production"] != green || !e.DrainedAt.Equal(wantDrained) {
		t.Errorf("entry: got %+v, want #1, version 1, serial 2026010102, production on green, drained at %v", e, wantDrained)
	}
	if res.TTL != 30 {
		t.Errorf("TTL served before: got %d, want 30", res.TTL)
	}
	if hist := s.history("site"); len(hist) != 1 || !hist[0].DrainedAt.Equal(wantDrained) {
		t.Errorf("stored history: got %+v, want the entry with its drain instant", hist)
	}
	if got := s.answer("www.example.com.", dns.TypeCNAME); got != "www.example.com. 30 CNAME green.deploy.test." {
		t.Errorf("www after the swap: got %q", got)
	}
	if got := s.answer("example.com.", dns.TypeA); got != "example.com. 30 A 198.51.100.20" {
		t.Errorf("apex after the swap: got %q", got)
	}
	journal := s.journal("example.com.", 2026010101)
	wantAdded := []string{
		"example.com.\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2026010102 3600 600 1209600 300",
		"example.com.\t30\tIN\tA\t198.51.100.20",
		"stage.example.com.\t30\tIN\tCNAME\tblue.deploy.test.",
		"www.example.com.\t30\tIN\tCNAME\tgreen.deploy.test.",
	}
	if len(journal) != 1 || !slices.Equal(journal[0].Added, wantAdded) || len(journal[0].Removed) != 5 {
		t.Errorf("journal: got %+v, want one delta adding %v and removing the SOA, the old apex A, AAAA and two CNAMEs", journal, wantAdded)
	}
	// The apex now answers AAAA with NODATA (green has no IPv6 address):
	// a negative answer, cached for the SOA's 300s.
	if got := s.p.DrainState("site"); !got.DrainedAt.Equal(wantDrained) || got.TTL != 300 {
		t.Errorf("drain state: got %+v, want drained at %v and TTL 300 now served", got, wantDrained)
	}
	snaps, changed := s.sink.last()
	if len(snaps) != 2 || !slices.Equal(changed[1], []string{"example.com."}) {
		t.Errorf("published %d snapshots, told of %v; want the swap's and example.com. alone", len(snaps), changed)
	}
	if built := snaps[1].Built(); !slices.Equal(built, []string{"example.com."}) {
		t.Errorf("the swap built %v, want example.com. alone", built)
	}
}

func TestRefusedChangesWriteNothing(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	before := s.db.Stats().Commits
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"expect", func() error { _, err := s.p.Swap("site", "staging", "production", blue, Meta{}); return err }, store.ErrConflict},
		{"unknown app", func() error { _, err := s.p.Swap("shop", "staging", "production", "", Meta{}); return err }, store.ErrNotFound},
		{"unknown slot", func() error { _, err := s.p.Set("site", "qa", test3, "", Meta{}); return err }, store.ErrNotFound},
		{"nothing to roll back", func() error { _, err := s.p.Rollback("site", 0, Meta{}); return err }, store.ErrConflict},
		{"no such entry", func() error { _, err := s.p.RollbackTo("site", 3, nil, Meta{}); return err }, store.ErrNotFound},
		{"outside host at the apex without a resolver", func() error {
			_, err := s.p.Set("site", "production", "app.example.net.", "", Meta{})
			return err
		}, ErrInvalid},
	} {
		if err := tc.do(); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if got := s.db.Stats().Commits; got != before {
		t.Errorf("refused changes committed %d times", got-before)
	}
	if snaps, _ := s.sink.last(); len(snaps) != 1 {
		t.Errorf("refused changes published %d snapshots", len(snaps)-1)
	}
}

func TestRollbackAndRollbackTo(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	for _, step := range []func() (Result, error){
		func() (Result, error) { return s.p.Swap("site", "staging", "production", "", Meta{Actor: "a"}) },
		func() (Result, error) { return s.p.Set("site", "staging", test3, "", Meta{Actor: "b"}) },
		func() (Result, error) { return s.p.Rollback("site", 0, Meta{Actor: "c"}) },
		func() (Result, error) { return s.p.RollbackTo("site", 2, nil, Meta{Actor: "d"}) },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	hist := s.history("site")
	if len(hist) != 4 || hist[2].After["staging"] != blue || hist[3].Kind != "rollback" || hist[3].After["staging"] != test3 {
		t.Fatalf("history: got %+v", hist)
	}
	// The automatic rollback of a swap that a later change superseded
	// is refused.
	if _, err := s.p.Rollback("site", 1, Meta{Actor: "slotdns"}); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "superseded") {
		t.Errorf("rollback at a version passed: got %v", err)
	}
	if got := s.history("site"); len(got) != 4 {
		t.Errorf("history after the refused rollback: %d entries", len(got))
	}
}

// TestDependentZoneGetsNewSerial: a reload of the deployments' zone
// changes what the site's apex alias serves, so the site's zone gets a
// new serial and a delta too, for its secondaries.
func TestDependentZoneGetsNewSerial(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	deploy := filepath.Join(filepath.Dir(s.path), "deploy.test.zone")
	testkit.WriteFile(t, deploy, strings.Replace(testkit.DeployZone, "blue   IN A   198.51.100.10", "blue   IN A   198.51.100.99", 1))
	file, err := zones.ParseFile("deploy.test.", deploy)
	if err != nil {
		t.Fatal(err)
	}
	before := s.db.Stats().Commits
	results, err := s.p.Reload(map[string]*zones.Zone{"deploy.test.": file})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.db.Stats().Commits - before; got != 1 {
		t.Errorf("commits of a reload: got %d, want 1", got)
	}
	if len(results) != 1 || !results[0].Changed || results[0].Removed != 1 || results[0].Added != 1 {
		t.Errorf("reload result: got %+v", results)
	}
	if got := s.answer("example.com.", dns.TypeA); got != "example.com. 30 A 198.51.100.99" {
		t.Errorf("apex after the reload: got %q", got)
	}
	journal := s.journal("example.com.", 2026010101)
	if len(journal) != 1 || !slices.Contains(journal[0].Added, "example.com.\t30\tIN\tA\t198.51.100.99") {
		t.Errorf("the site's journal: got %+v, want the new apex address", journal)
	}
	_, changed := s.sink.last()
	if got := changed[len(changed)-1]; !slices.Equal(got, []string{"deploy.test.", "example.com."}) {
		t.Errorf("zones told of: got %v, want both", got)
	}
	// Reloading the same records again changes nothing.
	results, err = s.p.Reload(map[string]*zones.Zone{"deploy.test.": file})
	if err != nil || results[0].Changed {
		t.Errorf("second reload: got %+v, %v", results, err)
	}
}

// openAliasSite opens the test site with a resolver (that nobody
// answers) and alias_max_stale of 1h, and gives a good resolution of an
// alias target outside our zones.
func openAliasSite(t *testing.T) (*site, store.AliasRecord) {
	cfg := testkit.Edit(t, testkit.SiteConfig, `control = "slotdns.sock"`, "control = \"slotdns.sock\"\nresolver = \"127.0.0.1:1\"\nalias_max_stale = \"1h\"")
	return openSite(t, cfg), store.AliasRecord{Target: "app.example.net.", Addrs: []string{"203.0.113.1"}, TTL: 60, Resolved: epoch}
}

func TestAliasOutsideOurZones(t *testing.T) {
	t.Parallel()
	s, rec := openAliasSite(t)
	if _, err := s.p.Set("site", "production", "app.example.net.", "", Meta{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("set with unknown addresses: got %v, want refused", err)
	}
	res, err := s.p.Set("site", "production", "app.example.net.", "", Meta{Alias: &rec})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.answer("example.com.", dns.TypeA); got != "example.com. 30 A 203.0.113.1" {
		t.Errorf("apex with the fresh resolution: got %q", got)
	}
	// The same addresses confirmed again store the record, serve the same.
	before := s.db.Stats().Commits
	rec.Resolved = epoch.Add(time.Minute)
	if zs, err := s.p.AliasResolved(rec); err != nil || len(zs) != 0 {
		t.Errorf("same addresses: zones %v, %v", zs, err)
	}
	if got := s.db.Stats().Commits - before; got != 1 {
		t.Errorf("commits of a confirmation: %d, want 1", got)
	}
	rec.Addrs = []string{"203.0.113.2"}
	if zs, err := s.p.AliasResolved(rec); err != nil || !slices.Equal(zs, []string{"example.com."}) {
		t.Errorf("new addresses: zones %v, %v, want example.com.", zs, err)
	}
	// Past alias_max_stale the apex has no addresses to serve.
	s.clock.Advance(2 * time.Hour)
	if zs, err := s.p.RefreshAliases(); err != nil || !slices.Equal(zs, []string{"example.com."}) {
		t.Errorf("expiry: zones %v, %v", zs, err)
	}
	if got := s.p.Snapshot().Lookup("example.com.", dns.TypeA).Result; got != zones.ServerFailure {
		t.Errorf("apex past alias_max_stale: got %v, want ServerFailure", got)
	}
	if zs, err := s.p.RefreshAliases(); err != nil || len(zs) != 0 {
		t.Errorf("second refresh: zones %v, %v, want none", zs, err)
	}
	_ = res
}

// TestDrainCountsInDirectMode: a change made with the server stopped
// still waits out what the server served before it stopped.
func TestDrainCountsInDirectMode(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	s.clock.Advance(10 * time.Second)
	s.reopen() // the server stops; a CLI opens the file with no server
	res, err := s.p.Swap("site", "staging", "production", "", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if want := epoch.Add(10*time.Second + commitMargin + 31*time.Second); !res.Entry.DrainedAt.Equal(want) {
		t.Errorf("drained at: got %v, want %v", res.Entry.DrainedAt, want)
	}
}

// TestChangeRefusedAfterDrift: a record changed in the database behind
// the pipeline's back refuses the next change, which would otherwise
// build on a state the store no longer holds.
func TestChangeRefusedAfterDrift(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		drift func(v store.View) (*store.Batch, error)
		want  string
	}{
		{"zone", func(v store.View) (*store.Batch, error) {
			z, err := v.Zone("example.com.")
			z.Serial += 5
			return &store.Batch{Zones: []store.Zone{z}}, err
		}, "zone example.com. was changed outside this process"},
		{"app", func(v store.View) (*store.Batch, error) {
			a, err := v.App("site")
			a.Slots["staging"] = "blue.deploy.test."
			return &store.Batch{Apps: []store.App{a}}, err
		}, `app "site" was changed outside this process`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openSite(t, "")
			var b *store.Batch
			if err := s.db.Read(func(v store.View) (err error) { b, err = tc.drift(v); return err }); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Apply(b); err != nil {
				t.Fatal(err)
			}
			before := s.db.Stats().Commits
			if _, err := s.p.Swap("site", "staging", "production", "", Meta{}); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("swap after drift: got %v, want a conflict saying %q", err, tc.want)
			}
			if got := s.db.Stats().Commits - before; got != 0 {
				t.Errorf("the refused swap committed %d times", got)
			}
		})
	}
}
