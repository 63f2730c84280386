package main

import (
	"fmt"
	"strings"

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
		Description: `Reads the config, the tsig_keys file and every zone file it names, as serve
would, and prints "ok" per zone with its secondaries, or every problem as
file:line: what is wrong (a key file others may read, a secondary naming an
unknown key...). Exit 0 when all
is well, 1 otherwise.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: check,
	}
}

type checkZone struct {
	Origin      string   `json:"origin"`
	File        string   `json:"file"`
	Serial      uint32   `json:"serial"`
	Records     int      `json:"records"`
	Secondaries []string `json:"secondaries"` // host:port
}

type checkResult struct {
	OK       bool        `json:"ok"`
	Config   string      `json:"config"`
	Zones    []checkZone `json:"zones"`
	Apps     []string    `json:"apps"`
	Problems []string    `json:"problems"`
}

func check(c *cli.Context) error {
	if err := wantArgs(c, 0, 0); err != nil {
		return err
	}
	res := checkResult{Config: c.String("config"), Zones: []checkZone{}, Apps: []string{}, Problems: []string{}}
	cfg, err := loadConfig(c)
	if err != nil {
		for _, e := range flattenErrors(err) {
			res.Problems = append(res.Problems, oneLine(e.Error()))
		}
	} else {
		res.OK = true
		for _, z := range cfg.Zones {
			cz := checkZone{Origin: z.Origin, File: z.File, Serial: soaSerial(z), Records: len(z.Zone.Records), Secondaries: []string{}}
			for _, sec := range z.Secondaries {
				cz.Secondaries = append(cz.Secondaries, sec.Address)
			}
			res.Zones = append(res.Zones, cz)
		}
		for _, a := range cfg.Apps {
			res.Apps = append(res.Apps, a.Name)
		}
	}
	w := c.App.Writer
	if c.Bool("json") {
		if err := printJSON(w, res); err != nil {
			return err
		}
	} else if res.OK {
		for _, z := range res.Zones {
			fmt.Fprintf(w, "%s: zone %s ok (serial %d, %d records", z.File, z.Origin, z.Serial, z.Records)
			if len(z.Secondaries) > 0 {
				fmt.Fprintf(w, "; secondaries %s", strings.Join(z.Secondaries, ", "))
			}
			fmt.Fprintln(w, ")")
		}
		fmt.Fprintf(w, "%s: ok (%d zones, %d apps)\n", res.Config, len(res.Zones), len(res.Apps))
	} else {
		for _, p := range res.Problems {
			fmt.Fprintln(c.App.ErrWriter, p)
		}
	}
	if !res.OK {
		return errReported
	}
	return nil
}

func soaSerial(z control.ZoneConfig) uint32 {
	if z.Zone == nil || z.Zone.SOA == nil {
		return 0
	}
	return z.Zone.SOA.Serial
}
