package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/serial"

	"github.com/miekg/dns"
)

// Serial asks addr for the SOA of zone over UDP and returns its serial.
func Serial(ctx context.Context, addr, zone string, timeout time.Duration) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	m.RecursionDesired = false
	r, err := exchange(ctx, "udp", m, addr, timeout)
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

// WaitSerial polls every address over DNS until it serves serial of zone
// (or a later one, RFC 1982) or timeout passes, and reports each, in the
// order given. It never fails: an address that does not answer is reported
// as not OK with the reason. A documentation address is never asked; it is
// reported at once, not OK, with the reason in Error.
func WaitSerial(ctx context.Context, addrs []string, zone string, serial uint32, timeout time.Duration) []api.SecondaryResult {
	out := make([]api.SecondaryResult, len(addrs))
	if len(addrs) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() { out[i] = poll(ctx, addr, zone, serial, start) })
	}
	wg.Wait()
	return out
}

// poll asks addr for its serial every pollInterval until it reaches want
// or ctx is done.
func poll(ctx context.Context, addr, zone string, want uint32, start time.Time) api.SecondaryResult {
	res := api.SecondaryResult{Address: addr}
	for {
		got, err := Serial(ctx, addr, zone, pollTimeout)
		if err == nil {
			res.Serial, res.Error = got, ""
			if !serial.Less(got, want) {
				res.OK = true
				res.ServedAt = time.Now()
				res.AfterMS = res.ServedAt.Sub(start).Milliseconds()
				return res
			}
		} else if res.Serial == 0 {
			res.Error = err.Error()
		}
		if _, ok := errors.AsType[*docError](err); ok {
			res.AfterMS = time.Since(start).Milliseconds()
			return res // it never will be asked
		}
		select {
		case <-ctx.Done():
			res.AfterMS = time.Since(start).Milliseconds()
			return res
		case <-time.After(pollInterval):
		}
	}
}
