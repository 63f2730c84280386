package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"
	"github.com/slotdns/slotdns/probe"

	"github.com/urfave/cli/v2"
)

const (
	// reportSecondariesFor is how long a change's output waits for the
	// secondaries without --wait-secondaries; it never fails on them.
	reportSecondariesFor = 2 * time.Second
	// defaultWaitSecondaries is --wait-secondaries given without a value.
	defaultWaitSecondaries = 30 * time.Second
)

// waitSecondariesFlag is --wait-secondaries[=TIMEOUT]; reorderArgs gives
// it its optional value.
func waitSecondariesFlag() cli.Flag {
	return &cli.StringFlag{
		Name:  "wait-secondaries",
		Usage: "wait until every secondary serves the new serial, up to `TIMEOUT` (--wait-secondaries alone: 30s), and fail naming those that do not",
	}
}

// secondaryWait is how a change reports its secondaries.
type secondaryWait struct {
	timeout time.Duration
	strict  bool // --wait-secondaries: fail when one does not serve the serial
}

// parseSecondaryWait reads --wait-secondaries before the change is made, so
// that a bad value changes nothing.
func parseSecondaryWait(c *cli.Context) (secondaryWait, error) {
	if !c.IsSet("wait-secondaries") {
		return secondaryWait{timeout: reportSecondariesFor}, nil
	}
	text := c.String("wait-secondaries")
	if text == "" {
		return secondaryWait{timeout: defaultWaitSecondaries, strict: true}, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil || d <= 0 {
		return secondaryWait{}, usagef("--wait-secondaries=%s: want a duration such as 30s or 2m", text)
	}
	return secondaryWait{timeout: d, strict: true}, nil
}

// withChange loads the config, connects and runs a change, then reports
// the secondaries of the changed zone: printed as text after the change,
// or in its JSON.
func withChange(c *cli.Context, title func(api.Change) string, change func(api.Controller) (api.Change, error)) error {
	wait, err := parseSecondaryWait(c)
	if err != nil {
		return err
	}
	return withController(c, control.Change, func(cfg *config.Config, ctl api.Controller, direct bool) error {
		if direct && wait.strict {
			return fmt.Errorf("--wait-secondaries: no server runs on %s to tell the secondaries; start slotdns serve, or leave the flag out", cfg.Control)
		}
		ch, err := change(ctl)
		if err != nil {
			return err
		}
		if direct {
			ch.Secondaries = []api.SecondaryResult{}
		} else {
			var addrs []string
			for _, sec := range ch.Secondaries {
				addrs = append(addrs, sec.Address)
			}
			ch.Secondaries = probe.WaitSerial(c.Context, addrs, ch.Zone, ch.Serial, wait.timeout)
		}
		w := c.App.Writer
		if c.Bool("json") {
			// --wait --json prints the instant once it has passed.
			if c.Bool("wait") {
				if err := waitDrained(c.Context, w, ch.Time, ch.DrainedAt, true); err != nil {
					return err
				}
			}
			if err := printJSON(w, ch); err != nil {
				return err
			}
		} else {
			printChange(w, title(ch), ch)
			if direct {
				printUntold(w, cfg, ch)
			}
			printSecondaries(w, ch.Secondaries, wait.timeout)
			if c.Bool("wait") {
				if err := waitDrained(c.Context, w, ch.Time, ch.DrainedAt, false); err != nil {
					return err
				}
			}
		}
		return checkSecondaries(ch, wait)
	})
}

// printUntold says that without a server nobody told the secondaries.
func printUntold(w io.Writer, cfg *config.Config, ch api.Change) {
	zc, ok := cfg.Zone(ch.Zone)
	if !ok {
		return
	}
	for _, sec := range zc.Secondaries {
		fmt.Fprintf(w, "secondary %s: not told, no server runs; it is sent serial %d when the server starts\n", sec.Address, ch.Serial)
	}
}

func printSecondaries(w io.Writer, results []api.SecondaryResult, timeout time.Duration) {
	for _, r := range results {
		switch {
		case r.OK:
			fmt.Fprintf(w, "secondary %s: serves %d after %s\n", r.Address, r.Serial, time.Duration(r.AfterMS)*time.Millisecond)
		case r.Serial != 0:
			fmt.Fprintf(w, "secondary %s: still serves %d after %s\n", r.Address, r.Serial, timeout)
		default:
			fmt.Fprintf(w, "secondary %s: no answer after %s: %s\n", r.Address, timeout, r.Error)
		}
	}
}

// checkSecondaries fails a --wait-secondaries change whose serial some
// secondary does not serve.
func checkSecondaries(ch api.Change, wait secondaryWait) error {
	if !wait.strict {
		return nil
	}
	var late []string
	for _, r := range ch.Secondaries {
		if !r.OK {
			late = append(late, r.Address)
		}
	}
	if len(late) == 0 {
		return nil
	}
	return fmt.Errorf("%s of %s is done (serial %d), but %s did not serve it within %s",
		ch.Kind, ch.App, ch.Serial, plural(late, "secondary", "secondaries"), wait.timeout)
}

func plural(names []string, one, many string) string {
	if len(names) == 1 {
		return one + " " + names[0]
	}
	return many + " " + strings.Join(names, ", ")
}
