package integration

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readmeMarker precedes each ```console block of README.md that this test
// runs. In a block, "$ " starts a command and the lines after it are output
// it must print, in order (other lines may come between); "…" stands for any
// text and runs of blanks match any blanks. A command ending in "# exit N"
// must exit with N, any other with 0.
const readmeMarker = "<!-- readme_test -->"

// readmeCommand is one command of the walk-through and what it must print.
type readmeCommand struct {
	line int // in README.md
	cmd  string
	code int
	want []string
}

// TestReadme runs the README's walk-through, as written, against a server on
// a copy of the demo config, so that the page cannot drift from the code.
// The one change: dig asks the test's port instead of 1053.
func TestReadme(t *testing.T) {
	t.Parallel()
	requireTool(t, "dig", "apt-get install bind9-dnsutils")
	commands := readmeCommands(t, filepath.Join(repoRoot, "README.md"))

	in := newDemo(t, nil)
	if err := os.Mkdir(filepath.Join(in.dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(slotdnsBin, filepath.Join(in.dir, "bin", "slotdns")); err != nil {
		t.Fatal(err)
	}
	in.start()

	for _, c := range commands {
		line := strings.ReplaceAll(c.cmd, "-p 1053", "-p "+strconv.Itoa(in.port))
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = in.dir
		out, err := cmd.CombinedOutput()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("README.md:%d: %s: %v", c.line, c.cmd, err)
		}
		if code != c.code {
			t.Errorf("README.md:%d: %s: got exit %d, want %d\n%s", c.line, c.cmd, code, c.code, out)
		}
		if missing := missingLines(string(out), c.want); missing != "" {
			t.Errorf("README.md:%d: %s: output lacks (in order)\n  %s\ngot:\n%s", c.line, c.cmd, missing, out)
		}
	}
}

// readmeCommands reads the marked blocks of the README.
func readmeCommands(t *testing.T, path string) []readmeCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		commands       []readmeCommand
		marked, inside bool
		exitComment    = regexp.MustCompile(`\s+#\s*exit\s+(\d+)\s*$`)
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		switch {
		case strings.TrimSpace(text) == readmeMarker:
			marked = true
		case marked && !inside:
			if text != "```console" {
				t.Fatalf("README.md:%d: got %q after %s, want a ```console block", n, text, readmeMarker)
			}
			inside = true
		case inside && text == "```":
			marked, inside = false, false
		case inside && strings.HasPrefix(text, "$ "):
			c := readmeCommand{line: n, cmd: strings.TrimPrefix(text, "$ ")}
			if m := exitComment.FindStringSubmatch(c.cmd); m != nil {
				c.code, _ = strconv.Atoi(m[1])
				c.cmd = c.cmd[:len(c.cmd)-len(m[0])]
			}
			commands = append(commands, c)
		case inside:
			if len(commands) == 0 {
				t.Fatalf("README.md:%d: output before the first command of the block", n)
			}
			last := &commands[len(commands)-1]
			last.want = append(last.want, text)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inside || marked {
		t.Fatalf("README.md: the last %s block is not closed", readmeMarker)
	}
	if len(commands) == 0 {
		t.Fatalf("README.md: no commands under %s", readmeMarker)
	}
	return commands
}

// missingLines returns the first wanted line that the output does not hold
// after the lines matched before it, or "" when all are there.
func missingLines(out string, want []string) string {
	got := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		re := wantPattern(w)
		for i < len(got) && !re.MatchString(strings.Join(strings.Fields(got[i]), " ")) {
			i++
		}
		if i == len(got) {
			return w
		}
		i++
	}
	return ""
}

// wantPattern matches a whole output line, blanks collapsed, "…" as any text.
func wantPattern(line string) *regexp.Regexp {
	parts := strings.Split(strings.Join(strings.Fields(line), " "), "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}
