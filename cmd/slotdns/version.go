package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

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
				return printJSON(c.App.Writer, map[string]string{"version": version(), "go": runtime.Version()})
			}
			fmt.Fprintf(c.App.Writer, "slotdns %s (%s)\n", version(), runtime.Version())
			return nil
		},
	}
}

// version is the module version the binary was built at ("(devel)" for
// a build from a working tree), with the commit when the build recorded
// it, "+dirty" when the tree had changes.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if revision != "" {
		v += " " + revision
		if modified == "true" {
			v += "+dirty"
		}
	}
	return v
}
