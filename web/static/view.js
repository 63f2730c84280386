// The rendering of one app: its header (zone, serial, drain), its slots
// side by side with the swap button between the first two, and its
// panels (secondaries, checks, history). Everything here is a function of
// the state it is given; app.js owns the state and the actions.

import { h, safeId, when, duration, isHost, clock } from "./dom.js";
import { serverNow } from "./api.js";

// orderSlots puts production first and staging second, then the others
// by name: the swap button goes between the first two.
export function orderSlots(slots) {
  const rank = (s) => (s.slot === "production" ? 0 : s.slot === "staging" ? 1 : 2);
  return [...slots].sort((a, b) => rank(a) - rank(b) || a.slot.localeCompare(b.slot));
}

export function canChange(me) {
  return me && (me.scope === "swap" || me.scope === "admin");
}

// currentSlots is the app's mapping, slot -> target.
export function currentSlots(status) {
  return Object.fromEntries(status.slots.map((s) => [s.slot, s.target]));
}

function sameName(a, b) {
  return a.replace(/\.$/, "").toLowerCase() === b.replace(/\.$/, "").toLowerCase();
}

// answerOf is what name of slot answers: a CNAME to the target, the
// flattened addresses at the apex, or the target's own addresses.
export function answerOf(slot, name) {
  if (slot.alias && sameName(slot.alias.name, name)) {
    const a = slot.alias;
    return {
      type: "A/AAAA",
      values: a.addrs.length ? a.addrs : ["no addresses yet"],
      note: `flattened from ${a.target}${a.stale ? " (stale: resolving again)" : ""}`,
      stale: a.stale || a.addrs.length === 0,
    };
  }
  if (isHost(slot.target)) {
    return { type: "CNAME", values: [slot.target] };
  }
  return { type: "A/AAAA", values: slot.target.split(/[\s,]+/).filter(Boolean) };
}

// countdown is a span the page's clock ticks (see tick in app.js): the
// time left until `until`, a bar from `from`, and `done` once there.
export function countdown(until, from, left, done) {
  return h("span", { class: "countdown", data: { until, from, left, done } },
    h("span", { class: "count" }),
    h("progress", { max: "1000", value: "0", "aria-hidden": "true" }));
}

// tick updates every countdown on the page; it asks the server nothing.
export function tick(root = document) {
  const now = serverNow();
  for (const el of root.querySelectorAll("[data-until]")) {
    const until = Date.parse(el.dataset.until);
    const from = Date.parse(el.dataset.from || "");
    const left = (until - now) / 1000;
    const count = el.querySelector(".count");
    const bar = el.querySelector("progress");
    if (left > 0) {
      el.dataset.remaining = String(Math.ceil(left));
      el.classList.add("running");
      count.textContent = `${el.dataset.left} ${clock(left)}`;
      if (bar) {
        const total = until - from;
        bar.value = total > 0 ? Math.min(1000, Math.max(0, ((now - from) / total) * 1000)) : 0;
        bar.hidden = false;
      }
    } else {
      el.dataset.remaining = "0";
      el.classList.remove("running");
      count.textContent = el.dataset.done;
      if (bar) {
        bar.hidden = true;
      }
      const step = el.closest(".step");
      if (step && step.dataset.state === "running") {
        step.dataset.state = "ok";
      }
      const drain = el.closest(".drain");
      if (drain) {
        drain.classList.remove("draining");
        drain.classList.add("drained");
      }
    }
  }
}

function slotCard(app, slot, index) {
  const id = `slot-${safeId(app.name)}-${safeId(slot.slot)}`;
  const names = slot.names.length
    ? h("dl", { class: "answers", "aria-label": `What the names of ${slot.slot} answer` }, slot.names.map((name) => {
      const a = answerOf(slot, name);
      return h("div", { class: "answer-row", data: { name } },
        h("dt", { class: "name" }, h("code", { text: name }), " ", h("span", { class: "rtype", text: a.type })),
        h("dd", { class: ["answer", a.stale && "stale"] },
          a.values.map((v) => h("code", { class: "value", text: v })),
          a.note && h("span", { class: "note", text: a.note })));
    }))
    : h("p", { class: "muted", text: "No names: this slot answers nothing." });
  return h("article", { class: ["slot", index === 0 && "primary"], id, data: { slot: slot.slot }, "aria-labelledby": `${id}-title` },
    h("header", { class: "slot-head" },
      h("h3", { id: `${id}-title`, text: slot.slot }),
      index === 0 ? h("span", { class: "badge live-badge", text: "live" }) : null),
    h("div", { class: "target-row" },
      h("span", { class: "label", text: "Target" }),
      h("code", { class: "target", text: slot.target })),
    names,
    h("p", { class: "slot-meta muted" },
      h("span", { class: "ttl", text: `TTL ${slot.ttl} s` }),
      slot.differs_from_config ? h("span", { class: "config-note", title: "the target in slotdns.toml, used only when the app is first served" }, "config’s initial target: ", h("code", { text: slot.config_target })) : null));
}

