package integration

import (
	"encoding/binary"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// edgeCase is a query on the protocol's edges, and how it goes: over TCP
// or UDP.
type edgeCase struct {
	name  string
	tcp   bool
	query func() []byte
}

// edgeCases are the cases of RFC behaviour slotdns answers as NSD or Knot
// does. Their zone is the demo's.
func edgeCases() []edgeCase {
	const zone = "yourwebapp.com."
	q := func(name string, qtype uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.RecursionDesired = false
		return m
	}
	pack := func(m *dns.Msg) []byte { b, _ := m.Pack(); return b }
	plain := func() []byte { return pack(q("www."+zone, dns.TypeA)) }
	return []edgeCase{
		{"QCLASS ANY", false, func() []byte { m := q(zone, dns.TypeSOA); m.Question[0].Qclass = dns.ClassANY; return pack(m) }},
		{"QCLASS CH", false, func() []byte { m := q(zone, dns.TypeSOA); m.Question[0].Qclass = dns.ClassCHAOS; return pack(m) }},
		{"AXFR over UDP", false, func() []byte { return pack(q(zone, dns.TypeAXFR)) }},
		{"AXFR of a zone not served", true, func() []byte { return pack(q("nothere.test.", dns.TypeAXFR)) }},
		{"AXFR of a name inside the zone", true, func() []byte { return pack(q("www."+zone, dns.TypeAXFR)) }},
		{"ARCOUNT 1, no record", false, func() []byte { b := plain(); b[11] = 1; return b }},
		{"ANCOUNT 1, no record", false, func() []byte { b := plain(); b[7] = 1; return b }},
		{"NSCOUNT 65535", false, func() []byte { b := plain(); b[8], b[9] = 0xff, 0xff; return b }},
		{"ARCOUNT 5, one OPT", false, func() []byte {
			m := q("www."+zone, dns.TypeA)
			m.SetEdns0(1232, false)
			b := pack(m)
			b[11] = 5
			return b
		}},
		{"an OPT in the answer section", false, func() []byte {
			m := q("www."+zone, dns.TypeA)
			m.Answer = []dns.RR{&dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}}
			return pack(m)
		}},
		{"two OPTs", false, func() []byte {
			m := q("www."+zone, dns.TypeA)
			m.SetEdns0(1232, false)
			m.Extra = append(m.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}})
			return pack(m)
		}},
	}
}

// edgeAnswer is what a server answered: its rcode, AA, and whether the
// question was echoed.
type edgeAnswer struct {
	rcode    string
	aa, echo bool
}

func (a edgeAnswer) String() string {
	return fmt.Sprintf("%s aa=%v question=%v", a.rcode, a.aa, a.echo)
}

func askRaw(t *testing.T, addr string, msg []byte, tcp bool) edgeAnswer {
	t.Helper()
	network := "udp"
	if tcp {
		network = "tcp"
		msg = append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)
	}
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write(msg)
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return edgeAnswer{rcode: "no answer"}
	}
	resp := buf[:n]
	if tcp {
		for n < 2 || n < 2+int(binary.BigEndian.Uint16(buf)) {
			k, err := c.Read(buf[n:])
			if err != nil {
				break
			}
			n += k
		}
		resp = buf[2:n]
	}
	if len(resp) < 12 {
		return edgeAnswer{rcode: "garbage"}
	}
	return edgeAnswer{rcode: dns.RcodeToString[int(resp[3]&0xF)], aa: resp[2]&0x04 != 0, echo: binary.BigEndian.Uint16(resp[4:]) == 1}
}

// TestProtocolEdgesAsNSDAndKnot sends each edge case to slotdns and to NSD
// and Knot serving the same zone (as its secondaries): slotdns answers as
// one of them does, never a third way.
func TestProtocolEdgesAsNSDAndKnot(t *testing.T) {
	t.Parallel()
	requireTool(t, "nsd", "apt-get install nsd")
	requireTool(t, "knotd", "apt-get install knot")
	d := newXFRDemo(t, 0)
	for _, c := range edgeCases() {
		ours := askRaw(t, d.in.addr(), c.query(), c.tcp)
		nsd := askRaw(t, d.nsd.addr(), c.query(), c.tcp)
		knot := askRaw(t, d.knot.addr(), c.query(), c.tcp)
		if ours != nsd && ours != knot {
			t.Errorf("%s: slotdns %v; NSD %v; Knot %v", c.name, ours, nsd, knot)
		}
		t.Logf("%-32s slotdns %-28v NSD %-28v Knot %v", c.name, ours, nsd, knot)
	}
}

// TestNSIDWithDig: dig +nsid shows the configured identity.
func TestNSIDWithDig(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "apt-get install bind9-dnsutils")
	in := newDemo(t, func(config string) string { return "nsid = \"dns-test-1\"\n" + config })
	in.start()
	out, err := exec.Command(digPath, "@127.0.0.1", "-p", strconv.Itoa(in.port), "+nsid", "+norec", "yourwebapp.com", "SOA").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `("dns-test-1")`) {
		t.Fatalf("dig +nsid: %v\n%s", err, out)
	}
}

// TestCookiesWithDigAndKdig: dig and kdig send a client cookie and check
// the answer's (dig prints "(good)" when the client cookie came back);
// sent again with the server cookie, it is still good.
func TestCookiesWithDigAndKdig(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "apt-get install bind9-dnsutils")
	kdigPath := requireTool(t, "kdig", "apt-get install knot-dnsutils")
	in := newDemo(t, nil)
	in.start()
	port := strconv.Itoa(in.port)
	out, err := exec.Command(digPath, "@127.0.0.1", "-p", port, "+cookie", "+norec", "www.yourwebapp.com", "A").CombinedOutput()
	m := regexp.MustCompile(`; COOKIE: ([0-9a-f]{48}) \(good\)`).FindStringSubmatch(string(out))
	if err != nil || m == nil {
		t.Fatalf("dig +cookie: %v\n%s", err, out)
	}
	out, err = exec.Command(digPath, "@127.0.0.1", "-p", port, "+cookie="+m[1], "+norec", "www.yourwebapp.com", "A").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "(good)") || !strings.Contains(string(out), "NOERROR") {
		t.Fatalf("dig +cookie=%s: %v\n%s", m[1], err, out)
	}
	out, err = exec.Command(kdigPath, "@127.0.0.1", "-p", port, "+cookie", "+norec", "yourwebapp.com", "SOA").CombinedOutput()
	if err != nil || !regexp.MustCompile(`COOKIE: [0-9A-F]{48}`).Match(out) || !strings.Contains(string(out), "NOERROR") {
		t.Fatalf("kdig +cookie: %v\n%s", err, out)
	}
}
