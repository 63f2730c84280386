package main

import (
	"fmt"
	"io"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"
	"github.com/slotdns/slotdns/probe"

	"github.com/miekg/dns"
	"github.com/urfave/cli/v2"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "query the server for every slot name like dig and compare with the store",
		ArgsUsage: "APP",
		UsageText: `slotdns verify APP [--dns HOST:PORT] [--all [--also HOST:PORT]...] [--json]

   slotdns verify yourwebapp
   slotdns verify yourwebapp --dns 127.0.0.1:1053
   slotdns verify yourwebapp --all`,
		Description: `Asks the DNS server over UDP, as dig would, for every name of every slot of
APP: A (and AAAA where the target has IPv6 addresses) for address targets and
the zone apex, and for hostname targets the CNAME, which must equal the
target. Prints a table and exits 1 when any answer differs from the store.

With --all it asks every authoritative server of the zone: slotdns (--dns),
the addresses of the zone's NS set (NS names in our zones resolved through
slotdns, others through the system resolver), the configured secondaries,
and each --also server, each for up to 1s. It prints a matrix, question by
server: the answer, "new" (the store's), "old" (before the last change) or
"other", and its remaining TTL, or "no answer". It exits 1 when a server
answers anything but the current answer. Documentation addresses (RFC 5737,
RFC 3849), such as the demo zone's NS addresses, are never asked: they are
listed as skipped.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dns", Usage: "DNS server to ask, `HOST:PORT` (default: the first listen address; with --server, that port on the server's host)"},
			&cli.BoolFlag{Name: "all", Usage: "ask every authoritative server of the zone and print a matrix"},
			&cli.StringSliceFlag{Name: "also", Usage: "with --all: ask this server too, `HOST:PORT` (repeatable)"},
			jsonFlag(),
		},
		Action: verify,
	}
}

func verify(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	return withController(c, control.ReadOnly, func(cfg *config.Config, ctl api.Controller, _ bool) error {
		app, err := ctl.App(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		server := c.String("dns")
		if server == "" {
			server = probe.Dialable(cfg.Listen[0])
		}
		if c.Bool("all") {
			return verifyAll(c, app, server)
		}
		res, err := probe.Verify(c.Context, server, app)
		if err != nil {
			return err
		}
		return report(c, res, res.OK, func(w io.Writer) { printRows(w, res) },
			fmt.Sprintf("%s answers from %s differ from the store", app.Name, server))
	})
}

// report prints res as JSON or with text, and fails with the message
// when it is not ok.
func report(c *cli.Context, res any, ok bool, text func(io.Writer), failure string) error {
	if c.Bool("json") {
		if err := printJSON(c.App.Writer, res); err != nil {
			return err
		}
	} else {
		text(c.App.Writer)
	}
	if ok {
		return nil
	}
	if !c.Bool("json") {
		fmt.Fprintf(c.App.ErrWriter, "slotdns: %s\n", failure)
	}
	return errReported
}

func printRows(w io.Writer, res probe.Result) {
	tw := newTable(w)
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

// verifyAll asks every authoritative server of the app's zone for every
// slot name and prints the matrix; it fails when a server answers anything
// but the current answer (a server that does not answer does not fail it).
func verifyAll(c *cli.Context, app api.AppStatus, self string) error {
	// The status names the zone's secondaries; which names are ours is
	// the config's, or a remote server's zones.
	var secondaries []string
	for _, sec := range app.Secondaries {
		secondaries = append(secondaries, sec.Address)
	}
	inOurZones, err := ourZones(c)
	if err != nil {
		return err
	}
	servers, skipped := probe.AuthServers(c.Context, self, app.Zone, secondaries, inOurZones)
	for _, extra := range c.StringSlice("also") {
		servers = append(servers, probe.Server{Role: probe.RoleExtra, Address: extra})
	}
	res, err := probe.VerifyAll(c.Context, servers, skipped, app)
	if err != nil {
		return err
	}
	return report(c, res, res.OK, func(w io.Writer) { printMatrix(w, res) },
		fmt.Sprintf("some servers of %s do not serve the current answers of %s", app.Zone, app.Name))
}

func printMatrix(w io.Writer, res probe.Matrix) {
	for i, s := range res.Servers {
		fmt.Fprintf(w, "[%d] %s\n", i+1, s)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "skipped %s\n", s)
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
			if cell.State == probe.StateNoAnswer {
				fmt.Fprint(tw, "\tno answer")
				continue
			}
			fmt.Fprintf(tw, "\t%s %s %ds", cell.Answer, cell.State, cell.TTL)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// ourZones reports whether a name lies in a zone slotdns serves.
func ourZones(c *cli.Context) (func(string) bool, error) {
	if !remote(c) {
		cfg, err := loadConfig(c)
		if err != nil {
			return nil, err
		}
		return cfg.InOurZones, nil
	}
	client, err := remoteClient(c)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	info, err := client.Server(c.Context)
	if err != nil {
		return nil, err
	}
	return func(name string) bool {
		for _, z := range info.Zones {
			if dns.IsSubDomain(z, name) {
				return true
			}
		}
		return false
	}, nil
}