function swapButton(app, slot, withSlot, me, actions, primary) {
  const id = primary ? `swap-${safeId(app.name)}` : `swap-${safeId(app.name)}-${safeId(slot)}`;
  return h("button", {
    type: "button", id, class: ["button", "swap", primary && "primary"], data: { slot, with: withSlot },
    "aria-label": `Swap ${slot} and ${withSlot} of ${app.name}`,
    on: { click: () => actions.swap(app.name, slot, withSlot) },
  }, h("span", { class: "swap-icon", "aria-hidden": "true" }), h("span", { text: primary ? "Swap" : `Swap with ${withSlot}` }));
}

export function renderSlots(app, me, actions) {
  const slots = orderSlots(app.slots);
  const change = canChange(me) && slots.length > 1;
  const main = h("div", { class: ["slot-pair", slots.length === 1 && "single"] },
    slots[0] ? slotCard(app, slots[0], 0) : null,
    slots.length > 1
      ? h("div", { class: "swap-column" }, change ? swapButton(app, slots[1].slot, slots[0].slot, me, actions, true) : h("span", { class: "swap-arrows", "aria-hidden": "true" }))
      : null,
    slots[1] ? slotCard(app, slots[1], 1) : null);
  const more = slots.slice(2);
  return [main, more.length
    ? h("div", { class: "more-slots" }, more.map((s, i) => h("div", { class: "more-slot" },
      slotCard(app, s, i + 2),
      change ? swapButton(app, s.slot, slots[0].slot, me, actions, false) : null)))
    : null];
}

export function renderHead(app) {
  const drain = app.draining && app.drained_at
    ? h("span", { class: "drain draining", title: "until then, caches may still answer what was served before the last change" },
      countdown(app.drained_at, app.last_change ? app.last_change.time : app.updated, "draining, old answers expire in", "drained"))
    : h("span", { class: "drain drained", data: { remaining: "0" }, title: "every cache that honours TTLs answers the current targets" }, "drained");
  return h("header", { class: "app-head" },
    h("div", { class: "app-title" },
      h("h2", { id: `app-${safeId(app.name)}-title`, text: app.name }),
      h("code", { class: "zone", text: app.zone })),
    h("dl", { class: "facts" },
      h("div", {}, h("dt", { text: "Serial" }), h("dd", {}, h("span", { class: "serial", data: { serial: app.serial }, text: String(app.serial) }))),
      h("div", {}, h("dt", { text: "Version" }), h("dd", { class: "version", text: String(app.version) })),
      h("div", {}, h("dt", { text: "Updated" }), h("dd", {}, when(app.updated))),
      h("div", {}, h("dt", { text: "Caches" }), h("dd", {}, drain))));
}

// renderAlerts warns while the slots are those of slotdns's own
// rollback: the swap before it failed its "after" checks.
export function renderAlerts(app) {
  const r = app.last_auto_rollback;
  if (!r || !app.last_change || app.last_change.seq !== r.seq) {
    return null;
  }
  return h("p", { class: "banner warn auto-rollback" },
    h("strong", { text: "Rolled back automatically" }), " at ", when(r.time), ` (#${r.seq}): ${(r.reason || "").replace(/^automatic rollback:\s*/, "")}`);
}

function secondariesPanel(app) {
  const rows = app.secondaries.map((s) => {
    let status;
    if (s.error) {
      status = h("span", { class: "state fail", text: `no answer: ${s.error}` });
    } else if (s.lag === 0) {
      status = h("span", { class: "state ok", text: "in sync" });
    } else {
      status = h("span", { class: "state warn", text: `${s.lag} behind` });
    }
    const n = s.last_notify;
    return h("tr", { data: { secondary: s.address } },
      h("th", { scope: "row" }, h("code", { text: s.address }), s.key ? h("span", { class: "note", text: `TSIG ${s.key}` }) : null),
      h("td", { class: "sec-serial", text: s.serial ? String(s.serial) : "–" }),
      h("td", { class: "lag" }, status),
      h("td", { class: "notify" }, n
        ? [h("span", { text: n.acked ? n.answer : `${n.answer} (${n.attempts} tries)` }), h("span", { class: "note" }, when(n.time))]
        : h("span", { class: "muted", text: "none yet" })));
  });
  return h("section", { class: "panel secondaries", "aria-labelledby": `sec-${safeId(app.name)}` },
    h("h3", { id: `sec-${safeId(app.name)}`, text: "Secondaries" }),
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, ["Address", "Serial", "Lag"].map((t) => h("th", { scope: "col", text: t })), h("th", { scope: "col", class: "notify", text: "Last NOTIFY" }))),
        h("tbody", {}, rows)))
      : h("p", { class: "muted", text: `No secondaries are configured for ${app.zone}` }));
}

