package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func backupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "write a consistent copy of the database, while serving",
		ArgsUsage: "FILE",
		UsageText: `slotdns backup FILE [--json]

   slotdns backup /var/backups/slotdns-$(date +%F).db`,
		Description: `Writes a consistent copy of the database to FILE (mode 0600): from the
running server, which goes on serving and swapping meanwhile, or from the
file when no server runs. FILE is written beside itself first and renamed
into place once complete, so it is never half written. To restore, stop the
server, copy the backup over the db file of the config, and start it again
before making any change: each secondary, still ahead of the backup's
serials, is found so at its first NOTIFY answer, and slotdns serves a
serial past it so that the secondary takes the restored zone. No zone file
is read: a broken one does not stop a backup.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: backup,
	}
}

func backup(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	dest := c.Args().First()
	return withController(c, control.ReadRecords, func(cfg *config.Config, ctl api.Controller, _ bool) error {
		tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*")
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		defer os.Remove(tmp.Name())
		if err := tmp.Chmod(0o600); err != nil {
			tmp.Close()
			return fmt.Errorf("backup: %w", err)
		}
		if err := ctl.Backup(c.Context, tmp); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return fmt.Errorf("backup: %w", err)
		}
		info, _ := tmp.Stat()
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := os.Rename(tmp.Name(), dest); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if c.Bool("json") {
			return printJSON(c.App.Writer, map[string]any{"db": cfg.DB, "file": dest, "bytes": info.Size()})
		}
		fmt.Fprintf(c.App.Writer, "backed up %s to %s (%d bytes)\n", cfg.DB, dest, info.Size())
		return nil
	})
}
