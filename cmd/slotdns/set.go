package main

import (
	"fmt"

	"github.com/slotdns/slotdns/api"

	"github.com/urfave/cli/v2"
)

func setCommand() *cli.Command {
	return &cli.Command{
		Name:      "set",
		Usage:     "point a slot at a new deployment",
		ArgsUsage: "APP SLOT TARGET",
		UsageText: `slotdns set APP SLOT TARGET [--reason TEXT] [--expect TARGET] [--wait-secondaries[=TIMEOUT]] [--wait] [--json]

   slotdns set yourwebapp staging test3.cloudapp.net.
   slotdns set yourwebapp staging "192.0.2.10, 2001:db8::10"   # a hostname ends with its dot; addresses do not
   slotdns set yourwebapp staging test4.cloudapp.net. --expect test3.cloudapp.net.`,
		Description: `Points SLOT at TARGET, a hostname (answered as CNAME, or as its addresses at
the zone apex) or a list of IP addresses, in one durable transaction; the
other slots keep serving. With --expect it happens only if SLOT currently
points at that target. Secondaries are reported as for swap
(--wait-secondaries too); --wait waits for the old answer to
leave caches, as for swap.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "reason", Usage: "why, recorded in history"},
			&cli.StringFlag{Name: "expect", Usage: "set only if the slot's current target is `TARGET`"},
			waitSecondariesFlag(),
			waitFlag(),
			jsonFlag(),
		},
		Action: set,
	}
}

func set(c *cli.Context) error {
	if err := wantArgs(c, 3, 3); err != nil {
		return err
	}
	app, slot, target := c.Args().Get(0), c.Args().Get(1), c.Args().Get(2)
	title := func(ch api.Change) string { return fmt.Sprintf("set %s to %s", slot, ch.After[slot]) }
	return withChange(c, title, func(ctl api.Controller) (api.Change, error) {
		return ctl.Set(c.Context, app, slot, api.SetRequest{
			Target: target, Reason: c.String("reason"), Expect: c.String("expect"), Actor: actor(),
		})
	})
}
