package control

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

const testSecret = testkit.Secret

var testKey = config.Key{Name: "xfr-key.", Algorithm: dns.HmacSHA256, Secret: testSecret}

// secondaryConfig is the test site with a key file and a secondary of
// example.com. at addr, signed with xfr-key.
func secondaryConfig(t *testing.T, addr string) string {
	return "tsig_keys = \"tsig.key\"\n" + testkit.Edit(t, testkit.SiteConfig, "file   = \"example.com.zone\"\n",
		"file   = \"example.com.zone\"\n\n[[zone.secondary]]\naddress = \""+addr+"\"\nkey = \"xfr-key\"\n")
}

// The server NOTIFYs at start and after a change, signed with the
// secondary's key; status shows the answer and the secondary's serial.
func TestServerNotifiesSecondaries(t *testing.T) {
	t.Parallel()
	sec := testkit.StartSecondary(t, 0, map[string]string{testKey.Name: testSecret})
	path := testkit.Site(t, secondaryConfig(t, sec.Addr))
	testkit.WriteKeyFile(t, filepath.Join(filepath.Dir(path), "tsig.key"))
	st := &site{t: t, path: path}
	st.start()
	if got := sec.WaitNotify(t, 2026010101); !got.Signed || !got.Valid {
		t.Errorf("NOTIFY at start: got %+v, want a valid TSIG", got)
	}
	ch := st.swap(api.SwapRequest{})
	if got := sec.WaitNotify(t, ch.Serial); !got.Valid {
		t.Errorf("NOTIFY after the swap: got %+v, want a valid TSIG", got)
	}
	var app api.AppStatus
	testkit.Eventually(t, "status shows the answered NOTIFY", func() bool {
		var err error
		app, err = st.c.App(context.Background(), "site")
		return err == nil && len(app.Secondaries) == 1 && app.Secondaries[0].LastNotify != nil &&
			app.Secondaries[0].LastNotify.Serial == ch.Serial && app.Secondaries[0].Serial == ch.Serial
	})
	got := app.Secondaries[0]
	if got.Address != sec.Addr || got.Key != "xfr-key" || got.Lag != 0 || !got.LastNotify.Acked || got.LastNotify.Answer != "NOERROR" {
		t.Errorf("status: got %+v (notify %+v)", got, *got.LastNotify)
	}
	// A reloaded zone file that changed is notified too.
	testkit.WriteFile(t, filepath.Join(filepath.Dir(path), "example.com.zone"), testkit.ExampleZone+"new IN A 192.0.2.99\n")
	if _, err := st.c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	sec.WaitNotify(t, ch.Serial+1)
}

// soaSource is an SOA whose serial the test moves.
type soaSource struct {
	mu     sync.Mutex
	serial uint32
}

func (s *soaSource) set(serial uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serial = serial
}

func (s *soaSource) soa(zone string) (*dns.SOA, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &dns.SOA{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600}, Ns: "ns1." + zone, Mbox: "h." + zone, Serial: s.serial}, true
}

// startNotifier runs a notifier of one zone with one secondary at addr,
// signed with testKey when signed, on clk.
func startNotifier(t *testing.T, addr string, signed bool, timing notifyTiming, clk clock.Clock, src *soaSource) *notifier {
	cfg := &config.Config{Zones: []config.Zone{{Origin: "example.com.", Secondaries: []config.Secondary{{Address: addr}}}}}
	keys := map[string]config.Key{}
	if signed {
		cfg.Zones[0].Secondaries[0].Key = testKey.Name
		keys[testKey.Name] = testKey
	}
	n := newNotifier(cfg, keys, testkit.Discard(), timing, clk, src.soa)
	n.start()
	t.Cleanup(n.stop)
	return n
}

