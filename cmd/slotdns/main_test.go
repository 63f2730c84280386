package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/testkit"
)

// The tests of this file run the command in-process, one at a time:
// urfave/cli keeps global state across runs.

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"slotdns"}, args...), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// site writes the test site listening on a free loopback port (for the
// commands that ask it) and returns the config's path.
func site(t *testing.T, edits ...func(string) string) string {
	t.Helper()
	cfg := strings.Replace(testkit.SiteConfig, `listen  = ["127.0.0.1:0"]`, `listen  = ["`+testkit.DeadAddr(t)+`"]`, 1)
	for _, edit := range edits {
		cfg = edit(cfg)
	}
	return testkit.Site(t, cfg)
}

// serveInBackground runs slotdns serve on config until the test ends (or
// stop), and returns once the server logs that it serves. Waiting on the
// log, whose lock orders the server's start before the test's next run,
// keeps the race detector content with urfave/cli's global state. A
// listen port that another process took since site chose it is replaced
// in the config by another, and serve started again.
func serveInBackground(t *testing.T, config string) (stop func()) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		stop, err := tryServe(t, config)
		if err == nil {
			return stop
		}
		if !strings.Contains(err.Error(), "address already in use") || attempt == 5 {
			t.Fatal(err)
		}
		text := testkit.ReadFile(t, config)
		text = listenLine.ReplaceAllString(text, `listen  = ["`+testkit.DeadAddr(t)+`"]`)
		testkit.WriteFile(t, config, text)
	}
}

var listenLine = regexp.MustCompile(`(?m)^listen\s*=\s*\["127\.0\.0\.1:\d+"\]`)

