package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestAPISection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, api string
		want      string // a substring of the error; "" for none
	}{
		{"plain HTTP on loopback", `listen = "127.0.0.1:8053"`, ""},
		{"plain HTTP on ::1", `listen = "[::1]:8053"`, ""},
		{"plain HTTP on every address", `listen = "0.0.0.0:8053"`, `slotdns.toml:3: api listen "0.0.0.0:8053": plain HTTP is allowed only on loopback addresses`},
		{"TLS anywhere", "listen = \"0.0.0.0:8053\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"", ""},
		{"a cert without its key", "listen = \"127.0.0.1:8053\"\ntls_cert = \"c.pem\"", "tls_cert and tls_key go together"},
		{"a bad address", `listen = "8053"`, `api listen "8053": not host:port`},
		{"an unknown key", `lisen = "127.0.0.1:1"`, `unknown key "api.lisen"`},
		{"metrics alone", `metrics_listen = "127.0.0.1:9153"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testkit.WriteFiles(t, map[string]string{"slotdns.toml": "\n[api]\n" + tt.api + "\n"})
			cfg, err := Load(filepath.Join(dir, "slotdns.toml"))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want %q", err, tt.want)
			case err == nil && cfg.API.Tokens != filepath.Join(dir, DefaultTokens):
				t.Fatalf("tokens %q, want the default beside the config", cfg.API.Tokens)
			}
		})
	}
}
