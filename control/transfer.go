package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnsserver"
	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// transferConfig is what the DNS server needs to answer AXFR and IXFR:
// the secondaries of each zone (their host names resolved once, here),
// the keys and the journal.
func transferConfig(cfg *config.Config, keys map[string]config.Key, db store.Store, logger *slog.Logger) (*dnsserver.Transfer, error) {
	t := &dnsserver.Transfer{Peers: map[string][]dnsserver.Peer{}, Keys: map[string]dnsserver.TSIGKey{}, Journal: journalReader(db, logger)}
	for name, k := range keys {
		t.Keys[name] = dnsserver.TSIGKey{Name: k.Name, Algorithm: k.Algorithm, Secret: k.Secret}
	}
	for _, zc := range cfg.Zones {
		for _, sec := range zc.Secondaries {
			addrs, err := secondaryAddrs(sec.Address)
			if err != nil {
				return nil, fmt.Errorf("zone %s: secondary %s: %w; write its IP address in %s", zc.Origin, sec.Address, err, cfg.Path)
			}
			for _, a := range addrs {
				t.Peers[zc.Origin] = append(t.Peers[zc.Origin], dnsserver.Peer{Addr: a, Key: sec.Key})
			}
		}
	}
	return t, nil
}

// journalReader adapts the store's journal to the DNS server: text records
// parsed back. Anything it cannot read makes the server fall back to
// AXFR.
func journalReader(db store.Store, logger *slog.Logger) func(zone string, from uint32) ([]dnsserver.Delta, bool) {
	return func(zone string, from uint32) ([]dnsserver.Delta, bool) {
		var deltas []store.Delta
		var ok bool
		err := db.Read(func(v store.View) error {
			var err error
			deltas, ok, err = v.Journal(zone, from)
			return err
		})
		if err != nil {
			logger.Warn("IXFR journal unreadable; answering with a full transfer", "zone", zone, "from", from, "err", err)
			return nil, false
		}
		if !ok {
			return nil, false
		}
		out := make([]dnsserver.Delta, 0, len(deltas))
		for _, d := range deltas {
			removed, err1 := parseRecords(d.Removed)
			added, err2 := parseRecords(d.Added)
			if err := errors.Join(err1, err2); err != nil {
				logger.Warn("IXFR journal entry unreadable; answering with a full transfer", "zone", zone, "from", d.From, "to", d.To, "err", err)
				return nil, false
			}
			out = append(out, dnsserver.Delta{Removed: removed, Added: added})
		}
		return out, true
	}
}

func parseRecords(texts []string) ([]dns.RR, error) {
	out := make([]dns.RR, 0, len(texts))
	for _, text := range texts {
		rr, err := dns.NewRR(text)
		if err != nil {
			return nil, err
		}
		if rr != nil {
			out = append(out, rr)
		}
	}
	return out, nil
}

// secondaryAddrs gives the IP addresses of a secondary's host:port.
func secondaryAddrs(hostport string) ([]netip.Addr, error) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, errors.New("resolve " + host + ": no addresses")
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}