// tryServe is one start of serveInBackground: an error when serve exits
// before it serves.
func tryServe(t *testing.T, config string) (stop func(), err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testkit.Buffer
	served := make(chan int, 1)
	go func() {
		served <- run(ctx, []string{"slotdns", "--config", config, "serve"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(stderr.String(), "msg=Serving ") {
		select {
		case code := <-served:
			cancel()
			return nil, fmt.Errorf("serve: exit %d before serving: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			<-served
			return nil, fmt.Errorf("serve: not serving after 15s: %s", stderr.String())
		}
	}
	stop = sync.OnceFunc(func() {
		cancel()
		if code := <-served; code != 0 {
			t.Errorf("serve: exit %d: %s", code, stderr.String())
		}
	})
	t.Cleanup(stop)
	return stop, nil
}

func TestExitCodes(t *testing.T) {
	config := site(t)
	broken := filepath.Join(filepath.Dir(config), "broken.toml")
	testkit.WriteFile(t, broken, "[[zone]]\norigin = \"example.com.\"\nfile = \"example.com.zone\"\nlisen = 1\n")
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string // substrings
	}{
		{"check", []string{"--config", config, "check"}, 0, "zone example.com. ok", ""},
		{"check after the command", []string{"check", "--config", config}, 0, "ok", ""},
		{"check a broken config", []string{"--config", broken, "check"}, 1, "", `broken.toml:4: unknown key "zone.lisen"`},
		{"no command", []string{"--config", config}, 2, "", "no command"},
		{"unknown command", []string{"--config", config, "swpa"}, 2, "", `unknown command "swpa"`},
		{"unknown flag", []string{"--config", config, "swap", "site", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{"missing app", []string{"--config", config, "swap"}, 2, "", "want APP"},
		{"too few arguments", []string{"--config", config, "set", "site", "staging"}, 2, "", "want APP SLOT TARGET"},
		{"negative limit", []string{"--config", config, "history", "site", "--limit", "-1"}, 2, "", "--limit -1"},
		{"missing config", []string{"--config", config + ".nope", "status"}, 1, "", "read config"},
		{"unknown app", []string{"--config", config, "swap", "nope"}, 1, "", `app "nope" not found`},
		{"a relative target", []string{"--config", config, "set", "site", "staging", "blue"}, 1, "", `a hostname needs its trailing dot: write "blue." if that is the whole name`},
		{"not a target", []string{"--config", config, "set", "site", "staging", "not a host!"}, 1, "", `target "not a host!"`},
		{"a conflict", []string{"--config", config, "swap", "site", "--expect", "blue.deploy.test."}, 3, "", `staging is "green.deploy.test.", expected "blue.deploy.test."`},
		{"nothing to roll back is a conflict", []string{"--config", config, "rollback", "site"}, 3, "", "nothing to roll back"},
		{"records of a zone without any", []string{"--config", config, "records", "example.com"}, 0, "example.com.: no dynamic records", ""},
		{"records of an unknown zone", []string{"--config", config, "records", "example.org"}, 1, "", "zone not found; the config serves example.com., deploy.test."},
		{"records rm without a name", []string{"--config", config, "records", "rm", "example.com"}, 2, "", "want"},
		{"records rm of nothing", []string{"--config", config, "records", "rm", "example.com", "_acme-challenge"}, 0, "no such dynamic records; nothing changed", ""},
		{"records rm of a bad type", []string{"--config", config, "records", "rm", "example.com", "www", "ANY"}, 1, "", `type "ANY": want a type of records`},
		{"records rm outside the zone", []string{"--config", config, "records", "rm", "example.com", "www.example.org."}, 1, "", `name "www.example.org." is not a name of the zone`},
		{"update history of a zone without any", []string{"--config", config, "records", "--history", "example.com"}, 0, "no updates yet", ""},
		{"help of a command", []string{"swap", "--help"}, 0, "slotdns swap yourwebapp", ""},
		{"help of an unknown command", []string{"help", "nope"}, 2, "", "No help topic for 'nope'"},
		{"version", []string{"version"}, 0, "slotdns ", ""},
		{"--version", []string{"--version"}, 0, "slotdns version ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runCLI(t, tc.args...)
			if got.code != tc.code || !strings.Contains(got.stdout, tc.stdout) || !strings.Contains(got.stderr, tc.stderr) {
				t.Errorf("got exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout with %q, stderr with %q", got.code, got.stdout, got.stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestJSONErrors: with --json, an error is a JSON object on stdout.
func TestJSONErrors(t *testing.T) {
	config := site(t)
	for _, tc := range []struct {
		args []string
		code int
		kind string
	}{
		{[]string{"swap", "site", "--expect", "blue.deploy.test.", "--json"}, 3, "conflict"},
		{[]string{"swap", "nope", "--json"}, 1, "not_found"},
		{[]string{"set", "site", "staging", "blue", "--json"}, 1, "invalid"},
		{[]string{"reload", "--json"}, 0, ""},
		{[]string{"history", "site", "--limit", "-1", "--json"}, 2, "usage"},
	} {
		got := runCLI(t, append([]string{"--config", config}, tc.args...)...)
		if got.code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s %s", tc.args, got.code, tc.code, got.stdout, got.stderr)
		}
		if tc.kind == "" {
			continue
		}
		var body struct{ Error, Kind string }
		if err := json.Unmarshal([]byte(got.stdout), &body); err != nil || body.Kind != tc.kind || body.Error == "" {
			t.Errorf("%v: stdout %q, want a JSON error of kind %s", tc.args, got.stdout, tc.kind)
		}
		if strings.Contains(got.stderr, "slotdns: ") {
			t.Errorf("%v: the error was printed on stderr too: %q", tc.args, got.stderr)
		}
	}
}

// TestUnknownOutcome: a server that dies between receiving a change and
// replying leaves the outcome unknown: exit 4, and how to find out.
func TestUnknownOutcome(t *testing.T) {
	config := site(t)
	ln, err := net.Listen("unix", filepath.Join(filepath.Dir(config), "slotdns.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	got := runCLI(t, "--config", config, "swap", "site")
	if got.code != 4 || !strings.Contains(got.stderr, "may or may not have been made; look at slotdns history") {
		t.Errorf("got exit %d: %s", got.code, got.stderr)
	}
}

func TestServeSwapVerify(t *testing.T) {
	config := site(t)
	serveInBackground(t, config)
	got := runCLI(t, "--config", config, "swap", "site", "--reason", "release 7")
	if got.code != 0 || !strings.Contains(got.stdout, "site: swapped staging and production (#1 by ") || !strings.Contains(got.stdout, "SOA serial of example.com. is now 2026010102") {
		t.Fatalf("swap: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if got := runCLI(t, "--config", config, "verify", "site"); got.code != 0 || strings.Count(got.stdout, " ok\n") != 3 {
		t.Errorf("verify: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	got = runCLI(t, "--config", config, "history", "site")
	if got.code != 0 || !strings.Contains(got.stdout, "release 7") {
		t.Errorf("history: exit %d\n%s", got.code, got.stdout)
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if got := runCLI(t, "--config", config, "backup", backup); got.code != 0 || !strings.Contains(got.stdout, "backed up ") {
		t.Errorf("backup: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if info, err := os.Stat(backup); err != nil || info.Mode().Perm() != 0o600 || info.Size() == 0 {
		t.Errorf("backup file: %v, %v", info, err)
	}
	// rename and forget refuse while a server runs.
	if got := runCLI(t, "--config", config, "forget", "site"); got.code != 1 || !strings.Contains(got.stderr, "stop it first") {
		t.Errorf("forget while serving: exit %d: %s", got.code, got.stderr)
	}
}

// TestReadCommandsDoNotWrite: with no server, status, history, verify and
// backup read the database and never write it; with none, they create
// none.
func TestReadCommandsDoNotWrite(t *testing.T) {
	config := site(t)
	db := filepath.Join(filepath.Dir(config), "slotdns.db")
	for _, args := range [][]string{{"status"}, {"status", "site", "--json"}, {"history", "site"}, {"verify", "site"}} {
		runCLI(t, append([]string{"--config", config}, args...)...)
		if _, err := os.Stat(db); err == nil {
			t.Fatalf("%v created the database", args)
		}
	}
	if got := runCLI(t, "--config", config, "status", "site"); !strings.Contains(got.stdout, "not in the database yet") || !strings.Contains(got.stderr, "does not exist yet") {
		t.Errorf("status with no database: %s%s", got.stdout, got.stderr)
	}
	if got := runCLI(t, "--config", config, "swap", "site"); got.code != 0 {
		t.Fatalf("swap with no server: exit %d: %s", got.code, got.stderr)
	}
	before := testkit.ReadFile(t, db)
	for _, args := range [][]string{{"status"}, {"history", "site", "--json"}, {"verify", "site"}, {"backup", filepath.Join(t.TempDir(), "b.db")}} {
		runCLI(t, append([]string{"--config", config}, args...)...)
		if testkit.ReadFile(t, db) != before {
			t.Fatalf("%v changed the database", args)
		}
	}
}

// TestCheckFindsEverything: every problem serve would meet, at once.
func TestCheckFindsEverything(t *testing.T) {
	long := "/tmp/" + strings.Repeat("x", 110) + ".sock"
	config := site(t, func(c string) string {
		c = strings.Replace(c, `db      = "slotdns.db"`, `db      = "no/such/folder/slotdns.db"`, 1)
		c = strings.Replace(c, `control = "slotdns.sock"`, `control = "`+long+`"`, 1)
		return strings.Replace(c, "ttl  = 30", "ttl  = \"30\"\nlog_level = 7", 1)
	})
	got := runCLI(t, "--config", config, "check")
	if got.code != 1 {
		t.Fatalf("check: exit %d", got.code)
	}
	for _, want := range []string{`key "app.ttl"`, `key "app.log_level"`} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("check: %q not reported in\n%s", want, got.stderr)
		}
	}
	// A config that loads: the paths, then the state of the database.
	config = site(t, func(c string) string {
		c = strings.Replace(c, `db      = "slotdns.db"`, `db      = "no/such/folder/slotdns.db"`, 1)
		return strings.Replace(c, `control = "slotdns.sock"`, `control = "`+long+`"`, 1)
	})
	got = runCLI(t, "--config", config, "check")
	for _, want := range []string{"no/such/folder", "a unix socket path holds at most 107"} {
		if got.code != 1 || !strings.Contains(got.stderr, want) {
			t.Errorf("check: %q not reported in\n%s", want, got.stderr)
		}
	}
	// An app renamed in the config: check names it, serve refuses, and
	// rename keeps its state.
	config = site(t)
	if got := runCLI(t, "--config", config, "swap", "site"); got.code != 0 {
		t.Fatalf("swap: %s", got.stderr)
	}
	testkit.WriteFile(t, config, strings.Replace(testkit.ReadFile(t, config), `name = "site"`, `name = "shop"`, 1))
	got = runCLI(t, "--config", config, "check")
	if got.code != 1 || !strings.Contains(got.stderr, `app "site" is in the database but not in`) || !strings.Contains(got.stderr, "slotdns rename site NEW") {
		t.Errorf("check with a renamed app: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "--config", config, "serve"); got.code != 1 || !strings.Contains(got.stderr, `app "site" is in the database but not in`) {
		t.Errorf("serve with a renamed app: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "--config", config, "rename", "site", "shop"); got.code != 0 {
		t.Fatalf("rename: exit %d: %s", got.code, got.stderr)
	}
	got = runCLI(t, "--config", config, "status", "shop")
	if got.code != 0 || !strings.Contains(got.stdout, "production  example.com. www.example.com.  green.deploy.test.") {
		t.Errorf("status after the rename: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
}

// TestDamagedDatabase: an overwritten or emptied file is refused with
// what to do, by every command, and never with a stack trace.
func TestDamagedDatabase(t *testing.T) {
	config := site(t)
	if got := runCLI(t, "--config", config, "swap", "site"); got.code != 0 {
		t.Fatal(got.stderr)
	}
	db := filepath.Join(filepath.Dir(config), "slotdns.db")
	data, _ := os.ReadFile(db)
	for i := 4 * 4096; i < len(data); i++ {
		data[i] ^= 0xA5 // every page after the meta pages and the freelist
	}
	os.WriteFile(db, data, 0o600)
	for _, args := range [][]string{{"serve"}, {"check"}, {"status", "site"}, {"swap", "site"}, {"history", "site"}} {
		got := runCLI(t, append([]string{"--config", config}, args...)...)
		if got.code != 1 || !strings.Contains(got.stderr+got.stdout, "restore it from a backup") || strings.Contains(got.stderr, "goroutine ") {
			t.Errorf("%v on a damaged file: exit %d\n%s%s", args, got.code, got.stdout, got.stderr)
		}
	}
	got := runCLI(t, "--config", config, "status", "site", "--json")
	var body struct{ Error, Kind string }
	if err := json.Unmarshal([]byte(got.stdout), &body); err != nil || body.Kind != "damaged" {
		t.Errorf("status --json on a damaged file: %q, want an error of kind damaged", got.stdout)
	}
	os.WriteFile(db, nil, 0o600)
	if got := runCLI(t, "--config", config, "serve"); got.code != 1 || !strings.Contains(got.stderr, "the file is empty (0 bytes)") {
		t.Errorf("serve on an empty file: exit %d: %s", got.code, got.stderr)
	}
}

// TestRecordsWithABrokenZoneFile: history and backup read what the
// database records, so a zone file that no longer parses hides neither;
// the commands that read what is served name the file.
func TestRecordsWithABrokenZoneFile(t *testing.T) {
	config := site(t)
	if got := runCLI(t, "--config", config, "swap", "site"); got.code != 0 {
		t.Fatal(got.stderr)
	}
	testkit.WriteFile(t, filepath.Join(filepath.Dir(config), "example.com.zone"), testkit.ExampleZone+"www IN A not-an-address\n")
	if got := runCLI(t, "--config", config, "history", "site"); got.code != 0 || !strings.Contains(got.stdout, "swap") {
		t.Errorf("history: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if got := runCLI(t, "--config", config, "backup", backup); got.code != 0 {
		t.Errorf("backup: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	got := runCLI(t, "--config", config, "status", "site", "--json")
	var body struct{ Error, Kind string }
	if err := json.Unmarshal([]byte(got.stdout), &body); err != nil || body.Kind != "invalid" || !strings.Contains(body.Error, "example.com.zone:") {
		t.Errorf("status --json: %q, want an error of kind invalid naming the file", got.stdout)
	}
}

// TestKeyFileReadOnlyWhenNeeded: a key file others may read stops serve
// and check, not the commands that need no secret.
func TestKeyFileReadOnlyWhenNeeded(t *testing.T) {
	config := site(t, func(c string) string { return "tsig_keys = \"tsig.key\"\n" + c })
	keys := filepath.Join(filepath.Dir(config), "tsig.key")
	testkit.WriteKeyFile(t, keys)
	os.Chmod(keys, 0o644)
	if got := runCLI(t, "--config", config, "check"); got.code != 1 || !strings.Contains(got.stderr, "lets group or others read the secrets") {
		t.Errorf("check: exit %d: %s", got.code, got.stderr)
	}
	if got := runCLI(t, "--config", config, "status", "site"); got.code != 0 {
		t.Errorf("status: exit %d: %s", got.code, got.stderr)
	}
	if got := runCLI(t, "--config", config, "swap", "site"); got.code != 0 {
		t.Errorf("swap with no server: exit %d: %s", got.code, got.stderr)
	}
}

// TestDrainWithNoServer: a change with the server stopped still counts
// the answers the server served until it stopped.
func TestDrainWithNoServer(t *testing.T) {
	config := site(t, func(c string) string { return strings.Replace(c, "ttl  = 30", "ttl  = 5", 1) })
	stop := serveInBackground(t, config)
	stop()
	got := runCLI(t, "--config", config, "swap", "site", "--json")
	var ch api.Change
	if err := json.Unmarshal([]byte(got.stdout), &ch); err != nil || got.code != 0 {
		t.Fatalf("swap with the server stopped: exit %d: %s%s", got.code, got.stdout, got.stderr)
	}
	if left := ch.DrainedAt.Sub(ch.Time); left < 6*time.Second || left > 7*time.Second {
		t.Errorf("drained %s after the change, want the 5s TTL the server served, plus a second", left)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"release 42":        "release 42",
		"déployé ✓":         "déployé ✓",
		"two\nlines":        `two\nlines`,
		"\x1b[2Jclear":      `\x1b[2Jclear`,
		"bidi \u202e":       `bidi \u202e`,
		"bad \xff encoding": `bad \xff encoding`,
	} {
		if got := text(in); got != want {
			t.Errorf("text(%q): got %q, want %q", in, got, want)
		}
	}
}
