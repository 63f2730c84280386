package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// secondary is a fake secondary on 127.0.0.1:0: it answers NOTIFY and,
// when following, serves the serial it was told of; otherwise it keeps
// serving the serial it had.
type secondary struct {
	addr string

	mu        sync.Mutex
	serial    uint32
	following bool
	notifies  int
}

func startSecondary(t *testing.T, serial uint32, following bool) *secondary {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &secondary{addr: pc.LocalAddr().String(), serial: serial, following: following}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return s
}

func (s *secondary) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Opcode == dns.OpcodeNotify {
		s.notifies++
		if soa, ok := r.Answer[0].(*dns.SOA); ok && s.following {
			s.serial = soa.Serial
		}
	} else {
		m.Authoritative = true
		m.Answer = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns1.example.com.", Mbox: "h.example.com.", Serial: s.serial}}
	}
	w.WriteMsg(m)
}

// withSecondaries adds secondaries of example.com. at addrs to a config.
func withSecondaries(t *testing.T, config string, addrs ...string) {
	t.Helper()
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	zone := "file   = \"example.com.zone\"\n"
	add := zone
	for _, a := range addrs {
		add += "\n[[zone.secondary]]\naddress = \"" + a + "\"\n"
	}
	writeFile(t, config, strings.Replace(string(data), zone, add, 1))
}

