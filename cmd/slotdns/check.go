package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"
	"github.com/slotdns/slotdns/dnssec"

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
control socket path, the keys of every signed zone, and the database itself
(damaged, or holding apps, slots or zones the config does not declare).
Prints "ok" per zone with its secondaries, and per signed zone with its key
tags, or every problem as file:line: what is wrong. Exit 0 when all is well,
1 otherwise.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: check,
	}
}

// checkResult is check's --json.
type checkResult struct {
	OK     bool   `json:"ok"`
	Config string `json:"config"`
	control.CheckReport
	Signed []signedCheck `json:"signed"` // the signed zones whose keys load
}

// signedCheck is a signed zone whose keys load.
type signedCheck struct {
	Zone   string   `json:"zone"`
	KeyDir string   `json:"key_dir"`
	Keys   []string `json:"keys"` // the base names of the key files, Kexample.com.+013+12345
	Tags   []uint16 `json:"tags"`
	text   string   // "1 key, tag 12345"
}

// checkSigning loads the keys of every signed zone: a zone whose keys do
// not load, or that has none and will not make them, is a problem.
func checkSigning(cfg *config.Config, res *checkResult) {
	for i := range cfg.Zones {
		z := &cfg.Zones[i]
		if z.DNSSEC == nil {
			continue
		}
		where := fmt.Sprintf("%s:%d: zone %s", cfg.Path, z.DNSSEC.Line, z.Origin)
		short := strings.TrimSuffix(z.Origin, ".")
		keys, err := zoneKeys(z)
		switch {
		case err != nil:
			res.Problems = append(res.Problems, oneLine(fmt.Sprintf("%s: its DNSSEC keys do not load: %v", where, err)))
		case len(keys) == 0 && z.DNSSEC.GenerateKeys:
			res.Notes = append(res.Notes, fmt.Sprintf("zone %s has no DNSSEC keys in key_dir %s yet: slotdns serve makes them at start (generate_keys), then slotdns dnssec ds %s prints the DS", z.Origin, z.DNSSEC.KeyDir, short))
		case len(keys) == 0:
			res.Problems = append(res.Problems, fmt.Sprintf("%s is signed, but key_dir %s holds none of its keys; run slotdns dnssec keygen %s, or set generate_keys = true", where, z.DNSSEC.KeyDir, short))
		case len(dsRecords(keys)) == 0:
			res.Problems = append(res.Problems, fmt.Sprintf("%s: its keys in key_dir %s (%s) hold no KSK or CSK, so nothing signs its DNSKEY set and no DS can point at it; add one with dnssec-keygen -f KSK", where, z.DNSSEC.KeyDir, keyList(keys)))
		default:
			sc := signedCheck{Zone: z.Origin, KeyDir: z.DNSSEC.KeyDir, Keys: []string{}, Tags: []uint16{}, text: tagsText(keys)}
			for _, k := range keys {
				sc.Keys = append(sc.Keys, k.BaseName())
				sc.Tags = append(sc.Tags, k.Tag())
			}
			res.Signed = append(res.Signed, sc)
		}
	}
}

func check(c *cli.Context) error {
	if err := localOnly(c, "the config file here"); err != nil {
		return err
	}
	if err := wantArgs(c, 0, 0); err != nil {
		return err
	}
	res := checkResult{Config: c.String("config"), CheckReport: control.CheckReport{Zones: []control.CheckedZone{}, Apps: []string{}, Problems: []string{}, Notes: []string{}}, Signed: []signedCheck{}}
	cfg, err := loadConfig(c)
	if err != nil {
		for _, e := range config.Problems(err) {
			res.Problems = append(res.Problems, oneLine(e.Error()))
		}
	} else {
		res.CheckReport = control.Check(cfg)
		checkSigning(cfg, &res)
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
		for _, s := range res.Signed {
			fmt.Fprintf(w, "%s: zone %s keys ok (%s)\n", s.KeyDir, s.Zone, s.text)
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

// tagsText gives "1 key, tag 12345" or "2 keys, tags 12345 (KSK), 23456
// (ZSK)".
func tagsText(keys []*dnssec.Key) string {
	split := false
	for _, k := range keys {
		split = split || !k.SEP()
	}
	words := make([]string, len(keys))
	for i, k := range keys {
		words[i] = strconv.Itoa(int(k.Tag()))
		if split {
			words[i] += " (" + keyRole(k, split) + ")"
		}
	}
	if len(keys) == 1 {
		return "1 key, tag " + words[0]
	}
	return fmt.Sprintf("%d keys, tags %s", len(keys), strings.Join(words, ", "))
}
