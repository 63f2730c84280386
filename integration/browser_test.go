package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The dashboard in a real browser: signing in, the swap button from the
// plan to the drain countdown, what a read-only token sees, a forged
// cross-site POST, and a change made elsewhere showing up live.

const appSel = `[data-app="yourwebapp"]`

// TestDashboardSwap signs in with a swap token, presses the swap button,
// confirms the plan, and finds the swap served (dig) and shown: the new
// serial and the drain countdown.
func TestDashboardSwap(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, false, nil)
	b := newBrowser(t)
	ai.start()
	b.login(ai.url, dashboardToken(ai, "release", "swap"))

	if got := b.slotTarget("production"); got != productionTarget {
		t.Errorf("production shows target %q, want %q", got, productionTarget)
	}
	if got := b.slotTarget("staging"); got != stagingTarget {
		t.Errorf("staging shows target %q, want %q", got, stagingTarget)
	}
	apex := b.text(appSel + ` [data-slot="production"] [data-name="yourwebapp.com."] .answer`)
	if !strings.Contains(apex, "198.51.100.10") || !strings.Contains(apex, "2001:db8:100::10") {
		t.Errorf("the apex answers %q, want the flattened addresses of %s", apex, productionTarget)
	}
	before := statusOf(ai.instance)

	b.click("press the swap button", "swap-yourwebapp")
	b.waitFor("the plan in the confirmation", `document.getElementById("dialog").open && document.querySelectorAll("#dialog-body li[data-name]").length === 3`,
		`document.getElementById("dialog-body").innerText`)
	www := b.text(`#dialog-body li[data-name="www.yourwebapp.com."]`)
	if !strings.Contains(www, productionTarget) || !strings.Contains(www, stagingTarget) || strings.Index(www, productionTarget) > strings.Index(www, stagingTarget) {
		t.Errorf("the plan for www reads %q, want %s before and %s after", www, productionTarget, stagingTarget)
	}
	b.do("confirm", chromedp.SendKeys(chromedp.ID("reason"), "release 42"))
	b.click("confirm", "confirm")
	b.waitFor("the swap to be done", `document.getElementById("progress-yourwebapp").dataset.state === "done"`,
		`document.getElementById("progress-yourwebapp").innerText`)

	after := statusOf(ai.instance)
	if got := after.target("production"); got != stagingTarget || after.Serial == before.Serial {
		t.Fatalf("after the swap: production %s, serial %d (was %d); want %s and a new serial", got, after.Serial, before.Serial, stagingTarget)
	}
	if got := dig(t, ai.port, "www.yourwebapp.com.", "CNAME").cname("www.yourwebapp.com."); got != stagingTarget {
		t.Errorf("dig www.yourwebapp.com CNAME: got %q, want %q", got, stagingTarget)
	}
	b.waitFor("the new serial", fmt.Sprintf(`document.querySelector('%s .serial').textContent === "%d"`, appSel, after.Serial),
		fmt.Sprintf(`document.querySelector('%s .serial').textContent`, appSel))
	b.waitFor("the production target", fmt.Sprintf(`document.querySelector('%s [data-slot="production"] .target').textContent === %q`, appSel, stagingTarget), "")
	b.waitFor("the drain countdown", `(() => {
		const d = document.querySelector('[data-app="yourwebapp"] .drain [data-until]');
		return d !== null && Number(d.dataset.remaining) > 0 && /\d+:\d\d/.test(d.textContent);
	})()`, `document.querySelector('[data-app="yourwebapp"] .drain').outerHTML`)
	if got := b.text(appSel + ` tr[data-seq="1"]`); !strings.Contains(got, "release 42") || !strings.Contains(got, "token release") {
		t.Errorf("history #1 reads %q, want the reason and the token", got)
	}
}

