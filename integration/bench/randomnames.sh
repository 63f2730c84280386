#!/usr/bin/env bash
# A flood of names never asked before, slotdns beside NSD and Knot: one
# source (127.0.0.1) sends 1,000,000 distinct names (NXDOMAIN, each a miss
# of slotdns's response cache) as fast as dnsperf goes for 20 s, while
# another (127.0.1.2) asks 1,000 names of the zone at 1,000 qps. It prints
# the flood's QPS, the other source's answers, and each server's resident
# memory before, at its peak (read every second) and after: bounded, since
# the cache keeps at most 10,000 answers (32 MiB).
#
#   integration/bench/randomnames.sh bin/slotdns      (make bench runs it)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: randomnames.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
PORT="${PORT:-5314}" NSD_PORT="${NSD_PORT:-5315}" KNOT_PORT="${KNOT_PORT:-5316}" SECONDS_RUN="${SECONDS_RUN:-20}"
PATH="$PATH:/usr/sbin"

need random-name "dnsperf nsd knot bind9-dnsutils" dnsperf nsd knotd dig taskset ss
make_state random
slotdns_config "$PORT"
ref_config "$KIT/nsd.conf.in" > "$STATE/nsd.conf"
ref_config "$KIT/knot.conf.in" > "$STATE/knot.conf"

taskset -c 1 "$BIN" serve --config "$STATE/slotdns.toml" > "$STATE/slotdns.out" 2>&1 &
PIDS+=($!)
taskset -c 1 nsd -d -c "$STATE/nsd.conf" > "$STATE/nsd.out" 2>&1 &
PIDS+=($!)
taskset -c 1 knotd -c "$STATE/knot.conf" > "$STATE/knot.out" 2>&1 &
PIDS+=($!)
for port in "$PORT" "$NSD_PORT" "$KNOT_PORT"; do
  wait_dns "$port" || { echo "no server answers on port $port" >&2; exit 1; }
done
awk 'BEGIN { srand(1); for (i = 0; i < 1000000; i++) printf "r%08x%06d.yourwebapp.com A\n", int(rand() * 4294967295), i }' > "$STATE/random.txt"
for i in $(seq 1 1000); do echo "host$i.yourwebapp.com A"; done > "$STATE/other.txt"

field() { awk -v k="$2" '$0 ~ k {print $3; exit}' "$1"; }

printf "%-8s %12s %12s %12s %12s %12s %12s\n" server "flood qps" "other sent" "answered" "rss before" "rss peak" "rss after"
for server in slotdns=$PORT nsd=$NSD_PORT knot=$KNOT_PORT; do
  name="${server%=*}" port="${server#*=}"
  before="$(rss "$port")" peak=0
  taskset -c 0 dnsperf -s 127.0.0.1 -p "$port" -d "$STATE/random.txt" -l "$SECONDS_RUN" -c 1 -q 200 -t 1 > "$STATE/$name-flood.out" 2>&1 &
  flood=$!
  taskset -c 0 dnsperf -a 127.0.1.2 -s 127.0.0.1 -p "$port" -d "$STATE/other.txt" -Q 1000 -l "$SECONDS_RUN" -c 1 -q 1000 -t 1 > "$STATE/$name-other.out" 2>&1 &
  other=$!
  while kill -0 "$flood" 2> /dev/null; do
    now="$(rss "$port")"
    [ "$now" -gt "$peak" ] && peak="$now"
    sleep 1
  done
  wait "$flood" "$other" || true
  qps="$(awk '/Queries per second:/ {printf "%d", $4}' "$STATE/$name-flood.out")"
  printf "%-8s %12s %12s %12s %8s KiB %8s KiB %8s KiB\n" "$name" "$qps" \
    "$(field "$STATE/$name-other.out" 'Queries sent:')" "$(field "$STATE/$name-other.out" 'Queries completed:')" \
    "$before" "$peak" "$(rss "$port")"
  sleep 1
done
