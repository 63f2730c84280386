package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "answer DNS for the configured zones and serve the control socket (and the remote API)",
		UsageText: `slotdns serve [--config slotdns.toml]

   slotdns serve
   SLOTDNS_CONFIG=/etc/slotdns/slotdns.toml slotdns serve`,
		Description: `Loads the config, keys and zone files and opens the database, refusing to
start on any problem (slotdns check lists them all), and answers DNS on every
listen address over UDP and TCP. It refuses a database that holds apps, slots
or zones the config does not declare: see slotdns rename and forget. The CLI
talks to it over the control socket; with an [api] table the server also
serves the remote API, the dashboard and /metrics (see slotdns token for
the tokens). SIGINT or SIGTERM stop it gracefully;
the swapped state is served as it was left after a restart. SIGHUP re-reads
the zone files, as slotdns reload does. --cpuprofile FILE writes a Go CPU
profile (pprof) of the whole run to FILE when the server stops: for
measuring the server, not for production.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the run to `FILE` when the server stops (off by default)"},
		},
		Action: serve,
	}
}

func serve(c *cli.Context) error {
	if err := localOnly(c, "this host"); err != nil {
		return err
	}
	if err := wantArgs(c, 0, 0); err != nil {
		return err
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	logger := cfg.NewLogger(c.App.ErrWriter)
	if path := c.String("cpuprofile"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return control.Run(ctx, cfg, logger)
}