// An unanswered NOTIFY is sent again, after 1s, 2s..., until the
// secondary answers; on the fake clock, at once.
func TestNotifyRetries(t *testing.T) {
	t.Parallel()
	sec := testkit.StartSecondary(t, 0, map[string]string{testKey.Name: testSecret})
	sec.Drop(2)
	clk := clock.NewFake(epoch)
	defer clk.AutoAdvance(time.Second)()
	timing := defaultNotifyTiming
	timing.attempt = 100 * time.Millisecond // real time: how long an unanswered UDP query waits
	n := startNotifier(t, sec.Addr, true, timing, clk, &soaSource{serial: 7})
	var st *api.NotifyStatus
	testkit.Eventually(t, "NOTIFY answered", func() bool {
		st = n.lastNotify("example.com.", sec.Addr)
		return st != nil && st.Acked
	})
	if st.Attempts != 3 || st.Serial != 7 || st.Answer != "NOERROR" {
		t.Errorf("status: got %+v, want serial 7 answered NOERROR at attempt 3", *st)
	}
	if got := len(sec.Notifies()); got != 3 {
		t.Errorf("NOTIFYs sent: got %d, want 3", got)
	}
}

// A secondary that never answers is given up on after ten minutes of
// retries, with the error kept.
func TestNotifyGivesUp(t *testing.T) {
	t.Parallel()
	sec := testkit.StartSecondary(t, 0, nil)
	sec.Drop(1 << 30)
	clk := clock.NewFake(epoch)
	stop := clk.AutoAdvance(time.Minute)
	defer stop()
	timing := defaultNotifyTiming
	timing.attempt = 20 * time.Millisecond
	n := startNotifier(t, sec.Addr, false, timing, clk, &soaSource{serial: 1})
	var st *api.NotifyStatus
	testkit.Eventually(t, "given up", func() bool {
		st = n.lastNotify("example.com.", sec.Addr)
		return clk.Now().Sub(epoch) >= 10*time.Minute && clk.Waiters() == 0 && st != nil
	})
	if st == nil || st.Acked || st.Answer == "" || st.Attempts < 5 {
		t.Fatalf("status: got %+v, want an unanswered NOTIFY with its error after several attempts", st)
	}
	if sec.Notifies()[0].Signed {
		t.Errorf("NOTIFY to a secondary without a key: got signed")
	}
}

// Changes that come while a NOTIFY waits for its answer are coalesced: the
// next NOTIFY carries the latest serial only.
func TestNotifyCoalesces(t *testing.T) {
	t.Parallel()
	sec := testkit.StartSecondary(t, 0, map[string]string{testKey.Name: testSecret})
	release := sec.Hold()
	src := &soaSource{serial: 1}
	timing := defaultNotifyTiming
	timing.attempt = 10 * time.Second // the held answer must not time out
	n := startNotifier(t, sec.Addr, true, timing, clock.NewFake(epoch), src)
	sec.WaitNotify(t, 1)
	for serial := uint32(2); serial <= 10; serial++ {
		src.set(serial)
		n.changed([]string{"example.com."})
	}
	release()
	sec.WaitNotify(t, 10)
	testkit.Eventually(t, "serial 10 answered", func() bool {
		st := n.lastNotify("example.com.", sec.Addr)
		return st != nil && st.Acked && st.Serial == 10
	})
	if got := sec.Notifies(); len(got) != 2 || got[0].Serial != 1 || got[1].Serial != 10 {
		t.Errorf("serials notified: got %v, want 1 then 10", sec.Notifies())
	}
}

