package control

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// TestRestartServesChangedContentAtNewSerial checks the serial a restart
// serves: the same one when nothing changed, a new one (and no IXFR from
// the serials before it) when the zone file or the config's slots changed
// while the server was down, whatever the file's serial says.
func TestRestartServesChangedContentAtNewSerial(t *testing.T) {
	const (
		fileSerial = 2026010101
		qaSlot     = "\n[app.slots.qa]\nnames  = [\"qa\"]\ntarget = \"192.0.2.77\"\n"
	)
	// Before the restart: the file's serial, then one swap, journaled.
	const before = fileSerial + 1
	tests := []struct {
		name   string
		zone   string // the example.com. file at the restart
		config string // the config at the restart
		want   uint32 // the serial served after the restart
		cut    bool   // IXFR from the serials before the restart is refused
		// query and answer check the content served after the restart.
		query, answer string
	}{
		{name: "no edit", zone: testZone, config: testConfig, want: before,
			query: "docs.example.com.", answer: "A 192.0.2.40"},
		{name: "zone file edited, same file serial", zone: strings.Replace(testZone, "192.0.2.40", "192.0.2.41", 1), config: testConfig,
			want: before + 1, cut: true, query: "docs.example.com.", answer: "A 192.0.2.41"},
		{name: "record added, same file serial", zone: testZone + "new     IN A    192.0.2.99\n", config: testConfig,
			want: before + 1, cut: true, query: "new.example.com.", answer: "A 192.0.2.99"},
		{name: "SOA edited, same file serial", zone: strings.Replace(testZone, "3600 600 1209600 300", "3600 600 1209600 600", 1), config: testConfig,
			want: before + 1, cut: true, query: "docs.example.com.", answer: "A 192.0.2.40"},
		{name: "zone file edited, file serial ahead", zone: strings.Replace(strings.Replace(testZone, "192.0.2.40", "192.0.2.41", 1), "2026010101", "2026020100", 1), config: testConfig,
			want: 2026020100, cut: true, query: "docs.example.com.", answer: "A 192.0.2.41"},
		{name: "only the file serial raised", zone: strings.Replace(testZone, "2026010101", "2026020100", 1), config: testConfig,
			want: 2026020100, cut: true, query: "docs.example.com.", answer: "A 192.0.2.40"},
		{name: "records reordered, comments added", zone: reordered(testZone) + "; a comment\n", config: testConfig,
			want: before, query: "docs.example.com.", answer: "A 192.0.2.40"},
		{name: "slot added in the config", zone: testZone, config: testConfig + qaSlot,
			want: before + 1, cut: true, query: "qa.example.com.", answer: "A 192.0.2.77"},
		{name: "slot TTL changed in the config", zone: testZone, config: strings.Replace(testConfig, "ttl  = 30", "ttl  = 60", 1),
			want: before + 1, cut: true, query: "stage.example.com.", answer: "CNAME blue.deploy.test.; A 198.51.100.10"},
		{name: "zone file edited and slot added: one new serial", zone: testZone + "new     IN A    192.0.2.99\n", config: testConfig + qaSlot,
			want: before + 1, cut: true, query: "qa.example.com.", answer: "A 192.0.2.77"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, "")
			runBeforeRestart(t, path, func(s *Server, cfg *Config) {
				if got := servedSerial(t, s); got != fileSerial {
					t.Fatalf("first start of a fresh database: got serial %d, want the file's %d", got, fileSerial)
				}
				c := NewClient(cfg.Control)
				if _, err := c.Swap(context.Background(), "site", SwapRequest{}); err != nil {
					t.Fatal(err)
				}
				c.Close()
			})

			dir := filepath.Dir(path)
			writeFile(t, filepath.Join(dir, "example.com.zone"), tt.zone)
			writeFile(t, path, tt.config)
			s := startServer(t, loadConfigAt(t, path))
			if got := servedSerial(t, s); got != tt.want {
				t.Errorf("serial after the restart: got %d, want %d", got, tt.want)
			}
			if got := answerText(query(t, s.DNSAddrs()[0].String(), tt.query, dns.TypeA)); got != tt.answer {
				t.Errorf("%s after the restart: got %q, want %q", tt.query, got, tt.answer)
			}
			// A secondary at the serial before the swap, or at the one
			// before the restart, gets a full transfer when the content
			// changed, and the deltas it misses when it did not.
			for _, from := range []uint32{fileSerial, before} {
				deltas, ok, err := s.db.Journal("example.com.", from)
				if err != nil {
					t.Fatal(err)
				}
				if want := !tt.cut; ok != want {
					t.Errorf("journal from %d: got %d deltas, ok %v; want ok %v", from, len(deltas), ok, want)
				}
			}
			// The other zone did not change.
			if got, err := s.db.ZoneSerial("deploy.test."); err != nil || got != 1 {
				t.Errorf("serial of deploy.test.: got %d, %v; want 1", got, err)
			}
		})
	}
}

