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
		Usage:     "show the slots of every app (or one): names, targets, serial, last change, secondaries, DNSSEC",
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
"draining".

An app in a signed zone shows the zone's DNSSEC: each key (tag, algorithm,
role CSK, KSK or ZSK, what it does now, created, file), the denial (nsec or
nsec3), when the oldest signature expires and the next re-sign is due, how
many signatures the last signing made, the key rollover (stage, next stage,
when it becomes safe and what it waits for), and the DS the parent should
serve. slotdns asks no resolver, so it cannot see the parent's DS: compare
dig +short DS ZONE @<a server of the parent> against slotdns dnssec ds ZONE.
The signatures' times are the server's: without one they are not shown. In
--json it is "dnssec" of each app: {zone, denial, keys: [{tag, algorithm,
role, use, file, created}], oldest_expires, next_resign, signatures_made,
rollover: {kind, old, new, stage, next, safe_at, waiting...}, ds, check_ds}.`,
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
	printDNSSECStatus(w, app.DNSSEC, time.Now())
}

// printDNSSECStatus prints the signing of a signed zone: its keys, its
// signatures, its key rollover and the DS its parent should serve.
func printDNSSECStatus(w io.Writer, d *api.DNSSECStatus, now time.Time) {
	if d == nil {
		return
	}
	fmt.Fprintf(w, "  dnssec: signed, denial %s\n", d.Denial)
	tw := newTable(w)
	fmt.Fprintln(tw, "    KEY\tALGORITHM\tROLE\tUSE\tCREATED\tFILE")
	for _, k := range d.Keys {
		fmt.Fprintf(tw, "    %d\t%s\t%s\t%s\t%s\t%s\n", k.Tag, k.Algorithm, k.Role, k.Use, formatTime(k.Created), text(k.File))
	}
	tw.Flush()
	if d.OldestExpires.IsZero() {
		fmt.Fprintln(w, "    signatures: known to the server alone, shown when one answers")
	} else {
		fmt.Fprintf(w, "    signatures: oldest expires %s (%s), next re-sign %s (%s); the last signing made %d\n",
			formatTime(d.OldestExpires), relative(d.OldestExpires, now), formatTime(d.NextResign), relative(d.NextResign, now), d.SignaturesMade)
	}
	if r := d.Rollover; r != nil {
		fmt.Fprintf(w, "    key rollover: %s, key %d to key %d, stage %s since %s", r.Kind, r.Old, r.New, r.Stage, formatTime(r.Since))
		switch {
		case r.Next == "":
		case r.SafeAt.IsZero():
			fmt.Fprintf(w, "; next %s, waiting for %s", r.Next, r.Waiting)
		default:
			fmt.Fprintf(w, "; next %s, safe at %s (%s), waiting for %s", r.Next, formatTime(r.SafeAt), relative(r.SafeAt, now), r.Waiting)
		}
		fmt.Fprintln(w)
	}
	if len(d.DS) == 0 {
		fmt.Fprintln(w, "    DS the parent should serve: none, no key is in CDS")
	} else {
		fmt.Fprintln(w, "    DS the parent should serve:")
	}
	for _, ds := range d.DS {
		fmt.Fprintf(w, "      %s\n", ds)
	}
	switch {
	case d.Parent != "" && d.DSMatch:
		fmt.Fprintf(w, "    the parent %s, served here, serves that DS\n", d.Parent)
	case d.Parent != "" && len(d.ParentDS) == 0:
		fmt.Fprintf(w, "    the parent %s, served here, serves no DS for %s: add the DS above to its zone file (until then the zone is insecure)\n", d.Parent, d.Zone)
	case d.Parent != "":
		fmt.Fprintf(w, "    the parent %s, served here, serves another DS; put the one above in its zone file in place of:\n", d.Parent)
		for _, ds := range d.ParentDS {
			fmt.Fprintf(w, "      %s\n", ds)
		}
	default:
		fmt.Fprintf(w, "    slotdns asks no resolver, so it cannot see the parent's DS; compare: %s\n", d.CheckDS)
	}
}

// relative says how far t is from now, in whole seconds: "in 6d23h", "now"
// or "2m ago".
func relative(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	switch {
	case d > 0:
		return "in " + shortDuration(d)
	case d < 0:
		return shortDuration(-d) + " ago"
	}
	return "now"
}

// shortDuration writes d in days, hours, minutes and seconds, leaving out
// the units below the two largest: "6d23h", "1h5m", "42s".
func shortDuration(d time.Duration) string {
	units := []struct {
		name string
		size time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	var b strings.Builder
	shown := 0
	for _, u := range units {
		if n := d / u.size; n > 0 && shown < 2 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.size
			shown++
		} else if shown > 0 {
			shown++ // a zero unit between ends the run
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
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