// TestSecondaryAheadAfterRestore: a secondary that serves a later serial
// than ours (the database was restored from a backup) ignores our NOTIFY;
// the server finds it so and moves its serial past the secondary's.
func TestSecondaryAheadAfterRestore(t *testing.T) {
	t.Parallel()
	const ahead = 2026010150
	sec := testkit.StartSecondary(t, ahead, map[string]string{testKey.Name: testSecret})
	path := testkit.Site(t, secondaryConfig(t, sec.Addr))
	testkit.WriteKeyFile(t, filepath.Join(filepath.Dir(path), "tsig.key"))
	st := &site{t: t, path: path}
	st.start()
	sec.WaitNotify(t, ahead+1)
	if got, _ := st.s.Snapshot().Serial("example.com."); got != ahead+1 {
		t.Errorf("serial served: %d, want %d", got, ahead+1)
	}
	testkit.Eventually(t, "the secondary follows", func() bool {
		app, err := st.c.App(context.Background(), "site")
		return err == nil && len(app.Secondaries) == 1 && app.Secondaries[0].Serial == ahead+1
	})
	if !strings.Contains(st.logged.String(), "Secondary serves a later serial than ours") {
		t.Errorf("no warning logged:\n%s", st.logged)
	}
	// The secondary is asked once per process: one that goes ahead again
	// (it follows another primary, or rewrites serials) moves ours no more.
	sec.Follow(false)
	sec.SetSerial(ahead + 100)
	ch := st.swap(api.SwapRequest{})
	if ch.Serial != ahead+2 {
		t.Errorf("serial of the swap: %d, want %d", ch.Serial, ahead+2)
	}
	sec.WaitNotify(t, ahead+2)
	testkit.Eventually(t, "the NOTIFY answered", func() bool {
		app, err := st.c.App(context.Background(), "site")
		return err == nil && app.Secondaries[0].LastNotify != nil && app.Secondaries[0].LastNotify.Serial == ahead+2 && app.Secondaries[0].LastNotify.Acked
	})
	if got, _ := st.s.Snapshot().Serial("example.com."); got != ahead+2 {
		t.Errorf("serial after a second NOTIFY to a secondary ahead: %d, want %d (unmoved)", got, ahead+2)
	}
}

// TestSecondaryFarAheadIsNotFollowed: a serial further ahead than a
// restore explains (a forged answer, a secondary that is not ours) is
// logged, not followed.
func TestSecondaryFarAheadIsNotFollowed(t *testing.T) {
	t.Parallel()
	const far = 2026010101 + maxResyncStep + 1
	sec := testkit.StartSecondary(t, far, map[string]string{testKey.Name: testSecret})
	path := testkit.Site(t, secondaryConfig(t, sec.Addr))
	testkit.WriteKeyFile(t, filepath.Join(filepath.Dir(path), "tsig.key"))
	st := &site{t: t, path: path}
	st.start()
	testkit.Eventually(t, "the warning", func() bool {
		return strings.Contains(st.logged.String(), "Secondary serves a serial far ahead of ours; not following it")
	})
	if got, _ := st.s.Snapshot().Serial("example.com."); got != 2026010101 {
		t.Errorf("serial: %d, want 2026010101 (unmoved)", got)
	}
}

// TestNotifyAgainWhenTheTransferFailed: a secondary that answers NOTIFY
// but still serves the older serial when asked later (its transfer
// failed) is notified again, with backoff, until it serves the serial.
func TestNotifyAgainWhenTheTransferFailed(t *testing.T) {
	t.Parallel()
	sec := testkit.StartSecondary(t, 3, nil)
	sec.Follow(false) // the first transfer fails
	clk := clock.NewFake(epoch)
	timing := defaultNotifyTiming
	timing.attempt = time.Second
	startNotifier(t, sec.Addr, false, timing, clk, &soaSource{serial: 7})
	testkit.Eventually(t, "the first NOTIFY answered, then the wait to confirm it", func() bool {
		return len(sec.Notifies()) == 1 && clk.Waiters() == 1
	})
	sec.Follow(true) // the next transfer works
	clk.Advance(timing.confirm)
	testkit.Eventually(t, "the secondary asked and found behind, then the backoff", func() bool { return clk.Waiters() == 1 })
	if got := len(sec.Notifies()); got != 1 {
		t.Fatalf("%d NOTIFYs before the backoff passed, want 1", got)
	}
	clk.Advance(timing.first)
	testkit.Eventually(t, "a second NOTIFY, and the secondary at serial 7", func() bool {
		soa, ok := testkit.Query(t, sec.Addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA)
		return len(sec.Notifies()) == 2 && ok && soa.Serial == 7
	})
	// Confirmed at 7: no third NOTIFY.
	testkit.Eventually(t, "the confirming wait", func() bool { return clk.Waiters() == 1 })
	clk.Advance(timing.confirm)
	testkit.Eventually(t, "the sender idle", func() bool { return clk.Waiters() == 0 })
	if got := len(sec.Notifies()); got != 2 {
		t.Fatalf("%d NOTIFYs, want 2", got)
	}
}
