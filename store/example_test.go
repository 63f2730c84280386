package store_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/slotdns/slotdns/store"
)

func ExampleDB_Swap() {
	dir, err := os.MkdirTemp("", "slotdns")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := store.Open(filepath.Join(dir, "slotdns.db"), store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// At start the server seeds the zone serial from the zone file and the
	// slots from the config. The digest (any string that changes with the
	// zone file's records) moves the serial on when the file changed.
	if _, err := db.SeedZone("yourwebapp.com.", 2026010101, "sha256:9f86d081"); err != nil {
		log.Fatal(err)
	}
	if _, err := db.SeedApp("yourwebapp", "yourwebapp.com.", map[string]string{
		"production": "blue-abc.cloudapp.net.",
		"staging":    "green-def.cloudapp.net.",
	}); err != nil {
		log.Fatal(err)
	}

	// Swap staging with production, only if staging still holds the build
	// that was tested.
	e, err := db.Swap(store.SwapRequest{
		App:    "yourwebapp",
		Expect: "green-def.cloudapp.net.",
		Meta:   store.Meta{Actor: "alice", Reason: "release 7"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("production:", e.Before["production"], "->", e.After["production"])
	fmt.Println("staging:   ", e.Before["staging"], "->", e.After["staging"])
	fmt.Println("serial:", e.Serial, "entry:", e.Seq)

	// The same request again finds staging changed and refuses.
	_, err = db.Swap(store.SwapRequest{App: "yourwebapp", Expect: "green-def.cloudapp.net."})
	fmt.Println(err)
	// Output:
	// production: blue-abc.cloudapp.net. -> green-def.cloudapp.net.
	// staging:    green-def.cloudapp.net. -> blue-abc.cloudapp.net.
	// serial: 2026010102 entry: 1
	// swap "yourwebapp": conflict: staging is "blue-abc.cloudapp.net.", expected "green-def.cloudapp.net."
}
