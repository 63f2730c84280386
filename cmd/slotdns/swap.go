package main

import (
	"fmt"
	"io"

	"github.com/slotdns/slotdns/api"

	"github.com/urfave/cli/v2"
)

func swapCommand() *cli.Command {
	return &cli.Command{
		Name:      "swap",
		Usage:     "exchange the targets of two slots (staging and production) in one step",
		ArgsUsage: "APP",
		UsageText: `slotdns swap APP [--slot staging --with production] [--reason TEXT] [--expect TARGET] [--force] [--no-wait-checks] [--wait-secondaries[=TIMEOUT]] [--wait] [--json]

   slotdns swap yourwebapp
   slotdns swap yourwebapp --reason "release 42"
   slotdns swap yourwebapp --expect green-def.cloudapp.net.   # a retried pipeline cannot swap twice
   slotdns swap yourwebapp --slot qa --with staging
   slotdns swap yourwebapp --wait-secondaries=1m              # return once every secondary serves it`,
		Description: `Exchanges the targets of two slots in one durable transaction and bumps the
zone's SOA serial; the very next query gets the new answers. Prints the slots
before and after, the new serial, and the time by which every cache holding
the old answer has expired it. Swapping again swaps back. With --expect the
swap happens only if --slot currently points at TARGET.

With secondaries configured for the zone, it then reports per secondary the
serial it serves, asked over DNS for up to 2s: "serves N after 45ms" or
"still serves N-1 after 2s"; that does not fail the command. With
--wait-secondaries it waits up to TIMEOUT (30s when given alone) and exits 1
naming the secondaries that do not serve the new serial by then.

With [[app.check]] in the config, the "before" checks run first against
--slot's target, with the production name (--with's first name) as Host and
TLS SNI; if one fails the swap is refused with the results and exit 1,
unless --force (recorded in history). A second swap of the app is refused
while the first runs its checks. After the swap the "after" checks run
against production for their window; if one fails, slotdns rolls the swap
back by itself and this command reports it and exits 1. --no-wait-checks
returns right after the swap and leaves the window to the server
(slotdns status shows its outcome).

With --wait it then waits until caches that honour TTLs have dropped the old
answer (the drain clock, from the TTLs served): a bar on a terminal, a line
every 5s otherwise; with --json it prints the instant once it has passed.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "slot", Value: "staging", Usage: "one slot of the swap"},
			&cli.StringFlag{Name: "with", Value: "production", Usage: "the other slot of the swap"},
			&cli.StringFlag{Name: "reason", Usage: "why, recorded in history"},
			&cli.StringFlag{Name: "expect", Usage: "swap only if --slot's current target is `TARGET`"},
			&cli.BoolFlag{Name: "force", Usage: "swap even if a \"before\" check fails (recorded in history)"},
			&cli.BoolFlag{Name: "no-wait-checks", Usage: "return after the swap; the server runs the \"after\" checks alone"},
			waitSecondariesFlag(),
			waitFlag(),
			jsonFlag(),
		},
		Action: swap,
	}
}

func swap(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	title := func(api.Change) string {
		return fmt.Sprintf("swapped %s and %s", c.String("slot"), c.String("with"))
	}
	var done api.Change
	err := withChange(c, title, func(ctl api.Controller) (api.Change, error) {
		ch, err := ctl.Swap(c.Context, c.Args().First(), api.SwapRequest{
			Slot: c.String("slot"), With: c.String("with"), Reason: c.String("reason"),
			Expect: c.String("expect"), Actor: actor(),
			Force: c.Bool("force"), NoWaitChecks: c.Bool("no-wait-checks"),
		})
		if results, ok := refusedChecks(err); ok && !c.Bool("json") {
			return ch, reportRefusal(c, err, results)
		}
		done = ch
		return ch, err
	})
	if done.Seq == 0 || c.Bool("json") {
		if err == nil {
			err = windowOutcome(done)
		}
		return err
	}
	w := c.App.Writer
	printChecks(w, "", done.Checks)
	if done.Forced {
		fmt.Fprintln(w, "forced past the failing checks; history records it")
	}
	printChecks(w, "", done.AfterChecks)
	if rb := done.RolledBack; rb != nil {
		printRolledBack(w, done.App, c.String("with"), rb)
	}
	if sup := done.Superseded; sup != nil {
		fmt.Fprintf(w, "%s: the after checks stopped early: #%d (%s by %s) changed the slots during their window; this swap's checks did not pass a whole window\n",
			done.App, sup.Seq, sup.Kind, text(sup.Actor))
	}
	if err == nil {
		err = windowOutcome(done)
	}
	return err
}

// windowOutcome is the exit of a swap whose "after" window ended badly:
// rolled back by slotdns (1), or cut short by a later change (3).
func windowOutcome(ch api.Change) error {
	switch {
	case ch.RolledBack != nil:
		return errReported
	case ch.Superseded != nil:
		return reported{exitConflict}
	}
	return nil
}

// reportRefusal prints a change refused by its checks: the results on
// stdout, then the reason.
func reportRefusal(c *cli.Context, err error, results []api.CheckResult) error {
	w := c.App.Writer
	fmt.Fprintf(w, "%s: %s refused by its checks\n", c.Args().First(), c.Command.Name)
	printChecks(w, "", results)
	return err
}

func printRolledBack(w io.Writer, app, production string, rb *api.Entry) {
	fmt.Fprintf(w, "%s: rolled back by slotdns (#%d): %s\n", app, rb.Seq, rb.Reason)
	fmt.Fprintf(w, "%s serves %s again (SOA serial %d)\n", production, rb.After[production], rb.Serial)
}