// dnssecPanel shows a signed zone's keys, its signatures, its key
// rollover and the DS its parent should serve; nothing for an unsigned
// zone. slotdns cannot see the parent's DS: the panel says how to check.
function dnssecPanel(app) {
  const d = app.dnssec;
  if (!d) {
    return null;
  }
  const id = `dnssec-${safeId(app.name)}`;
  const keys = d.keys.map((k) => h("tr", { data: { key: String(k.tag) } },
    h("th", { scope: "row", text: String(k.tag) }),
    h("td", { text: `${k.role} ${k.algorithm}` }),
    h("td", { class: "use", text: k.use })));
  const r = d.rollover;
  let rollover = null;
  if (r) {
    rollover = h("p", { class: "rollover" }, `Key rollover (${r.kind}) ${r.old} → ${r.new}: ${r.stage}`,
      r.next ? [`; next ${r.next}`, r.safe_at ? [", safe at ", when(r.safe_at)] : null, r.waiting ? `, waiting for ${r.waiting}` : null] : null);
  }
  return h("section", { class: "panel dnssec", "aria-labelledby": id },
    h("h3", { id, text: `DNSSEC (${d.denial})` }),
    h("div", { class: "table-wrap" }, h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ["Key", "Role", "Use"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, keys))),
    d.oldest_expires
      ? h("p", { class: "signatures" }, "Oldest signature expires ", when(d.oldest_expires), "; next re-sign ", when(d.next_resign))
      : h("p", { class: "muted", text: "The signature times are the server’s." }),
    rollover,
    h("p", { class: "note", text: d.ds.length ? "DS the parent should serve:" : "No key is in CDS." }),
    d.ds.map((ds) => h("p", {}, h("code", { class: "ds", text: ds }))),
    h("p", { class: "note", text: `slotdns cannot see the parent’s DS; compare: ${d.check_ds}` }));
}

// checkList shows check results, each with what it saw.
export function checkList(results) {
  return h("ul", { class: "checks" }, results.map((c) => {
    const more = [
      c.target && `target ${c.target}`,
      c.status && `status ${c.status}`,
      c.attempts > 1 && `${c.attempts} attempts`,
      c.error && `error: ${c.error}`,
    ].filter(Boolean).join(" · ");
    const out = c.body || c.output;
    return h("li", { class: ["check", c.pass ? "pass" : "fail"], data: { check: c.name, pass: String(c.pass) } },
      h("span", { class: "mark", "aria-hidden": "true", text: c.pass ? "✓" : "✕" }),
      h("span", { class: "check-main" },
        h("strong", { text: c.name }), " ",
        h("span", { class: "badge", text: c.when }), " ",
        h("span", { class: "sr-only", text: c.pass ? "passed: " : "failed: " }),
        h("span", { class: "detail", text: c.detail || (c.pass ? "passed" : "failed") }),
        h("span", { class: "note" }, when(c.time), c.duration_ns ? ` · ${duration(c.duration_ns)}` : "", more ? ` · ${more}` : ""),
        out ? h("pre", { class: "output", text: out }) : null));
  }));
}

// lastChecks are the app's last results, and those its last change
// recorded that a later round did not replace (the "before" checks of a
// swap once its "after" checks ran).
function lastChecks(app) {
  const results = [...(app.checks || [])];
  const key = (c) => `${c.when}:${c.name}`;
  const have = new Set(results.map(key));
  for (const c of (app.last_change && app.last_change.checks) || []) {
    if (!have.has(key(c))) {
      results.unshift(c);
    }
  }
  return results;
}

function checksPanel(app) {
  const results = lastChecks(app);
  return h("section", { class: "panel checks-panel", "aria-labelledby": `checks-${safeId(app.name)}` },
    h("h3", { id: `checks-${safeId(app.name)}`, text: "Last checks" }),
    results.length ? checkList(results) : h("p", { class: "muted", text: "No check has run for this app." }));
}

// changes lists the slots an entry changed, before → after.
export function changes(before, after) {
  const slots = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])].sort();
  const changed = slots.filter((s) => (before || {})[s] !== (after || {})[s]);
  if (!changed.length) {
    return h("span", { class: "muted", text: "no slot changed" });
  }
  return h("ul", { class: "changes" }, changed.map((s) => h("li", {},
    h("span", { class: "slot-name", text: `${s}:` }), " ",
    h("code", { class: "before", text: (before || {})[s] || "–" }),
    h("span", { class: "arrow", "aria-label": "becomes", text: " → " }),
    h("code", { class: "after", text: (after || {})[s] || "–" }))));
}

