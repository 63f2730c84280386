package update

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzUpdate reads any bytes as an UPDATE and runs it against a zone:
// nothing may panic, and an update that passes the checks changes only
// names of its zone.
func FuzzUpdate(f *testing.F) {
	seed := func(build func(m *dns.Msg)) {
		m := new(dns.Msg)
		m.SetUpdate(zone)
		build(m)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	mk := func(s string) dns.RR { r, _ := dns.NewRR(s); return r }
	seed(func(m *dns.Msg) { m.Insert([]dns.RR{mk("_acme-challenge.example.com. 60 IN TXT \"tok\"")}) })
	seed(func(m *dns.Msg) {
		m.Used([]dns.RR{mk("www.example.com. 0 IN A 192.0.2.10")})
		m.RemoveRRset([]dns.RR{mk("www.example.com. 0 IN A 0.0.0.0")})
	})
	seed(func(m *dns.Msg) {
		m.NameNotUsed([]dns.RR{mk("new.example.com. 0 IN A 0.0.0.0")})
		m.RemoveName([]dns.RR{mk("example.com. 0 IN A 0.0.0.0")})
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil {
			return
		}
		req, err := Parse(m)
		if err != nil {
			return
		}
		v := testZone(t)
		if Prescan(req.Zone, req.Updates) != nil || CheckPrerequisites(req.Zone, req.Prereqs, v) != nil {
			return
		}
		for _, c := range Apply(req.Zone, req.Updates, v) {
			if !dns.IsSubDomain(req.Zone, c.Name) {
				t.Fatalf("a change of %s, outside zone %s", c.Name, req.Zone)
			}
		}
	})
}
