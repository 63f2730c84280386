package main

import (
	"fmt"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
	"github.com/slotdns/slotdns/control"

	"github.com/urfave/cli/v2"
)

func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "add, list and remove the tokens of the remote API",
		UsageText: `slotdns token add NAME --scope read|swap|admin [--app APP] [--json]
   slotdns token list [--json]
   slotdns token remove NAME

   slotdns token add release-pipeline --scope swap --app yourwebapp > ci.token
   slotdns --server https://dns1.example.net:8053 --token-file admin.token token list`,
		Description: `A token is printed once, on stdout alone, when it is added: keep it then. The
token file ([api] tokens, default slotdns.tokens beside the config, mode 0600)
holds only its SHA-256 digest, its name, scope and app. A running server reads
the file again when it changes: an added token works at once, a removed one
stops at once, and so do the dashboard sessions made with it.

Scopes: read sees state (status, history, events, metrics); swap adds swap,
set and rollback; admin adds reload, backup and token management. --app limits
a read or swap token to one app.

Without --server, token works on the token file itself, with or without a
running server; with --server it asks that server, with an admin token.`,
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "make a token and print it once",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "scope", Usage: "`SCOPE`: read, swap or admin", Required: true},
					&cli.StringFlag{Name: "app", Usage: "limit the token to `APP` (read and swap tokens)"},
					jsonFlag(),
				},
				Action: tokenAdd,
			},
			{
				Name:   "list",
				Usage:  "list the tokens: names, scopes, apps, when made",
				Flags:  []cli.Flag{jsonFlag()},
				Action: tokenList,
			},
			{
				Name:      "remove",
				Usage:     "remove a token; it stops working at once",
				ArgsUsage: "NAME",
				Action:    tokenRemove,
			},
		},
	}
}

// tokenFile is the token file of the config.
func tokenFile(c *cli.Context) (auth.File, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return auth.File{}, err
	}
	return auth.File{Path: cfg.API.Tokens}, nil
}

func tokenAdd(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	req := api.TokenRequest{Name: c.Args().First(), Scope: c.String("scope"), App: c.String("app")}
	scope, err := auth.ParseScope(req.Scope)
	if err != nil {
		return usagef("--scope: %v", err)
	}
	var added api.NewToken
	where := ""
	if remote(c) {
		client, err := remoteClient(c)
		if err != nil {
			return err
		}
		defer client.Close()
		if added, err = client.AddToken(c.Context, req); err != nil {
			return err
		}
		where = c.String("server")
	} else {
		cfg, err := loadConfig(c)
		if err != nil {
			return err
		}
		if req.App != "" {
			if _, ok := cfg.App(req.App); !ok {
				return fmt.Errorf("--app %q: the config declares no such app", req.App)
			}
		}
		f := auth.File{Path: cfg.API.Tokens}
		secret, t, err := f.Add(req.Name, scope, req.App, time.Now())
		if err != nil {
			return err
		}
		added = api.NewToken{TokenInfo: control.TokenInfos([]auth.Token{t})[0], Token: secret}
		where = f.Path
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, added)
	}
	fmt.Fprintln(c.App.Writer, added.Token)
	limit := ""
	if added.App != "" {
		limit = ", app " + added.App
	}
	fmt.Fprintf(c.App.ErrWriter, "token %s (scope %s%s) added to %s; it is shown only this once\n", added.Name, added.Scope, limit, where)
	return nil
}

func tokenList(c *cli.Context) error {
	if err := wantArgs(c, 0, 0); err != nil {
		return err
	}
	var tokens []api.TokenInfo
	if remote(c) {
		client, err := remoteClient(c)
		if err != nil {
			return err
		}
		defer client.Close()
		if tokens, err = client.Tokens(c.Context); err != nil {
			return err
		}
	} else {
		f, err := tokenFile(c)
		if err != nil {
			return err
		}
		list, err := f.Load()
		if err != nil {
			return err
		}
		tokens = control.TokenInfos(list)
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, tokens)
	}
	tw := newTable(c.App.Writer)
	fmt.Fprintln(tw, "NAME\tSCOPE\tAPP\tCREATED")
	for _, t := range tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Scope, orDash(t.App), formatTime(t.Created))
	}
	return tw.Flush()
}

func tokenRemove(c *cli.Context) error {
	if err := wantArgs(c, 1, 1); err != nil {
		return err
	}
	name := c.Args().First()
	if remote(c) {
		client, err := remoteClient(c)
		if err != nil {
			return err
		}
		defer client.Close()
		if err := client.RemoveToken(c.Context, name); err != nil {
			return err
		}
	} else {
		f, err := tokenFile(c)
		if err != nil {
			return err
		}
		if err := f.Remove(name); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.App.Writer, "token %s removed\n", name)
	return nil
}
