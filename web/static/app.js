// The slotdns dashboard: sign in with a token, see each app's slots, swap
// them or roll back, and follow a change as it happens. State comes from
// the control API; what changes afterwards comes from its event stream
// (GET /v1/events): nothing here asks the server again on a timer.

import { api, APIError, newKey, serverNow } from "./api.js";
import { fill, h, safeId } from "./dom.js";
import {
  canChange, checkList, countdown, planBody, renderAlerts, renderHead, renderPanels, renderSlots, rollbackBody, tick,
} from "./view.js";

const HISTORY = 20; // entries shown at first; "Show older" adds more

const $ = (id) => document.getElementById(id);

const state = {
  me: null, // whoami
  apps: new Map(), // name -> AppEntry
  stream: null, // EventSource
  retry: 0,
  retryTimer: 0,
};

// AppEntry is what the page knows of one app.
function appEntry(name) {
  let e = state.apps.get(name);
  if (!e) {
    e = { name, status: null, history: [], limit: HISTORY, more: false, loading: null, again: false, op: null, section: null };
    state.apps.set(name, e);
  }
  return e;
}

// ---- signing in and out

async function boot() {
  setInterval(tick, 1000); // the countdowns' clock: it asks the server nothing
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  setupDialog();
  try {
    showDashboard(await api.whoami());
  } catch (err) {
    showLogin(err.status === 401 ? "" : `The server did not answer: ${err.message}`);
  }
}

