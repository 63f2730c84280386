package main

import (
	"fmt"

	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func swapCommand() *cli.Command {
	return &cli.Command{
		Name:      "swap",
		Usage:     "exchange the targets of two slots (staging and production) in one step",
		ArgsUsage: "APP",
		UsageText: `slotdns swap APP [--slot staging --with production] [--reason TEXT] [--expect TARGET] [--wait-secondaries[=TIMEOUT]] [--json]

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
naming the secondaries that do not serve the new serial by then.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "slot", Value: "staging", Usage: "one slot of the swap"},
			&cli.StringFlag{Name: "with", Value: "production", Usage: "the other slot of the swap"},
			&cli.StringFlag{Name: "reason", Usage: "why, recorded in history"},
			&cli.StringFlag{Name: "expect", Usage: "swap only if --slot's current target is `TARGET`"},
			waitSecondariesFlag(),
			jsonFlag(),
		},
		Action: swap,
	}
}

func swap(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	title := func(control.Change) string {
		return fmt.Sprintf("swapped %s and %s", c.String("slot"), c.String("with"))
	}
	return withChange(c, title, func(ctl control.Controller) (control.Change, error) {
		return ctl.Swap(c.Context, c.Args().First(), control.SwapRequest{
			Slot: c.String("slot"), With: c.String("with"), Reason: c.String("reason"),
			Expect: c.String("expect"), Actor: actor(),
		})
	})
}
