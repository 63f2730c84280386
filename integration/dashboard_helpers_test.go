package integration

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/miekg/dns"
)

// The browser tests drive the dashboard in Debian's chromium, headless,
// through the DevTools protocol (chromedp). Each test has a browser of
// its own with a fresh profile; the server is the built binary, with the
// remote API on a loopback port.

const (
	// browserTimeout bounds a whole browser test; stepTimeout one wait.
	browserTimeout = 40 * time.Second
	stepTimeout    = 10 * time.Second
)

// browser is a headless Chromium with one tab, for one test.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab

	mu      sync.Mutex
	console []string // what the page wrote to its console, for failures
}

// browserOption adds a flag to the browser of a test.
type browserOption = chromedp.ExecAllocatorOption

// newBrowser starts Chromium for t: skipped when it is not installed
// (failing under SLOTDNS_REQUIRE_INTEROP=1). On failure the test's output
// gets a screenshot of the page and what the page logged. Make it after
// the instance it visits: cleanups run last first, so the screenshot is
// then of the page before the server stops.
func newBrowser(t *testing.T, extra ...browserOption) *browser {
	t.Helper()
	path := requireTool(t, "chromium", "apt-get install chromium")
	profile := t.TempDir() // removed after the browser has exited (cleanups run last first)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI, and no user namespaces in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx}
	// The first action starts the browser and ties it to the context it
	// is given, so that one has no deadline (each step below has its
	// own); a browser that does not start in time is killed.
	slow := time.AfterFunc(browserTimeout, cancelAlloc)
	err := chromedp.Do(ctx)
	slow.Stop()
	if err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start %s: %v", path, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s %s", m.Type, m))
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b.saveScreenshot(t.Name())
			b.mu.Lock()
			if len(b.console) > 0 {
				t.Logf("the page's console:\n%s", strings.Join(b.console, "\n"))
			}
			b.mu.Unlock()
		}
		cancelTab()
		cancelAlloc() // kills the browser and waits for it
	})
	// The page gets 1280x800, whatever the headless window's frame takes.
	b.do("set the viewport", chromedp.EmulateViewport(1280, 800))
	return b
}

// artifactDir is where a failing test leaves its screenshot:
// SLOTDNS_TEST_ARTIFACTS when set (kept), else the test's artifact
// folder (kept with go test -artifacts, removed otherwise).
func artifactDir(t *testing.T) string {
	if dir := os.Getenv("SLOTDNS_TEST_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			return dir
		}
	}
	return t.ArtifactDir()
}

func (b *browser) saveScreenshot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	file := filepath.Join(artifactDir(b.t), regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot of the page: %s", file)
}

// do runs actions, failing the test with what it was doing.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// click presses the button with id once it is there and enabled, in one
// step in the page: the page may render it anew between a lookup and a
// click, and a click by node id would then miss.
func (b *browser) click(what, id string) {
	b.t.Helper()
	b.waitFor(what, fmt.Sprintf(`(() => { const e = document.getElementById(%q); if (!e || e.disabled || e.hidden) return false; e.click(); return true })()`, id), "")
}

// eval is the value of a JavaScript expression in the page, once it
// settles when it is a promise.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression cond is true in the
// page, checking at each DOM change and every 50 ms; on timeout it fails
// with what it waited for and the value of show then.
func (b *browser) waitFor(what, cond, show string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	if err != nil {
		got := "(no value)"
		if show != "" {
			sctx, scancel := context.WithTimeout(b.ctx, 2*time.Second)
			defer scancel()
			if v, err := chromedp.Run(sctx, chromedp.Evaluate[any](show)); err == nil {
				got = fmt.Sprintf("%v", v)
			}
		}
		b.t.Fatalf("waiting for %s (%s): %v; %s is %s", what, cond, err, show, got)
	}
}

// text is the text of the first element matching a CSS selector, "" if
// there is none.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, sel))
}

// count is how many elements match a CSS selector.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// colorScheme makes the page see prefers-color-scheme: dark or light.
func (b *browser) colorScheme(scheme string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		b.t.Fatalf("prefers-color-scheme %s: %v", scheme, err)
	}
}

