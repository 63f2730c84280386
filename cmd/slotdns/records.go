package main

import (
	"fmt"
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func recordsCommand() *cli.Command {
	return &cli.Command{
		Name:      "records",
		Usage:     "list the records DNS UPDATE added to a zone, with who added them and when",
		ArgsUsage: "ZONE",
		UsageText: `slotdns records ZONE [--history] [--json]
   slotdns records rm ZONE NAME [TYPE] [--reason TEXT]
   slotdns records rm ZONE --all

   slotdns records yourwebapp.com
   slotdns records rm yourwebapp.com _acme-challenge.www TXT`,
		Description: `Dynamic records are those DNS UPDATE (RFC 2136) wrote, laid over the zone
file: the records it added, and the zone file's records it took away (where a
[[zone.update]] policy has file_records = true). They live in the database and
survive restarts and reloads. --history lists every update and removal of the
zone, oldest first.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "history", Usage: "list the zone's updates instead: time, key, serial, RRsets before and after"},
			&cli.IntFlag{Name: "limit", Usage: "with --history, only the last `N` (0: all)"},
			jsonFlag(),
		},
		Action:       listRecords,
		OnUsageError: onUsageError,
		Subcommands: []*cli.Command{{
			Name:      "rm",
			Usage:     "remove dynamic records through the change pipeline: new serial, IXFR, NOTIFY, history",
			ArgsUsage: "ZONE NAME [TYPE]",
			Description: `Removes the dynamic records at NAME (relative to the zone, "@" for the apex,
or a name with a trailing dot), only those of TYPE when given, or with --all
every one of the zone. The RRsets go back to what the zone file holds: a record
of the file that an update took away is served again.`,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "all", Usage: "remove every dynamic record of the zone"},
				&cli.StringFlag{Name: "reason", Usage: "why, for the history"},
				jsonFlag(),
			},
			Action:       removeRecords,
			OnUsageError: onUsageError,
		}},
	}
}

func listRecords(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	zone := c.Args().First()
	if c.Int("limit") < 0 {
		return usagef("records: --limit %d: want 0 (all) or more", c.Int("limit"))
	}
	return withController(c, control.ReadRecords, func(_ *config.Config, ctl api.Controller, _ bool) error {
		if c.Bool("history") {
			return recordsHistory(c, ctl, zone)
		}
		res, err := ctl.Records(c.Context, zone)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(c.App.Writer, res)
		}
		if len(res.Records) == 0 {
			fmt.Fprintf(c.App.Writer, "%s: no dynamic records\n", res.Zone)
			return nil
		}
		tw := newTable(c.App.Writer)
		fmt.Fprintln(tw, "NAME\tTYPE\tRECORD\tBY\tSINCE")
		for _, r := range res.Records {
			record := strings.Join(strings.Fields(r.RR)[4:], " ")
			if r.Removed {
				record = "(removed from the zone file) " + record
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Type, record, text(r.Actor), formatTime(r.Added))
		}
		return tw.Flush()
	})
}

func recordsHistory(c *cli.Context, ctl api.Controller, zone string) error {
	entries, err := ctl.History(c.Context, "zone:"+zone, c.Int("limit"))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(c.App.Writer, "%s: no updates yet\n", zone)
		return nil
	}
	tw := newTable(c.App.Writer)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tKIND\tSERIAL\tCHANGE\tREASON")
	for _, e := range entries {
		var parts []string
		for _, set := range sortedKeys(e.Before, e.After) {
			parts = append(parts, fmt.Sprintf("%s: %s -> %s", set, orDash(oneLine(e.Before[set])), orDash(oneLine(e.After[set]))))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Seq, formatTime(e.Time), text(e.Actor), e.Kind, e.Serial, strings.Join(parts, "; "), text(e.Reason))
	}
	return tw.Flush()
}

func removeRecords(c *cli.Context) error {
	all := c.Bool("all")
	least, most := 2, 3
	if all {
		least, most = 1, 1
	}
	if err := wantArgs(c, least, most); err != nil {
		return err
	}
	req := api.RemoveRecordsRequest{All: all, Name: c.Args().Get(1), Type: c.Args().Get(2), Reason: c.String("reason"), Actor: actor()}
	return withController(c, control.Change, func(_ *config.Config, ctl api.Controller, _ bool) error {
		res, err := ctl.RemoveRecords(c.Context, c.Args().First(), req)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(c.App.Writer, res)
		}
		if len(res.Removed) == 0 {
			fmt.Fprintf(c.App.Writer, "%s: no such dynamic records; nothing changed\n", res.Zone)
			return nil
		}
		for _, r := range res.Removed {
			fmt.Fprintf(c.App.Writer, "removed %s\n", r.RR)
		}
		fmt.Fprintf(c.App.Writer, "%s: serial %d (update history %d)\n", res.Zone, res.Serial, res.Seq)
		return nil
	})
}