function showLogin(message) {
  disconnect();
  state.me = null;
  state.apps.clear();
  $("loading").hidden = true;
  $("apps").hidden = true;
  $("apps").replaceChildren();
  $("session").hidden = true;
  $("page-error").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

async function login(ev) {
  ev.preventDefault();
  const input = $("token");
  const token = input.value.trim();
  if (!token) {
    $("login-error").textContent = "Paste a token first.";
    input.focus();
    return;
  }
  $("login-button").disabled = true;
  $("login-error").textContent = "";
  try {
    const me = await api.login(token);
    input.value = "";
    showDashboard(me);
  } catch (err) {
    $("login-error").textContent = err.status === 401 ? "That token is wrong or was removed." : err.message;
    input.select();
  } finally {
    $("login-button").disabled = false;
  }
}

async function logout() {
  try {
    await api.logout();
  } catch {
    // The session ends on the server when it expires anyway.
  }
  showLogin("Logged out.");
}

function showDashboard(me) {
  state.me = me;
  $("login").hidden = true;
  $("loading").hidden = false;
  $("session").hidden = false;
  fill($("who"),
    h("span", { class: "who-name", text: me.name }), " ",
    h("span", { class: ["badge", `scope-${me.scope}`], id: "scope", text: me.scope === "read" ? "read only" : me.scope }),
    me.app ? h("span", { class: "badge", text: `app ${me.app}` }) : null);
  document.body.dataset.scope = me.scope;
  connect();
  loadAll();
}

// failed handles an error of a read: an ended session goes back to the
// sign-in form; anything else shows on the page until the next success.
function failed(err) {
  if (err instanceof APIError && err.status === 401) {
    showLogin("Your session ended; sign in again.");
    return;
  }
  const p = $("page-error");
  p.textContent = `Could not read the state: ${err.message}`;
  p.hidden = false;
}

// ---- reading the state

async function loadAll() {
  if (!state.me) {
    return;
  }
  let list;
  try {
    list = await api.apps();
  } catch (err) {
    failed(err);
    return;
  }
  $("page-error").hidden = true;
  const names = new Set(list.map((a) => a.name));
  for (const name of [...state.apps.keys()]) {
    if (!names.has(name)) {
      state.apps.get(name).section?.remove();
      state.apps.delete(name);
    }
  }
  for (const status of list) {
    appEntry(status.name).status = status;
  }
  $("loading").hidden = true;
  $("apps").hidden = false;
  if (!list.length) {
    $("apps").replaceChildren(h("p", { class: "muted", text: "No app is configured." }));
  }
  for (const status of list) {
    render(status.name);
    refresh(status.name, { history: true, status: false });
  }
}

// refresh reads an app's status and history again. Calls while one runs
// make it run once more when done, so a burst of events costs two reads.
function refresh(name, what = { history: true, status: true }) {
  const e = appEntry(name);
  if (e.loading) {
    e.again = true;
    return e.loading;
  }
  e.loading = (async () => {
    try {
      const [status, history] = await Promise.all([
        what.status ? api.app(name) : e.status,
        what.history ? api.history(name, e.limit + 1) : e.history,
      ]);
      e.status = status;
      if (what.history) {
        e.more = history.length > e.limit;
        e.history = history.slice(-e.limit);
      }
      $("page-error").hidden = true;
      render(name);
    } catch (err) {
      if (err.kind === "not_found") {
        loadAll(); // the app is gone since a reload
      } else {
        failed(err);
      }
    } finally {
      e.loading = null;
      if (e.again) {
        e.again = false;
        refresh(name);
      }
    }
  })();
  return e.loading;
}

const actions = {
  swap: (name, slot, withSlot) => swapFlow(name, slot, withSlot),
  rollback: (name, entry) => rollbackFlow(name, entry),
  more: (name) => {
    appEntry(name).limit += 50;
    refresh(name, { history: true, status: false });
  },
};

// render builds or updates an app's section. The progress of a change
// is its own part, updated step by step (see renderProgress), so that
// reading the status again does not disturb it.
function render(name) {
  const e = appEntry(name);
  if (!e.status || !state.me) {
    return;
  }
  const id = safeId(name);
  if (!e.section) {
    e.section = h("section", { class: "app card", id: `app-${id}`, data: { app: name }, "aria-labelledby": `app-${id}-title` },
      h("div", { class: "app-top" }),
      h("div", { class: "notice", role: "status", "aria-live": "polite", hidden: true }),
      h("div", { class: "slots" }),
      h("div", { class: "app-body" },
        h("div", { class: "progress", id: `progress-${id}`, tabindex: "-1", hidden: true }),
        h("div", { class: "side" })),
      h("div", { class: "history-part" }));
    $("apps").append(e.section);
  }
  const focused = document.activeElement && e.section.contains(document.activeElement) ? document.activeElement.id : "";
  const part = (sel) => e.section.querySelector(sel);
  fill(part(":scope > .app-top"), renderHead(e.status), renderAlerts(e.status));
  fill(part(":scope > .slots"), renderSlots(e.status, state.me, actions));
  const panels = renderPanels(e.status, e.history, state.me, actions, e.more);
  fill(part(":scope > .app-body > .side"), panels.side);
  fill(part(":scope > .history-part"), panels.history);
  tick(e.section);
  syncBusy(name);
  if (focused && !e.section.contains(document.activeElement)) {
    document.getElementById(focused)?.focus();
  }
}

function notice(name, content, kind = "info") {
  const e = appEntry(name);
  const el = e.section?.querySelector(":scope > .notice");
  if (!el) {
    return;
  }
  el.className = `notice banner ${kind}`;
  fill(el, h("span", { class: "notice-text" }, content),
    h("button", { type: "button", class: "button small subtle", "aria-label": "Dismiss", on: { click: () => { el.hidden = true; } } }, "Dismiss"));
  el.hidden = false;
}

// ---- the event stream

function connect() {
  disconnect();
  const es = new EventSource("/v1/events");
  state.stream = es;
  setLive("connecting");
  es.addEventListener("open", () => {
    state.retry = 0;
    setLive("live");
    // What changed before the stream was open, or while it was down.
    loadAll();
  });
  es.addEventListener("error", () => {
    if (es !== state.stream) {
      return;
    }
    if (es.readyState === EventSource.CLOSED) {
      streamClosed(es);
    } else {
      setLive("reconnecting");
    }
  });
  for (const type of ["change", "check", "secondary", "zone", "resync"]) {
    es.addEventListener(type, (m) => {
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch {
        return;
      }
      onEvent(type, ev);
    });
  }
}

function disconnect() {
  clearTimeout(state.retryTimer);
  if (state.stream) {
    state.stream.close();
    state.stream = null;
  }
  setLive("offline");
}

// streamClosed: the browser gives up on a stream that answered with an
// error (401 after the session ended, 503 while the server stops). Sign
// in again, or try again later, less and less often.
async function streamClosed(es) {
  setLive("offline");
  try {
    await api.whoami();
  } catch (err) {
    if (err.status === 401) {
      showLogin("Your session ended; sign in again.");
      return;
    }
  }
  if (es !== state.stream) {
    return;
  }
  const delay = Math.min(30000, 1000 * 2 ** state.retry++);
  state.retryTimer = setTimeout(connect, delay);
}

function setLive(s) {
  const el = $("live");
  el.dataset.state = s;
  el.textContent = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…", offline: "offline" }[s];
  el.title = s === "live" ? "changes show here as they happen" : "changes do not show until the event stream is back";
}

function appsOfZone(zone) {
  return [...state.apps.values()].filter((e) => e.status && e.status.zone === zone).map((e) => e.name);
}

function onEvent(type, ev) {
  switch (type) {
    case "change":
      onChange(ev);
      break;
    case "check":
      onCheck(ev);
      break;
    case "secondary":
      for (const name of appsOfZone(ev.zone)) {
        onSecondary(name, ev);
      }
      break;
    case "zone":
      for (const name of appsOfZone(ev.zone)) {
        refresh(name);
      }
      break;
    case "resync":
      loadAll();
      break;
  }
}

function onChange(ev) {
  if (!state.apps.has(ev.app)) {
    loadAll();
    return;
  }
  const e = appEntry(ev.app);
  const entry = ev.entry;
  const op = e.op;
  if (!entry || (op && op.seq === entry.seq)) {
    // Nothing to say, or this page's own change, shown already.
  } else if (op && op.busy && !op.seq && ours(op, entry)) {
    committed(ev.app, op, entry);
  } else if (op && op.busy && op.seq && entry.kind === "rollback" && entry.actor === "slotdns") {
    autoRolledBack(op, entry);
    renderProgress(ev.app);
  } else {
    const verb = { swap: "Swapped", set: "Set", rollback: "Rolled back" }[entry.kind] || entry.kind;
    notice(ev.app, [`${verb} by ${entry.actor} (#${entry.seq}${entry.reason ? `: ${entry.reason}` : ""}); serial `,
      h("strong", { text: String(ev.serial || entry.serial) })], entry.actor === "slotdns" ? "warn" : "info");
  }
  refresh(ev.app);
}

// ours tells whether a committed entry is the change op sent: same kind,
// same actor, and the slots it started from.
function ours(op, entry) {
  if (entry.kind !== op.kind || entry.actor !== state.me.actor) {
    return false;
  }
  if (op.kind === "swap") {
    return entry.before[op.slot] === op.expect;
  }
  return (entry.reason || "").startsWith(`back to #${op.to}`);
}

function onCheck(ev) {
  const e = state.apps.get(ev.app);
  if (!e) {
    return;
  }
  const op = e.op;
  if (op && op.busy) {
    const key = `${ev.phase}:${ev.check_name}`;
    if (!op.steps.has(key)) {
      op.set(key, `${ev.phase === "before" ? "Before" : "After"} check: ${ev.check_name}`, "pending");
    }
    if (!ev.check) {
      const rounds = op.rounds[key] || 0;
      op.set(key, null, "running", rounds ? `round ${rounds + 1} running` : "running");
    } else {
      op.rounds[key] = (op.rounds[key] || 0) + 1;
      const c = ev.check;
      const n = op.rounds[key];
      op.set(key, null, c.pass ? (ev.phase === "after" ? "running" : "ok") : "fail",
        (ev.phase === "after" ? `round ${n} ${c.pass ? "passed" : "failed"}: ` : "") + (c.detail || (c.pass ? "passed" : "failed")));
      if (ev.phase === "before" && beforeDone(op) && !op.seq) {
        op.set("commit", "Commit", "running", "committing");
      }
    }
    renderProgress(ev.app);
  }
  if (ev.check && e.status) {
    // The app's last results, as the status would show them.
    const list = (e.status.checks || []).filter((c) => c.name !== ev.check.name || c.when !== ev.check.when);
    list.push(ev.check);
    e.status.checks = list;
    render(ev.app);
  }
}

function beforeDone(op) {
  return [...op.steps].filter(([k]) => k.startsWith("before:")).every(([, s]) => s.state === "ok");
}

function onSecondary(name, ev) {
  const e = appEntry(name);
  const s = ev.secondary;
  if (!s) {
    return;
  }
  if (e.status) {
    for (const sec of e.status.secondaries) {
      if (sec.address === s.address && s.serial) {
        sec.serial = s.serial;
        sec.lag = (e.status.serial - s.serial) | 0;
        sec.error = s.ok ? "" : s.error || sec.error;
      }
    }
    render(name);
  }
  const op = e.op;
  if (op && (op.busy || op.seq)) {
    op.secondaryEvents.push(ev);
    if (op.seq) {
      showSecondary(op, ev);
      renderProgress(name);
    }
  }
  refresh(name);
}

function showSecondary(op, ev) {
  const s = ev.secondary;
  if (ev.serial !== op.serial && !(s.ok && s.serial >= op.serial)) {
    return; // about another change
  }
  const key = `sec:${s.address}`;
  if (s.ok) {
    op.set(key, `Secondary ${s.address}`, "ok", `serves ${s.serial} after ${s.after_ms} ms`);
  } else {
    op.set(key, `Secondary ${s.address}`, "fail", `not serving ${op.serial} after ${Math.round(s.after_ms / 1000)} s${s.error ? `: ${s.error}` : s.serial ? ` (serves ${s.serial})` : ""}`);
  }
}

// autoReason drops the "automatic rollback: " the server's reason starts
// with where the page says so already.
function autoReason(reason) {
  return (reason || "").replace(/^automatic rollback:\s*/, "");
}

// autoRolledBack records slotdns's own rollback of op's swap: its step,
// and the drain that now counts from it.
function autoRolledBack(op, entry) {
  op.set("auto", "Rolled back automatically", "fail", `#${entry.seq}: ${autoReason(entry.reason)}`);
  if (entry.drained_at) {
    op.drainedAt = entry.drained_at;
    op.committedAt = entry.time;
  }
}

// ---- the confirmation dialog

let dialogDone = null;

function setupDialog() {
  const dialog = $("dialog");
  $("dialog-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    closeDialog({ reason: $("reason").value.trim(), force: $("force").checked });
  });
  $("cancel").addEventListener("click", () => closeDialog(null));
  dialog.addEventListener("cancel", (ev) => {
    ev.preventDefault(); // Escape
    closeDialog(null);
  });
}

