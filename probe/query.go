package probe

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// Timeouts of the questions probe asks.
const (
	verifyTimeout = 2 * time.Second        // one question of Verify
	matrixTimeout = time.Second            // one question to one server of VerifyAll or AuthServers
	pollTimeout   = 500 * time.Millisecond // one SOA query of WaitSerial
	pollInterval  = 20 * time.Millisecond  // between two SOA queries of WaitSerial
)

// dialControl, when not nil, runs on every socket probe opens, before it
// connects. The tests set it to refuse anything but loopback.
var dialControl func(network, address string, c syscall.RawConn) error

// documentation lists the address blocks reserved for documentation. They
// fill example zone files and configs (the demo's ns1 is 192.0.2.1), and on
// some networks they are routed for real, so probe never asks them.
var documentation = []struct {
	prefix netip.Prefix
	rfc    string
}{
	{netip.MustParsePrefix("192.0.2.0/24"), "RFC 5737"},
	{netip.MustParsePrefix("198.51.100.0/24"), "RFC 5737"},
	{netip.MustParsePrefix("203.0.113.0/24"), "RFC 5737"},
	{netip.MustParsePrefix("2001:db8::/32"), "RFC 3849"},
}

// docReason says why addr (an IP address or host:port) is not to be
// asked, as "192.0.2.1 is a documentation address (RFC 5737)", or "" when
// it may be. A hostname may be asked: only literal addresses are known.
func docReason(addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	a = a.WithZone("").Unmap()
	for _, d := range documentation {
		if d.prefix.Contains(a) {
			return a.String() + " is a documentation address (" + d.rfc + ")"
		}
	}
	return ""
}

// docError is the refusal to send a query to a documentation address.
type docError struct{ reason string }

func (e *docError) Error() string { return e.reason }

// exchange sends m to addr over network ("udp" or "tcp") and waits up to
// timeout for the answer. It is the one place probe sends a packet, and it
// refuses documentation addresses.
func exchange(ctx context.Context, network string, m *dns.Msg, addr string, timeout time.Duration) (*dns.Msg, error) {
	if reason := docReason(addr); reason != "" {
		return nil, &docError{reason}
	}
	c := &dns.Client{Net: network, Timeout: timeout, Dialer: &net.Dialer{Timeout: timeout, Control: dialControl}}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	return r, err
}

// ask sends m to addr over UDP, and again over TCP when the answer is
// truncated.
func ask(ctx context.Context, m *dns.Msg, addr string, timeout time.Duration) (*dns.Msg, error) {
	r, err := exchange(ctx, "udp", m, addr, timeout)
	if err == nil && r.Truncated {
		r, err = exchange(ctx, "tcp", m, addr, timeout)
	}
	return r, err
}

// Dialable turns a listen address into one to send queries to: a wildcard
// host becomes loopback.
func Dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
