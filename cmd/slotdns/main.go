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
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/panics"
	"github.com/slotdns/slotdns/internal/version"

	"github.com/urfave/cli/v2"
)

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// Exit codes, one per outcome a script branches on.
const (
	exitOK       = 0
	exitFailed   = 1 // the command failed (a refused change, a check, a difference found by verify...)
	exitUsage    = 2 // the command line is wrong
	exitConflict = 3 // the state is not what the command expected: --expect, a concurrent change, a gate busy, a superseded swap
	exitUnknown  = 4 // the server went away after receiving a change: it may or may not have committed
	exitAuth     = 5 // the remote API refused the token (401) or its scope (403)
)

// run executes the command line args and returns the exit code. A panic,
// which is a bug, is reported in one line rather than as a stack trace.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	app := newApp(stdout, stderr)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "slotdns: internal error: %v at %s; please report it with the command that caused it\n", r, panics.Site())
			code = exitFailed
		}
	}()
	err := app.RunContext(ctx, reorderArgs(app, args))
	return exitCode(err, wantsJSON(args), stdout, stderr)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "slotdns",
		Usage:   "serve production and staging names from DNS, and swap them in one step",
		Version: version.String(),
		UsageText: `slotdns [--config slotdns.toml] COMMAND [options] [arguments]

   slotdns serve                                   # answer DNS and the control socket
   slotdns swap yourwebapp                         # staging <-> production
   slotdns set yourwebapp staging test3.cloudapp.net.
   slotdns verify yourwebapp                       # ask the server like dig, compare`,
		Description: `Exit status: 0 ok; 1 failed; 2 usage error; 3 conflict (the state is not what
the command expected: --expect, a concurrent change, a swap already in its
checks, a swap superseded during its "after" checks); 4 unknown outcome (the
server went away after receiving a change: see slotdns history); 5 the remote
API refused the token (401: wrong, removed or missing) or its scope (403).

With --server https://HOST:8053 (or SLOTDNS_SERVER) every command that talks
to a server talks to that one's remote API, with the token of --token-file
(or SLOTDNS_TOKEN) and, for a private CA, --ca FILE. No config file is read.`,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: append([]cli.Flag{
			&cli.StringFlag{
				Name:    "config",
				Value:   "slotdns.toml",
				Usage:   "config file; relative paths in it are relative to its folder",
				EnvVars: []string{"SLOTDNS_CONFIG"},
			},
		}, remoteFlags()...),
		Commands: []*cli.Command{
			serveCommand(), checkCommand(), statusCommand(), swapCommand(), setCommand(),
			rollbackCommand(), historyCommand(), recordsCommand(), verifyCommand(), reloadCommand(),
			backupCommand(), renameCommand(), forgetCommand(), tokenCommand(), dnssecCommand(), versionCommand(),
		},
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

// reported is a failure already explained on stdout or stderr, with the
// exit code it takes.
type reported struct{ code int }

func (r reported) Error() string { return "failed" }

var errReported = reported{exitFailed}

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

// exitCode maps an error to the process exit code, printing it once: as
// a line on stderr, or with --json as {"error", "kind"} on stdout.
func exitCode(err error, asJSON bool, stdout, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if r, ok := errors.AsType[reported](err); ok {
		return r.code
	}
	kind, code := api.KindOf(err), exitFailed
	var usage *usageError
	var helpErr cli.ExitCoder // only "help NOPE" returns one
	switch {
	case errors.As(err, &usage), errors.As(err, &helpErr):
		kind, code = "usage", exitUsage
	case kind == api.KindConflict:
		code = exitConflict
	case kind == api.KindUnknownOutcome:
		code = exitUnknown
	case kind == api.KindUnauthorized || kind == api.KindForbidden:
		code = exitAuth
	}
	if asJSON {
		body := map[string]any{"error": err.Error(), "kind": kind}
		if e, ok := errors.AsType[*api.Error](err); ok && len(e.Checks) > 0 {
			body["checks"] = e.Checks
		}
		printJSON(stdout, body)
	} else {
		// A server's message may carry anything: print it as text, line
		// by line (a config's problems come one per line).
		lines := strings.Split(err.Error(), "\n")
		for i := range lines {
			lines[i] = text(lines[i])
		}
		fmt.Fprintf(stderr, "slotdns: %s\n", strings.Join(lines, "\n"))
	}
	return code
}

// wantsJSON reports whether the command line asks for --json.
func wantsJSON(args []string) bool {
	for _, a := range args[1:] {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "-json" || a == "--json=true" {
			return true
		}
	}
	return false
}