function closeDialog(result) {
  const dialog = $("dialog");
  if (dialog.open) {
    dialog.close();
  }
  const done = dialogDone;
  dialogDone = null;
  if (done) {
    done(result);
  }
}

// confirm shows the dialog and resolves to {reason, force}, or null.
function confirm({ title, body, action, force = false, forceChecked = false, reason = "" }) {
  closeDialog(null);
  $("dialog-title").textContent = title;
  fill($("dialog-body"), body);
  $("confirm").textContent = action;
  $("reason").value = reason;
  $("force-row").hidden = !force;
  $("force").checked = forceChecked;
  // Focus goes back to the button that opened the dialog, or to the
  // one that replaced it when the app was drawn again meanwhile.
  const back = document.activeElement && document.activeElement.id;
  return new Promise((resolve) => {
    dialogDone = (result) => {
      document.getElementById(back)?.focus();
      resolve(result);
    };
    $("dialog").showModal();
    $("reason").focus();
  });
}

// ---- changes and their progress

// Op is one change sent from this page and what is known of it so far:
// steps by key, in the order first set.
function newOp(kind, title, fields) {
  const op = {
    kind, title, key: newKey(), busy: true, seq: 0, serial: 0, drainedAt: "", steps: new Map(), rounds: {},
    secondaryEvents: [], outcome: null, started: new Date().toISOString(), ...fields,
  };
  op.set = (key, label, st, detail) => {
    const prev = op.steps.get(key) || { label: key, state: "pending", detail: "" };
    op.steps.set(key, { ...prev, label: label ?? prev.label, state: st ?? prev.state, detail: detail ?? prev.detail });
  };
  return op;
}

