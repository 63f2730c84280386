package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

// jsonFlag is new for every command: urfave/cli flags keep parse state.
func jsonFlag() cli.Flag { return &cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"} }

// loadConfig reads the config named by --config: the file alone, not the
// zone files or keys it names.
func loadConfig(c *cli.Context) (*config.Config, error) {
	return config.Load(c.String("config"))
}

// withController connects to the remote server --server names, or to the
// running server on the local socket or, when none answers,
// opens the database file in mode (saying so on stderr), and runs fn with
// the config: only its top keys when a server answers (see
// config.LoadTop), all of it otherwise.
func withController(c *cli.Context, mode control.Mode, fn func(*config.Config, api.Controller, bool) error) error {
	if remote(c) {
		client, err := remoteClient(c)
		if err != nil {
			return err
		}
		defer client.Close()
		cfg, _, err := remoteConfig(c, client)
		if err != nil {
			return err
		}
		return fn(cfg, client, false)
	}
	ctl, cfg, direct, err := control.Connect(c.String("config"), mode, nil)
	if err != nil {
		return err
	}
	defer ctl.Close()
	if direct {
		verb := "reading"
		if mode == control.Change {
			verb = "changing"
		}
		fmt.Fprintf(c.App.ErrWriter, "no server on %s; %s %s directly", cfg.Control, verb, cfg.DB)
		if mode == control.Change {
			fmt.Fprint(c.App.ErrWriter, "; the server applies it at start")
		}
		fmt.Fprintln(c.App.ErrWriter)
		if local, ok := ctl.(*control.Local); ok {
			for _, w := range local.Warnings() {
				fmt.Fprintf(c.App.ErrWriter, "note: %s\n", w)
			}
		}
	}
	return fn(cfg, ctl, direct)
}

// wantArgs checks the number of arguments of a command.
func wantArgs(c *cli.Context, min, max int) error {
	n := c.Args().Len()
	if n < min || n > max {
		return usagef("%s: want %s, got %d argument(s); usage: slotdns %s %s",
			c.Command.Name, c.Command.ArgsUsage, n, c.Command.Name, c.Command.ArgsUsage)
	}
	return nil
}

// actor names who runs the command: the user behind sudo, else the user,
// at this host.
func actor() string {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		// Services and CI jobs often run without $USER.
		if u, err := user.Current(); err == nil {
			name = u.Username
		} else {
			name = fmt.Sprintf("uid %d", os.Getuid())
		}
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		name += "@" + host
	}
	return text(name)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.RFC3339)
}

// text makes s safe to print on one line of a terminal: a control
// character (a newline, an escape sequence) or a bidirectional override
// in a reason or an actor stored by an older version, or by a program
// that wrote the database itself, is printed escaped, never as is.
func text(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar
	}) {
		return s
	}
	q := strconv.QuoteToASCII(s)
	return q[1 : len(q)-1]
}

// printChange prints a change: slots before and after, the new serial,
// and when caches have expired the old answer.
func printChange(w io.Writer, title string, ch api.Change) {
	fmt.Fprintf(w, "%s: %s (#%d by %s)\n", ch.App, title, ch.Seq, text(ch.Actor))
	tw := newTable(w)
	fmt.Fprintln(tw, "SLOT\tBEFORE\tAFTER\t")
	for _, slot := range sortedKeys(ch.Before, ch.After) {
		mark := ""
		if ch.Before[slot] != ch.After[slot] {
			mark = "changed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", slot, orDash(ch.Before[slot]), orDash(ch.After[slot]), mark)
	}
	tw.Flush()
	fmt.Fprintf(w, "SOA serial of %s is now %d\n", ch.Zone, ch.Serial)
	fmt.Fprintf(w, "caches expire the old answer by %s (TTL %ds)\n", formatTime(ch.DrainedAt), ch.TTL)
}

func sortedKeys(maps ...map[string]string) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a message on one line.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }
