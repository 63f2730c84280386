package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

// refused records every dial the tests attempted to a non-loopback
// address; TestMain fails the run when there is any.
var refused struct {
	sync.Mutex
	addrs []string
}

// TestMain makes sure that no test sends a packet anywhere but loopback,
// nor asks the system resolver: every socket probe opens is refused unless
// it goes to 127.0.0.0/8 or ::1, and NS names are looked up in outside.
func TestMain(m *testing.M) {
	dialControl = func(network, address string, _ syscall.RawConn) error {
		if ap, err := netip.ParseAddrPort(address); err == nil && ap.Addr().Unmap().IsLoopback() {
			return nil
		}
		refused.Lock()
		refused.addrs = append(refused.addrs, network+" "+address)
		refused.Unlock()
		return fmt.Errorf("test refuses to dial %s %s: not loopback", network, address)
	}
	lookupHost = func(_ context.Context, host string) ([]string, error) {
		if addrs, ok := outside[host]; ok {
			return addrs, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	code := m.Run()
	if len(refused.addrs) > 0 {
		fmt.Fprintf(os.Stderr, "tests tried to send packets off loopback: %v\n", refused.addrs)
		code = 1
	}
	os.Exit(code)
}

// outside is what the fake system resolver knows.
var outside = map[string][]string{
	"ns.outside.test": {"127.0.0.12", "2001:db8::53"},
}

// fakeAuth is a fake authoritative server on loopback. It answers from
// records, keyed "name TYPE", each value zone-file lines; a value that is
// an rcode ("SERVFAIL", "REFUSED") answers that rcode, and an unknown key
// answers NOERROR with no records. Names in truncate get, over UDP, an
// empty answer with TC set, as a large answer would.
type fakeAuth struct {
	Addr string

	records  map[string][]dns.RR
	rcodes   map[string]int
	truncate map[string]bool
	tcp      atomic.Int32 // queries that came over TCP
}

func startAuth(t *testing.T, records map[string]string, truncate ...string) *fakeAuth {
	t.Helper()
	f := &fakeAuth{records: map[string][]dns.RR{}, rcodes: map[string]int{}, truncate: map[string]bool{}}
	for key, text := range records {
		if rcode, ok := dns.StringToRcode[text]; ok {
			f.rcodes[key] = rcode
			continue
		}
		for line := range strings.SplitSeq(text, "\n") {
			rr, err := dns.NewRR(line)
			if err != nil || rr == nil {
				t.Fatalf("fake record %q: %v", line, err)
			}
			f.records[key] = append(f.records[key], rr)
		}
	}
	for _, name := range truncate {
		f.truncate[name] = true
	}
	f.Addr = testkit.ServeDNS(t, dns.HandlerFunc(f.serve), nil)
	return f
}

func (f *fakeAuth) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	key := name + " " + dns.TypeToString[q.Qtype]
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	switch {
	case !udp:
		f.tcp.Add(1)
	case f.truncate[name]:
		m.Truncated = true
		w.WriteMsg(m)
		return
	}
	if rcode, ok := f.rcodes[key]; ok {
		m.Rcode = rcode
	}
	m.Answer = f.records[key]
	w.WriteMsg(m)
}

// with returns a copy of records with edits applied; an empty value
// deletes the key.
func with(records map[string]string, edits map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range records {
		out[k] = v
	}
	for k, v := range edits {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// siteApp is an app as status shows it: production (the apex, an alias,
// and www) on blue, staging on green, qa on addresses.
func siteApp() api.AppStatus {
	return api.AppStatus{
		Name: "site",
		Zone: "example.com.",
		Slots: []api.SlotStatus{
			{Slot: "production", Names: []string{"example.com.", "www.example.com."}, Target: "blue.deploy.test.",
				Alias: &api.AliasStatus{Name: "example.com.", Target: "blue.deploy.test.", InZone: true, Addrs: []string{"198.51.100.10", "2001:db8::10"}, TTL: 30}},
			{Slot: "staging", Names: []string{"stage.example.com."}, Target: "green.deploy.test."},
			{Slot: "qa", Names: []string{"qa.example.com."}, Target: "198.51.100.30, 2001:db8::30"},
		},
	}
}

// siteRecords is what a server serving siteApp answers.
var siteRecords = map[string]string{
	"example.com. A":       "example.com. 30 IN A 198.51.100.10",
	"example.com. AAAA":    "example.com. 30 IN AAAA 2001:db8::10",
	"www.example.com. A":   "www.example.com. 30 IN CNAME blue.deploy.test.\nblue.deploy.test. 60 IN A 198.51.100.10",
	"stage.example.com. A": "stage.example.com. 30 IN CNAME green.deploy.test.\ngreen.deploy.test. 60 IN A 198.51.100.20",
	"qa.example.com. A":    "qa.example.com. 30 IN A 198.51.100.30",
	"qa.example.com. AAAA": "qa.example.com. 30 IN AAAA 2001:db8::30",
}
