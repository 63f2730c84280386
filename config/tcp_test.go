package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestTCPSection(t *testing.T) {
	t.Parallel()
	load := func(text string) (*Config, error) {
		dir := testkit.WriteFiles(t, map[string]string{"slotdns.toml": text})
		return Load(filepath.Join(dir, "slotdns.toml"))
	}
	cfg, err := load("")
	if err != nil || cfg.TCP != (TCP{DefaultTCPMaxConnections, DefaultTCPMaxPerSource, DefaultTCPMaxQueries, DefaultTCPIdleTimeout}) {
		t.Fatalf("defaults: %+v %v", cfg.TCP, err)
	}
	cfg, err = load("[tcp]\nmax_connections = 3000\nmax_per_source = 8\nmax_queries = 100\nidle_timeout = \"5s\"\n")
	if err != nil || cfg.TCP != (TCP{3000, 8, 100, 5 * time.Second}) {
		t.Fatalf("set: %+v %v", cfg.TCP, err)
	}
	_, err = load("[tcp]\nmax_connections = 0\nidle_timeout = \"forever\"\n")
	for _, want := range []string{"slotdns.toml:2: tcp max_connections 0: want 1 to", `slotdns.toml:3: tcp idle_timeout "forever"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad values: %v, want %q", err, want)
		}
	}
}
