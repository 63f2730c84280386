package config

import (
	"net/netip"
)

// Defaults of the [rrl] table, NSD's: an operator of a public server may
// keep them.
const (
	DefaultRRLRate      = 200
	DefaultRRLSlip      = 2
	DefaultRRLIPv4      = 24
	DefaultRRLIPv6      = 56
	DefaultRRLTableSize = 65536
)

// DefaultRRLExempt are never limited: loopback cannot be spoofed from
// outside (the kernel drops such packets), and a local resolver lives
// there.
var DefaultRRLExempt = []string{"127.0.0.0/8", "::1/128"}

// RRL is the [rrl] table: response rate limiting.
type RRL struct {
	Rate       int // responses per second per prefix and response; 0: off
	Slip       int // every Slip-th limited response is sent truncated; 0: never, 1: always
	IPv4Prefix int
	IPv6Prefix int
	Exempt     []netip.Prefix
	TableSize  int
}

func (p *parser) buildRRL(cfg *Config, fr fileRRL) {
	r := RRL{Rate: DefaultRRLRate, Slip: DefaultRRLSlip, IPv4Prefix: DefaultRRLIPv4, IPv6Prefix: DefaultRRLIPv6, TableSize: DefaultRRLTableSize}
	p.boundedInts("rrl", []boundedInt{
		{"rate", fr.Rate, &r.Rate, 0, 1 << 20},
		{"slip", fr.Slip, &r.Slip, 0, 10},
		{"ipv4_prefix", fr.IPv4Prefix, &r.IPv4Prefix, 8, 32},
		{"ipv6_prefix", fr.IPv6Prefix, &r.IPv6Prefix, 16, 128},
		{"table_size", fr.TableSize, &r.TableSize, 1024, 1 << 24},
	})
	exempt := fr.Exempt
	if exempt == nil {
		exempt = DefaultRRLExempt
	}
	for _, text := range exempt {
		pfx, err := netip.ParsePrefix(text)
		if err != nil {
			if a, aerr := netip.ParseAddr(text); aerr == nil {
				pfx, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			p.addf(p.line("rrl.exempt", "rrl"), "rrl exempt %q: want an address or a prefix, such as \"192.0.2.0/24\"", text)
			continue
		}
		r.Exempt = append(r.Exempt, pfx.Masked())
	}
	cfg.RRL = r
}
