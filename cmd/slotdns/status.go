package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show the slots of every app (or one): names, targets, serial, last change, secondaries",
		ArgsUsage: "[APP]",
		UsageText: `slotdns status [APP] [--json]

   slotdns status
   slotdns status yourwebapp --json`,
		Description: `Shows each slot's names and the target they answer with, the zone's SOA
serial and the last change. A slot whose stored target differs from the
config's target says so: the config only seeds the store, the store is the
truth. An apex alias shows the addresses it serves and whether they are
stale. Each secondary of the app's zone shows the serial it serves (asked
over DNS), how many serials it lags behind, and the last NOTIFY sent to it
with its answer. In --json they are "secondaries" of each app:
{address, key, serial, lag, error, last_notify: {time, serial, answer,
acked, attempts}}.

"draining: old answers expire in 12s (at 14:32:05)" counts down until caches
that honour TTLs have dropped the answers served before the last change (see
the README's drain clock), then "drained"; --json has "drained_at" and
"draining".`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: status,
	}
}

func status(c *cli.Context) error {
	if err := wantArgs(c, 0, 1); err != nil {
		return err
	}
	return withController(c, control.ReadOnly, func(_ *config.Config, ctl api.Controller, _ bool) error {
		if name := c.Args().First(); name != "" {
			app, err := ctl.App(c.Context, name)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(c.App.Writer, app)
			}
			printStatus(c.App.Writer, app)
			return nil
		}
		apps, err := ctl.Apps(c.Context)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(c.App.Writer, apps)
		}
		for i, app := range apps {
			if i > 0 {
				fmt.Fprintln(c.App.Writer)
			}
			printStatus(c.App.Writer, app)
		}
		return nil
	})
}

func printStatus(w io.Writer, app api.AppStatus) {
	fmt.Fprintf(w, "%s  zone %s  serial %d  version %d  ttl %ds\n", app.Name, app.Zone, app.Serial, app.Version, app.TTL)
	if !app.Stored {
		fmt.Fprintln(w, "  not in the database yet: the config's targets, as a start would seed them")
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "  SLOT\tNAMES\tTARGET\tCONFIG")
	for _, s := range app.Slots {
		config := "same"
		switch {
		case s.ConfigTarget == "":
			config = "not in config, not served"
		case s.Differs:
			config = "differs: " + s.ConfigTarget
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Slot, strings.Join(s.Names, " "), s.Target, config)
	}
	tw.Flush()
	for _, s := range app.Slots {
		a := s.Alias
		if a == nil {
			continue
		}
		addrs := strings.Join(a.Addrs, " ")
		if addrs == "" {
			addrs = "no addresses (SERVFAIL)"
		}
		fmt.Fprintf(w, "  apex alias %s -> %s: %s, ttl %ds", a.Name, a.Target, addrs, a.TTL)
		switch {
		case a.InZone:
			fmt.Fprint(w, ", from our zones")
		case a.Stale:
			fmt.Fprintf(w, ", resolved %s, stale", formatTime(a.Resolved))
		default:
			fmt.Fprintf(w, ", resolved %s", formatTime(a.Resolved))
		}
		fmt.Fprintln(w)
	}
	for _, sec := range app.Secondaries {
		printSecondaryStatus(w, sec)
	}
	if e := app.LastChange; e != nil {
		fmt.Fprintf(w, "  last change #%d %s at %s by %s", e.Seq, e.Kind, formatTime(e.Time), text(e.Actor))
		if e.Reason != "" {
			fmt.Fprintf(w, ": %s", text(e.Reason))
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "  no changes yet")
	}
	printDrain(w, app, time.Now())
	if e := app.LastAutoRollback; e != nil {
		fmt.Fprintf(w, "  last automatic rollback #%d at %s: %s\n", e.Seq, formatTime(e.Time), text(e.Reason))
	}
	printChecks(w, "  ", app.Checks)
}

func printSecondaryStatus(w io.Writer, sec api.SecondaryStatus) {
	fmt.Fprintf(w, "  secondary %s", sec.Address)
	if sec.Key != "" {
		fmt.Fprintf(w, " (key %s)", sec.Key)
	}
	if sec.Error != "" {
		fmt.Fprintf(w, ": no answer: %s", sec.Error)
	} else {
		fmt.Fprintf(w, ": serves %d, lag %d", sec.Serial, sec.Lag)
	}
	switch n := sec.LastNotify; {
	case n == nil:
		fmt.Fprint(w, "; no NOTIFY sent yet")
	case n.Acked:
		fmt.Fprintf(w, "; last NOTIFY %s serial %d: %s", formatTime(n.Time), n.Serial, n.Answer)
	default:
		fmt.Fprintf(w, "; last NOTIFY %s serial %d unanswered after %d attempts: %s", formatTime(n.Time), n.Serial, n.Attempts, n.Answer)
	}
	fmt.Fprintln(w)
}
