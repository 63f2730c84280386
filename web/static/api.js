// The control API as the dashboard uses it: same-origin fetch() with the
// session cookie, JSON both ways, and errors as APIError with the kind
// and check results of the server's error reply.

export class APIError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status; // 0: no answer at all
    this.kind = body.kind || "";
    this.checks = Array.isArray(body.checks) ? body.checks : [];
  }
}

// skew is the server's clock minus this one's, from the Date header of
// each reply, so that countdowns end when the server says, give or take
// the header's second.
let skew = 0;

export function serverNow() {
  return Date.now() + skew;
}

function noteDate(res) {
  const date = Date.parse(res.headers.get("Date") || "");
  if (Number.isNaN(date)) {
    return;
  }
  const seen = date - Date.now();
  // The header has whole seconds: only a difference larger than that is
  // a clock that is off.
  skew = Math.abs(seen) > 1500 ? seen : 0;
}

async function request(method, path, body, headers = {}) {
  const init = {
    method,
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json", ...headers },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new APIError(0, { error: `the server did not answer (${err.message})`, kind: "network" });
  }
  noteDate(res);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const reply = data && typeof data === "object" && typeof data.error === "string" ? data : { error: text.trim() || res.statusText, kind: "" };
    throw new APIError(res.status, reply);
  }
  return data;
}

const app = (name) => `/v1/apps/${encodeURIComponent(name)}`;

// newKey is an Idempotency-Key: a change sent again with it (after the
// connection broke) is not made twice.
export function newKey() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export const api = {
  whoami: () => request("GET", "/v1/whoami"),
  login: (token) => request("POST", "/v1/login", { token }),
  logout: () => request("POST", "/v1/logout", {}),
  apps: () => request("GET", "/v1/apps"),
  app: (name) => request("GET", app(name)),
  history: (name, limit) => request("GET", `${app(name)}/history?limit=${limit}`),
  plan: (name, slot, withSlot) =>
    request("GET", `${app(name)}/plan?slot=${encodeURIComponent(slot)}&with=${encodeURIComponent(withSlot)}`),
  swap: (name, body, key) => request("POST", `${app(name)}/swap`, body, { "Idempotency-Key": key }),
  rollback: (name, body, key) => request("POST", `${app(name)}/rollback`, body, { "Idempotency-Key": key }),
};
