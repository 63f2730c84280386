package testkit

import (
	"path/filepath"
	"strings"
	"testing"
)

// ExampleZone is the zone of the test site. Its addresses are
// documentation ranges: they are served, never dialled.
const ExampleZone = `$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1 hostmaster 2026010101 3600 600 1209600 300
@       IN NS   ns1
ns1     IN A    192.0.2.1
@       IN MX   10 mail
mail    IN A    192.0.2.25
docs    IN A    192.0.2.40
`

// DeployZone stands in for the cloud provider's zone of the deployments.
const DeployZone = `$ORIGIN deploy.test.
$TTL 60
@      IN SOA ns1 hostmaster 1 3600 600 1209600 60
@      IN NS  ns1
ns1    IN A   192.0.2.53
blue   IN A   198.51.100.10
blue   IN AAAA 2001:db8::10
green  IN A   198.51.100.20
test3  IN A   198.51.100.30
`

// SiteConfig serves ExampleZone and DeployZone with one app, "site",
// whose production slot answers for the apex and www and whose staging
// slot answers for stage. DNS listens on a free loopback port.
const SiteConfig = `listen  = ["127.0.0.1:0"]
db      = "slotdns.db"
control = "slotdns.sock"

[[zone]]
origin = "example.com."
file   = "example.com.zone"

[[zone]]
origin = "deploy.test."
file   = "deploy.test.zone"

[[app]]
name = "site"
zone = "example.com."
ttl  = 30

[app.slots.production]
names  = ["@", "www"]
target = "blue.deploy.test."

[app.slots.staging]
names  = ["stage"]
target = "green.deploy.test."
`

// Site writes the test site into a new folder: slotdns.toml (config, or
// SiteConfig when config is ""), example.com.zone and deploy.test.zone.
// It returns the config's path.
func Site(t testing.TB, config string) string {
	t.Helper()
	if config == "" {
		config = SiteConfig
	}
	dir := WriteFiles(t, map[string]string{
		"example.com.zone": ExampleZone,
		"deploy.test.zone": DeployZone,
		"slotdns.toml":     config,
	})
	return filepath.Join(dir, "slotdns.toml")
}

// Edit returns text with old replaced by new once, and fails t when old
// is not in it: a fixture edit that no longer applies says so.
func Edit(t testing.TB, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("fixture edit: %q is not in the text", old)
	}
	return strings.Replace(text, old, new, 1)
}