// TestDashboardReadOnly signs in over HTTPS with a read token: the state
// shows, the swap and roll back buttons do not, the session cookie is
// HttpOnly, Secure and SameSite=Strict, and logging out ends the session.
func TestDashboardReadOnly(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, true, nil)
	// The browser trusts the server's certificate (of the test CA) and no
	// other.
	b := newBrowser(t, chromedp.Flag("ignore-certificate-errors-spki-list", spkiHash(t, filepath.Join(ai.dir, "api.crt"))))
	ai.start()
	ai.mustSlotdns("swap", "yourwebapp", "--reason", "a change to roll back to")
	b.login(ai.url, dashboardToken(ai, "viewer", "read"))

	b.waitFor("the history", `document.querySelector('[data-app="yourwebapp"] tr[data-seq="1"] .changes') !== null`, "")
	if got := b.slotTarget("production"); got != stagingTarget {
		t.Errorf("production shows target %q, want %q", got, stagingTarget)
	}
	for _, sel := range []string{"#swap-yourwebapp", "button.swap", "button.rollback", "#dialog[open]"} {
		if n := b.count(sel); n != 0 {
			t.Errorf("a read token sees %d of %s, want none", n, sel)
		}
	}
	if got := b.text("#scope"); got != "read only" {
		t.Errorf("scope badge %q, want \"read only\"", got)
	}

	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{ai.url + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range cookies.Cookies {
		if c.Name != "slotdns_session" {
			continue
		}
		found = true
		if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
			t.Errorf("session cookie: secure %v, httpOnly %v, sameSite %q; want true, true, Strict", c.Secure, c.HTTPOnly, c.SameSite)
		}
	}
	if !found {
		t.Errorf("no slotdns_session cookie for %s among %d", ai.url, len(cookies.Cookies))
	}

	b.click("log out", "logout")
	b.waitFor("the sign-in form", `!document.getElementById("login").hidden && document.getElementById("apps").hidden`, "")
	if got := eval[int](b, `fetch("/v1/whoami").then((r) => r.status)`); got != http.StatusUnauthorized {
		t.Errorf("whoami after logging out: status %d, want 401", got)
	}
}

// TestDashboardRefusesCrossSitePost has a page of another origin make the
// signed-in browser POST a swap, once with a form and once with fetch():
// the browser sends the session cookie (the origins are the same site,
// 127.0.0.1), and the server refuses both with 403; nothing changes.
func TestDashboardRefusesCrossSitePost(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, false, nil)
	b := newBrowser(t)
	ai.start()
	b.login(ai.url, dashboardToken(ai, "release", "swap"))

	swapURL := ai.url + "/v1/apps/yourwebapp/swap"
	forger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// A text/plain form posts {"reason":"forged="}: JSON the swap
		// route would take. fetch() in no-cors mode sends a body the same.
		fmt.Fprintf(w, `<!doctype html><title>win a prize</title>
<form id="f" method="POST" action="%[1]s" enctype="text/plain"><input type="hidden" name='{"reason":"forged' value='"}'></form>
<script>
fetch(%[1]q, {method: "POST", mode: "no-cors", credentials: "include", headers: {"Content-Type": "text/plain"}, body: '{"reason":"forged by fetch"}'})
  .catch(() => {}).finally(() => document.getElementById("f").submit());
</script>`, swapURL)
	}))
	defer forger.Close()

	type seen struct {
		status int64
		extra  bool // the cookies it went with are known
		cookie bool
	}
	var mu sync.Mutex
	requests := map[network.RequestID]*seen{}
	get := func(id network.RequestID) *seen {
		if requests[id] == nil {
			requests[id] = &seen{}
		}
		return requests[id]
	}
	urls := map[network.RequestID]string{}
	if err := chromedp.Listen(b.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls[ev.RequestID] = ev.Request.URL
		case *network.EventRequestWillBeSentExtraInfo:
			get(ev.RequestID).extra = true
			for _, c := range ev.AssociatedCookies {
				if c.Cookie != nil && c.Cookie.Name == "slotdns_session" && len(c.BlockedReasons) == 0 {
					get(ev.RequestID).cookie = true
				}
			}
		case *network.EventResponseReceived:
			get(ev.RequestID).status = ev.Response.Status
		}
	}); err != nil {
		t.Fatal(err)
	}
	b.do("open the forging page", chromedp.Navigate(forger.URL))

	// Each POST's response and the cookies it went with come in two
	// events, in either order.
	deadline := time.Now().Add(stepTimeout)
	var posts []seen
	for {
		mu.Lock()
		posts = posts[:0]
		for id, u := range urls {
			if r := requests[id]; u == swapURL && r != nil && r.status != 0 && r.extra {
				posts = append(posts, *r)
			}
		}
		mu.Unlock()
		if len(posts) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(posts) != 2 {
		t.Fatalf("saw %d answered POSTs to %s, want 2 (the form and fetch)", len(posts), swapURL)
	}
	for i, p := range posts {
		if p.status != http.StatusForbidden {
			t.Errorf("forged POST %d: status %d, want 403", i+1, p.status)
		}
		if !p.cookie {
			t.Errorf("forged POST %d went without the session cookie: the test shows nothing", i+1)
		}
	}
	st := statusOf(ai.instance)
	if st.target("production") != productionTarget || st.Version != 0 {
		t.Errorf("after the forged POSTs: production %s, version %d; want %s, 0", st.target("production"), st.Version, productionTarget)
	}
	var history []json.RawMessage
	if out := ai.mustSlotdns("history", "yourwebapp", "--json").stdout; json.Unmarshal([]byte(out), &history) != nil || len(history) != 0 {
		t.Errorf("history after the forged POSTs: %s, want none", out)
	}
}