// TestRestartAfterReload checks that a reload keeps the digest of what it
// serves: the restart after it serves the same serial.
func TestRestartAfterReload(t *testing.T) {
	path := writeConfig(t, "")
	var reloaded uint32
	runBeforeRestart(t, path, func(s *Server, _ *Config) {
		writeFile(t, filepath.Join(filepath.Dir(path), "example.com.zone"), testZone+"new     IN A    192.0.2.99\n")
		res, err := s.Reload(context.Background())
		if err != nil || len(res.Failed()) != 0 {
			t.Fatalf("reload: got %+v, %v", res, err)
		}
		reloaded = servedSerial(t, s)
		if reloaded != 2026010102 {
			t.Fatalf("serial after the reload: got %d, want 2026010102", reloaded)
		}
	})

	s := startServer(t, loadConfigAt(t, path))
	if got := servedSerial(t, s); got != reloaded {
		t.Errorf("serial after the restart: got %d, want %d (the reload's)", got, reloaded)
	}
	if _, ok, err := s.db.Journal("example.com.", 2026010101); err != nil || !ok {
		t.Errorf("journal from 2026010101: got ok %v, %v; want the reload's delta", ok, err)
	}
}

// TestLocalSeedsLikeAServer checks that a command run without a server
// moves the serial of an edited zone as a server would, and that the
// server started after it serves that serial without moving it again.
func TestLocalSeedsLikeAServer(t *testing.T) {
	path := writeConfig(t, "")
	runBeforeRestart(t, path, nil)
	writeFile(t, filepath.Join(filepath.Dir(path), "example.com.zone"), testZone+"new     IN A    192.0.2.99\n")
	cfg := loadConfigAt(t, path)
	l, err := OpenLocal(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.App(context.Background(), "site")
	l.Close()
	if err != nil || st.Serial != 2026010102 {
		t.Fatalf("status without a server: got serial %d, %v; want 2026010102", st.Serial, err)
	}
	s := startServer(t, cfg)
	if got := servedSerial(t, s); got != 2026010102 {
		t.Errorf("serial served after it: got %d, want 2026010102", got)
	}
}

func TestContentDigest(t *testing.T) {
	cfg := loadTestConfig(t, "")
	zc, _ := cfg.Zone("example.com.")
	base, err := contentDigest(zc.Zone, cfg.Apps)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Errorf("digest: got %q, want sha256: and 64 hex digits", base)
	}
	if other, _ := cfg.Zone("deploy.test."); mustDigest(t, other.Zone, cfg.Apps) == base {
		t.Errorf("two zones: got the same digest %s", base)
	}
	tests := []struct {
		name   string
		zone   string
		config string
		same   bool
	}{
		{"same file", testZone, testConfig, true},
		{"other file serial", strings.Replace(testZone, "2026010101", "2026010199", 1), testConfig, true},
		{"records in another order, owners in capitals", reordered(strings.Replace(testZone, "docs", "DOCS", 1)), testConfig, true},
		{"a record repeated", testZone + "docs    IN A    192.0.2.40\n", testConfig, true},
		{"target in the config", testZone, strings.Replace(testConfig, "green.deploy.test.", "10.0.0.1", 1), true},
		{"a record's data", strings.Replace(testZone, "192.0.2.40", "192.0.2.41", 1), testConfig, false},
		{"a record's TTL", strings.Replace(testZone, "docs    IN A", "docs 60 IN A", 1), testConfig, false},
		{"the SOA's refresh", strings.Replace(testZone, "2026010101 3600", "2026010101 7200", 1), testConfig, false},
		{"a slot's names", testZone, strings.Replace(testConfig, `names  = ["stage"]`, `names  = ["stage", "beta"]`, 1), false},
		{"the app's TTL", testZone, strings.Replace(testConfig, "ttl  = 30", "ttl  = 31", 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.config)
			writeFile(t, filepath.Join(filepath.Dir(path), "example.com.zone"), tt.zone)
			cfg := loadConfigAt(t, path)
			zc, _ := cfg.Zone("example.com.")
			got := mustDigest(t, zc.Zone, cfg.Apps)
			if (got == base) != tt.same {
				t.Errorf("digest: got %s against %s, want same %v", got, base, tt.same)
			}
		})
	}
}

func mustDigest(t *testing.T, z *zones.Zone, apps []AppConfig) string {
	t.Helper()
	d, err := contentDigest(z, apps)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// reordered gives a zone file with its record lines after the SOA in
// reverse order.
func reordered(zone string) string {
	lines := strings.Split(strings.TrimSpace(zone), "\n")
	head, recs := lines[:3], lines[3:]
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return strings.Join(append(head, recs...), "\n") + "\n"
}

func servedSerial(t *testing.T, s *Server) uint32 {
	t.Helper()
	r := query(t, s.DNSAddrs()[0].String(), "example.com.", dns.TypeSOA)
	if len(r.Answer) == 0 {
		t.Fatalf("SOA of example.com.: no answer (rcode %s)", dns.RcodeToString[r.Rcode])
	}
	return r.Answer[0].(*dns.SOA).Serial
}
