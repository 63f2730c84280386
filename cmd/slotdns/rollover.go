package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"

	"github.com/miekg/dns"
	"github.com/urfave/cli/v2"
)

func rolloverCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollover",
		Usage:     "replace a key of a signed zone, step by step, each step once the last has left caches",
		ArgsUsage: "ZONE",
		Description: `A rollover replaces one key of a signed zone: the CSK, or with split keys the
KSK or the ZSK (--key). --start makes the new key and pre-publishes it; each
later run takes the next step once it is safe, or says when it will be:

  csk: published -> ds -> done
  ksk: published -> ds -> done
  zsk: published -> active -> done

published puts the new key in the DNSKEY RRset (a KSK signs that RRset too,
a CSK every RRset beside the old key) and waits until every cache holds it:
the DNSKEY TTL served, or for a CSK the zone's longest TTL. At ds, CDS and
CDNSKEY name the new key: have the registrar replace the parent's DS with
the one printed, check it with dig DS ZONE @<a server of the parent>, then
run again with --ds-published (and --ds-ttl, the TTL of the parent's DS
records; 86400 by default); it then waits that TTL for the old DS to leave
caches. active (zsk) has the new key sign the zone and waits for the old
signatures to leave caches (the zone's longest TTL). done removes the old
key, whose files move to key_dir/retired. Every step also waits for each
secondary to serve the zone's serial.

--wait runs the steps one after the other, with progress, until done or
until the parent's DS needs the operator.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "start", Usage: "begin a rollover: make the new key and pre-publish it"},
			&cli.StringFlag{Name: "key", Usage: "`KIND` of key --start replaces: csk, ksk or zsk; default the CSK, or the ZSK of split keys"},
			&cli.BoolFlag{Name: "ds-published", Usage: "the parent serves the new key's DS in place of the old one's"},
			&cli.UintFlag{Name: "ds-ttl", Usage: "`SECONDS` the parent's DS records live in caches (with --ds-published); default 86400"},
			&cli.BoolFlag{Name: "wait", Usage: "take every step as soon as it is safe, until done or the parent's DS is needed"},
			jsonFlag(),
		},
		Action:       dnssecRollover,
		OnUsageError: onUsageError,
	}
}

func dnssecRollover(c *cli.Context) error {
	if n := c.Args().Len(); n != 1 {
		return usagef("dnssec rollover: want ZONE, got %d argument(s); usage: slotdns dnssec rollover ZONE [--start] [--ds-published] [--wait]", n)
	}
	zone := strings.ToLower(dns.Fqdn(c.Args().First()))
	if _, ok := dns.IsDomainName(zone); !ok || strings.ContainsAny(zone, " \t") {
		return usagef("dnssec rollover: %q is not a zone name; give one such as example.com", c.Args().First())
	}
	if c.IsSet("key") && !c.Bool("start") {
		return usagef("dnssec rollover: --key chooses the key a rollover replaces, so it goes with --start")
	}
	if c.IsSet("ds-ttl") && !c.Bool("ds-published") {
		return usagef("dnssec rollover: --ds-ttl is the TTL of the parent's new DS, so it goes with --ds-published")
	}
	ttl := c.Uint("ds-ttl")
	if ttl > 1<<31-1 {
		return usagef("dnssec rollover: --ds-ttl %d: want at most %d seconds", ttl, 1<<31-1)
	}
	client, err := serverClient(c, "dnssec rollover")
	if err != nil {
		return err
	}
	defer client.Close()
	req := api.RolloverRequest{Start: c.Bool("start"), Key: c.String("key"), DSPublished: c.Bool("ds-published"), DSTTL: uint32(ttl)}
	for {
		res, err := client.Rollover(c.Context, zone, req)
		if err != nil {
			return err
		}
		// Each says what it says once: a later step of --wait is not
		// confirmed by the flags given before it was reached.
		req.Start, req.Key, req.DSPublished, req.DSTTL = false, "", false, 0
		if c.Bool("json") && (!c.Bool("wait") || res.Stage == "done" || res.NeedDS) {
			return printJSON(c.App.Writer, res)
		}
		if !c.Bool("json") && (res.Advanced || !c.Bool("wait")) {
			printRollover(c, res)
		}
		if !c.Bool("wait") || res.Stage == "done" || res.NeedDS {
			return nil
		}
		if res.Advanced {
			continue
		}
		wait := 2 * time.Second // a secondary behind: ask again soon
		if !res.SafeAt.IsZero() {
			wait = max(time.Until(res.SafeAt), 100*time.Millisecond)
		}
		if !c.Bool("json") {
			fmt.Fprintf(c.App.ErrWriter, "waiting %s for %s\n", wait.Round(time.Second), res.Waiting)
		}
		select {
		case <-c.Context.Done():
			return c.Context.Err()
		case <-time.After(min(wait, 30*time.Second)):
		}
	}
}

// serverClient connects to the running server (or the --server one); a
// command that only a server can do says so when none runs.
func serverClient(c *cli.Context, what string) (*api.Client, error) {
	if remote(c) {
		return remoteClient(c)
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	client, err := api.Dial(cfg.Control)
	if errors.Is(err, api.ErrNoServer) {
		return nil, api.Errorf(api.KindNoServer, "%s: no server answers on %s; it re-signs the zone the server serves, so start slotdns serve first", what, cfg.Control)
	}
	return client, err
}

func printRollover(c *cli.Context, r api.Rollover) {
	w := c.App.Writer
	verb := "is at"
	if r.Advanced {
		verb = "entered"
	}
	fmt.Fprintf(w, "zone %s: %s rollover of key %d to key %d %s stage %s (serial %d)\n", r.Zone, r.Kind, r.Old, r.New, verb, r.Stage, r.Serial)
	switch {
	case r.Stage == "done":
		fmt.Fprintf(w, "done: key %d is no longer published; its files are in the key folder's retired/\n", r.Old)
	case r.NeedDS:
		fmt.Fprintf(w, "next: %s, once the parent serves this DS in place of key %d's:\n", r.Next, r.Old)
		for _, ds := range r.DS {
			fmt.Fprintf(w, "  %s\n", ds)
		}
		fmt.Fprintf(w, "check it with dig DS %s @<a server of the parent>, then run slotdns dnssec rollover %s --ds-published [--ds-ttl SECONDS]\n",
			r.Zone, strings.TrimSuffix(r.Zone, "."))
	case r.SafeAt.IsZero():
		fmt.Fprintf(w, "next: %s, waiting for %s\n", r.Next, r.Waiting)
	default:
		in := time.Until(r.SafeAt).Round(time.Second)
		when := "now"
		if in > 0 {
			when = "in " + in.String()
		}
		fmt.Fprintf(w, "next: %s, safe at %s (%s), waiting for %s\n", r.Next, r.SafeAt.UTC().Format(time.RFC3339), when, r.Waiting)
	}
}
