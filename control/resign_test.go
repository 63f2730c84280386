package control

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

// TestResignReachesSecondaryByIXFR: with the clock past the point where
// the signatures are due, the server signs the zone again under a new
// serial and NOTIFYs it; an IXFR from the old serial removes the old
// RRSIGs and adds new ones that expire later, each verifying with the
// zone's DNSKEY over the RRset it covers.
func TestResignReachesSecondaryByIXFR(t *testing.T) {
	t.Parallel()
	sec := testkit.StartSecondary(t, 0, map[string]string{testKey.Name: testSecret})
	path := testkit.Site(t, signedSiteConfig(t, secondaryConfig(t, sec.Addr)))
	testkit.WriteKeyFile(t, filepath.Join(filepath.Dir(path), "tsig.key"))
	opts, clk := fakeClock()
	st := &site{t: t, path: path, opts: opts}
	st.start()
	ctx := context.Background()
	app, err := st.c.App(ctx, "site")
	if err != nil || app.DNSSEC == nil || app.DNSSEC.NextResign.IsZero() {
		t.Fatalf("status: %+v, %v; want the next re-sign of a signed zone", app.DNSSEC, err)
	}
	old := app.Serial
	sec.WaitNotify(t, old)
	before := transfer(t, st.addr, axfr("example.com."))
	keys, err := dnssec.Load(st.cfg.Zones[0].DNSSEC.KeyDir, "example.com.")
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v, %v", keys, err)
	}

	// Every signature is due by validity - refresh after the start.
	dc := st.cfg.Zones[0].DNSSEC
	clk.Advance(dc.Validity - dc.Refresh + time.Hour)
	select {
	case st.s.resigner.wake <- struct{}{}: // in case its timer was not set yet
	default:
	}
	var serial uint32
	testkit.Eventually(t, "a new serial from the re-sign", func() bool {
		serial, _ = st.s.p.Snapshot().Serial("example.com.")
		return serial != old
	})
	if got := sec.WaitNotify(t, serial); !got.Valid {
		t.Errorf("NOTIFY of the re-sign: got %+v, want a valid TSIG", got)
	}
	now := clk.Now()

	m := new(dns.Msg)
	m.SetIxfr("example.com.", old, "ns1.example.com.", "hostmaster.example.com.")
	delta := transfer(t, st.addr, m)
	removed, added := ixfrDelta(t, delta, old, serial)
	after := transfer(t, st.addr, axfr("example.com."))

	oldSigs, newSigs := rrsigs(removed), rrsigs(added)
	if len(oldSigs) == 0 || len(newSigs) == 0 {
		t.Fatalf("IXFR %d -> %d: %d RRSIGs removed, %d added; want the signatures replaced", old, serial, len(oldSigs), len(newSigs))
	}
	t.Logf("IXFR %d -> %d: %d RRSIGs removed, %d added, of %d in the zone", old, serial, len(oldSigs), len(newSigs), len(rrsigs(after)))
	verifySigs(t, "removed", oldSigs, rrsets(before), keys, time.Time{})
	verifySigs(t, "added", newSigs, rrsets(after), keys, now)
	for id, o := range oldSigs {
		n, ok := newSigs[id]
		switch {
		case !ok:
			t.Errorf("RRSIG %s removed with none added in its place", id)
		case n.Expiration <= o.Expiration:
			t.Errorf("RRSIG %s: the new one expires %s, the old %s; want it later", id, dns.TimeToString(n.Expiration), dns.TimeToString(o.Expiration))
		}
	}
	// Nothing the zone serves now is near its end.
	for id, sig := range rrsigs(after) {
		if left := time.Unix(int64(sig.Expiration), 0).Sub(now); left <= dc.Refresh {
			t.Errorf("RRSIG %s after the re-sign: %s left, want more than signature_refresh (%s)", id, left, dc.Refresh)
		}
	}
}

func axfr(zone string) *dns.Msg {
	m := new(dns.Msg)
	m.SetAxfr(zone)
	return m
}

