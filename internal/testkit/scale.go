package testkit

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The configs of the scale benchmarks, generated at run time: never
// committed.

// BenchNames is the size of the big zone of the benchmarks: 1,000,000
// names, or SLOTDNS_BENCH_NAMES.
func BenchNames() int {
	if v, err := strconv.Atoi(os.Getenv("SLOTDNS_BENCH_NAMES")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// WriteBigZone writes a zone of n names at path: addresses, text, and
// CNAMEs in and out of the zone.
func WriteBigZone(t testing.TB, path, origin string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "$ORIGIN %s\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n@ MX 10 mail\nmail A 192.0.2.25\n", origin)
	for i := range n {
		switch i % 10 {
		case 0:
			fmt.Fprintf(w, "c%d CNAME h%d\n", i, i+1)
		case 1:
			fmt.Fprintf(w, "h%d A 198.51.100.%d\nh%d TXT \"host %d\"\n", i, i%250+1, i, i)
		case 2:
			fmt.Fprintf(w, "e%d CNAME host%d.example.net.\n", i, i)
		default:
			fmt.Fprintf(w, "h%d A 198.51.100.%d\n", i, i%250+1)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// scaleApp is an app whose production slot serves the apex and www of
// origin, staging stage, both on addresses.
func scaleApp(name, origin string, i int) string {
	return fmt.Sprintf("[[app]]\nname = %q\nzone = %q\n[app.slots.production]\nnames = [\"@\", \"www\"]\ntarget = \"192.0.2.%d\"\n[app.slots.staging]\nnames = [\"stage\"]\ntarget = \"203.0.113.%d\"\n",
		name, origin, i%250+1, i%250+1)
}

// ManyZones writes into dir a config (listen is listenLine) of zones small
// zones, app0 to app(zones-1) each in its own, and returns its path.
func ManyZones(t testing.TB, dir, listenLine string, zones int) string {
	t.Helper()
	var cfg strings.Builder
	cfg.WriteString(listenLine + "\n")
	for i := range zones {
		origin := fmt.Sprintf("site%d.example.", i)
		WriteBigZone(t, filepath.Join(dir, origin+"zone"), origin, 20)
		fmt.Fprintf(&cfg, "[[zone]]\norigin = %q\nfile = %q\n", origin, origin+"zone")
	}
	for i := range zones {
		cfg.WriteString(scaleApp(fmt.Sprintf("app%d", i), fmt.Sprintf("site%d.example.", i), i))
	}
	path := filepath.Join(dir, "slotdns.toml")
	WriteFile(t, path, cfg.String())
	return path
}

// BigZone writes into dir a config (listen is listenLine) of one zone of
// names names, big.example., with the app "big", and returns its path.
func BigZone(t testing.TB, dir, listenLine string, names int) string {
	t.Helper()
	WriteBigZone(t, filepath.Join(dir, "big.example.zone"), "big.example.", names)
	path := filepath.Join(dir, "slotdns.toml")
	WriteFile(t, path, listenLine+"\n[[zone]]\norigin = \"big.example.\"\nfile = \"big.example.zone\"\n"+scaleApp("big", "big.example.", 1))
	return path
}

// BenchZoneText is a zone of yourwebapp.com. with records records of the
// mix integration/bench/bigzone.sh generates (every tenth an in-zone
// CNAME, every tenth one elsewhere, every tenth a TXT beside an A, the
// rest A), after an SOA in parentheses, an NS and its address.
func BenchZoneText(records int) []byte {
	var b strings.Builder
	b.WriteString("$ORIGIN yourwebapp.com.\n$TTL 3600\n@ SOA ns1 hostmaster ( 1 3600 600 1209600 300 )\n@ NS ns1\nns1 A 192.0.2.53\n")
	for i := range records {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "c%d CNAME h%d\n", i, i+1)
		case 2:
			fmt.Fprintf(&b, "e%d CNAME host%d.example.net.\n", i, i)
		case 5:
			fmt.Fprintf(&b, "h%d TXT \"host %d\"\n", i-4, i-4)
		default:
			fmt.Fprintf(&b, "h%d A 198.51.100.%d\n", i, i%250+1)
		}
	}
	return []byte(b.String())
}
