package main

import (
	"errors"
	"fmt"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"

	"github.com/urfave/cli/v2"
)

func reloadCommand() *cli.Command {
	return &cli.Command{
		Name:  "reload",
		Usage: "re-read the zone files of the running server (as SIGHUP does)",
		UsageText: `slotdns reload [--json]

   vi zones/yourwebapp.com.zone && slotdns reload
   kill -HUP $(pidof slotdns)           # the same, logged by the server`,
		Description: `Asks the running server to read every zone file again. A zone whose records
changed gets the serial max(stored + 1, the file's serial), an IXFR journal
entry and a NOTIFY to its secondaries; a zone whose records did not change is
left alone, even when its file's serial moved. A file that no longer loads is
reported as file:line, and its zone keeps serving what it served; the
command then exits 1. Only the zone files are applied: every change of
slotdns.toml (listen addresses, secondaries, keys, apps...) takes a restart,
and reload names each one it finds.

With no server running there is nothing to reload: it checks the zone files
and says so; slotdns serve reads them when it starts.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: reload,
	}
}

// reloadOutput is reload's --json.
type reloadOutput struct {
	Server      bool             `json:"server"` // false: no server ran, nothing was reloaded
	Zones       []api.ZoneReload `json:"zones"`
	NeedRestart []string         `json:"need_restart"`
}

func reload(c *cli.Context) error {
	if err := wantArgs(c, 0, 0); err != nil {
		return err
	}
	var (
		cfg    *config.Config
		client *api.Client
		err    error
	)
	if remote(c) {
		if client, err = remoteClient(c); err != nil {
			return err
		}
		cfg = &config.Config{}
	} else {
		// The config alone finds the socket: a broken zone file is the
		// server's to report, while it keeps serving the previous one.
		if cfg, err = loadConfig(c); err != nil {
			return err
		}
		client, err = api.Dial(cfg.Control)
		if errors.Is(err, api.ErrNoServer) {
			return reloadDirect(c, cfg)
		}
		if err != nil {
			return err
		}
	}
	defer client.Close()
	res, err := client.Reload(c.Context)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		if err := printJSON(c.App.Writer, reloadOutput{Server: true, Zones: res.Zones, NeedRestart: res.NeedRestart}); err != nil {
			return err
		}
	} else {
		for _, z := range res.Zones {
			switch z.Result {
			case api.ReloadChanged:
				fmt.Fprintf(c.App.Writer, "zone %s changed: serial %d (file serial %d), %d records removed, %d added%s\n",
					z.Zone, z.Serial, z.FileSerial, z.Removed, z.Added, notified(cfg, z.Zone))
			case api.ReloadUnchanged:
				fmt.Fprintf(c.App.Writer, "zone %s unchanged (serial %d)\n", z.Zone, z.Serial)
			default:
				fmt.Fprintf(c.App.ErrWriter, "%s\nzone %s not reloaded: still serving serial %d from the previous file\n", z.Error, z.Zone, z.Serial)
			}
		}
		for _, change := range res.NeedRestart {
			fmt.Fprintf(c.App.Writer, "config changed, takes a restart: %s\n", change)
		}
	}
	if len(res.Failed()) > 0 {
		return errReported
	}
	return nil
}

// reloadDirect checks the zone files when no server runs.
func reloadDirect(c *cli.Context, cfg *config.Config) error {
	if _, err := cfg.LoadZones(); err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, reloadOutput{Server: false, Zones: []api.ZoneReload{}, NeedRestart: []string{}})
	}
	fmt.Fprintf(c.App.Writer, "no server on %s: nothing to reload; the zone files load, and slotdns serve reads them when it starts\n", cfg.Control)
	return nil
}

// notified says who was told of a zone's new serial, when anyone was.
func notified(cfg *config.Config, zone string) string {
	for _, zc := range cfg.Zones {
		if zc.Origin == zone && len(zc.Secondaries) > 0 {
			if len(zc.Secondaries) == 1 {
				return "; NOTIFY sent to its secondary"
			}
			return fmt.Sprintf("; NOTIFY sent to its %d secondaries", len(zc.Secondaries))
		}
	}
	return ""
}
