package main

import (
	"fmt"

	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "undo the last change of an app, if nothing changed since",
		ArgsUsage: "APP",
		UsageText: `slotdns rollback APP [--reason TEXT] [--wait-secondaries[=TIMEOUT]] [--wait] [--json]

   slotdns rollback yourwebapp
   slotdns rollback yourwebapp --reason "500s after release 42"`,
		Description: `Restores the slots as they were before the app's last change (a swap, set
or rollback), in one durable transaction. It refuses, saying why, when the
slots no longer equal what that change left. Secondaries are reported as for
swap (--wait-secondaries too); --wait waits for the old answer to
leave caches, as for swap.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "reason", Usage: "why, recorded in history"},
			waitSecondariesFlag(),
			waitFlag(),
			jsonFlag(),
		},
		Action: rollback,
	}
}

func rollback(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	title := func(ch control.Change) string { return fmt.Sprintf("rolled back to before #%d", ch.Seq-1) }
	return withChange(c, title, func(ctl control.Controller) (control.Change, error) {
		return ctl.Rollback(c.Context, c.Args().First(), control.RollbackRequest{Reason: c.String("reason"), Actor: actor()})
	})
}
