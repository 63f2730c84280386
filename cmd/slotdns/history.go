package main

import (
	"fmt"
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "list the changes of an app: time, actor, reason, before/after, serial",
		ArgsUsage: "APP",
		UsageText: `slotdns history APP [--limit N] [--json]

   slotdns history yourwebapp
   slotdns history yourwebapp --limit 5 --json`,
		Description: `Lists every change of the app, oldest first, numbered without gaps: when,
who, why, what each changed slot pointed at before and after, and the zone's
SOA serial after it.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "limit", Usage: "show only the last `N` changes (0: all)"},
			jsonFlag(),
		},
		Action: history,
	}
}

func history(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	if c.Int("limit") < 0 {
		return usagef("history: --limit %d: want 0 (all) or more", c.Int("limit"))
	}
	return withController(c, control.ReadRecords, func(_ *config.Config, ctl api.Controller, _ bool) error {
		entries, err := ctl.History(c.Context, c.Args().First(), c.Int("limit"))
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(c.App.Writer, entries)
		}
		if len(entries) == 0 {
			fmt.Fprintf(c.App.Writer, "%s: no changes yet\n", c.Args().First())
			return nil
		}
		tw := newTable(c.App.Writer)
		fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tKIND\tSERIAL\tCHANGE\tREASON")
		for _, e := range entries {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Seq, formatTime(e.Time), text(e.Actor), e.Kind, e.Serial, describeChange(e), text(e.Reason))
		}
		return tw.Flush()
	})
}

// describeChange lists the slots an entry changed: "staging a -> b".
func describeChange(e api.Entry) string {
	var parts []string
	for _, slot := range sortedKeys(e.Before, e.After) {
		if e.Before[slot] != e.After[slot] {
			parts = append(parts, fmt.Sprintf("%s %s -> %s", slot, orDash(e.Before[slot]), orDash(e.After[slot])))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}
