#!/usr/bin/env bash
# The cost of metrics on the query path: the same dnsperf run against two
# slotdns servers on the benchmark zone, one without an API listener (the
# data plane counts nothing) and one with it, scraped every second while a
# client holds an event stream open, as a dashboard and Prometheus do.
#
#   integration/bench/metrics.sh bin/slotdns      (make bench runs it)
#
# Both servers are pinned to CPU 1 and only one is loaded at a time
# (compare.sh interleaves them); dnsperf, the scraper and the event reader
# run on CPU 0. Without dnsperf or curl it says so and exits 0.
#
# Environment (all optional): SHARED=../shared, OFF_PORT=5306, ON_PORT=5307,
# API_PORT=8057, SERVER_CPUS=1, ROUNDS=3 and compare.sh's knobs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: metrics.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
OFF_PORT="${OFF_PORT:-5306}" ON_PORT="${ON_PORT:-5307}" API_PORT="${API_PORT:-8057}"
SERVER_CPUS="${SERVER_CPUS:-1}"
export ROUNDS="${ROUNDS:-3}"

need metrics "dnsperf bind9-dnsutils curl" dnsperf dig curl taskset
make_state metrics

serve_slotdns off "$OFF_PORT"
serve_slotdns on "$ON_PORT" "$(printf '[api]\nlisten = "127.0.0.1:%s"\n' "$API_PORT")"
TOKEN="$("$BIN" --config "$STATE/on/slotdns.toml" token add bench --scope read 2> /dev/null)"

# A dashboard's event stream, and a scrape every second, for the whole run.
taskset -c 0 curl -sN -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$API_PORT/v1/events" > /dev/null &
PIDS+=($!)
taskset -c 0 bash -c "while sleep 1; do curl -s http://127.0.0.1:$API_PORT/metrics > $STATE/last-scrape; done" &
PIDS+=($!)

echo "metrics off: port $OFF_PORT; on: port $ON_PORT, API $API_PORT scraped every second with an event stream open"
"$KIT/compare.sh" off="$OFF_PORT" on="$ON_PORT"
echo "last scrape: $(grep -c '^slotdns_' "$STATE/last-scrape") slotdns_ samples, e.g."
grep '^slotdns_dns_requests_total' "$STATE/last-scrape" | sort -t' ' -k2 -n -r | head -3