// TestDashboardLiveUpdate keeps the page open while the CLI swaps on the
// control socket: the page shows the new targets, serial and history
// entry from the event stream, without a reload.
func TestDashboardLiveUpdate(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, false, nil)
	b := newBrowser(t)
	ai.start()
	b.login(ai.url, dashboardToken(ai, "viewer", "read"))
	eval[bool](b, `(window.slotdnsTestMarker = true)`) // gone if the page reloads

	ai.mustSlotdns("swap", "yourwebapp", "--reason", "from the CLI")
	st := statusOf(ai.instance)
	b.waitFor("the new production target", fmt.Sprintf(`document.querySelector('%s [data-slot="production"] .target').textContent === %q`, appSel, stagingTarget),
		fmt.Sprintf(`document.querySelector('%s [data-slot="production"] .target').textContent`, appSel))
	b.waitFor("the new serial", fmt.Sprintf(`document.querySelector('%s .serial').textContent === "%d"`, appSel, st.Serial),
		fmt.Sprintf(`document.querySelector('%s .serial').textContent`, appSel))
	b.waitFor("the history entry", fmt.Sprintf(`document.querySelector('%s tr[data-seq="1"]')?.textContent.includes("from the CLI")`, appSel), "")
	b.waitFor("the notice", fmt.Sprintf(`document.querySelector('%s > .notice:not([hidden])')?.textContent.includes("from the CLI")`, appSel), "")
	if !eval[bool](b, `window.slotdnsTestMarker === true`) {
		t.Error("the page reloaded to show the change")
	}
}

// TestDashboardRollback rolls back to a history entry from its "roll back
// to this" button: the slots are those the entry made, and a rollback
// entry says so.
func TestDashboardRollback(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, false, nil)
	b := newBrowser(t)
	ai.start()
	ai.mustSlotdns("swap", "yourwebapp", "--reason", "release 41")
	ai.mustSlotdns("swap", "yourwebapp", "--reason", "release 42")
	b.login(ai.url, dashboardToken(ai, "release", "swap"))

	// #2 made the slots as they are now: only #1 can be gone back to.
	b.waitFor("the history", `document.querySelectorAll('[data-app="yourwebapp"] tr[data-seq]').length === 2`, "")
	if n, m := b.count("#rollback-yourwebapp-1"), b.count("#rollback-yourwebapp-2"); n != 1 || m != 0 {
		t.Errorf("roll back buttons: %d on #1 and %d on #2, want 1 and 0", n, m)
	}
	b.click("roll back to #1", "rollback-yourwebapp-1")
	b.waitFor("the confirmation", `document.getElementById("dialog").open && document.getElementById("confirm").textContent === "Roll back"`, "")
	b.do("confirm", chromedp.SendKeys(chromedp.ID("reason"), "42 is slow"))
	b.click("confirm", "confirm")
	b.waitFor("the rollback to be done", `document.getElementById("progress-yourwebapp").dataset.state === "done"`,
		`document.getElementById("progress-yourwebapp").innerText`)
	if st := statusOf(ai.instance); st.target("production") != stagingTarget || st.Version != 3 {
		t.Errorf("after the rollback: production %s, version %d; want %s, 3", st.target("production"), st.Version, stagingTarget)
	}
	b.waitFor("the rollback in the history", fmt.Sprintf(`document.querySelector('%s tr[data-seq="3"][data-kind="rollback"]')?.textContent.includes("back to #1: 42 is slow")`, appSel),
		fmt.Sprintf(`document.querySelector('%s .history').innerText`, appSel))
}

