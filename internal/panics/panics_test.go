package panics

import (
	"strings"
	"testing"
)

func boom() {
	var m map[string]int
	m["x"] = 1 // a nil map: the runtime panics here
}

func TestSite(t *testing.T) {
	var site string
	func() {
		defer func() {
			if recover() != nil {
				site = Site()
			}
		}()
		boom()
	}()
	if !strings.HasPrefix(site, "github.com/slotdns/slotdns/internal/panics.boom (panics_test.go:") {
		t.Errorf("Site: got %q, want boom's line", site)
	}
}
