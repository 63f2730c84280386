package control

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotdns/slotdns/dnsserver"

	"github.com/miekg/dns"
)

// received is one NOTIFY as a fake secondary saw it.
type received struct {
	serial uint32
	signed bool // it carried a TSIG
	valid  bool // and the TSIG verified
}

// fakeSecondary is a secondary on 127.0.0.1:0 that records NOTIFYs and
// answers SOA queries with the serial it was last told of.
type fakeSecondary struct {
	addr string

	mu     sync.Mutex
	got    []received
	drop   int           // NOTIFYs left to ignore
	hold   chan struct{} // when set, NOTIFY answers wait for it to close
	serial uint32        // served; follows every NOTIFY answered
}

func startFakeSecondary(t *testing.T, keys map[string]string) *fakeSecondary {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSecondary{addr: pc.LocalAddr().String()}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve), TsigSecret: keys, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return f
}

func (f *fakeSecondary) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	if r.Opcode != dns.OpcodeNotify {
		f.mu.Lock()
		m.Answer = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns.", Mbox: "h.", Serial: f.serial}}
		f.mu.Unlock()
		w.WriteMsg(m)
		return
	}
	rcv := received{signed: r.IsTsig() != nil}
	rcv.valid = rcv.signed && w.TsigStatus() == nil
	if len(r.Answer) > 0 {
		if soa, ok := r.Answer[0].(*dns.SOA); ok {
			rcv.serial = soa.Serial
		}
	}
	f.mu.Lock()
	f.got = append(f.got, rcv)
	drop := f.drop > 0
	if drop {
		f.drop--
	}
	hold := f.hold
	f.mu.Unlock()
	if drop {
		return
	}
	if hold != nil {
		<-hold
	}
	f.mu.Lock()
	f.serial = rcv.serial
	f.mu.Unlock()
	if t := r.IsTsig(); t != nil {
		m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
	}
	w.WriteMsg(m)
}

// configure changes the secondary's behaviour while it serves.
func (f *fakeSecondary) configure(change func(*fakeSecondary)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeSecondary) received() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

