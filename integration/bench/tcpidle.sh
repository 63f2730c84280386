#!/usr/bin/env bash
# Memory with 3,000 idle TCP connections, slotdns beside NSD and Knot: each
# server is set to hold twice that many (slotdns [tcp], NSD tcp-count, Knot
# tcp-max-clients) for five minutes of idleness; a client opens them from 100
# loopback sources, and the servers' resident memory is read before and
# with them open.
#
#   integration/bench/tcpidle.sh bin/slotdns      (make bench runs it)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: tcpidle.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
PORT="${PORT:-5311}" NSD_PORT="${NSD_PORT:-5312}" KNOT_PORT="${KNOT_PORT:-5313}" CONNS="${CONNS:-3000}"
PATH="$PATH:/usr/sbin"
need "idle TCP" "nsd knot bind9-dnsutils" nsd knotd dig python3 ss
make_state tcpidle
ulimit -n 20000 2> /dev/null || true

slotdns_config "$PORT"
cat >> "$STATE/slotdns.toml" <<TOML

[tcp]
max_connections = $((2 * CONNS + 100))
max_per_source  = $((CONNS + 100))
idle_timeout    = "300s"
TOML
ref_config "$KIT/nsd.conf.in" | sed -e "s|^server:|server:\n    tcp-count: $((2 * CONNS + 100))\n    tcp-timeout: 300|" > "$STATE/nsd.conf"
ref_config "$KIT/knot.conf.in" | sed -e "s|^server:|server:\n    tcp-max-clients: $((2 * CONNS + 100))\n    tcp-idle-timeout: 300s|" > "$STATE/knot.conf"

"$BIN" serve --config "$STATE/slotdns.toml" > "$STATE/slotdns.out" 2>&1 &
PIDS+=($!)
nsd -d -c "$STATE/nsd.conf" > "$STATE/nsd.out" 2>&1 &
PIDS+=($!)
knotd -c "$STATE/knot.conf" > "$STATE/knot.out" 2>&1 &
PIDS+=($!)
for port in "$PORT" "$NSD_PORT" "$KNOT_PORT"; do
  wait_dns "$port" || { echo "no server answers on port $port" >&2; exit 1; }
done

# accepted PORT: connections the server took from the kernel's queue.
accepted() {
  local established queued
  established="$(ss -Htn state established "sport = :$1" | wc -l)"
  queued="$(ss -Hltn "sport = :$1" | awk '{print $2}' | head -1)"
  echo $((established - ${queued:-0}))
}

printf "%-8s %12s %14s %10s %12s\n" server "rss before" "rss with $CONNS" accepted "KiB per conn"
for server in slotdns=$PORT nsd=$NSD_PORT knot=$KNOT_PORT; do
  name="${server%=*}" port="${server#*=}"
  before="$(rss "$port")"
  # Open the connections and hold them while the memory is read. Each
  # connect waits for its handshake: a server with a short listen queue
  # (Knot's is 10) makes the client retry its SYN, so wait until every
  # connect has ended, for up to two minutes, before reading.
  rm -f "$STATE/held"
  python3 - "$port" "$CONNS" "$STATE/held" <<'PY' &
import socket, sys, time
port, n, report = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = []
for i in range(n):
    s = socket.socket()
    s.settimeout(30)
    s.bind(("127.0.%d.%d" % (2 + i // 200 // 250, 1 + (i // 30) % 250), 0))
    try:
        s.connect(("127.0.0.1", port))
        conns.append(s)
    except OSError:
        s.close()
with open(report, "w") as f:
    print(len(conns), file=f)
time.sleep(600)
PY
  holder=$!
  for _ in $(seq 1 1200); do [ -s "$STATE/held" ] && break; sleep 0.1; done
  sleep 2 # let the server take the last ones from its queue
  with="$(rss "$port")"
  held="$(accepted "$port")"
  kill "$holder" 2> /dev/null || true
  wait "$holder" 2> /dev/null || true
  printf "%-8s %9s KiB %11s KiB %10s %12s\n" "$name" "$before" "$with" "$held" "$(( (with - before) / (held > 0 ? held : 1) ))"
done