function sameSlots(a, b) {
  const ka = Object.keys(a || {});
  return ka.length === Object.keys(b || {}).length && ka.every((k) => a[k] === b[k]);
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function historyPanel(app, history, me, actions, more) {
  const current = currentSlots(app);
  const change = canChange(me);
  const rows = [...history].sort((a, b) => b.seq - a.seq).map((e) => {
    const checks = e.checks || [];
    const failedChecks = checks.filter((c) => !c.pass).length;
    return h("tr", { data: { seq: e.seq, kind: e.kind }, class: e.actor === "slotdns" ? "auto" : null },
      h("td", { class: "seq" }, h("span", { text: `#${e.seq}` }), h("span", { class: "note", title: "the zone serial after the change", text: String(e.serial) })),
      h("td", { class: "time" }, when(e.time)),
      h("td", { class: "actor", text: e.actor }),
      h("td", { class: "what" },
        h("div", { class: "what-line" },
          h("span", { class: ["badge", `kind-${e.kind}`], text: e.kind }),
          e.forced ? h("span", { class: "badge forced", text: "forced" }) : null,
          e.reason ? h("span", { class: "reason", text: e.reason }) : h("span", { class: "muted", text: "no reason given" }),
          checks.length ? h("span", { class: ["checks-sum", failedChecks ? "fail" : "ok"], text: failedChecks ? `${failedChecks} of ${plural(checks.length, "check", "checks")} failed` : `${plural(checks.length, "check", "checks")} passed` }) : null),
        changes(e.before, e.after)),
      h("td", { class: "act" }, change && !sameSlots(e.after, current)
        ? h("button", {
          type: "button", class: "button small rollback", id: `rollback-${safeId(app.name)}-${e.seq}`, data: { seq: e.seq },
          "aria-label": `Roll back ${app.name} to the slots of #${e.seq}`,
          on: { click: () => actions.rollback(app.name, e) },
        }, "Roll back to this")
        : null));
  });
  return h("section", { class: "panel history", "aria-labelledby": `hist-${safeId(app.name)}` },
    h("h3", { id: `hist-${safeId(app.name)}`, text: "History" }),
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "grid history-table" },
        h("thead", {}, h("tr", {}, ["#", "When", "Who", "Why and what", ""].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, rows)))
      : h("p", { class: "muted", text: "No change yet: the slots are the config’s." }),
    more ? h("button", { type: "button", class: "button small more", on: { click: () => actions.more(app.name) } }, "Show older changes") : null);
}

// renderPanels gives the panels beside a change's progress (side) and
// the history below.
export function renderPanels(app, history, me, actions, more) {
  return { side: [secondariesPanel(app), checksPanel(app), dnssecPanel(app)], history: historyPanel(app, history, me, actions, more) };
}

// planBody is the confirmation of a swap: each answer that changes, and
// the checks that will run.
export function planBody(plan) {
  const before = plan.checks.filter((c) => c.when === "before");
  const after = plan.checks.filter((c) => c.when === "after");
  return [
    h("p", {}, "These answers of ", h("code", { text: plan.zone }), " change at once, in one step:"),
    h("ul", { class: "plan-answers" }, plan.answers.map((a) => h("li", { data: { name: a.name } },
      h("div", { class: "plan-name" },
        h("code", { class: "name", text: a.name }), " ",
        h("span", { class: "rtype", text: a.type }), " ",
        h("span", { class: "note", text: a.slot })),
      h("div", { class: "plan-change" },
        h("code", { class: "before", title: "now", text: a.before }),
        h("span", { class: "arrow", "aria-label": "becomes", text: "→" }),
        h("code", { class: "after", title: "after the swap", text: a.after }))))),
    plan.checks.length
      ? h("div", { class: "plan-checks" },
        h("p", { text: "Checks:" }),
        h("ul", {},
          before.map((c) => h("li", { data: { check: c.name } }, h("strong", { text: c.name }), ` before: against ${plan.slot}’s target; a failure refuses the swap`)),
          after.map((c) => h("li", { data: { check: c.name } }, h("strong", { text: c.name }), ` after: against the new production; a failure rolls the swap back`))))
      : h("p", { class: "muted", text: "No checks are configured: the swap commits at once." }),
    h("p", { class: "muted small" }, "If ", h("code", { text: plan.slot }), " no longer points at ", h("code", { text: plan.expect }), " when you confirm, nothing changes."),
  ];
}

// rollbackBody is the confirmation of a rollback to a history entry.
export function rollbackBody(app, entry) {
  return [
    h("p", {}, `The slots go back to what #${entry.seq} made them (${entry.kind} by ${entry.actor}):`),
    changes(currentSlots(app), entry.after),
    h("p", { class: "muted small", text: "When production changes, the app’s “before” checks run against the target it gets back; a failure refuses the rollback." }),
  ];
}
