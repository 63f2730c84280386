package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// get asks the handler for a path.
func get(t *testing.T, p string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
	return rec.Result()
}

func TestServesFilesWithCSP(t *testing.T) {
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"/app.js", "text/javascript; charset=utf-8", "EventSource"},
		{"/app.css", "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/api.js", "text/javascript; charset=utf-8", "export"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := get(t, tc.path)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, directive := range []string{"default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, directive) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, directive)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("Content-Security-Policy %q allows inline code", csp)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if !strings.Contains(string(body), tc.contains) {
				t.Errorf("body lacks %q", tc.contains)
			}
		})
	}
}

// files are the dashboard's files, by name.
func files(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	root, _ := fs.Sub(static, "static")
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The page loads nothing from elsewhere: no URL but the SVG namespace
// name (which names, and fetches nothing).
func TestNoExternalURLs(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, text := range files(t) {
		text = strings.ReplaceAll(text, `xmlns="http://www.w3.org/2000/svg"`, "")
		if strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".css") {
			text = stripComments(text)
		}
		for _, m := range url.FindAllString(text, -1) {
			t.Errorf("%s refers to %s: the dashboard must not load anything from elsewhere", name, m)
		}
	}
}

// stripComments drops /* */ comments, and // comments that start a
// line, from JavaScript or CSS: a comment may cite a standard.
func stripComments(s string) string {
	s = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(s, "")
	return regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAllString(s, "")
}

// The CSP forbids inline scripts, event handler attributes and style
// attributes; the files must not need them, nor write HTML from strings.
func TestNothingInline(t *testing.T) {
	for name, text := range files(t) {
		var bad []*regexp.Regexp
		switch path.Ext(name) {
		case ".html", ".svg":
			bad = []*regexp.Regexp{
				regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`), // a script with a body
				regexp.MustCompile(`(?i)\son[a-z]+\s*=`),          // onclick=...
				regexp.MustCompile(`(?i)\sstyle\s*=`),
				regexp.MustCompile(`(?i)<style`),
				regexp.MustCompile(`(?i)javascript:`),
			}
		case ".js":
			text = stripComments(text)
			bad = []*regexp.Regexp{
				regexp.MustCompile(`\.(inner|outer)HTML\b`),
				regexp.MustCompile(`insertAdjacentHTML|document\.write`),
				regexp.MustCompile(`\beval\(|new Function\(`),
				regexp.MustCompile(`\.style\.|["']style["']`),
				regexp.MustCompile(`setInterval\([^)]*fetch|setInterval\(\s*(load|refresh)`), // no polling
			}
		}
		for _, re := range bad {
			if m := re.FindString(text); m != "" {
				t.Errorf("%s has %q", name, m)
			}
		}
	}
}

// Every file the page or a module names is there.
func TestReferencesResolve(t *testing.T) {
	all := files(t)
	ref := regexp.MustCompile(`(?:src|href)="([^"#]+)"|from "\./([^"]+)"`)
	for name, text := range all {
		for _, m := range ref.FindAllStringSubmatch(text, -1) {
			target := m[1] + m[2]
			if strings.HasPrefix(target, "data:") {
				continue
			}
			if _, ok := all[path.Clean(target)]; !ok {
				t.Errorf("%s refers to %s, which the dashboard does not have", name, target)
			}
		}
	}
	if _, ok := all["index.html"]; !ok {
		t.Fatal("no index.html")
	}
}
