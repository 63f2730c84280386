package main

import (
	"fmt"

	"github.com/slotdns/slotdns/api"

	"github.com/urfave/cli/v2"
)

func rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "undo the last change of an app, if nothing changed since; or restore the slots of history entry N",
		ArgsUsage: "APP",
		UsageText: `slotdns rollback APP [--to N [--force]] [--reason TEXT] [--wait-secondaries[=TIMEOUT]] [--wait] [--json]

   slotdns rollback yourwebapp
   slotdns rollback yourwebapp --reason "500s after release 42"
   slotdns rollback yourwebapp --to 12          # the slots as entry 12 of slotdns history left them`,
		Description: `Restores the slots as they were before the app's last change (a swap, set
or rollback), in one durable transaction. It refuses, saying why, when the
slots no longer equal what that change left. Only the slots the app has now
count: a slot added to the config since keeps its target, and a forgotten
one is not brought back (for --to N too). Secondaries are reported as for
swap (--wait-secondaries too); --wait waits for the old answer to
leave caches, as for swap.

With --to N it restores the slots as history entry N left them, whatever
changed since, as a new "rollback" entry whose reason names N. It refuses an
N that is not in the history. When that puts another target in production,
the "before" checks of [[app.check]] run against it as for swap, and a
failure refuses the rollback unless --force (recorded in history).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "reason", Usage: "why, recorded in history"},
			&cli.Uint64Flag{Name: "to", Usage: "restore the slots of history entry `N`"},
			&cli.BoolFlag{Name: "force", Usage: "with --to: restore even if a \"before\" check fails (recorded in history)"},
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
	if c.IsSet("to") && c.Uint64("to") == 0 {
		return usagef("--to 0: history entries count from 1; see slotdns history %s", c.Args().First())
	}
	if c.Bool("force") && !c.IsSet("to") {
		return usagef("--force goes with --to N; a plain rollback runs no checks")
	}
	title := func(ch api.Change) string { return fmt.Sprintf("rolled back to before #%d", ch.Seq-1) }
	if to := c.Uint64("to"); to > 0 {
		title = func(api.Change) string { return fmt.Sprintf("rolled back to the slots of #%d", to) }
	}
	return withChange(c, title, func(ctl api.Controller) (api.Change, error) {
		ch, err := ctl.Rollback(c.Context, c.Args().First(), api.RollbackRequest{
			Reason: c.String("reason"), Actor: actor(), To: c.Uint64("to"), Force: c.Bool("force"),
		})
		if results, ok := refusedChecks(err); ok && !c.Bool("json") {
			return ch, reportRefusal(c, err, results)
		}
		return ch, err
	})
}
