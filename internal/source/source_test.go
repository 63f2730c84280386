package source

import (
	"net/netip"
	"testing"
)

func TestPrefix(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.9", "127.0.0.9/32"},
		{"::ffff:127.0.0.9", "127.0.0.9/32"},
		{"2001:db8:1:2:3::9", "2001:db8:1:2::/64"},
	} {
		if got := Host(netip.MustParseAddr(tc.addr)); got.String() != tc.want {
			t.Errorf("Host(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
	if got := Prefix(netip.MustParseAddr("192.0.2.77"), 24, 56); got.String() != "192.0.2.0/24" {
		t.Errorf("Prefix /24 = %s", got)
	}
}
