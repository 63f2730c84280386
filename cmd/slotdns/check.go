package main

import (
	"fmt"
	"strings"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "validate the config and zone files without starting anything",
		UsageText: `slotdns check [--config slotdns.toml] [--json]

   slotdns check
   slotdns --config /etc/slotdns/slotdns.toml check`,
		Description: `Finds everything serve would refuse, without starting or writing anything:
the config, the tsig_keys file, every zone file, the database folder and the
control socket path, and the database itself (damaged, or holding apps,
slots or zones the config does not declare). Prints "ok" per zone with its
secondaries, or every problem as file:line: what is wrong. Exit 0 when all
is well, 1 otherwise.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: check,
	}
}

// checkResult is check's --json.
type checkResult struct {
	OK     bool   `json:"ok"`
	Config string `json:"config"`
	control.CheckReport
}

func check(c *cli.Context) error {
	if err := localOnly(c, "the config file here"); err != nil {
		return err
	}
	if err := wantArgs(c, 0, 0); err != nil {
		return err
	}
	res := checkResult{Config: c.String("config"), CheckReport: control.CheckReport{Zones: []control.CheckedZone{}, Apps: []string{}, Problems: []string{}, Notes: []string{}}}
	cfg, err := loadConfig(c)
	if err != nil {
		for _, e := range config.Problems(err) {
			res.Problems = append(res.Problems, oneLine(e.Error()))
		}
	} else {
		res.CheckReport = control.Check(cfg)
	}
	res.OK = len(res.Problems) == 0
	w := c.App.Writer
	switch {
	case c.Bool("json"):
		if err := printJSON(w, res); err != nil {
			return err
		}
	case res.OK:
		for _, z := range res.Zones {
			fmt.Fprintf(w, "%s: zone %s ok (serial %d, %d records", z.File, z.Origin, z.Serial, z.Records)
			if len(z.Secondaries) > 0 {
				fmt.Fprintf(w, "; secondaries %s", strings.Join(z.Secondaries, ", "))
			}
			fmt.Fprintln(w, ")")
		}
		for _, n := range res.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		fmt.Fprintf(w, "%s: ok (%d zones, %d apps)\n", res.Config, len(res.Zones), len(res.Apps))
	default:
		for _, p := range res.Problems {
			fmt.Fprintln(c.App.ErrWriter, p)
		}
		for _, n := range res.Notes {
			fmt.Fprintf(c.App.ErrWriter, "note: %s\n", n)
		}
	}
	if !res.OK {
		return errReported
	}
	return nil
}
