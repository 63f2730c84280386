package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/slotdns/slotdns/config"
)

// Load reports every problem of the file at once, in file order.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "slotdns")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "slotdns.toml")
	os.WriteFile(path, []byte(`log_level = "loud"

[[zone]]
origin = "example.com."
file   = "example.com.zone"

[[app]]
name = "site"
zone = "example.com."
ttl  = "30"

[app.slots.production]
names  = ["www"]
target = "blue.cloudapp.net"
`), 0o644)
	_, err = config.Load(path)
	fmt.Println(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
	// Output:
	// slotdns.toml:1: log_level "loud": want "debug", "info", "warn" or "error"
	// slotdns.toml:10: key "app.ttl": incompatible types: the value is a string, want an integer; write it as ttl = 30 (seconds, no quotes)
	// slotdns.toml:14: app "site": slot "production": target "blue.cloudapp.net": a hostname needs its trailing dot: write "blue.cloudapp.net." if that is the whole name (slotdns never adds a zone to it)
}