// waitSerial waits until the secondary received a NOTIFY of serial.
func (f *fakeSecondary) waitSerial(t *testing.T, serial uint32) received {
	t.Helper()
	var got received
	eventually(t, "NOTIFY of serial", func() bool {
		for _, r := range f.received() {
			if r.serial == serial {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

var testKey = dnsserver.TSIGKey{Name: "xfr-key.", Algorithm: dns.HmacSHA256, Secret: testSecret}

// notifyConfig is a config with one zone and one secondary at addr.
func notifyConfig(addr string) *Config {
	return &Config{
		Keys:  map[string]dnsserver.TSIGKey{testKey.Name: testKey},
		Zones: []ZoneConfig{{Origin: "example.com.", Secondaries: []SecondaryConfig{{Address: addr, Key: testKey.Name}}}},
	}
}

// soaSource is an SOA whose serial the test moves.
type soaSource struct {
	mu     sync.Mutex
	serial uint32
}

func (s *soaSource) set(serial uint32) {
	s.mu.Lock()
	s.serial = serial
	s.mu.Unlock()
}

func (s *soaSource) soa(zone string) (*dns.SOA, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &dns.SOA{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600}, Ns: "ns1." + zone, Mbox: "h." + zone, Serial: s.serial}, true
}

var fastTiming = notifyTiming{attempt: 200 * time.Millisecond, first: 10 * time.Millisecond, max: 40 * time.Millisecond, giveUp: time.Minute}

func startNotifier(t *testing.T, cfg *Config, timing notifyTiming, src *soaSource) *notifier {
	t.Helper()
	n := newNotifier(cfg, discard(), timing, src.soa)
	n.start()
	t.Cleanup(n.stop)
	return n
}

// The server NOTIFYs at start and after a swap, signed with the
// secondary's key; status shows the answer and the secondary's serial.
func TestServerNotifiesSecondaries(t *testing.T) {
	sec := startFakeSecondary(t, map[string]string{testKey.Name: testSecret})
	path := writeConfig(t, secondaryTestConfig(sec.addr))
	writeKeys(t, filepath.Dir(path), testKeyFile, 0o600)
	cfg := loadConfigAt(t, path)
	s := startServer(t, cfg)
	first, _ := s.DNS().Snapshot().Serial("example.com.")
	if got := sec.waitSerial(t, first); !got.signed || !got.valid {
		t.Errorf("NOTIFY at start: got signed %v valid %v, want a valid TSIG", got.signed, got.valid)
	}

	c := NewClient(cfg.Control)
	defer c.Close()
	ch, err := c.Swap(context.Background(), "site", SwapRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sec.waitSerial(t, ch.Serial); !got.valid {
		t.Errorf("NOTIFY after the swap: got signed %v valid %v, want a valid TSIG", got.signed, got.valid)
	}
	var st AppStatus
	eventually(t, "status shows the answered NOTIFY", func() bool {
		st, err = c.App(context.Background(), "site")
		return err == nil && len(st.Secondaries) == 1 && st.Secondaries[0].LastNotify != nil &&
			st.Secondaries[0].LastNotify.Serial == ch.Serial && st.Secondaries[0].Serial == ch.Serial
	})
	got := st.Secondaries[0]
	if got.Address != sec.addr || got.Key != "xfr-key" || got.Lag != 0 || !got.LastNotify.Acked || got.LastNotify.Answer != "NOERROR" {
		t.Errorf("status: got %+v (notify %+v), want %s with key xfr-key, lag 0, NOTIFY answered NOERROR", got, *got.LastNotify, sec.addr)
	}

	// A reloaded zone file that changed is notified too.
	file := filepath.Join(filepath.Dir(path), "example.com.zone")
	if err := os.WriteFile(file, []byte(testZone+"new IN A 192.0.2.99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	sec.waitSerial(t, ch.Serial+1)
}

// secondaryTestConfig is testConfig with the key file and a secondary of
// example.com. at addr, signed with xfr-key.
func secondaryTestConfig(addr string) string {
	zone := "file   = \"example.com.zone\"\n"
	secondary := zone + "\n[[zone.secondary]]\naddress = \"" + addr + "\"\nkey = \"xfr-key\"\n"
	return "tsig_keys = \"tsig.key\"\n" + strings.Replace(testConfig, zone, secondary, 1)
}

// An unanswered NOTIFY is sent again until the secondary answers.
func TestNotifyRetries(t *testing.T) {
	sec := startFakeSecondary(t, map[string]string{testKey.Name: testSecret})
	sec.configure(func(f *fakeSecondary) { f.drop = 2 })
	src := &soaSource{serial: 7}
	n := startNotifier(t, notifyConfig(sec.addr), fastTiming, src)
	var st *NotifyStatus
	eventually(t, "NOTIFY answered", func() bool {
		st = n.status("example.com.", sec.addr)
		return st != nil && st.Acked
	})
	if st.Attempts != 3 || st.Serial != 7 || st.Answer != "NOERROR" {
		t.Errorf("status: got %+v, want serial 7 answered NOERROR at attempt 3", *st)
	}
	if got := len(sec.received()); got != 3 {
		t.Errorf("NOTIFYs sent: got %d, want 3", got)
	}
}

// A secondary that never answers is given up on, with the error kept.
func TestNotifyGivesUp(t *testing.T) {
	sec := startFakeSecondary(t, nil)
	sec.configure(func(f *fakeSecondary) { f.drop = 1 << 30 })
	timing := fastTiming
	timing.attempt, timing.giveUp = 20*time.Millisecond, 100*time.Millisecond
	n := startNotifier(t, &Config{Zones: []ZoneConfig{{Origin: "example.com.", Secondaries: []SecondaryConfig{{Address: sec.addr}}}}}, timing, &soaSource{serial: 1})
	eventually(t, "two attempts", func() bool { return len(sec.received()) >= 2 })
	st := n.status("example.com.", sec.addr)
	if st == nil || st.Acked || st.Answer == "" {
		t.Fatalf("status: got %+v, want an unanswered NOTIFY with its error", st)
	}
	if sec.received()[0].signed {
		t.Errorf("NOTIFY to a secondary without a key: got signed, want unsigned")
	}
}

// Changes that come while a NOTIFY waits for its answer are coalesced: the
// next NOTIFY carries the latest serial only.
func TestNotifyCoalesces(t *testing.T) {
	sec := startFakeSecondary(t, map[string]string{testKey.Name: testSecret})
	hold := make(chan struct{})
	sec.configure(func(f *fakeSecondary) { f.hold = hold })
	src := &soaSource{serial: 1}
	timing := fastTiming
	timing.attempt = 10 * time.Second // the held answer must not time out
	n := startNotifier(t, notifyConfig(sec.addr), timing, src)
	sec.waitSerial(t, 1)
	for serial := uint32(2); serial <= 10; serial++ {
		src.set(serial)
		n.changed("example.com.")
	}
	sec.configure(func(f *fakeSecondary) { f.hold = nil })
	close(hold)
	sec.waitSerial(t, 10)
	eventually(t, "serial 10 answered", func() bool {
		st := n.status("example.com.", sec.addr)
		return st != nil && st.Acked && st.Serial == 10
	})
	var serials []uint32
	for _, r := range sec.received() {
		serials = append(serials, r.serial)
	}
	if len(serials) != 2 || serials[0] != 1 || serials[1] != 10 {
		t.Errorf("serials notified: got %v, want [1 10]", serials)
	}
}

func TestWaitSecondaries(t *testing.T) {
	sec := startFakeSecondary(t, nil)
	sec.configure(func(f *fakeSecondary) { f.serial = 5 })
	// A port nothing answers on: a bound and closed socket.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close()
	cfg := &Config{Zones: []ZoneConfig{{Origin: "example.com.", Secondaries: []SecondaryConfig{{Address: sec.addr}, {Address: dead}}}}}

	tests := []struct {
		serial uint32
		want   []SecondaryResult // address, serial, ok
	}{
		{5, []SecondaryResult{{Address: sec.addr, Serial: 5, OK: true}, {Address: dead}}},
		{4, []SecondaryResult{{Address: sec.addr, Serial: 5, OK: true}, {Address: dead}}},
		{6, []SecondaryResult{{Address: sec.addr, Serial: 5}, {Address: dead}}},
	}
	for _, tt := range tests {
		got := WaitSecondaries(context.Background(), cfg, "example.com.", tt.serial, 300*time.Millisecond)
		if len(got) != len(tt.want) {
			t.Fatalf("serial %d: got %d results, want %d", tt.serial, len(got), len(tt.want))
		}
		for i, w := range tt.want {
			g := got[i]
			if g.Address != w.Address || g.Serial != w.Serial || g.OK != w.OK {
				t.Errorf("serial %d: got %s serial %d ok %v, want %s serial %d ok %v", tt.serial, g.Address, g.Serial, g.OK, w.Address, w.Serial, w.OK)
			}
			if g.OK == g.ServedAt.IsZero() {
				t.Errorf("serial %d %s: got served_at %v with ok %v", tt.serial, g.Address, g.ServedAt, g.OK)
			}
		}
		if got[1].Error == "" {
			t.Errorf("serial %d: got no error for %s, want why it did not answer", tt.serial, dead)
		}
	}
	if got := WaitSecondaries(context.Background(), cfg, "other.test.", 1, time.Second); len(got) != 0 {
		t.Errorf("zone without secondaries: got %v, want none", got)
	}
}
