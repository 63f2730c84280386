package control

import (
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/config"

	"github.com/miekg/dns"
)

// TestExpireNote: a signed zone whose SOA expire outlasts the
// signatures a secondary may hold is noted; one that does not, or an
// unsigned zone, is not.
func TestExpireNote(t *testing.T) {
	signed := &config.Zone{Origin: "example.com.", File: "zones/example.com.zone", DNSSEC: &config.DNSSEC{Refresh: 7 * 24 * time.Hour}}
	for _, tc := range []struct {
		zone   *config.Zone
		expire uint32
		want   string
	}{
		{signed, 1209600, "SOA expire (14d) is longer than signature_refresh (7d)"},
		{signed, 604800, ""},
		{&config.Zone{Origin: "example.com."}, 1209600, ""},
	} {
		got := expireNote(tc.zone, &dns.SOA{Expire: tc.expire})
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("expire %d, signed %v: got %q, want %q", tc.expire, tc.zone.DNSSEC != nil, got, tc.want)
		}
	}
}