// committed records the change's entry (from the event stream or the
// reply, whichever comes first): its serial, the secondaries to follow,
// and the countdown until the old answers have left the caches.
function committed(name, op, entry) {
  if (op.seq) {
    return;
  }
  const e = appEntry(name);
  op.seq = entry.seq;
  op.serial = entry.serial;
  op.drainedAt = entry.drained_at;
  op.committedAt = entry.time;
  op.set("commit", `Committed #${entry.seq}`, "ok", `serial ${entry.serial}`);
  for (const sec of e.status?.secondaries || []) {
    op.set(`sec:${sec.address}`, `Secondary ${sec.address}`, "running", `waiting for serial ${entry.serial}`);
  }
  for (const ev of op.secondaryEvents) {
    showSecondary(op, ev);
  }
  if (op.drainedAt) {
    op.set("drain", "Caches", "running", "");
  }
  renderProgress(name);
}

async function swapFlow(name, slot, withSlot, preset = {}) {
  const e = appEntry(name);
  if (e.op && e.op.busy) {
    $(`progress-${safeId(name)}`)?.focus();
    return;
  }
  let plan;
  try {
    plan = await api.plan(name, slot, withSlot);
  } catch (err) {
    notice(name, `Cannot swap: ${err.message}`, "error");
    return;
  }
  const before = plan.checks.filter((c) => c.when === "before");
  const answer = await confirm({
    title: `Swap ${slot} and ${withSlot} of ${name}?`, body: planBody(plan), action: "Swap",
    force: before.length > 0 || preset.force, forceChecked: !!preset.force, reason: preset.reason || "",
  });
  if (!answer) {
    return;
  }
  const op = newOp("swap", `Swap ${slot} ⇄ ${withSlot}`, { slot, with: withSlot, expect: plan.expect, reason: answer.reason, force: answer.force });
  op.set("plan", "Confirmed", "ok", `${plan.answers.length} answers change${answer.reason ? ` · reason: ${answer.reason}` : ""}`);
  for (const c of before) {
    op.set(`before:${c.name}`, `Before check: ${c.name}`, "pending", "");
  }
  op.set("commit", "Commit", before.length ? "pending" : "running", before.length ? "after the checks pass" : "committing");
  for (const c of plan.checks.filter((c) => c.when === "after")) {
    op.set(`after:${c.name}`, `After check: ${c.name}`, "pending", "runs once committed");
  }
  e.op = op;
  renderProgress(name);
  $(`progress-${safeId(name)}`)?.focus(); // the change buttons wait for it
  const body = { slot, with: withSlot, expect: plan.expect, no_wait_checks: false };
  if (answer.reason) {
    body.reason = answer.reason;
  }
  if (answer.force) {
    body.force = true;
  }
  await send(name, op, () => api.swap(name, body, op.key), () => swapFlow(name, slot, withSlot, { force: true, reason: answer.reason }));
}

