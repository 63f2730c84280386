package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestCheckPaths(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("s", 108)
	tests := []struct {
		name   string
		edit   func(t *testing.T, config string) string
		setup  func(t *testing.T, dir string)
		root   bool   // whether the case holds for root, who may write anywhere
		want   string // a substring of the error, "" for none; DIR is the site
		errors int
	}{
		{name: "ok", root: true},
		{name: "existing db", setup: func(t *testing.T, dir string) { testkit.WriteFile(t, filepath.Join(dir, "slotdns.db"), "") }, root: true},
		{name: "missing db folder", root: true, errors: 1,
			edit: func(t *testing.T, c string) string { return testkit.Edit(t, c, `"slotdns.db"`, `"nope/slotdns.db"`) },
			want: `slotdns.toml:2: db "DIR/nope/slotdns.db": folder DIR/nope does not exist; create it, or set db to a file in a folder slotdns may write`},
		{name: "read-only db folder", errors: 1,
			edit:  func(t *testing.T, c string) string { return testkit.Edit(t, c, `"slotdns.db"`, `"ro/slotdns.db"`) },
			setup: func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "ro"), 0o555) },
			want:  `slotdns.toml:2: db "DIR/ro/slotdns.db": folder DIR/ro is not writable by this user`},
		{name: "read-only db file", errors: 1,
			setup: func(t *testing.T, dir string) {
				testkit.WriteFile(t, filepath.Join(dir, "slotdns.db"), "")
				os.Chmod(filepath.Join(dir, "slotdns.db"), 0o444)
			},
			want: `slotdns.toml:2: db "DIR/slotdns.db" is not writable by this user`},
		{name: "db is a folder", root: true, errors: 1,
			setup: func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "slotdns.db"), 0o755) },
			want:  `slotdns.toml:2: db "DIR/slotdns.db" is not a regular file`},
		{name: "missing control folder", root: true, errors: 1,
			edit: func(t *testing.T, c string) string { return testkit.Edit(t, c, `"slotdns.sock"`, `"run/slotdns.sock"`) },
			want: `slotdns.toml:3: control "DIR/run/slotdns.sock": folder DIR/run does not exist`},
		{name: "socket path too long", root: true, errors: 1,
			edit: func(t *testing.T, c string) string { return testkit.Edit(t, c, `"slotdns.sock"`, `"`+long+`"`) },
			want: `slotdns.toml:3: control "DIR/` + long + `": the socket path is `},
		{name: "both", root: true, errors: 2,
			edit: func(t *testing.T, c string) string {
				return testkit.Edit(t, testkit.Edit(t, c, `"slotdns.db"`, `"nope/slotdns.db"`), `"slotdns.sock"`, `"`+long+`"`)
			},
			want: `slotdns.toml:3: control "DIR/` + long + `": the socket path is `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !tt.root && os.Geteuid() == 0 {
				t.Skip("root may write anywhere; run the tests as another user to check this case")
			}
			config := testkit.SiteConfig
			if tt.edit != nil {
				config = tt.edit(t, config)
			}
			path := testkit.Site(t, config)
			dir := filepath.Dir(path)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			got := errorsOf(cfg.CheckPaths())
			text := strings.ReplaceAll(strings.Join(got, "\n"), dir, "DIR")
			if len(got) != tt.errors || tt.want != "" && !strings.Contains(text, tt.want) {
				t.Errorf("got %d errors:\n%s\nwant %d, containing %q", len(got), text, tt.errors, tt.want)
			}
		})
	}
}

// The socket's length is checked where the config does not name it too:
// the error names the file.
func TestCheckPathsDefaultSocket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	config := testkit.Edit(t, testkit.SiteConfig, "control = \"slotdns.sock\"\n", "")
	testkit.WriteFile(t, filepath.Join(dir, "slotdns.toml"), config)
	cfg, err := Load(filepath.Join(dir, "slotdns.toml"))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.CheckPaths()
	want := cfg.Path + `: control "` + filepath.Join(dir, DefaultControl) + `": the socket path is `
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "set a shorter control path") {
		t.Errorf("got %v, want an error starting %q", err, want)
	}
}

func mkdir(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(path, 0o755) }) // so that TempDir can remove it
}
