package probe

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestSerial(t *testing.T) {
	t.Parallel()
	sec := testkit.StartSecondary(t, 2026010101, nil)
	dead := testkit.DeadAddr(t)
	refusing := startAuth(t, map[string]string{"example.com. SOA": "REFUSED"})
	empty := startAuth(t, nil)
	tests := []struct {
		name    string
		addr    string
		timeout time.Duration
		want    uint32
		wantErr string // the whole error, or its start when it ends in "…"
	}{
		{"a secondary", sec.Addr, time.Second, 2026010101, ""},
		{"nobody answers", dead, time.Second, 0, "ask " + dead + " for the SOA of example.com.: read udp …"},
		{"too late", sec.Addr, time.Nanosecond, 0, "ask " + sec.Addr + " for the SOA of example.com.: no answer within 1ns"},
		{"refused", refusing.Addr, time.Second, 0, "ask " + refusing.Addr + " for the SOA of example.com.: REFUSED"},
		{"no SOA", empty.Addr, time.Second, 0, "ask " + empty.Addr + " for the SOA of example.com.: no SOA in the answer (does it serve the zone yet?)"},
		{"documentation address", "192.0.2.1:53", time.Second, 0, "ask 192.0.2.1:53 for the SOA of example.com.: 192.0.2.1 is a documentation address (RFC 5737)"},
		{"IPv6 documentation address", "[2001:db8::53]:53", time.Second, 0, "ask [2001:db8::53]:53 for the SOA of example.com.: 2001:db8::53 is a documentation address (RFC 3849)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Serial(context.Background(), tt.addr, "example.com.", tt.timeout)
			if got != tt.want {
				t.Errorf("serial: got %d, want %d", got, tt.want)
			}
			if !errorLike(err, tt.wantErr) {
				t.Errorf("error: got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// errorLike reports whether err is want, or starts with it when want ends
// in "…"; want "" means no error.
func errorLike(err error, want string) bool {
	if err == nil || want == "" {
		return err == nil && want == ""
	}
	if prefix, ok := strings.CutSuffix(want, "…"); ok {
		return strings.HasPrefix(err.Error(), prefix)
	}
	return err.Error() == want
}

func TestWaitSerial(t *testing.T) {
	t.Parallel()
	at5 := testkit.StartSecondary(t, 5, nil)
	at6 := testkit.StartSecondary(t, 6, nil)
	at4 := testkit.StartSecondary(t, 4, nil)
	later := testkit.StartSecondary(t, 4, nil)
	dead := testkit.DeadAddr(t)
	addrs := []string{at5.Addr, at6.Addr, at4.Addr, later.Addr, dead, "198.51.100.53:53"}
	go func() {
		time.Sleep(100 * time.Millisecond)
		later.SetSerial(5)
	}()

	start := time.Now()
	got := WaitSerial(context.Background(), addrs, "example.com.", 5, time.Second)
	elapsed := time.Since(start)

	want := []struct {
		serial  uint32
		ok      bool
		wantErr string
	}{
		{5, true, ""},
		{6, true, ""},       // a later serial serves the change too
		{4, false, ""},      // still behind when the wait ends: the last serial seen
		{5, true, ""},       // reached while waiting
		{0, false, "ask …"}, // never answered: why
		{0, false, "ask 198.51.100.53:53 for the SOA of example.com.: 198.51.100.53 is a documentation address (RFC 5737)"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Address != addrs[i] || g.Serial != w.serial || g.OK != w.ok {
			t.Errorf("[%d]: got %s serial %d ok %v, want %s serial %d ok %v", i, g.Address, g.Serial, g.OK, addrs[i], w.serial, w.ok)
		}
		if (g.Error == "") != (w.wantErr == "") || w.wantErr != "" && !strings.HasPrefix(g.Error, strings.TrimSuffix(w.wantErr, "…")) {
			t.Errorf("[%d] %s: got error %q, want %q", i, g.Address, g.Error, w.wantErr)
		}
		if g.OK == g.ServedAt.IsZero() {
			t.Errorf("[%d] %s: got served_at %v with ok %v", i, g.Address, g.ServedAt, g.OK)
		}
	}
	if got[3].AfterMS < 100 || got[3].AfterMS > 900 {
		t.Errorf("reached while waiting: got after_ms %d, want about 100", got[3].AfterMS)
	}
	if got[2].AfterMS < 1000 {
		t.Errorf("still behind: got after_ms %d, want the whole wait (1000)", got[2].AfterMS)
	}
	if got[5].AfterMS > 100 {
		t.Errorf("documentation address: got after_ms %d, want it given up at once", got[5].AfterMS)
	}
	if elapsed > 2*time.Second {
		t.Errorf("WaitSerial took %v with a timeout of 1s", elapsed)
	}
}

func TestWaitSerialWraps(t *testing.T) {
	t.Parallel()
	sec := testkit.StartSecondary(t, 1, nil)
	// RFC 1982: 1 comes after 4294967295.
	got := WaitSerial(context.Background(), []string{sec.Addr}, "example.com.", 4294967295, time.Second)
	if len(got) != 1 || !got[0].OK || got[0].Serial != 1 {
		t.Errorf("got %+v, want serial 1 ok", got)
	}
	if got := WaitSerial(context.Background(), nil, "example.com.", 1, time.Second); got == nil || len(got) != 0 {
		t.Errorf("no addresses: got %#v, want an empty list", got)
	}
}
