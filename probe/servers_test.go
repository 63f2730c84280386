package probe

import (
	"context"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

// nsRecords is the NS set of example.com. as the fake slotdns serves it.
var nsRecords = map[string]string{
	"example.com. NS": strings.Join([]string{
		"example.com. 3600 IN NS ns1.example.com.",
		"example.com. 3600 IN NS ns2.example.com.",
		"example.com. 3600 IN NS ns3.example.com.",
		"example.com. 3600 IN NS NS.Outside.Test.",
		"example.com. 3600 IN NS ns.nowhere.test.",
	}, "\n"),
	"ns1.example.com. A":    "ns1.example.com. 3600 IN A 127.0.0.11",
	"ns1.example.com. AAAA": "ns1.example.com. 3600 IN AAAA ::1",
	"ns2.example.com. A":    "ns2.example.com. 3600 IN A 192.0.2.2",
	// ns3.example.com. has no address; ns.outside.test. is in outside.
}

func inExampleCom(name string) bool { return dns.IsSubDomain("example.com.", name) }

func TestAuthServers(t *testing.T) {
	t.Parallel()
	self := startAuth(t, nsRecords).Addr
	dead := testkit.DeadAddr(t)
	secondaries := []string{"127.0.0.1:5400", "127.0.0.11:53", "203.0.113.7:53", "[2001:db8::1]:53", self, "127.0.0.12:53"}
	tests := []struct {
		name        string
		self        string
		inOurZones  func(string) bool
		secondaries []string
		want        []string // Server.String()
		wantSkipped []string // Skipped.String()
	}{
		{
			name: "NS set and secondaries", self: self, inOurZones: inExampleCom, secondaries: secondaries,
			want: []string{
				"slotdns " + self,
				"ns ns1.example.com. (127.0.0.11:53)",
				"ns ns1.example.com. ([::1]:53)",
				"ns ns.outside.test. (127.0.0.12:53)",
				"secondary 127.0.0.1:5400",
			},
			wantSkipped: []string{
				"ns ns2.example.com. (192.0.2.2:53): 192.0.2.2 is a documentation address (RFC 5737)",
				"ns ns3.example.com.: no address found",
				"ns ns.outside.test. ([2001:db8::53]:53): 2001:db8::53 is a documentation address (RFC 3849)",
				"ns ns.nowhere.test.: no address found: lookup ns.nowhere.test: no such host",
				"secondary 203.0.113.7:53: 203.0.113.7 is a documentation address (RFC 5737)",
				"secondary [2001:db8::1]:53: 2001:db8::1 is a documentation address (RFC 3849)",
			},
		},
		{
			name: "no zones of ours: every NS name looked up", self: self, secondaries: []string{"127.0.0.1:5400"},
			want: []string{"slotdns " + self, "ns ns.outside.test. (127.0.0.12:53)", "secondary 127.0.0.1:5400"},
			wantSkipped: []string{
				"ns ns1.example.com.: no address found: lookup ns1.example.com: no such host",
				"ns ns2.example.com.: no address found: lookup ns2.example.com: no such host",
				"ns ns3.example.com.: no address found: lookup ns3.example.com: no such host",
				"ns ns.outside.test. ([2001:db8::53]:53): 2001:db8::53 is a documentation address (RFC 3849)",
				"ns ns.nowhere.test.: no address found: lookup ns.nowhere.test: no such host",
			},
		},
		{
			name: "slotdns does not answer", self: dead, inOurZones: inExampleCom, secondaries: []string{"127.0.0.1:5400", "198.51.100.1:53"},
			want:        []string{"slotdns " + dead, "secondary 127.0.0.1:5400"},
			wantSkipped: []string{"secondary 198.51.100.1:53: 198.51.100.1 is a documentation address (RFC 5737)"},
		},
		{
			name: "slotdns at a documentation address", self: "192.0.2.1:53", inOurZones: inExampleCom, secondaries: []string{"127.0.0.1:5400"},
			want:        []string{"secondary 127.0.0.1:5400"},
			wantSkipped: []string{"slotdns 192.0.2.1:53: 192.0.2.1 is a documentation address (RFC 5737)"},
		},
		{
			name: "no secondaries", self: dead,
			want:        []string{"slotdns " + dead},
			wantSkipped: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			servers, skipped := AuthServers(context.Background(), tt.self, "example.com.", tt.secondaries, tt.inOurZones)
			if got := strings.Join(stringsOf(servers), "\n"); got != strings.Join(tt.want, "\n") {
				t.Errorf("servers: got\n%s\nwant\n%s", got, strings.Join(tt.want, "\n"))
			}
			if got := strings.Join(stringsOf(skipped), "\n"); got != strings.Join(tt.wantSkipped, "\n") {
				t.Errorf("skipped: got\n%s\nwant\n%s", got, strings.Join(tt.wantSkipped, "\n"))
			}
			if servers == nil || skipped == nil {
				t.Errorf("got nil lists (%v, %v), want empty ones for JSON", servers == nil, skipped == nil)
			}
		})
	}
}

func stringsOf[T interface{ String() string }](list []T) []string {
	out := []string{}
	for _, s := range list {
		out = append(out, s.String())
	}
	return out
}

func TestDocReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr, want string
	}{
		{"192.0.2.1:53", "192.0.2.1 is a documentation address (RFC 5737)"},
		{"192.0.2.255", "192.0.2.255 is a documentation address (RFC 5737)"},
		{"198.51.100.7:5300", "198.51.100.7 is a documentation address (RFC 5737)"},
		{"203.0.113.0:53", "203.0.113.0 is a documentation address (RFC 5737)"},
		{"[2001:db8::1]:53", "2001:db8::1 is a documentation address (RFC 3849)"},
		{"[2001:db8:ffff::1%eth0]:53", "2001:db8:ffff::1 is a documentation address (RFC 3849)"},
		{"[::ffff:192.0.2.9]:53", "192.0.2.9 is a documentation address (RFC 5737)"},
		{"192.0.3.1:53", ""},
		{"198.51.101.1:53", ""},
		{"2001:db9::1", ""},
		{"127.0.0.1:5353", ""},
		{"[::1]:53", ""},
		{"ns1.example.com:53", ""}, // a hostname: its addresses are not known here
		{"", ""},
	}
	for _, tt := range tests {
		if got := docReason(tt.addr); got != tt.want {
			t.Errorf("docReason(%q): got %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestDialable(t *testing.T) {
	t.Parallel()
	tests := []struct{ listen, want string }{
		{"127.0.0.1:5353", "127.0.0.1:5353"},
		{"0.0.0.0:53", "127.0.0.1:53"},
		{":53", "127.0.0.1:53"},
		{"[::]:53", "[::1]:53"},
		{"[2001:db8::1]:53", "[2001:db8::1]:53"},
		{"no port", "no port"},
	}
	for _, tt := range tests {
		if got := Dialable(tt.listen); got != tt.want {
			t.Errorf("Dialable(%q): got %q, want %q", tt.listen, got, tt.want)
		}
	}
}
