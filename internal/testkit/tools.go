package testkit

import (
	"os"
	"os/exec"
	"testing"
)

// RequireTool returns the path of a third-party program. When it is
// missing the test is skipped with the command that installs it, or fails
// when SLOTDNS_REQUIRE_INTEROP=1 (CI installs everything and sets it).
func RequireTool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} { // daemons live here, often off a user's PATH
		if p := dir + "/" + name; isExecutable(p) {
			return p
		}
	}
	if os.Getenv("SLOTDNS_REQUIRE_INTEROP") == "1" {
		t.Fatalf("%s not found and SLOTDNS_REQUIRE_INTEROP=1: %s", name, install)
	}
	t.Skipf("%s not found: %s", name, install)
	return ""
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
