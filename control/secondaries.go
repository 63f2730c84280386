package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// SecondaryResult is what a secondary served after a change: the serial it
// answered last and, when it reached the change's serial, how long that
// took.
type SecondaryResult struct {
	Address  string    `json:"address"`
	Serial   uint32    `json:"serial"`             // the serial it served last; 0 when it never answered
	OK       bool      `json:"ok"`                 // it serves the change's serial (or a later one)
	AfterMS  int64     `json:"after_ms"`           // from the start of the wait to OK, or to giving up
	ServedAt time.Time `json:"served_at,omitzero"` // when it was first seen serving it
	Error    string    `json:"error,omitempty"`    // the last query's failure, when it never answered
}

// SecondaryStatus is one secondary of a zone as status shows it.
type SecondaryStatus struct {
	Address    string        `json:"address"`
	Key        string        `json:"key,omitempty"` // the TSIG key's name
	Serial     uint32        `json:"serial"`        // the serial it serves, asked over DNS
	Lag        int64         `json:"lag"`           // our serial minus its serial (RFC 1982)
	Error      string        `json:"error,omitempty"`
	LastNotify *NotifyStatus `json:"last_notify,omitempty"` // nil without a server, or before the first NOTIFY
}

// NotifyStatus is the last NOTIFY sent to a secondary and its answer.
type NotifyStatus struct {
	Time     time.Time `json:"time"`
	Serial   uint32    `json:"serial"`
	Answer   string    `json:"answer"` // the rcode ("NOERROR", "NOTAUTH"...) or the error
	Acked    bool      `json:"acked"`  // a response came; retries stopped
	Attempts int       `json:"attempts"`
}

// WaitSecondaries polls every secondary of zone over DNS until it serves
// serial (or a later one) or timeout passes, and reports each. It never
// fails: a secondary that does not answer is reported as not OK.
func WaitSecondaries(ctx context.Context, cfg *Config, zone string, serial uint32, timeout time.Duration) []SecondaryResult {
	zc, ok := cfg.Zone(zone)
	if !ok || len(zc.Secondaries) == 0 {
		return []SecondaryResult{}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	out := make([]SecondaryResult, len(zc.Secondaries))
	var wg sync.WaitGroup
	for i, sec := range zc.Secondaries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = pollSecondary(ctx, sec.Address, zone, serial, start)
		}()
	}
	wg.Wait()
	return out
}

func pollSecondary(ctx context.Context, addr, zone string, serial uint32, start time.Time) SecondaryResult {
	res := SecondaryResult{Address: addr}
	for {
		got, err := querySerial(ctx, addr, zone, 500*time.Millisecond)
		if err == nil {
			res.Serial, res.Error = got, ""
			if !store.SerialLess(got, serial) {
				res.OK = true
				res.ServedAt = time.Now()
				res.AfterMS = res.ServedAt.Sub(start).Milliseconds()
				return res
			}
		} else if res.Serial == 0 {
			res.Error = err.Error()
		}
		select {
		case <-ctx.Done():
			res.AfterMS = time.Since(start).Milliseconds()
			return res
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// querySerial asks addr for the SOA of zone over UDP and returns its serial.
func querySerial(ctx context.Context, addr, zone string, timeout time.Duration) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: timeout}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		// Over UDP the "dial" in the error is only the socket's name; the
		// question went out and nothing came back.
		return 0, fmt.Errorf("ask %s for the SOA of %s: no answer within %s", addr, zone, timeout)
	}
	if err != nil {
		return 0, fmt.Errorf("ask %s for the SOA of %s: %w", addr, zone, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return 0, fmt.Errorf("ask %s for the SOA of %s: %s", addr, zone, dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, zone) {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("ask %s for the SOA of %s: no SOA in the answer (does it serve the zone yet?)", addr, zone)
}

// secondaryStatus asks each secondary of zone for its serial, all at once.
func (s *service) secondaryStatus(ctx context.Context, zone string, ours uint32) []SecondaryStatus {
	zc, ok := s.cfg.Zone(zone)
	if !ok {
		return []SecondaryStatus{}
	}
	out := make([]SecondaryStatus, len(zc.Secondaries))
	var wg sync.WaitGroup
	for i, sec := range zc.Secondaries {
		out[i] = SecondaryStatus{Address: sec.Address, Key: strings.TrimSuffix(sec.Key, ".")}
		if s.notifier != nil {
			out[i].LastNotify = s.notifier.status(zone, sec.Address)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serial, err := querySerial(ctx, sec.Address, zone, time.Second)
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].Serial = serial
			out[i].Lag = int64(int32(ours - serial))
		}()
	}
	wg.Wait()
	return out
}

// secondaryAddrs gives the IP addresses of a secondary's host:port.
func secondaryAddrs(hostport string, resolve func(string) ([]netip.Addr, error)) ([]netip.Addr, error) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	if resolve == nil {
		resolve = lookupHost
	}
	addrs, err := resolve(host)
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

func lookupHost(host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}
