package main

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"

	"github.com/urfave/cli/v2"
)

// The global flags that point the CLI at a remote server's API instead of
// the local socket.
func remoteFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:    "server",
			Usage:   "talk to the remote API at `URL` (https://host:8053) instead of the local control socket",
			EnvVars: []string{"SLOTDNS_SERVER"},
		},
		&cli.StringFlag{
			Name:    "token-file",
			Usage:   "read the API token from `FILE` (or set SLOTDNS_TOKEN to the token itself)",
			EnvVars: []string{"SLOTDNS_TOKEN_FILE"},
		},
		&cli.StringFlag{
			Name:    "ca",
			Usage:   "trust the CA certificates in `FILE` (PEM) for --server, beside the system's",
			EnvVars: []string{"SLOTDNS_CA"},
		},
	}
}

// remote reports whether the command line names a remote server.
func remote(c *cli.Context) bool { return c.String("server") != "" }

// remoteClient is the client of the server --server names.
func remoteClient(c *cli.Context) (*api.Client, error) {
	token := strings.TrimSpace(os.Getenv("SLOTDNS_TOKEN"))
	if file := c.String("token-file"); file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(data))
		if token == "" {
			return nil, fmt.Errorf("--token-file %s is empty; it holds the token slotdns token add printed", file)
		}
	}
	var roots *x509.CertPool
	if file := c.String("ca"); file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", file)
		}
	}
	return api.NewRemote(c.String("server"), token, roots)
}

// remoteConfig stands for the config of a remote server, for the commands
// that read a few of its keys: where it is, and its DNS addresses as
// reached from here (the API's host, the DNS listener's port).
func remoteConfig(c *cli.Context, client *api.Client) (*config.Config, api.ServerInfo, error) {
	info, err := client.Server(c.Context)
	if err != nil {
		return nil, api.ServerInfo{}, err
	}
	cfg := &config.Config{Path: c.String("server"), Control: c.String("server"), DB: "the database of " + c.String("server")}
	u, err := url.Parse(c.String("server"))
	if err != nil {
		return nil, api.ServerInfo{}, err // NewRemote parsed it already
	}
	host := u.Hostname()
	for _, addr := range info.DNS {
		if _, port, err := net.SplitHostPort(addr); err == nil {
			cfg.Listen = append(cfg.Listen, net.JoinHostPort(host, port))
		}
	}
	return cfg, info, nil
}

// localOnly refuses --server for a command that works on this host's
// files.
func localOnly(c *cli.Context, why string) error {
	if remote(c) {
		return usagef("%s works on %s; --server does not apply: run it on the primary", c.Command.Name, why)
	}
	return nil
}
