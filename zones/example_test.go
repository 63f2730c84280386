package zones_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// A zone file plus two slots: production on "@" and "www", staging on
// "stage". A swap is a Build with the targets exchanged.
func Example() {
	dir, err := os.MkdirTemp("", "zones-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "yourwebapp.com.zone")
	os.WriteFile(path, []byte(`$TTL 3600
@    SOA ns1 hostmaster 1 3600 600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
blue A   198.51.100.10
`), 0o644)

	zone, err := zones.ParseFile("yourwebapp.com.", path)
	if err != nil {
		panic(err)
	}
	blue, _ := zones.ParseTarget("blue.yourwebapp.com.")
	green, _ := zones.ParseTarget("green-def.cloudapp.net.")
	build := func(production, staging zones.Target, serial uint32) *zones.Snapshot {
		s, err := zones.Build(zones.Input{Zones: []zones.ZoneInput{{Zone: zone, Serial: serial, Slots: []zones.Slot{
			{App: "yourwebapp", Slot: "production", Names: []string{"yourwebapp.com.", "www.yourwebapp.com."}, Target: production, TTL: 30},
			{App: "yourwebapp", Slot: "staging", Names: []string{"stage.yourwebapp.com."}, Target: staging, TTL: 30},
		}}}})
		if err != nil {
			panic(err)
		}
		return s
	}
	show := func(s *zones.Snapshot, qname string, qtype uint16) {
		a := s.Lookup(qname, qtype)
		fmt.Println(a.Result, a.Answer)
	}

	s := build(blue, green, 1)
	show(s, "www.yourwebapp.com.", dns.TypeA)
	show(s, "stage.yourwebapp.com.", dns.TypeA)
	show(s, "yourwebapp.com.", dns.TypeA)

	s = build(green, blue, 2) // the swap
	show(s, "www.yourwebapp.com.", dns.TypeA)
	show(s, "stage.yourwebapp.com.", dns.TypeA)
	// Output:
	// Success [www.yourwebapp.com.	30	IN	CNAME	blue.yourwebapp.com. blue.yourwebapp.com.	3600	IN	A	198.51.100.10]
	// Success [stage.yourwebapp.com.	30	IN	CNAME	green-def.cloudapp.net.]
	// Success [yourwebapp.com.	30	IN	A	198.51.100.10]
	// Success [www.yourwebapp.com.	30	IN	CNAME	green-def.cloudapp.net.]
	// Success [stage.yourwebapp.com.	30	IN	CNAME	blue.yourwebapp.com. blue.yourwebapp.com.	3600	IN	A	198.51.100.10]
}
