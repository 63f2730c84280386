package main

import (
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets flags follow arguments, as in "slotdns swap yourwebapp
// --reason deploy": urfave/cli stops at the first argument, so the flags of
// a command are moved before its arguments, and the global flags
// (--config, --server...), wherever they are, before the command.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var global []string
	i := 1
	for ; i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--"; i++ {
		global = append(global, args[i])
		if takesValue(app.Flags, args[i]) && i+1 < len(args) {
			i++
			global = append(global, args[i])
		}
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	// "token add NAME --scope swap": the flags are the subcommand's.
	words := []string{args[i]}
	rest := args[i+1:]
	for len(rest) > 0 && cmd.Command(rest[0]) != nil {
		cmd = cmd.Command(rest[0])
		words, rest = append(words, rest[0]), rest[1:]
	}
	var flags, positional []string
	for j := 0; j < len(rest); j++ {
		arg := rest[j]
		switch {
		case arg == "--":
			positional = append(positional, rest[j+1:]...)
			j = len(rest)
		case optionalValue[flagName(arg)] && !strings.Contains(arg, "="):
			// --wait-secondaries [TIMEOUT]: the next argument is its value
			// only when it reads as a duration.
			value := ""
			if j+1 < len(rest) {
				if _, err := time.ParseDuration(rest[j+1]); err == nil {
					value = rest[j+1]
					j++
				}
			}
			flags = append(flags, arg+"="+value)
		case len(arg) > 1 && strings.HasPrefix(arg, "-"):
			into := &flags
			if hasFlag(app.Flags, flagName(arg)) && !hasFlag(cmd.Flags, flagName(arg)) {
				into = &global
			}
			*into = append(*into, arg)
			if takesValue(append(cmd.Flags, app.Flags...), arg) && j+1 < len(rest) {
				j++
				*into = append(*into, rest[j])
			}
		default:
			positional = append(positional, arg)
		}
	}
	out := append([]string{args[0]}, global...)
	out = append(out, words...)
	out = append(out, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// optionalValue names the string flags that may be given without a value.
var optionalValue = map[string]bool{"wait-secondaries": true}

func flagName(arg string) string {
	name := strings.TrimLeft(arg, "-")
	name, _, _ = strings.Cut(name, "=")
	return name
}

func hasFlag(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// takesValue reports whether arg is a flag of flags given without "=" that
// takes its value from the next argument.
func takesValue(flags []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := flagName(arg)
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			_, isBool := f.(*cli.BoolFlag)
			return !isBool
		}
	}
	return false
}
