package dnsserver

import (
	"maps"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// webZone is the zone of testSnapshot.
const webZone = "yourwebapp.com."

func request(zone, qtype, protocol, rcode string) RequestKey {
	return RequestKey{Zone: zone, Qtype: qtype, Protocol: protocol, Rcode: rcode}
}

// TestCountsOverSockets sends real queries over UDP and TCP and checks that
// every count moved by exactly what was sent.
func TestCountsOverSockets(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{Count: true, Transfer: &Transfer{
		Peers: map[string][]Peer{webZone: {{Addr: loopback, Key: testKeyName}}},
		Keys:  testKeys(),
	}})
	addr := s.UDPAddrs()[0].String()
	before := s.Counts()
	for key, n := range before.Requests {
		t.Errorf("before any query: %v = %d, want no requests", key, n)
	}

	for _, network := range []string{"udp", "tcp"} {
		ask(t, network, addr, query("www.yourwebapp.com.", dns.TypeA))
		ask(t, network, addr, query("WWW.yourwebapp.com.", dns.TypeAAAA, withEDNS(1232, false)))
		ask(t, network, addr, query("nope.yourwebapp.com.", dns.TypeA))
		ask(t, network, addr, query("mail.yourwebapp.com.", dns.TypeA))
		ask(t, network, addr, query("big.yourwebapp.com.", dns.TypeA)) // TC over UDP
		ask(t, network, addr, query("example.org.", dns.TypeMX))       // not ours
	}
	ask(t, "udp", addr, query("stage.yourwebapp.com.", dns.TypeTXT))
	ask(t, "udp", addr, query("yourwebapp.com.", dns.TypeHINFO)) // an "other" type
	ask(t, "udp", addr, query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false), func(m *dns.Msg) {
		m.IsEdns0().SetVersion(1) // BADVERS: "other"
	}))
	ask(t, "tcp", addr, query("yourwebapp.com.", dns.TypeAXFR)) // unsigned: refused
	if got := exchangeRaw(t, addr, signed(query(webZone, dns.TypeSOA), testKeyName), otherSecret); got.Rcode != dns.RcodeNotAuth {
		t.Fatalf("a query signed with the wrong secret: got %s, want NOTAUTH", dns.RcodeToString[got.Rcode])
	}
	if got := exchangeRaw(t, addr, signed(axfrQuery(webZone), "nope."), testSecret); got.Rcode != dns.RcodeNotAuth {
		t.Fatalf("an AXFR signed with an unknown key: got %s, want NOTAUTH", dns.RcodeToString[got.Rcode])
	}
	if _, _, err := transferIn(t, s.TCPAddrs()[0].String(), signed(axfrQuery(webZone), testKeyName), map[string]string{testKeyName: testSecret}); err != nil {
		t.Fatalf("a signed AXFR: %v", err)
	}
	sendJunk(t, addr)

	want := map[RequestKey]uint64{
		request(webZone, "A", "udp", "NOERROR"):     3, // www, mail, big (truncated)
		request(webZone, "A", "tcp", "NOERROR"):     4, // and the query after the junk
		request(webZone, "AAAA", "udp", "NOERROR"):  1,
		request(webZone, "AAAA", "tcp", "NOERROR"):  1,
		request(webZone, "A", "udp", "NXDOMAIN"):    1,
		request(webZone, "A", "tcp", "NXDOMAIN"):    1,
		request("", "MX", "udp", "REFUSED"):         1, // not ours
		request("", "MX", "tcp", "REFUSED"):         1,
		request(webZone, "TXT", "udp", "NOERROR"):   1,
		request(webZone, "other", "udp", "NOERROR"): 1,
		request(webZone, "A", "udp", "other"):       1, // BADVERS
		request(webZone, "AXFR", "tcp", "REFUSED"):  1,
		request(webZone, "SOA", "tcp", "NOTAUTH"):   1,
		request(webZone, "AXFR", "tcp", "NOTAUTH"):  1,
		request(webZone, "AXFR", "tcp", "NOERROR"):  1,
	}
	// Junk gets no answer, and a streamed transfer counts once its last
	// message is sent, so both counts may follow the last answer a
	// little later.
	var got Counts
	testkit.Eventually(t, "the junk and the transfer counted", func() bool {
		got = s.Counts()
		return got.Dropped["udp"] == 2 && got.Dropped["tcp"] == 1 && got.Transfers[TransferKey{webZone, "AXFR", "ok"}] == 1
	})
	if !maps.Equal(got.Requests, want) {
		t.Errorf("requests:\ngot  %v\nwant %v", got.Requests, want)
	}
	if want := map[string]uint64{webZone: 1}; !maps.Equal(got.Truncated, want) {
		t.Errorf("truncated: got %v, want %v", got.Truncated, want)
	}
	// www: A and AAAA on each protocol, and A after the TCP junk; stage
	// once. BADVERS answers before any lookup, and counts for no slot.
	wantSlots := map[SlotKey]uint64{{"yourwebapp", "production"}: 5, {"yourwebapp", "staging"}: 1}
	if !maps.Equal(got.SlotAnswers, wantSlots) {
		t.Errorf("slot answers: got %v, want %v", got.SlotAnswers, wantSlots)
	}
	wantXfr := map[TransferKey]uint64{{webZone, "AXFR", "refused"}: 2, {webZone, "AXFR", "ok"}: 1}
	if !maps.Equal(got.Transfers, wantXfr) {
		t.Errorf("transfers: got %v, want %v", got.Transfers, wantXfr)
	}
	wantTSIG := map[string]uint64{"bad_key": 1, "bad_signature": 1, "bad_time": 0, "bad_truncation": 0, "malformed": 0}
	if !maps.Equal(got.TSIGFailures, wantTSIG) {
		t.Errorf("TSIG failures: got %v, want %v", got.TSIGFailures, wantTSIG)
	}
}