// login opens the dashboard at url and signs in with the token, then
// waits for the app to show.
func (b *browser) login(url, token string) {
	b.t.Helper()
	b.do("open the dashboard", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.do("sign in", chromedp.SendKeys(chromedp.ID("token"), token))
	b.click("sign in", "login-button")
	b.waitFor("the app after signing in", `document.querySelector('[data-app="yourwebapp"] .serial') !== null && document.getElementById("live").dataset.state === "live"`,
		`document.getElementById("login-error").textContent + " / live: " + document.getElementById("live").dataset.state`)
}

// slotTarget is the target the page shows for a slot of yourwebapp.
func (b *browser) slotTarget(slot string) string {
	b.t.Helper()
	return strings.TrimSpace(b.text(fmt.Sprintf(`[data-app="yourwebapp"] [data-slot=%q] .target`, slot)))
}

// dashboardToken makes a token of scope with the CLI (the running server
// reads the token file again when it changes) and returns it, to paste.
func dashboardToken(ai *apiInstance, name, scope string) string {
	ai.t.Helper()
	return strings.TrimSpace(testkit.ReadFile(ai.t, ai.addToken(name, scope)))
}

// appState is what `slotdns status --json` says of yourwebapp.
type appState struct {
	Serial  uint32 `json:"serial"`
	Version uint64 `json:"version"`
	Slots   []struct {
		Slot   string `json:"slot"`
		Target string `json:"target"`
	} `json:"slots"`
}

func (s appState) target(slot string) string {
	for _, sl := range s.Slots {
		if sl.Slot == slot {
			return sl.Target
		}
	}
	return ""
}

func statusOf(in *instance) appState {
	in.t.Helper()
	out := in.mustSlotdns("status", "--json").stdout
	var apps []appState
	if err := json.Unmarshal([]byte(out), &apps); err != nil || len(apps) != 1 {
		in.t.Fatalf("status --json: %v\n%s", err, out)
	}
	return apps[0]
}

// Targets of the demo config.
const (
	productionTarget = "serktools-stagetest.cloudapp.test."
	stagingTarget    = "e7e3f38589d04635a6d0d0aee22bd842.cloudapp.test."
)

// spkiHash is the base64 SHA-256 of the public key of a PEM certificate,
// as Chromium's --ignore-certificate-errors-spki-list takes it: the
// browser then trusts that certificate and no other.
func spkiHash(t *testing.T, certFile string) string {
	t.Helper()
	sum := sha256.Sum256(readCertificate(t, certFile).RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// fakeSecondary stands in for a secondary server of yourwebapp.com: it
// acknowledges each NOTIFY, then asks the primary for its SOA and from
// then on answers that serial, as a secondary does once it has
// transferred the zone. That is all slotdns looks at to follow it.
type fakeSecondary struct {
	addr    string
	primary func() string // the primary's DNS address, known once it runs

	mu     sync.Mutex
	serial uint32
}

func newFakeSecondary(t *testing.T, primary func() string) *fakeSecondary {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSecondary{addr: pc.LocalAddr().String(), primary: primary}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve)}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return f
}

func (f *fakeSecondary) serve(w dns.ResponseWriter, req *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) != 1 || !strings.EqualFold(req.Question[0].Name, "yourwebapp.com.") {
		resp.Rcode = dns.RcodeRefused
		w.WriteMsg(resp)
		return
	}
	if req.Opcode == dns.OpcodeNotify {
		w.WriteMsg(resp)
		go f.refresh()
		return
	}
	f.mu.Lock()
	serial := f.serial
	f.mu.Unlock()
	if serial == 0 || req.Question[0].Qtype != dns.TypeSOA {
		resp.Rcode = dns.RcodeServerFailure // no zone yet
		w.WriteMsg(resp)
		return
	}
	resp.Answer = []dns.RR{&dns.SOA{
		Hdr: dns.RR_Header{Name: "yourwebapp.com.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
		Ns:  "ns1.yourwebapp.com.", Mbox: "hostmaster.yourwebapp.com.", Serial: serial,
		Refresh: 3600, Retry: 600, Expire: 1209600, Minttl: 300,
	}}
	w.WriteMsg(resp)
}

func (f *fakeSecondary) refresh() {
	resp, err := query(f.primary(), "yourwebapp.com.", dns.TypeSOA, time.Second)
	if err != nil || len(resp.Answer) == 0 {
		return
	}
	if soa, ok := resp.Answer[0].(*dns.SOA); ok {
		f.mu.Lock()
		f.serial = soa.Serial
		f.mu.Unlock()
	}
}

// withFakeSecondaries gives yourwebapp.com the secondaries in the config.
func withFakeSecondaries(config string, secondaries ...*fakeSecondary) string {
	var blocks strings.Builder
	for _, s := range secondaries {
		fmt.Fprintf(&blocks, "\n[[zone.secondary]]\naddress = %q\n", s.addr)
	}
	zoneFile := regexp.MustCompile(`(?m)^file\s*=\s*"zones/yourwebapp\.com\.zone".*$`)
	return zoneFile.ReplaceAllStringFunc(config, func(line string) string { return line + "\n" + blocks.String() })
}

// withCommandChecks gives yourwebapp checks that run a shell command:
// before, with the exit status of before, and after, for a window.
func withCommandChecks(config, before, after, window string) string {
	if before != "" {
		config += fmt.Sprintf("\n[[app.check]]\nname = \"smoke test\"\nwhen = \"before\"\ncommand = [\"/bin/sh\", \"-c\", %q]\n", before)
	}
	if after != "" {
		config += fmt.Sprintf("\n[[app.check]]\nname = \"error rate\"\nwhen = \"after\"\ncommand = [\"/bin/sh\", \"-c\", %q]\nwindow = %q\ninterval = \"1s\"\n", after, window)
	}
	return config
}
