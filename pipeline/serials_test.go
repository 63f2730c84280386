package pipeline

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/serial"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// serial is the serial zone serves now.
func (s *site) serial(zone string) uint32 {
	s.t.Helper()
	soa := s.p.Snapshot().Lookup(zone, dns.TypeSOA).Answer
	if len(soa) != 1 {
		s.t.Fatalf("no SOA for %s", zone)
	}
	return soa[0].(*dns.SOA).Serial
}

// TestRestartServingOtherwiseMovesSerial: a zone whose own file and
// slots did not change while nothing served it may still answer
// otherwise at start (its apex alias leads into a zone whose file
// changed, or to an alias resolution that expired). It gets a new
// serial, or its secondaries would keep the old answers at the same one.
func TestRestartServingOtherwiseMovesSerial(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	site, deploy := s.serial("example.com."), s.serial("deploy.test.")
	s.reopen()
	if s.serial("example.com.") != site || s.serial("deploy.test.") != deploy {
		t.Fatal("a restart with nothing changed moved a serial")
	}
	// The deployments' file changes (serial and all) while nothing serves.
	file := filepath.Join(filepath.Dir(s.path), "deploy.test.zone")
	testkit.WriteFile(t, file, strings.Replace(testkit.DeployZone, "blue   IN A   198.51.100.10", "blue   IN A   198.51.100.99", 1))
	s.reopen()
	if got := s.answer("example.com.", dns.TypeA); got != "example.com. 30 A 198.51.100.99" {
		t.Fatalf("apex after the restart: got %q", got)
	}
	if got := s.serial("example.com."); !serial.Less(site, got) {
		t.Errorf("the site's serial after its apex moved: got %d, want past %d", got, site)
	}
	if got := s.journal("example.com.", site); len(got) != 0 {
		t.Errorf("journal from the old serial: got %+v, want it cut (secondaries take the zone whole)", got)
	}
	moved := s.serial("example.com.")
	s.reopen()
	if got := s.serial("example.com."); got != moved {
		t.Errorf("a second restart moved the serial again: %d, then %d", moved, got)
	}
}

func TestRestartAfterAliasExpiredMovesSerial(t *testing.T) {
	t.Parallel()
	s, rec := openAliasSite(t)
	if _, err := s.p.Set("site", "production", "app.example.net.", "", Meta{Alias: &rec}); err != nil {
		t.Fatal(err)
	}
	served := s.serial("example.com.")
	s.clock.Advance(2 * time.Hour) // stopped past alias_max_stale
	s.reopen()
	if got := s.p.Snapshot().Lookup("example.com.", dns.TypeA).Result; got != zones.ServerFailure {
		t.Errorf("apex past alias_max_stale: got %v, want ServerFailure", got)
	}
	if got := s.serial("example.com."); !serial.Less(served, got) {
		t.Errorf("serial after the apex lost its addresses: got %d, want past %d", got, served)
	}
}

func TestSerialPast(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	ours := s.serial("example.com.")
	if _, moved, err := s.p.SerialPast("example.com.", ours-3); err != nil || moved {
		t.Errorf("a secondary behind: moved %v, %v", moved, err)
	}
	if _, moved, err := s.p.SerialPast("example.com.", ours); err != nil || moved {
		t.Errorf("a secondary at our serial: moved %v, %v", moved, err)
	}
	serial, moved, err := s.p.SerialPast("example.com.", ours+40)
	if err != nil || !moved || serial != ours+41 || s.serial("example.com.") != ours+41 {
		t.Fatalf("a secondary ahead at %d: got serial %d, moved %v, %v; serving %d", ours+40, serial, moved, err, s.serial("example.com."))
	}
	if got := s.journal("example.com.", ours); len(got) != 1 || got[0].To != ours+41 {
		t.Errorf("journal from our old serial: %+v, want one step to %d", got, ours+41)
	}
	if got := s.journal("example.com.", ours+40); len(got) != 0 {
		t.Errorf("journal from the secondary's serial: %+v, want none (it takes the zone whole)", got)
	}
	if _, changed := s.sink.last(); !slices.Contains(changed[len(changed)-1], "example.com.") {
		t.Errorf("zones told of: %v, want example.com.", changed)
	}
	if got := s.answer("www.example.com.", dns.TypeCNAME); got != "www.example.com. 30 CNAME blue.deploy.test." {
		t.Errorf("www after the new serial: %q", got)
	}
	if _, _, err := s.p.SerialPast("example.com.", ours+41+maxSerialStep); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a serial 2^31-1 ahead: got %v, want refused", err)
	}
	s.reopen()
	if got := s.serial("example.com."); got != ours+41 {
		t.Errorf("serial after a restart: %d, want %d", got, ours+41)
	}
}