// TestDashboardSwapRefused has a "before" check fail: the page shows the
// swap refused with the check's output, and nothing changes.
func TestDashboardSwapRefused(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, false, func(config string) string {
		return withCommandChecks(config, `echo "staging answers 503 on /healthz"; exit 1`, "", "")
	})
	b := newBrowser(t)
	ai.start()
	b.login(ai.url, dashboardToken(ai, "release", "swap"))

	b.click("press the swap button", "swap-yourwebapp")
	b.waitFor("the check in the plan", `document.getElementById("dialog").open && document.querySelector('#dialog-body [data-check="smoke test"]') !== null`,
		`document.getElementById("dialog-body").innerText`)
	b.click("confirm", "confirm")
	b.waitFor("the refusal", `document.getElementById("progress-yourwebapp").dataset.state === "refused"`,
		`document.getElementById("progress-yourwebapp").innerText`)
	if got := b.text(`#progress-yourwebapp .outcome [data-check="smoke test"] .output`); !strings.Contains(got, "staging answers 503") {
		t.Errorf("the refusal shows the output %q, want the check's", got)
	}
	if st := statusOf(ai.instance); st.target("production") != productionTarget || st.Version != 0 {
		t.Errorf("after the refusal: production %s, version %d; want %s, 0", st.target("production"), st.Version, productionTarget)
	}
}

// TestDashboardStalePlan confirms a swap whose plan the CLI made stale
// meanwhile: the server refuses it (409, the plan's expect no longer
// holds), the page says so, and the CLI's swap stands alone.
func TestDashboardStalePlan(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, false, nil)
	b := newBrowser(t)
	ai.start()
	b.login(ai.url, dashboardToken(ai, "release", "swap"))

	b.click("press the swap button", "swap-yourwebapp")
	b.waitFor("the confirmation", `document.getElementById("dialog").open`, "")
	ai.mustSlotdns("swap", "yourwebapp", "--reason", "from the CLI meanwhile")
	b.click("confirm the stale plan", "confirm")
	b.waitFor("the refusal as out of date", `document.getElementById("progress-yourwebapp").dataset.state === "conflict"`,
		`document.getElementById("progress-yourwebapp").innerText`)
	if st := statusOf(ai.instance); st.target("production") != stagingTarget || st.Version != 1 {
		t.Errorf("after the stale confirmation: production %s, version %d; want %s, 1 (the CLI's swap only)", st.target("production"), st.Version, stagingTarget)
	}
	b.waitFor("the CLI's swap on the page", fmt.Sprintf(`document.querySelector('%s [data-slot="production"] .target').textContent === %q`, appSel, stagingTarget), "")
}

// TestDashboardAutoRollback has the "after" check fail once the swap is
// served: slotdns rolls it back by itself, and the page ends the swap's
// progress as rolled back, with the reason.
func TestDashboardAutoRollback(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, false, func(config string) string {
		return withCommandChecks(config, "", `echo "error rate 12% on $SLOTDNS_TO"; exit 1`, "2s")
	})
	b := newBrowser(t)
	ai.start()
	b.login(ai.url, dashboardToken(ai, "release", "swap"))

	b.click("press the swap button", "swap-yourwebapp")
	b.waitFor("the confirmation", `document.getElementById("dialog").open`, "")
	b.click("confirm", "confirm")
	b.waitFor("the automatic rollback", `document.getElementById("progress-yourwebapp").dataset.state === "rolledback"`,
		`document.getElementById("progress-yourwebapp").innerText`)
	if got := b.text("#progress-yourwebapp .outcome"); !strings.Contains(got, "undid the swap (#2): error rate failed") || !strings.Contains(got, "error rate 12%") {
		t.Errorf("the outcome reads %q, want the rollback's reason and the check's output", got)
	}
	if st := statusOf(ai.instance); st.target("production") != productionTarget || st.Version != 2 {
		t.Errorf("after the automatic rollback: production %s, version %d; want %s, 2", st.target("production"), st.Version, productionTarget)
	}
	b.waitFor("the rollback in the history", fmt.Sprintf(`document.querySelector('%s tr[data-seq="2"].auto') !== null`, appSel), "")
}

