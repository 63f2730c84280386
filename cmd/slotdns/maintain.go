package main

import (
	"fmt"

	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func renameCommand() *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "keep the state of an app or slot renamed in the config",
		ArgsUsage: "OLD NEW",
		UsageText: `slotdns rename OLD NEW
slotdns rename APP/OLD APP/NEW

   slotdns rename shop store              # app "shop" is now "store" in slotdns.toml
   slotdns rename shop/qa shop/preview    # its slot "qa" is now "preview"`,
		Description: `After an app (or a slot of an app) was renamed in the config, serve refuses
to start: it would seed the new name from the config's target, and so
silently undo every swap. rename gives the database's state of OLD, its
targets, version and history, to NEW, which the config must declare and the
database must not hold yet. It works on the database file, with the server
stopped.`,
		Action: func(c *cli.Context) error {
			if err := localOnly(c, "the database file of a stopped server"); err != nil {
				return err
			}
			if err := wantArgs(c, 2, 2); err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			from, to := c.Args().Get(0), c.Args().Get(1)
			if err := control.Rename(cfg, from, to); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "renamed %s to %s in %s\n", from, to, cfg.DB)
			return nil
		},
	}
}

func forgetCommand() *cli.Command {
	return &cli.Command{
		Name:      "forget",
		Usage:     "drop the state of an app, slot or zone removed from the config",
		ArgsUsage: "APP | APP/SLOT | --zone ZONE",
		UsageText: `slotdns forget APP
slotdns forget APP/SLOT
slotdns forget --zone ZONE

   slotdns forget oldshop                 # its targets, history and drain state
   slotdns forget shop/qa
   slotdns forget --zone old.example.`,
		Description: `After an app, a slot or a zone was removed from the config, serve refuses to
start until you say what to do with its state in the database. forget drops
it: an app's targets, history and drain state, a slot's target, or a zone's
serial and journal (a zone that stored apps still name is refused: forget or
rename them first). It works on the database file, with the server stopped;
take a backup first if the history matters.`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "zone", Usage: "the argument is a zone origin"}},
		Action: func(c *cli.Context) error {
			if err := localOnly(c, "the database file of a stopped server"); err != nil {
				return err
			}
			if err := wantArgs(c, 1, 1); err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			name := c.Args().First()
			if err := control.Forget(cfg, name, c.Bool("zone")); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "forgot %s in %s\n", name, cfg.DB)
			return nil
		},
	}
}
