package control_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slotdns/slotdns/control"
)

// Without a server, a Local changes the database file; a server started
// later serves what it finds there.
func ExampleOpenLocal() {
	dir, _ := os.MkdirTemp("", "slotdns-example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "example.com.zone"), []byte(`
$ORIGIN example.com.
@    3600 IN SOA ns1 hostmaster 2026010101 3600 600 1209600 300
@    3600 IN NS  ns1
ns1  3600 IN A   192.0.2.1
`), 0o644)
	os.WriteFile(filepath.Join(dir, "slotdns.toml"), []byte(`
[[zone]]
origin = "example.com."
file   = "example.com.zone"

[[app]]
name = "site"
zone = "example.com."

[app.slots.production]
names  = ["www"]
target = "blue.cloud.example."

[app.slots.staging]
names  = ["stage"]
target = "green.cloud.example."
`), 0o644)

	cfg, err := control.LoadConfig(filepath.Join(dir, "slotdns.toml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	local, err := control.OpenLocal(cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer local.Close()
	ch, err := local.Swap(context.Background(), "site", control.SwapRequest{Actor: "ann", Reason: "release 42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.Kind, ch.Seq, "production:", ch.Before["production"], "->", ch.After["production"])
	fmt.Println("serial", ch.Serial, "ttl", ch.TTL)
	// Output:
	// swap 1 production: blue.cloud.example. -> green.cloud.example.
	// serial 2026010102 ttl 30
}