// TestDashboardScreenshot writes the README's screenshot of the
// dashboard after a swap with checks and two secondaries, of staging
// set to a third deployment first:
//
//	SLOTDNS_SCREENSHOT=docs/dashboard.png go test -run TestDashboardScreenshot ./integration
//
// A relative path is relative to the repository. The same page in dark
// mode and in a phone's width goes to the test's artifact folder.
func TestDashboardScreenshot(t *testing.T) {
	out := os.Getenv("SLOTDNS_SCREENSHOT")
	if out == "" {
		t.Skip("set SLOTDNS_SCREENSHOT=docs/dashboard.png to write the screenshot")
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(repoRoot, out)
	}
	var ai *apiInstance
	primary := func() string { return ai.addr() }
	ns2, ns3 := newFakeSecondary(t, primary), newFakeSecondary(t, primary)
	ai = newAPIDemo(t, false, func(config string) string { return withFakeSecondaries(config, ns2, ns3) })
	b := newBrowser(t)
	// Some history first, then the checks (which would hold each swap for
	// their window).
	ai.start()
	ai.mustSlotdns("set", "yourwebapp", "staging", "test3.cloudapp.test.", "--reason", "release 42 deployed to staging")
	ai.stop()
	ai.writeConfig(withCommandChecks(ai.readConfig(), `test -n "$SLOTDNS_TO"`, `test -n "$SLOTDNS_TO"`, "3s"))
	ai.start()
	b.login(ai.url, dashboardToken(ai, "release-manager", "swap"))

	b.click("press the swap button", "swap-yourwebapp")
	b.waitFor("the confirmation", `document.getElementById("dialog").open`, "")
	b.do("confirm", chromedp.SendKeys(chromedp.ID("reason"), "release 42"))
	b.click("confirm", "confirm")
	b.waitFor("the swap to be done", `document.getElementById("progress-yourwebapp").dataset.state === "done"`,
		`document.getElementById("progress-yourwebapp").innerText`)
	b.waitFor("the secondaries in sync", `[...document.querySelectorAll('#progress-yourwebapp [data-step^="sec:"]')].length === 2 &&
		[...document.querySelectorAll('#progress-yourwebapp [data-step^="sec:"]')].every((s) => s.dataset.state === "ok") &&
		[...document.querySelectorAll('[data-secondary] .lag')].every((s) => s.textContent === "in sync")`,
		`document.getElementById("progress-yourwebapp").innerText`)
	b.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur(); window.scrollTo(0, 0)`))

	shoot := func(file string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", file)
	}
	shoot(out)
	b.colorScheme("dark")
	shoot(filepath.Join(artifactDir(t), "dashboard-dark.png"))
	b.colorScheme("light")
	b.do("a phone's width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	shoot(filepath.Join(artifactDir(t), "dashboard-phone.png"))
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		file := filepath.Join(artifactDir(t), "dashboard-phone-screen.png")
		if err := os.WriteFile(file, png, 0o644); err == nil {
			t.Logf("wrote %s", file)
		}
	}
}

// TestDashboardDNSSEC: an app in a signed zone has a DNSSEC panel with
// its key, its signatures and the DS its parent should serve, with how to
// check it.
func TestDashboardDNSSEC(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, true, withSigned("nsec3", ""))
	b := newBrowser(t, chromedp.Flag("ignore-certificate-errors-spki-list", spkiHash(t, filepath.Join(ai.dir, "api.crt"))))
	ai.start()
	b.login(ai.url, dashboardToken(ai, "viewer", "read"))
	b.waitFor("the DNSSEC panel", `document.querySelector('[data-app="yourwebapp"] .panel.dnssec tr[data-key]') !== null`, "")
	panel := b.text(`[data-app="yourwebapp"] .panel.dnssec`)
	for _, want := range []string{"DNSSEC (nsec3)", "CSK ECDSAP256SHA256", "published, signs all, in CDS", "Oldest signature expires", "next re-sign",
		"IN\tDS\t", `dig +short DS yourwebapp.com @"$(dig +short NS com. | head -n 1)", against slotdns dnssec ds yourwebapp.com`} {
		if !strings.Contains(panel, want) {
			t.Errorf("DNSSEC panel: %q is not in\n%s", want, panel)
		}
	}
}
