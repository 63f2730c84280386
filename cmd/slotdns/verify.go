package main

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/slotdns/slotdns/control"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
	"github.com/urfave/cli/v2"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "query the server for every slot name like dig and compare with the store",
		ArgsUsage: "APP",
		UsageText: `slotdns verify APP [--server HOST:PORT] [--all [--also HOST:PORT]...] [--json]

   slotdns verify yourwebapp
   slotdns verify yourwebapp --server 127.0.0.1:5353
   slotdns verify yourwebapp --all`,
		Description: `Asks the DNS server over UDP, as dig would, for every name of every slot of
APP: A (and AAAA where the target has IPv6 addresses) for address targets and
the zone apex, and for hostname targets the CNAME, which must equal the
target. Prints a table and exits 1 when any answer differs from the store.

With --all it asks every authoritative server of the zone: slotdns (--server),
the addresses of the zone's NS set (NS names in our zones resolved through
slotdns, others through the system resolver), the configured secondaries,
and each --also server, each for up to 1s. It prints a matrix, question by
server: the answer, "new" (the store's), "old" (before the last change) or
"other", and its remaining TTL, or "no answer". It exits 1 when a server
answers anything but the current answer.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "server", Usage: "DNS server to ask, `HOST:PORT` (default: the first listen address)"},
			&cli.BoolFlag{Name: "all", Usage: "ask every authoritative server of the zone and print a matrix"},
			&cli.StringSliceFlag{Name: "also", Usage: "with --all: ask this server too, `HOST:PORT` (repeatable)"},
			jsonFlag(),
		},
		Action: verify,
	}
}

// verifyRow is one question asked and compared.
type verifyRow struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Served   string `json:"served"`
	Expected string `json:"expected"`
	OK       bool   `json:"ok"`
}

type verifyResult struct {
	App    string      `json:"app"`
	Server string      `json:"server"`
	OK     bool        `json:"ok"`
	Rows   []verifyRow `json:"rows"`
}

func verify(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	return withController(c, "reading", func(cfg *control.Config, ctl control.Controller) error {
		app, err := ctl.App(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		server := c.String("server")
		if server == "" {
			server = dialable(cfg.Listen[0])
		}
		if c.Bool("all") {
			return verifyAll(c, cfg, app, server)
		}
		res := verifyResult{App: app.Name, Server: server, OK: true, Rows: []verifyRow{}}
		client := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
		for _, slot := range app.Slots {
			target, err := zones.ParseTarget(slot.Target)
			if err != nil {
				return fmt.Errorf("app %s slot %s: target %q: %w", app.Name, slot.Slot, slot.Target, err)
			}
			for _, name := range slot.Names {
				for _, q := range questions(name, target, slot.Alias) {
					row := q.ask(client, server)
					res.OK = res.OK && row.OK
					res.Rows = append(res.Rows, row)
				}
			}
		}
		if c.Bool("json") {
			if err := printJSON(c.App.Writer, res); err != nil {
				return err
			}
		} else {
			tw := newTable(c.App.Writer)
			fmt.Fprintln(tw, "NAME\tTYPE\tSERVED\tEXPECTED\tOK")
			for _, r := range res.Rows {
				ok := "ok"
				if !r.OK {
					ok = "DIFFERS"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Type, r.Served, r.Expected, ok)
			}
			tw.Flush()
		}
		if !res.OK {
			if !c.Bool("json") {
				fmt.Fprintf(c.App.ErrWriter, "slotdns: %s answers from %s differ from the store\n", app.Name, server)
			}
			return errReported
		}
		return nil
	})
}

// question is one query of verify and the answer the store implies.
type question struct {
	name     string
	qtype    uint16
	expected string
}

// questions lists what to ask for name: the CNAME for a hostname target,
// the addresses for an address target or an apex alias.
func questions(name string, target zones.Target, alias *control.AliasStatus) []question {
	var addrs []netip.Addr
	switch {
	case alias != nil && alias.Name == name:
		for _, text := range alias.Addrs {
			if a, err := netip.ParseAddr(text); err == nil {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return []question{{name: name, qtype: dns.TypeA, expected: "SERVFAIL"}}
		}
	case target.IsHost():
		return []question{{name: name, qtype: dns.TypeCNAME, expected: target.Host}}
	default:
		addrs = target.Addrs
	}
	var v4, v6 []string
	for _, a := range addrs {
		if a.Is4() || a.Is4In6() {
			v4 = append(v4, a.Unmap().String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	qs := []question{{name: name, qtype: dns.TypeA, expected: joinOrNone(v4)}}
	if len(v6) > 0 {
		qs = append(qs, question{name: name, qtype: dns.TypeAAAA, expected: joinOrNone(v6)})
	}
	return qs
}

func joinOrNone(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	slices.Sort(list)
	return strings.Join(list, " ")
}

// ask sends the question over UDP (TCP when truncated) and compares. A
// CNAME question is asked as A, as a browser's resolver would, and the
// CNAME owned by the name is compared.
func (q question) ask(client *dns.Client, server string) verifyRow {
	row := verifyRow{Name: q.name, Type: dns.TypeToString[q.qtype], Expected: q.expected}
	r, err := q.exchange(client, server)
	if err != nil {
		row.Served = "error: " + err.Error()
		return row
	}
	row.Served = served(r, q)
	row.OK = row.Served == row.Expected
	return row
}

// exchange asks server the question over UDP, and again over TCP when the
// answer is truncated. A CNAME question is asked as A.
func (q question) exchange(client *dns.Client, server string) (*dns.Msg, error) {
	qtype := q.qtype
	if qtype == dns.TypeCNAME {
		qtype = dns.TypeA
	}
	m := new(dns.Msg)
	m.SetQuestion(q.name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	r, _, err := client.Exchange(m, server)
	if err == nil && r.Truncated {
		r, _, err = (&dns.Client{Net: "tcp", Timeout: client.Timeout}).Exchange(m, server)
	}
	return r, err
}

func served(r *dns.Msg, q question) string {
	if r.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[r.Rcode]
	}
	var found []string
	for _, rr := range r.Answer {
		if !strings.EqualFold(rr.Header().Name, q.name) {
			continue
		}
		switch rr := rr.(type) {
		case *dns.CNAME:
			if q.qtype == dns.TypeCNAME {
				found = append(found, strings.ToLower(rr.Target))
			}
		case *dns.A:
			if q.qtype == dns.TypeA {
				found = append(found, rr.A.String())
			}
		case *dns.AAAA:
			if q.qtype == dns.TypeAAAA {
				found = append(found, rr.AAAA.String())
			}
		}
	}
	return joinOrNone(found)
}

// dialable turns a listen address into one to send queries to: a wildcard
// host becomes loopback.
func dialable(listen string) string {
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
