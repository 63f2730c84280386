package config

import "time"

// Defaults of the [tcp] table: what one host may hold of the server's
// TCP (RFC 7766 section 6.2).
const (
	DefaultTCPMaxConnections = 1000
	DefaultTCPMaxPerSource   = 32
	DefaultTCPMaxQueries     = 10000
	DefaultTCPIdleTimeout    = 10 * time.Second
)

// TCP is the [tcp] table.
type TCP struct {
	MaxConnections int           // open at once, over every listener
	MaxPerSource   int           // of one IPv4 address or IPv6 /64
	MaxQueries     int           // on one connection, then it closes
	IdleTimeout    time.Duration // between queries (shorter while more than half the connections are open)
}

func (p *parser) buildTCP(cfg *Config, ft fileTCP) {
	t := TCP{MaxConnections: DefaultTCPMaxConnections, MaxPerSource: DefaultTCPMaxPerSource,
		MaxQueries: DefaultTCPMaxQueries, IdleTimeout: DefaultTCPIdleTimeout}
	p.boundedInts("tcp", []boundedInt{
		{"max_connections", ft.MaxConnections, &t.MaxConnections, 1, 1 << 20},
		{"max_per_source", ft.MaxPerSource, &t.MaxPerSource, 1, 1 << 20},
		{"max_queries", ft.MaxQueries, &t.MaxQueries, 1, 1 << 31},
	})
	if ft.IdleTimeout != "" {
		d, err := time.ParseDuration(ft.IdleTimeout)
		if err != nil || d < 100*time.Millisecond || d > time.Hour {
			p.addf(p.line("tcp.idle_timeout", "tcp"), "tcp idle_timeout %q: want a duration from 100ms to 1h, such as \"10s\"", ft.IdleTimeout)
		} else {
			t.IdleTimeout = d
		}
	}
	if t.MaxPerSource > t.MaxConnections {
		t.MaxPerSource = t.MaxConnections
	}
	cfg.TCP = t
}

// boundedInt is an integer key of a table, with the range it must lie in.
type boundedInt struct {
	key      string
	v        *int64 // as written; nil: not written
	into     *int
	min, max int64
}

// boundedInts sets each written key of table into its field, or reports
// it at its line when out of range.
func (p *parser) boundedInts(table string, keys []boundedInt) {
	for _, n := range keys {
		switch {
		case n.v == nil:
		case *n.v < n.min || *n.v > n.max:
			p.addf(p.line(table+"."+n.key, table), "%s %s %d: want %d to %d", table, n.key, *n.v, n.min, n.max)
		default:
			*n.into = int(*n.v)
		}
	}
}
