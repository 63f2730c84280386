package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

// withShortTTLs sets the slot TTL to ttl and makes cloudapp.test. (the
// deployments the slots point at) serve its records, and its negative
// answers, with ttl too, so that ttl is the longest TTL served.
func withShortTTLs(in *instance, ttl string) {
	path := in.dir + "/zones/cloudapp.test.zone"
	zone := testkit.ReadFile(in.t, path)
	zone = strings.Replace(zone, "$TTL 60", "$TTL "+ttl, 1)
	zone = strings.Replace(zone, "1209600 60 )", "1209600 "+ttl+" )", 1)
	testkit.WriteFile(in.t, path, zone)
}

type drainedChange struct {
	Time      time.Time `json:"time"`
	TTL       uint32    `json:"ttl"`
	DrainedAt time.Time `json:"drained_at"`
}

// swapAndWait runs swap --wait --json and returns its change and when the
// command returned.
func swapAndWait(t *testing.T, in *instance) (drainedChange, time.Time) {
	t.Helper()
	r := in.mustSlotdns("swap", "yourwebapp", "--wait", "--json")
	returned := time.Now()
	var ch drainedChange
	if err := json.Unmarshal([]byte(r.stdout), &ch); err != nil {
		t.Fatalf("swap --wait --json: %v\n%s", err, r.stdout)
	}
	if returned.Before(ch.DrainedAt) {
		t.Errorf("swap --wait returned at %v, before drained_at %v", returned, ch.DrainedAt)
	}
	return ch, returned
}

// wwwThroughUnbound is the CNAME target unbound gives for www right now.
func wwwThroughUnbound(t *testing.T, port int) string {
	t.Helper()
	return dig(t, port, "www.yourwebapp.com.", "A", "+rec").cname("www.yourwebapp.com.")
}

// With every TTL at 2s, swap --wait returns once 2s have passed, and a
// resolver asked right then (one question, no polling) has dropped the
// old answer.
func TestDrainWaitThroughUnbound(t *testing.T) {
	t.Parallel()
	unbound := requireTool(t, "unbound", "apt-get install unbound")
	in := newDemo(t, withTTL(2))
	withShortTTLs(in, "2")
	in.start()
	port := startUnbound(t, unbound, in.port)
	if got := wwwThroughUnbound(t, port); got != prodTarget {
		t.Fatalf("www through unbound before the swap: got %q, want %q", got, prodTarget)
	}
	ch, _ := swapAndWait(t, in)
	if ch.TTL != 2 || ch.DrainedAt.Before(ch.Time.Add(2*time.Second)) {
		t.Errorf("drain: got ttl %d, drained_at %v, want 2 and not before %v", ch.TTL, ch.DrainedAt, ch.Time.Add(2*time.Second))
	}
	if got := wwwThroughUnbound(t, port); got != stageTarget {
		t.Errorf("www through unbound right after swap --wait: got %q, want %q", got, stageTarget)
	}
}

// A TTL lowered from 8s to 2s by a restart just before the swap: the clock
// still waits out the 8s answers unbound cached before it.
func TestDrainTTLLoweredBeforeSwap(t *testing.T) {
	t.Parallel()
	unbound := requireTool(t, "unbound", "apt-get install unbound")
	in := newDemo(t, withTTL(8))
	withShortTTLs(in, "8")
	in.start()
	port := startUnbound(t, unbound, in.port)
	if got := wwwThroughUnbound(t, port); got != prodTarget {
		t.Fatalf("www through unbound before the swap: got %q, want %q", got, prodTarget)
	}

	in.stop()
	in.writeConfig(withTTL(2)(in.readConfig()))
	path := in.dir + "/zones/cloudapp.test.zone"
	testkit.WriteFile(t, path, strings.Replace(strings.Replace(testkit.ReadFile(t, path), "$TTL 8", "$TTL 2", 1), "1209600 8 )", "1209600 2 )", 1))
	oldPort := in.port
	restarted := time.Now()
	in.start()
	if in.port != oldPort {
		t.Fatalf("slotdns came back on port %d, not %d where unbound looks for it", in.port, oldPort)
	}

	ch, _ := swapAndWait(t, in)
	if ch.TTL != 2 {
		t.Errorf("ttl served before the swap: got %d, want 2", ch.TTL)
	}
	if earliest := restarted.Add(8 * time.Second); ch.DrainedAt.Before(earliest) {
		t.Errorf("drained_at: got %v, want not before %v (the 8s answers of before the restart)", ch.DrainedAt, earliest)
	}
	if got := wwwThroughUnbound(t, port); got != stageTarget {
		t.Errorf("www through unbound right after swap --wait: got %q, want %q", got, stageTarget)
	}
}
