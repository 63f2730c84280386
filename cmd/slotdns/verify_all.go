package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/control"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
	"github.com/urfave/cli/v2"
)

// verifyAllTimeout bounds each question to one server of verify --all: a
// server that does not answer shows "no answer" instead of holding the
// matrix up.
const verifyAllTimeout = time.Second

// authServer is one column of verify --all.
type authServer struct {
	Role    string `json:"role"` // "slotdns", "ns" (with its name) or "secondary" or "extra"
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

func (s authServer) label() string {
	if s.Name != "" {
		return fmt.Sprintf("%s %s (%s)", s.Role, s.Name, s.Address)
	}
	return fmt.Sprintf("%s %s", s.Role, s.Address)
}

// matrixCell is one server's answer to one question.
type matrixCell struct {
	Server string `json:"server"`
	Answer string `json:"answer"`
	State  string `json:"state"` // "new", "old", "other" or "no answer"
	TTL    uint32 `json:"ttl"`   // the remaining TTL of the answer
	Error  string `json:"error,omitempty"`
}

type matrixRow struct {
	Name     string       `json:"name"`
	Type     string       `json:"type"`
	Current  string       `json:"current"`
	Previous string       `json:"previous,omitempty"` // the answer before the last change
	Cells    []matrixCell `json:"cells"`
}

type matrixResult struct {
	App     string       `json:"app"`
	OK      bool         `json:"ok"`
	Servers []authServer `json:"servers"`
	Rows    []matrixRow  `json:"rows"`
}

// verifyAll asks every authoritative server of the app's zone for every
// slot name and prints the matrix; it fails when a server answers anything
// but the current answer (a server that does not answer does not fail it).
func verifyAll(c *cli.Context, cfg *control.Config, app control.AppStatus, self string) error {
	servers := authServers(c.Context, cfg, app.Zone, self)
	for _, extra := range c.StringSlice("also") {
		servers = append(servers, authServer{Role: "extra", Address: extra})
	}
	previous := map[string]string{}
	if app.LastChange != nil {
		previous = app.LastChange.Before
	}
	res := matrixResult{App: app.Name, OK: true, Servers: servers, Rows: []matrixRow{}}
	for _, slot := range app.Slots {
		target, err := zones.ParseTarget(slot.Target)
		if err != nil {
			return fmt.Errorf("app %s slot %s: target %q: %w", app.Name, slot.Slot, slot.Target, err)
		}
		var old []question
		if text, ok := previous[slot.Slot]; ok && text != slot.Target {
			if t, err := zones.ParseTarget(text); err == nil {
				old = questionsNoAlias(slot.Names, t)
			}
		}
		for _, name := range slot.Names {
			for _, q := range questions(name, target, slot.Alias) {
				row := matrixRow{Name: q.name, Type: dns.TypeToString[q.qtype], Current: q.expected}
				for _, o := range old {
					if o.name == q.name && o.qtype == q.qtype {
						row.Previous = o.expected
					}
				}
				row.Cells = askAll(servers, q, row.Previous)
				for _, cell := range row.Cells {
					if cell.State != "new" && cell.State != "no answer" {
						res.OK = false
					}
				}
				res.Rows = append(res.Rows, row)
			}
		}
	}
	if c.Bool("json") {
		if err := printJSON(c.App.Writer, res); err != nil {
			return err
		}
	} else {
		printMatrix(c.App.Writer, res)
	}
	if !res.OK {
		if !c.Bool("json") {
			fmt.Fprintf(c.App.ErrWriter, "slotdns: some servers of %s do not serve the current answers of %s\n", app.Zone, app.Name)
		}
		return errReported
	}
	return nil
}

// questionsNoAlias is what names answered for target, without an apex
// alias (whose old addresses are not known).
func questionsNoAlias(names []string, target zones.Target) []question {
	var out []question
	for _, name := range names {
		out = append(out, questions(name, target, nil)...)
	}
	return out
}

// authServers lists slotdns itself, the addresses of the zone's NS set
// (NS names in our zones are resolved through slotdns, others through the
// system resolver) and the zone's configured secondaries, each once.
func authServers(ctx context.Context, cfg *control.Config, zone, self string) []authServer {
	out := []authServer{{Role: "slotdns", Address: self}}
	seen := map[string]bool{self: true}
	add := func(s authServer) {
		if !seen[s.Address] {
			seen[s.Address] = true
			out = append(out, s)
		}
	}
	client := &dns.Client{Net: "udp", Timeout: verifyAllTimeout}
	for _, ns := range lookupNames(client, self, zone, dns.TypeNS) {
		var addrs []string
		if cfg.InOurZones(ns) {
			addrs = append(lookupNames(client, self, ns, dns.TypeA), lookupNames(client, self, ns, dns.TypeAAAA)...)
		} else {
			ctx, cancel := context.WithTimeout(ctx, verifyAllTimeout)
			addrs, _ = net.DefaultResolver.LookupHost(ctx, strings.TrimSuffix(ns, "."))
			cancel()
		}
		for _, a := range addrs {
			add(authServer{Role: "ns", Name: ns, Address: net.JoinHostPort(a, "53")})
		}
	}
	if zc, ok := cfg.Zone(zone); ok {
		for _, sec := range zc.Secondaries {
			add(authServer{Role: "secondary", Address: sec.Address})
		}
	}
	return out
}

// lookupNames asks server for name's records of qtype and returns their
// data: NS targets or addresses.
func lookupNames(client *dns.Client, server, name string, qtype uint16) []string {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	r, _, err := client.Exchange(m, server)
	if err != nil {
		return nil
	}
	var out []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.NS:
			out = append(out, strings.ToLower(rr.Ns))
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	return out
}

// askAll asks every server at once.
func askAll(servers []authServer, q question, previous string) []matrixCell {
	cells := make([]matrixCell, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { cells[i] = askCell(s.Address, q, previous) })
	}
	wg.Wait()
	return cells
}

func askCell(server string, q question, previous string) matrixCell {
	cell := matrixCell{Server: server}
	r, err := q.exchange(&dns.Client{Net: "udp", Timeout: verifyAllTimeout}, server)
	if err != nil {
		cell.State, cell.Answer, cell.Error = "no answer", "-", err.Error()
		return cell
	}
	cell.Answer = served(r, q)
	for i, rr := range r.Answer {
		if i == 0 || rr.Header().Ttl < cell.TTL {
			cell.TTL = rr.Header().Ttl
		}
	}
	switch {
	case cell.Answer == q.expected:
		cell.State = "new"
	case previous != "" && cell.Answer == previous:
		cell.State = "old"
	default:
		cell.State = "other"
	}
	return cell
}

func printMatrix(w io.Writer, res matrixResult) {
	for i, s := range res.Servers {
		fmt.Fprintf(w, "[%d] %s\n", i+1, s.label())
	}
	tw := newTable(w)
	fmt.Fprint(tw, "NAME\tTYPE")
	for i := range res.Servers {
		fmt.Fprintf(tw, "\t[%d]", i+1)
	}
	fmt.Fprintln(tw)
	for _, row := range res.Rows {
		fmt.Fprintf(tw, "%s\t%s", row.Name, row.Type)
		for _, cell := range row.Cells {
			if cell.State == "no answer" {
				fmt.Fprint(tw, "\tno answer")
				continue
			}
			fmt.Fprintf(tw, "\t%s %s %ds", cell.Answer, cell.State, cell.TTL)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