// sendJunk sends two UDP packets and one TCP message that get no answer:
// a response, a packet shorter than a header, and a response over TCP.
func sendJunk(t *testing.T, addr string) {
	t.Helper()
	resp := query("www.yourwebapp.com.", dns.TypeA)
	resp.Response = true
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range [][]byte{pack(t, resp), {1, 2, 3}} {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	tc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	// A query after the junk, answered, shows the junk was read.
	writeTCP(t, tc, pack(t, resp), pack(t, query("www.yourwebapp.com.", dns.TypeA)))
	readTCP(t, tc)
}

// TestCountsAcrossPublish checks that counts stay with their names when a
// snapshot adds, removes and brings back zones and slots.
func TestCountsAcrossPublish(t *testing.T) {
	t.Parallel()
	s := New(Config{Count: true})
	c := &client{udp: true, addr: func() netip.Addr { return loopback }, counts: s.shards.newUDP()}
	ask := func(name string) {
		t.Helper()
		if s.respond(s.state.Load(), pack(t, query(name, dns.TypeA)), nil, c) == nil {
			t.Fatalf("%s: no response", name)
		}
	}
	first := twoZones(t, "green", "a.test.", "b.test.")
	s.Publish(first)
	ask("www.a.test.")
	ask("www.b.test.")
	ask("www.b.test.")

	// b.test. leaves, c.test. comes, and a.test.'s slot is renamed: the
	// slot that left is no longer reported, and takes none of the counts
	// of the new one.
	s.Publish(twoZones(t, "blue", "a.test.", "c.test."))
	ask("www.a.test.")
	ask("www.c.test.")
	got := s.Counts()
	want := map[RequestKey]uint64{
		request("a.test.", "A", "udp", "NOERROR"): 2,
		request("c.test.", "A", "udp", "NOERROR"): 1,
	}
	if !maps.Equal(got.Requests, want) {
		t.Errorf("after the second publish, requests: got %v, want %v", got.Requests, want)
	}
	wantSlots := map[SlotKey]uint64{{"a", "blue"}: 1, {"c", "blue"}: 1}
	if !maps.Equal(got.SlotAnswers, wantSlots) {
		t.Errorf("after the second publish, slot answers: got %v, want %v", got.SlotAnswers, wantSlots)
	}

	// b.test. and its slot come back where they were.
	s.Publish(first)
	ask("www.b.test.")
	got = s.Counts()
	want = map[RequestKey]uint64{
		request("a.test.", "A", "udp", "NOERROR"): 2,
		request("b.test.", "A", "udp", "NOERROR"): 3,
	}
	if !maps.Equal(got.Requests, want) {
		t.Errorf("after the third publish, requests: got %v, want %v", got.Requests, want)
	}
	wantSlots = map[SlotKey]uint64{{"a", "green"}: 1, {"b", "green"}: 3}
	if !maps.Equal(got.SlotAnswers, wantSlots) {
		t.Errorf("after the third publish, slot answers: got %v, want %v", got.SlotAnswers, wantSlots)
	}
	if want := map[string]uint64{"a.test.": 0, "b.test.": 0}; !maps.Equal(got.Truncated, want) {
		t.Errorf("truncated: got %v, want every zone served at 0", got.Truncated)
	}
}

// TestSlotAnswersAcrossZones checks that a slot with names in two zones
// counts the answers of both, and each zone its own requests.
func TestSlotAnswersAcrossZones(t *testing.T) {
	t.Parallel()
	s := New(Config{Count: true})
	c := &client{udp: true, addr: func() netip.Addr { return loopback }, counts: s.shards.newUDP()}
	snap := twoZones(t, "production", "a.test.", "b.test.")
	var in zones.Input
	for _, origin := range snap.Origins() {
		zi, _ := snap.ZoneInput(origin)
		zi.Slots = []zones.Slot{zi.Slots[0]}
		zi.Slots[0].App = "site" // one app, one slot, a name in each zone
		in.Zones = append(in.Zones, zi)
	}
	snap, err := zones.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	s.Publish(snap)
	for _, name := range []string{"www.a.test.", "www.b.test.", "www.b.test.", "ns.b.test."} {
		s.respond(s.state.Load(), pack(t, query(name, dns.TypeA)), nil, c)
	}
	got := s.Counts()
	if want := map[SlotKey]uint64{{"site", "production"}: 3}; !maps.Equal(got.SlotAnswers, want) {
		t.Errorf("slot answers: got %v, want %v", got.SlotAnswers, want)
	}
	want := map[RequestKey]uint64{
		request("a.test.", "A", "udp", "NOERROR"): 1,
		request("b.test.", "A", "udp", "NOERROR"): 3,
	}
	if !maps.Equal(got.Requests, want) {
		t.Errorf("requests: got %v, want %v", got.Requests, want)
	}
}

// twoZones serves the origins, each with an app named by its first label
// whose slot named slot has www.
func twoZones(t *testing.T, slot string, origins ...string) *zones.Snapshot {
	t.Helper()
	target, err := zones.ParseTarget("192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	var in zones.Input
	for _, origin := range origins {
		path := filepath.Join(t.TempDir(), origin+"zone")
		testkit.WriteFile(t, path, "@ 300 IN SOA ns hostmaster 1 3600 600 86400 300\n@ 300 IN NS ns\nns 300 IN A 192.0.2.1\n")
		z, err := zones.ParseFile(origin, path)
		if err != nil {
			t.Fatal(err)
		}
		app, _, _ := strings.Cut(origin, ".")
		in.Zones = append(in.Zones, zones.ZoneInput{Zone: z, Serial: 1, Slots: []zones.Slot{
			{App: app, Slot: slot, Names: []string{"www." + origin}, Target: target, TTL: 30},
		}})
	}
	snap, err := zones.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// TestFastPathCountsAsSlowPath checks that a cached response counts as the
// full parse counts it, on the fill and on every hit after.
func TestFastPathCountsAsSlowPath(t *testing.T) {
	t.Parallel()
	st := newState(testSnapshot(t, "blue.cloudapp.test."))
	st.ids = newRegistry().table(st.snap, nil)
	for round := range 2 {
		for _, name := range []string{"www.yourwebapp.com.", "yourwebapp.com.", "Stage.YourWebApp.com.", "nope.yourwebapp.com.",
			"a.sub.yourwebapp.com.", "example.org.", "."} {
			for _, qtype := range []uint16{dns.TypeA, dns.TypeMX, dns.TypeANY, dns.TypeSRV, dns.TypeHINFO} {
				req := pack(t, query(name, qtype, withEDNS(1232, false)))
				var slow, fast tally
				st.respondSlow(req, nil, true, &slow, nil)
				if _, ok := st.respondFast(req, nil, true, &fast, nil); !ok {
					t.Fatalf("%s %s: the fast path declined", name, dns.TypeToString[qtype])
				}
				if fast != slow {
					t.Errorf("round %d %s %s: fast path counts %+v, slow path %+v", round, name, dns.TypeToString[qtype], fast, slow)
				}
			}
		}
	}
}

// TestCountingOff checks that a server without Config.Count counts nothing
// and gives its readers no counters.
func TestCountingOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{})
	ask(t, "udp", s.UDPAddrs()[0].String(), query("www.yourwebapp.com.", dns.TypeA))
	if got := s.Counts(); got.Requests != nil || got.SlotAnswers != nil || got.Dropped != nil {
		t.Errorf("counts: got %+v, want none", got)
	}
	if s.shards.newUDP() != nil || s.shards.forTCP() != nil || s.state.Load().ids != nil {
		t.Error("counters made without Config.Count")
	}
}

// TestCountsWhileServing reads counts while readers count, for the race
// detector; the total must come out exact.
func TestCountsWhileServing(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{Count: true})
	addr := s.UDPAddrs()[0].String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			s.Counts()
			time.Sleep(time.Millisecond)
		}
	}()
	for i := range 100 {
		// A new name per query makes blocks grow as the scrape reads.
		ask(t, "udp", addr, query("n"+strings.Repeat("x", i%20)+".yourwebapp.com.", dns.TypeA))
		if i%10 == 0 {
			s.Publish(testSnapshot(t, "blue.cloudapp.test."))
		}
	}
	<-done
	if got := s.Counts().Requests[request(webZone, "A", "udp", "NXDOMAIN")]; got != 100 {
		t.Errorf("NXDOMAIN over UDP: got %d, want 100", got)
	}
}