// transfer runs the zone transfer m over TCP, signed with the
// secondary's key, and gives every record of every message.
func transfer(t *testing.T, addr string, m *dns.Msg) []dns.RR {
	t.Helper()
	m.SetTsig(testKey.Name, dns.HmacSHA256, 300, time.Now().Unix())
	tr := &dns.Transfer{TsigSecret: map[string]string{testKey.Name: testSecret}, ReadTimeout: 5 * time.Second}
	envs, err := tr.In(m, addr)
	if err != nil {
		t.Fatalf("%s of %s from %s: %v", dns.TypeToString[m.Question[0].Qtype], m.Question[0].Name, addr, err)
	}
	var out []dns.RR
	for env := range envs {
		if env.Error != nil {
			t.Fatalf("%s of %s from %s: %v", dns.TypeToString[m.Question[0].Qtype], m.Question[0].Name, addr, env.Error)
		}
		out = append(out, env.RR...)
	}
	return out
}

// ixfrDelta splits an incremental transfer from serial from to serial
// to into the records it removes and those it adds; a full transfer in
// its place fails t.
func ixfrDelta(t *testing.T, rrs []dns.RR, from, to uint32) (removed, added []dns.RR) {
	t.Helper()
	serialOf := func(i int) (uint32, bool) {
		if i >= len(rrs) {
			return 0, false
		}
		soa, ok := rrs[i].(*dns.SOA)
		if !ok {
			return 0, false
		}
		return soa.Serial, true
	}
	if s, ok := serialOf(0); !ok || s != to {
		t.Fatalf("IXFR: got %d records beginning %v, want the SOA of serial %d first", len(rrs), rrs[:min(1, len(rrs))], to)
	}
	if s, ok := serialOf(1); !ok || s != from {
		t.Fatalf("IXFR from %d: got a full transfer (%d records), want the changes since %d", from, len(rrs), from)
	}
	adding := false
	for _, rr := range rrs[2 : len(rrs)-1] {
		if _, ok := rr.(*dns.SOA); ok {
			adding = !adding
			continue
		}
		if adding {
			added = append(added, rr)
		} else {
			removed = append(removed, rr)
		}
	}
	return removed, added
}

// rrsigs indexes the RRSIGs of rrs by owner, type covered and key tag.
func rrsigs(rrs []dns.RR) map[string]*dns.RRSIG {
	out := map[string]*dns.RRSIG{}
	for _, rr := range rrs {
		if sig, ok := rr.(*dns.RRSIG); ok {
			out[fmt.Sprintf("%s %s by %d", strings.ToLower(sig.Hdr.Name), dns.TypeToString[sig.TypeCovered], sig.KeyTag)] = sig
		}
	}
	return out
}

// rrsets groups the records of a zone transfer, RRSIGs aside, by owner
// and type.
func rrsets(rrs []dns.RR) map[string][]dns.RR {
	out := map[string][]dns.RR{}
	for i, rr := range rrs {
		if _, ok := rr.(*dns.RRSIG); ok || i == len(rrs)-1 && rr.Header().Rrtype == dns.TypeSOA {
			continue // the closing SOA repeats the first
		}
		key := strings.ToLower(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
		out[key] = append(out[key], rr)
	}
	return out
}

// verifySigs checks each signature with the key of its tag over the
// RRset it covers in sets and, unless at is zero, that it is valid at.
func verifySigs(t *testing.T, what string, sigs map[string]*dns.RRSIG, sets map[string][]dns.RR, keys []*dnssec.Key, at time.Time) {
	t.Helper()
	for id, sig := range sigs {
		var key *dns.DNSKEY
		for _, k := range keys {
			if k.Tag() == sig.KeyTag {
				key = k.DNSKEY
			}
		}
		set := sets[strings.ToLower(sig.Hdr.Name)+" "+dns.TypeToString[sig.TypeCovered]]
		switch {
		case key == nil:
			t.Errorf("%s RRSIG %s: no key of tag %d", what, id, sig.KeyTag)
		case len(set) == 0:
			t.Errorf("%s RRSIG %s: the zone has no RRset it covers", what, id)
		default:
			if err := sig.Verify(key, set); err != nil {
				t.Errorf("%s RRSIG %s does not verify with key %d: %v", what, id, sig.KeyTag, err)
			}
			if !at.IsZero() && !sig.ValidityPeriod(at) {
				t.Errorf("%s RRSIG %s: not valid at %s (%s to %s)", what, id, at, dns.TimeToString(sig.Inception), dns.TimeToString(sig.Expiration))
			}
		}
	}
}
