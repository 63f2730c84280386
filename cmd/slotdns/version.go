package main

import (
	"fmt"
	"runtime"

	"github.com/slotdns/slotdns/internal/version"

	"github.com/urfave/cli/v2"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print the version of slotdns, from its build",
		UsageText: "slotdns version [--json]   (or slotdns --version)",
		Flags:     []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			if err := wantArgs(c, 0, 0); err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(c.App.Writer, map[string]string{"version": version.String(), "go": runtime.Version()})
			}
			fmt.Fprintf(c.App.Writer, "slotdns %s (%s)\n", version.String(), runtime.Version())
			return nil
		},
	}
}
