package control

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/zones"
)

// contentDigest identifies what zone z serves besides the store's state:
// the zone file's records, in the canonical order AXFR sends them, with
// the SOA serial left out (the store owns the serial), and the slots the
// config lays over them (app, slot, names and TTL; targets are the
// store's). The store keeps it beside the serial, so that content that
// changed while the server was down gets a new serial at start.
func contentDigest(z *zones.Zone, apps []AppConfig) (string, error) {
	snap, err := zones.Build(zones.Input{Zones: []zones.ZoneInput{{Zone: z, Serial: 0}}})
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", z.Origin, err)
	}
	recs, _ := snap.Records(z.Origin)
	h := sha256.New()
	for _, rr := range recs {
		io.WriteString(h, rr.String())
		io.WriteString(h, "\n")
	}
	for _, line := range slotLayout(z.Origin, apps) {
		io.WriteString(h, line)
		io.WriteString(h, "\n")
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// slotLayout lists the slots configured in zone, one sorted line each:
// "slot APP SLOT ttl TTL NAME...".
func slotLayout(zone string, apps []AppConfig) []string {
	var lines []string
	for _, app := range apps {
		if app.Zone != zone {
			continue
		}
		for _, slot := range app.Slots {
			names := slices.Sorted(slices.Values(slot.Names))
			lines = append(lines, fmt.Sprintf("slot %s %s ttl %d %s", app.Name, slot.Name, app.TTL, strings.Join(names, " ")))
		}
	}
	slices.Sort(lines)
	return lines
}
