package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

// jsonFlag is new for every command: urfave/cli flags keep parse state.
func jsonFlag() cli.Flag { return &cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"} }

// loadConfig reads the config named by --config.
func loadConfig(c *cli.Context) (*control.Config, error) {
	return control.LoadConfig(c.String("config"))
}

// connect returns the running server's API, or the database file when no
// server runs, saying so on stderr.
func connect(c *cli.Context, cfg *control.Config, verb string) (control.Controller, error) {
	ctl, direct, err := control.Connect(cfg, nil)
	if err != nil {
		return nil, err
	}
	switch {
	case direct && verb == "changing":
		fmt.Fprintf(c.App.ErrWriter, "no server on %s; changing %s directly; the server applies it at start\n", cfg.Control, cfg.DB)
	case direct:
		fmt.Fprintf(c.App.ErrWriter, "no server on %s; reading %s directly\n", cfg.Control, cfg.DB)
	}
	return ctl, nil
}

// withController loads the config, connects, and runs fn.
func withController(c *cli.Context, verb string, fn func(*control.Config, control.Controller) error) error {
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	ctl, err := connect(c, cfg, verb)
	if err != nil {
		return err
	}
	defer ctl.Close()
	return fn(cfg, ctl)
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
	host, err := os.Hostname()
	if err != nil || host == "" {
		return name
	}
	return name + "@" + host
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

// printChange prints a mutation: slots before and after, the new serial,
// and when caches have expired the old answer.
func printChange(w io.Writer, title string, ch control.Change) {
	fmt.Fprintf(w, "%s: %s (#%d by %s)\n", ch.App, title, ch.Seq, ch.Actor)
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
	seen := map[string]bool{}
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !seen[k] {
				seen[k] = true
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

// flattenErrors lists the single errors inside joined ones.
func flattenErrors(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, flattenErrors(e)...)
	}
	return out
}

// oneLine keeps a message on one line.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }
