package control

import (
	"fmt"
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/dnssec"

	"github.com/miekg/dns"
)

func (r serverRuntime) withSigning(zone string, fn func([]*dnssec.Key, bool) error) error {
	r.s.reloadMu.Lock() // a rollover step writes signKeys under it
	defer r.s.reloadMu.Unlock()
	return fn(r.s.signKeys[zone], true)
}

// dnssecStatus is the signing of zone as status shows it; nil when the
// zone is not signed.
func (s *service) dnssecStatus(zone string) (*api.DNSSECStatus, error) {
	zc, ok := s.cfg.Zone(zone)
	if !ok || zc.DNSSEC == nil {
		return nil, nil
	}
	st := &api.DNSSECStatus{Zone: zone, Denial: "nsec", Keys: []api.DNSSECKey{}, DS: []string{}, CheckDS: checkDSCommand(zone)}
	if zc.DNSSEC.NSEC3 {
		st.Denial = "nsec3"
	}
	err := s.rt.withSigning(zone, func(keys []*dnssec.Key, live bool) error {
		signer := dnssec.Signer{Keys: keys}
		for _, k := range keys {
			use := signer.UseOf(k)
			st.Keys = append(st.Keys, api.DNSSECKey{Tag: k.Tag(), Algorithm: algorithmName(k.DNSKEY.Algorithm), Role: keyRole(k, keys),
				Use: use.String(), File: k.File, Created: k.Created})
			if use.Parent {
				st.DS = append(st.DS, k.DS().String())
			}
		}
		if served := servedZone(s.p)(zone); live && served != nil && served.Signed() {
			st.OldestExpires, st.NextResign = served.SignaturesExpire()
			st.SignaturesMade = served.SignaturesMade()
		}
		s.parentDS(st, zone, keys)
		ro, ok, err := storedRollover(s.db, zone)
		if err != nil || !ok {
			return err
		}
		serial, _ := s.p.Snapshot().Serial(zone)
		r := rolloverOf(ro, false, serial, keys)
		st.Rollover = &r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("zone %s: DNSSEC status: %w", zone, err)
	}
	return st, nil
}

// parentDS fills in the DS the parent serves when slotdns serves the
// parent zone too: the one case it can check without asking anyone.
func (s *service) parentDS(st *api.DNSSECStatus, zone string, keys []*dnssec.Key) {
	if s.p == nil {
		return
	}
	snap := s.p.Snapshot()
	labels := dns.SplitDomainName(zone)
	for i := 1; i <= len(labels); i++ {
		parent := strings.Join(labels[i:], ".") + "."
		zi, ok := snap.ZoneInput(parent)
		if !ok {
			continue
		}
		st.Parent, st.ParentDS = parent, []string{}
		var served []*dns.DS
		for _, rr := range zi.Zone.RRset(zone, dns.TypeDS) {
			if ds, ok := rr.(*dns.DS); ok {
				served = append(served, ds)
				st.ParentDS = append(st.ParentDS, ds.String())
			}
		}
		st.DSMatch = dsMatches(served, keys)
		return
	}
}

// dsMatches reports whether the DS records point at the keys the parent
// should point at (those in CDS), every one of them and no other key.
func dsMatches(served []*dns.DS, keys []*dnssec.Key) bool {
	signer := dnssec.Signer{Keys: keys}
	pointed := map[*dnssec.Key]bool{}
	for _, ds := range served {
		found := false
		for _, k := range keys {
			if !signer.UseOf(k).Parent || k.Tag() != ds.KeyTag || k.DNSKEY.Algorithm != ds.Algorithm {
				continue
			}
			if mine := k.DNSKEY.ToDS(ds.DigestType); mine != nil && strings.EqualFold(mine.Digest, ds.Digest) {
				found, pointed[k] = true, true
			}
		}
		if !found {
			return false
		}
	}
	for _, k := range keys {
		if signer.UseOf(k).Parent && !pointed[k] {
			return false
		}
	}
	return true
}

// keyRole names what k is among keys: a ZSK without the SEP bit; with
// it, a KSK beside a ZSK, or else a CSK.
func keyRole(k *dnssec.Key, keys []*dnssec.Key) string {
	if !k.SEP() {
		return "ZSK"
	}
	for _, o := range keys {
		if !o.SEP() {
			return "KSK"
		}
	}
	return "CSK"
}

func algorithmName(alg uint8) string {
	if name, ok := dns.AlgorithmToString[alg]; ok {
		return name
	}
	return fmt.Sprint(alg)
}

// checkDSCommand says how to compare the parent's DS with the one
// expected: slotdns asks no resolver, so it cannot look.
func checkDSCommand(zone string) string {
	parent := "."
	if labels := dns.SplitDomainName(zone); len(labels) > 1 {
		parent = strings.Join(labels[1:], ".") + "."
	}
	short := strings.TrimSuffix(zone, ".")
	return fmt.Sprintf(`dig +short DS %s @"$(dig +short NS %s | head -n 1)", against slotdns dnssec ds %s`, short, parent, short)
}