async function rollbackFlow(name, entry, preset = {}) {
  const e = appEntry(name);
  if (e.op && e.op.busy) {
    return;
  }
  if (!e.status) {
    return;
  }
  const answer = await confirm({
    title: `Roll ${name} back to #${entry.seq}?`, body: rollbackBody(e.status, entry), action: "Roll back",
    force: !!preset.force, forceChecked: !!preset.force, reason: preset.reason || "",
  });
  if (!answer) {
    return;
  }
  const op = newOp("rollback", `Roll back to #${entry.seq}`, { to: entry.seq, reason: answer.reason });
  op.set("plan", "Confirmed", "ok", `back to the slots of #${entry.seq}${answer.reason ? ` · reason: ${answer.reason}` : ""}`);
  op.set("commit", "Commit", "running", "committing");
  e.op = op;
  renderProgress(name);
  $(`progress-${safeId(name)}`)?.focus(); // the change buttons wait for it
  const body = { to: entry.seq };
  if (answer.reason) {
    body.reason = answer.reason;
  }
  if (answer.force) {
    body.force = true;
  }
  await send(name, op, () => api.rollback(name, body, op.key), () => rollbackFlow(name, entry, { force: true, reason: answer.reason }));
}

// send runs a change and ends its progress with the outcome: done,
// refused by its checks, rolled back by them, refused as stale, or
// unknown when the server did not answer (then it may be sent again with
// the same Idempotency-Key, which cannot make it twice).
async function send(name, op, post, forceAgain) {
  if (op.outcome) {
    op.set("commit", null, "running", "sending again");
  }
  op.busy = true;
  op.outcome = null;
  renderProgress(name);
  try {
    const ch = await post();
    committed(name, op, ch);
    for (const c of ch.after_checks || []) {
      const rounds = op.rounds[`after:${c.name}`] || 0;
      op.set(`after:${c.name}`, null, c.pass ? "ok" : "fail",
        `${rounds ? `${rounds} ${rounds === 1 ? "round" : "rounds"}; last: ` : ""}${c.detail || (c.pass ? "passed" : "failed")}`);
    }
    if (ch.rolled_back) {
      autoRolledBack(op, ch.rolled_back);
      op.outcome = { state: "rolledback", text: `slotdns undid the swap (#${ch.rolled_back.seq}): ${autoReason(ch.rolled_back.reason)}.`, checks: ch.after_checks || [] };
    } else if (ch.superseded) {
      op.outcome = { state: "done", text: `Committed as #${ch.seq}; its “after” checks stopped early: #${ch.superseded.seq} by ${ch.superseded.actor} changed the app since.` };
    } else {
      op.outcome = { state: "done", text: `${op.kind === "swap" ? "Swapped" : "Rolled back"}: #${ch.seq}, serial ${ch.serial}.` };
    }
  } catch (err) {
    for (const [key, s] of op.steps) {
      if (s.state === "pending" || s.state === "running") {
        op.set(key, null, "skip", key === "commit" ? "nothing changed" : "not run");
      }
    }
    if (err.kind === "check_failed") {
      for (const c of err.checks) {
        op.set(`${c.when}:${c.name}`, `${c.when === "before" ? "Before" : "After"} check: ${c.name}`, c.pass ? "ok" : "fail", c.detail);
      }
      op.outcome = { state: "refused", text: `Refused by its checks; nothing changed. ${err.message}`, checks: err.checks, force: canChange(state.me) ? forceAgain : null };
    } else if (err.kind === "conflict") {
      op.outcome = { state: "conflict", text: `Nothing changed: ${err.message}. The page shows the current state now; look at it and try again.` };
    } else if (err.status === 0 || err.kind === "unknown_outcome") {
      op.outcome = { state: "unknown", text: `No answer from the server (${err.message}): the change may or may not have been made. Sending it again cannot make it twice.`, retry: () => send(name, op, post, forceAgain) };
    } else if (err.status === 401) {
      showLogin("Your session ended; sign in again.");
      return;
    } else {
      op.outcome = { state: "error", text: err.message };
    }
  } finally {
    op.busy = false;
    renderProgress(name);
    refresh(name);
  }
}

