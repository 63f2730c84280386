// Building DOM without innerHTML: every string the server sends becomes
// text, never markup.

// h makes an element. props: class, id, text, data (data-* attributes),
// on (event listeners), hidden, and any other attribute by name; children
// are nodes, strings, or arrays of them; null and false are skipped.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    switch (key) {
      case "class":
        el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
        break;
      case "text":
        el.textContent = value;
        break;
      case "data":
        for (const [k, v] of Object.entries(value)) {
          if (v !== undefined && v !== null) {
            el.dataset[k] = String(v);
          }
        }
        break;
      case "on":
        for (const [event, fn] of Object.entries(value)) {
          el.addEventListener(event, fn);
        }
        break;
      case "hidden":
        el.hidden = true;
        break;
      default:
        el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

// fill replaces el's children as h would make them: null and false are
// skipped, where replaceChildren would write "null".
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(el, child);
    } else {
      el.append(child instanceof Node ? child : String(child));
    }
  }
}

// safeId makes a name usable in an id: app and slot names are short
// words, but an id must not break a selector.
export function safeId(s) {
  return String(s).replace(/[^A-Za-z0-9_-]/g, "_");
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

// when is a <time> of an RFC 3339 timestamp: the time of day when it is
// today, else the date too; the whole timestamp on hover.
export function when(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 1970) {
    return h("span", { class: "muted", text: "–" });
  }
  const today = new Date().toDateString() === d.toDateString();
  return h("time", { datetime: d.toISOString(), title: d.toString(), text: today ? timeFormat.format(d) : dateTimeFormat.format(d) });
}

// clock gives seconds as m:ss (or h:mm:ss).
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

// duration gives nanoseconds (Go's time.Duration in JSON) for people.
export function duration(ns) {
  const ms = ns / 1e6;
  if (ms < 1) {
    return "<1 ms";
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
}

// isHost tells a hostname target ("blue.example.") from addresses.
export function isHost(target) {
  return /\.$/.test(target) && !/[\s,]/.test(target);
}
