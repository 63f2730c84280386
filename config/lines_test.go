package config

import "testing"

func TestScanKeyLines(t *testing.T) {
	t.Parallel()
	text := `# comment
listen = ["a"]

[[zone]]
origin = "x."
[[zone]]
origin = "y."

[[app]]
name = "a"
[app.slots.production]
names = [
  "www",
]
target = "t."
[[app]]
"name" = "b"
[app.slots.staging]
target = "u."
`
	lines := scanKeyLines([]byte(text))
	tests := map[string]int{
		"listen":                         2,
		"zone[0].origin":                 5,
		"zone[1].origin":                 7,
		"zone.origin":                    5,
		"app[0]":                         9,
		"app[0].slots.production":        11,
		"app[0].slots.production.names":  12,
		"app[0].slots.production.target": 15,
		"app[1].name":                    17,
		"app[1].slots.staging.target":    19,
		"app.slots.staging.target":       19,
	}
	for key, want := range tests {
		if got := lines[key]; got != want {
			t.Errorf("%s: got line %d, want %d", key, got, want)
		}
	}
}