// serveInBackground runs slotdns serve on config until the test ends, and
// returns once the server logs that it serves.
//
// It waits on the server's log rather than on the socket file: the log
// buffer's lock orders the server's start before the test's next CLI run,
// which the race detector needs, since urfave/cli writes its global help
// flag on every run.
func serveInBackground(t *testing.T, config string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	served := make(chan int, 1)
	go func() {
		served <- run(ctx, []string{"slotdns", "--config", config, "serve"}, &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-served; code != 0 {
			t.Errorf("serve: exit %d: %s", code, stderr.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "msg=Serving ") {
		select {
		case code := <-served:
			served <- code
			t.Fatalf("serve: exit %d before serving: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve: not serving within 10s: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSecondariesOutput(t *testing.T) {
	follower := startSecondary(t, 2026010101, true)
	stuck := startSecondary(t, 2026010101, false)
	config := writeConfig(t, freePort(t))
	withSecondaries(t, config, follower.addr, stuck.addr)
	t.Setenv("SLOTDNS_CONFIG", config)
	serveInBackground(t, config)

	got := runCLI(t, "swap", "site")
	if got.code != 0 {
		t.Fatalf("swap: exit %d: %s", got.code, got.stderr)
	}
	for _, want := range []string{
		"secondary " + follower.addr + ": serves 2026010102 after ",
		"secondary " + stuck.addr + ": still serves 2026010101 after 2s",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("swap output: got\n%s\nwant it to contain %q", got.stdout, want)
		}
	}

	got = runCLI(t, "swap", "site", "--wait-secondaries=300ms", "--json")
	if got.code != 1 || !strings.Contains(got.stderr, "swap of site is done (serial 2026010103), but secondary "+stuck.addr+" did not serve it within 300ms") {
		t.Errorf("swap --wait-secondaries: got exit %d, stderr %q; want 1 naming %s", got.code, got.stderr, stuck.addr)
	}
	var ch struct {
		Serial      uint32 `json:"serial"`
		Secondaries []struct {
			Address  string    `json:"address"`
			Serial   uint32    `json:"serial"`
			OK       bool      `json:"ok"`
			AfterMS  *int64    `json:"after_ms"`
			ServedAt time.Time `json:"served_at"`
		} `json:"secondaries"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &ch); err != nil {
		t.Fatalf("swap --json: %v\n%s", err, got.stdout)
	}
	if len(ch.Secondaries) != 2 || !ch.Secondaries[0].OK || ch.Secondaries[0].Serial != 2026010103 || ch.Secondaries[0].AfterMS == nil ||
		ch.Secondaries[0].ServedAt.IsZero() || ch.Secondaries[1].OK || ch.Secondaries[1].Serial != 2026010101 {
		t.Errorf("swap --json secondaries: got %+v, want %s ok at 2026010103 and %s not ok at 2026010101", ch.Secondaries, follower.addr, stuck.addr)
	}

	got = runCLI(t, "rollback", "site", "--wait-secondaries", "200ms")
	if got.code != 1 || !strings.Contains(got.stderr, "rollback of site is done (serial 2026010104), but secondary "+stuck.addr+" did not serve it within 200ms") {
		t.Errorf("rollback --wait-secondaries 200ms: got exit %d, stderr %q; want 1 naming %s", got.code, got.stderr, stuck.addr)
	}

	got = runCLI(t, "status", "site")
	for _, want := range []string{
		"secondary " + follower.addr + ": serves 2026010104, lag 0; last NOTIFY ",
		"secondary " + stuck.addr + ": serves 2026010101, lag 3; last NOTIFY ",
		"serial 2026010104: NOERROR",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("status: got\n%s\nwant it to contain %q", got.stdout, want)
		}
	}
	got = runCLI(t, "status", "site", "--json")
	status := jsonKeys(t, "status", got.stdout, "secondaries")
	if secs, _ := status["secondaries"].([]any); len(secs) != 2 {
		t.Errorf("status --json secondaries: got %v, want 2", status["secondaries"])
	} else {
		first := secs[0].(map[string]any)
		for _, k := range []string{"address", "serial", "lag", "last_notify"} {
			if _, ok := first[k]; !ok {
				t.Errorf("status --json secondary: got %v, want key %q", first, k)
			}
		}
	}
}

func TestReloadCommand(t *testing.T) {
	config := writeConfig(t, freePort(t))
	t.Setenv("SLOTDNS_CONFIG", config)
	zoneFile := filepath.Join(filepath.Dir(config), "example.com.zone")

	got := runCLI(t, "reload")
	if got.code != 0 || !strings.Contains(got.stdout, "no server on ") || !strings.Contains(got.stdout, "nothing to reload") {
		t.Errorf("reload without a server: got exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}

	serveInBackground(t, config)
	tests := []struct {
		name   string
		zone   string
		code   int
		stdout string
		stderr string
	}{
		{"unchanged", testZone, 0, "zone example.com. unchanged (serial 2026010101)", ""},
		{"changed", testZone + "new IN A 192.0.2.99\n", 0, "zone example.com. changed: serial 2026010102 (file serial 2026010101), 0 records removed, 1 added", ""},
		{"broken", testZone + "new IN A nope\n", 1, "zone deploy.test. unchanged", "example.com.zone:7: "},
	}
	for _, tt := range tests {
		writeFile(t, zoneFile, tt.zone)
		got := runCLI(t, "reload")
		if got.code != tt.code || !strings.Contains(got.stdout, tt.stdout) || !strings.Contains(got.stderr, tt.stderr) {
			t.Errorf("%s: got exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout with %q, stderr with %q", tt.name, got.code, got.stdout, got.stderr, tt.code, tt.stdout, tt.stderr)
		}
	}
	got = runCLI(t, "reload", "--json")
	out := jsonKeys(t, "reload --json", got.stdout, "server", "zones")
	if out["server"] != true || got.code != 1 {
		t.Errorf("reload --json: got exit %d %v, want 1 with server true", got.code, out)
	}
}

func TestWaitSecondariesFlag(t *testing.T) {
	config := writeConfig(t, "127.0.0.1:5353")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"bad duration", []string{"swap", "site", "--wait-secondaries=soon"}, 2, "--wait-secondaries=soon: want a duration"},
		{"no server", []string{"swap", "site", "--wait-secondaries"}, 1, "--wait-secondaries: no server runs on "},
	}
	for _, tt := range tests {
		got := runCLI(t, append([]string{"--config", config}, tt.args...)...)
		if got.code != tt.code || !strings.Contains(got.stderr, tt.stderr) {
			t.Errorf("%s: got exit %d, stderr %q; want %d and %q", tt.name, got.code, got.stderr, tt.code, tt.stderr)
		}
	}
	// Neither changed anything.
	got := runCLI(t, "--config", config, "history", "site", "--json")
	if strings.TrimSpace(got.stdout) != "[]" {
		t.Errorf("history after refused flags: got %q, want no entries", got.stdout)
	}
}