// syncBusy disables the app's change buttons while a change of this page
// runs: the server would refuse a second one anyway.
function syncBusy(name) {
  const e = appEntry(name);
  const busy = !!(e.op && e.op.busy);
  for (const b of e.section?.querySelectorAll("button.swap, button.rollback") || []) {
    b.disabled = busy;
  }
}

const stateText = { pending: "waiting", running: "running", ok: "done", fail: "failed", skip: "skipped" };

// renderProgress shows the app's op: each step updated in place, so that
// the live region announces what changed and not the whole list again.
function renderProgress(name) {
  const e = appEntry(name);
  const op = e.op;
  const box = $(`progress-${safeId(name)}`);
  if (!box) {
    return;
  }
  if (!op) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  syncBusy(name);
  const outcome = op.outcome ? op.outcome.state : "running";
  box.dataset.state = outcome;
  if (box.dataset.op !== op.key) {
    box.dataset.op = op.key;
    box.replaceChildren(
      h("div", { class: "progress-head" },
        h("h3", { class: "progress-title", tabindex: "-1" }),
        h("button", { type: "button", class: "button small subtle dismiss", "aria-label": "Dismiss the progress", on: { click: () => { if (!e.op?.busy) { e.op = null; renderProgress(name); } } } }, "Dismiss")),
      h("ol", { class: "steps", "aria-live": "polite" }),
      h("div", { class: "outcome" }));
  }
  box.querySelector(".progress-title").textContent = op.title;
  box.querySelector(".dismiss").hidden = op.busy;
  const list = box.querySelector(".steps");
  for (const [key, s] of op.steps) {
    let li = [...list.children].find((el) => el.dataset.step === key);
    if (!li) {
      li = h("li", { class: "step", data: { step: key } },
        h("span", { class: "mark", "aria-hidden": "true" }),
        h("span", { class: "step-label" }),
        h("span", { class: "sr-only step-state" }),
        h("span", { class: "step-detail" }));
      list.append(li);
    }
    const st = key === "drain" ? (Date.parse(op.drainedAt) > serverNow() ? "running" : "ok") : s.state;
    if (li.dataset.state !== st) {
      li.dataset.state = st;
    }
    li.querySelector(".step-label").textContent = s.label;
    li.querySelector(".step-state").textContent = `: ${stateText[st] || st}. `;
    const detail = li.querySelector(".step-detail");
    if (key === "drain" && op.drainedAt) {
      if (detail.querySelector("[data-until]")?.dataset.until !== op.drainedAt) {
        detail.replaceChildren(countdown(op.drainedAt, op.committedAt, "old answers expire in", "drained: every cache that honours TTLs has the new answers"));
        detail.classList.add("drain");
        tick(detail);
      }
    } else if (detail.textContent !== s.detail) {
      detail.textContent = s.detail;
    }
  }
  const out = box.querySelector(".outcome");
  if (!op.outcome) {
    out.replaceChildren();
    out.removeAttribute("role");
    return;
  }
  const o = op.outcome;
  if (out.dataset.text === o.text) {
    return;
  }
  out.dataset.text = o.text;
  out.setAttribute("role", o.state === "done" ? "status" : "alert");
  fill(out,
    h("p", { class: ["banner", { done: "ok", refused: "error", rolledback: "warn", conflict: "warn", unknown: "error", error: "error" }[o.state]] },
      h("strong", { text: { done: "Done. ", refused: "Refused. ", rolledback: "Rolled back. ", conflict: "Out of date. ", unknown: "Unknown outcome. ", error: "Failed. " }[o.state] }),
      o.text),
    o.checks && o.checks.length ? checkList(o.checks) : null,
    h("div", { class: "actions" },
      o.retry ? h("button", { type: "button", class: "button primary", on: { click: o.retry } }, "Send it again") : null,
      o.force ? h("button", { type: "button", class: "button danger", on: { click: o.force } }, "Force it…") : null));
}

boot();
