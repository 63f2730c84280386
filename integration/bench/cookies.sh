#!/usr/bin/env bash
# Cookie-bearing queries beside plain ones: the same dnsperf run of the
# kit's query mix against one slotdns (cookies on, as by default), with
# and without a client cookie (dnsperf -E 10:<client cookie>), alternating
# for three rounds. Prints QPS per run and the cookie runs' median as a
# ratio of the plain runs'.
#
#   integration/bench/cookies.sh bin/slotdns      (make bench runs it)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: cookies.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
PORT="${PORT:-5310}" ROUNDS="${ROUNDS:-3}" DURATION="${DURATION:-10}"
need cookie "dnsperf bind9-dnsutils" dnsperf dig taskset
make_state cookies
slotdns_config "$PORT"
taskset -c 1 "$BIN" serve --config "$STATE/slotdns.toml" > "$STATE/out" 2>&1 &
PIDS+=($!)
wait_dns "$PORT" || { echo "slotdns did not start:" >&2; cat "$STATE/out" >&2; exit 1; }
run() { # extra dnsperf args...
  taskset -c 0 dnsperf -s 127.0.0.1 -p "$PORT" -d "$KIT/queries.txt" -l "$DURATION" -c 8 -q 200 "$@" 2>&1 |
    awk '/Queries per second:/ {print int($4)}'
}
plain=() cookie=()
for round in $(seq 1 "$ROUNDS"); do
  p="$(run -e)"; c="$(run -e -E 10:0102030405060708)"
  plain+=("$p") cookie+=("$c")
  echo "round $round: plain EDNS $p qps, with a client cookie $c qps"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mp="$(median "${plain[@]}")" mc="$(median "${cookie[@]}")"
echo "median: plain $mp qps, cookie $mc qps, ratio $(awk -v c="$mc" -v p="$mp" 'BEGIN {printf "%.3f", c/p}')"
