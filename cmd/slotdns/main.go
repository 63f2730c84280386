// Command slotdns is an authoritative DNS server that serves a site's
// production and staging names from a slot mapping, and swaps them in one
// durable step.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code: 0 ok,
// 1 failed, 2 usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, reorderArgs(app, args))
	return exitCode(err, stderr)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "slotdns",
		Usage: "serve production and staging names from DNS, and swap them in one step",
		UsageText: `slotdns [--config slotdns.toml] COMMAND [options] [arguments]

   slotdns serve                                   # answer DNS and the control socket
   slotdns swap yourwebapp                         # staging <-> production
   slotdns set yourwebapp staging test3.cloudapp.net.
   slotdns verify yourwebapp                       # ask the server like dig, compare`,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:    "config",
				Value:   "slotdns.toml",
				Usage:   "config file; relative paths in it are relative to its folder",
				EnvVars: []string{"SLOTDNS_CONFIG"},
			},
		},
		Commands: []*cli.Command{
			serveCommand(), checkCommand(), statusCommand(), swapCommand(), setCommand(),
			rollbackCommand(), historyCommand(), verifyCommand(), reloadCommand(),
		},
		HideVersion:    true,
		Action:         unknownCommand,
		OnUsageError:   onUsageError,
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are decided in exitCode
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = onUsageError
	}
	return app
}

// usageError is a command line the program cannot run: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errReported is a failure already explained on stdout or stderr: exit 1
// without another message.
var errReported = errors.New("failed")

func onUsageError(_ *cli.Context, err error, _ bool) error {
	return &usageError{msg: err.Error() + "; see slotdns --help"}
}

func unknownCommand(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("unknown command %q; see slotdns --help", c.Args().First())
	}
	cli.ShowAppHelp(c)
	return usagef("no command given")
}

// exitCode maps an error to the process exit code, printing it once.
func exitCode(err error, stderr io.Writer) int {
	var usage *usageError
	var helpErr cli.ExitCoder // only "help NOPE" returns one
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errReported):
		return 1
	case errors.As(err, &usage), errors.As(err, &helpErr):
		fmt.Fprintf(stderr, "slotdns: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "slotdns: %v\n", err)
		return 1
	}
}
