package config

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestRRLSection(t *testing.T) {
	t.Parallel()
	load := func(text string) (*Config, error) {
		dir := testkit.WriteFiles(t, map[string]string{"slotdns.toml": text})
		return Load(filepath.Join(dir, "slotdns.toml"))
	}
	cfg, err := load("")
	if err != nil || cfg.RRL.Rate != DefaultRRLRate || cfg.RRL.Slip != 2 || len(cfg.RRL.Exempt) != 2 || cfg.RRL.IPv6Prefix != 56 {
		t.Fatalf("defaults: %+v %v", cfg.RRL, err)
	}
	cfg, err = load("[rrl]\nrate = 0\nexempt = [\"203.0.113.7\", \"2001:db8::/48\"]\n")
	if err != nil || cfg.RRL.Rate != 0 || cfg.RRL.Exempt[0] != netip.MustParsePrefix("203.0.113.7/32") {
		t.Fatalf("set: %+v %v", cfg.RRL, err)
	}
	_, err = load("[rrl]\nslip = 11\nexempt = [\"nope\"]\n")
	for _, want := range []string{"slotdns.toml:2: rrl slip 11: want 0 to 10", `slotdns.toml:3: rrl exempt "nope"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad values: %v, want %q", err, want)
		}
	}
}
