#!/usr/bin/env bash
# slotdns beside NSD and Knot under dnsperf, with the shared benchmark kit
# (../shared/bench: the zone, the query mix, start-refs.sh, compare.sh).
#
#   integration/bench/sidebyside.sh bin/slotdns      (make bench runs it)
#
# slotdns serves the benchmark zone with its www and stage records turned
# into slots (same targets and TTL, so every server sends the same answers),
# pinned to CPU 1 as NSD and Knot are; dnsperf runs on CPU 0. Without
# dnsperf, nsd or knotd it says so and exits 0.
#
# Environment (all optional):
#   SHARED=../shared   the shared folder beside the repository
#   PORT=5305          slotdns's port
#   NSD_PORT=5301 KNOT_PORT=5302   the reference servers' ports (start-refs.sh)
#   SERVER_CPUS=1      CPU list slotdns is pinned to
#   ROUNDS=3           and every other knob of compare.sh (DURATION, ...)
#
# After compare.sh's table, one line gives slotdns's QPS per server
# CPU-second as a ratio of NSD's and of Knot's: the ratio in each round,
# then the median over the rounds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: sidebyside.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
PORT="${PORT:-5305}"
export NSD_PORT="${NSD_PORT:-5301}" KNOT_PORT="${KNOT_PORT:-5302}"
SERVER_CPUS="${SERVER_CPUS:-1}"
export ROUNDS="${ROUNDS:-3}"
PATH="$PATH:/usr/sbin"

missing=""
for tool in dnsperf nsd knotd dig taskset ss; do command -v "$tool" > /dev/null || missing+=" $tool"; done
if [ -n "$missing" ]; then
  echo "side-by-side run skipped, missing:$missing (apt-get install dnsperf nsd knot bind9-dnsutils)"
  exit 0
fi
if [ ! -r "$KIT/yourwebapp.com.zone" ]; then
  echo "side-by-side run skipped: no benchmark kit at $KIT (set SHARED to the folder holding bench/)"
  exit 0
fi
KIT="$(cd "$KIT" && pwd)"
for p in "$PORT" "$NSD_PORT" "$KNOT_PORT"; do
  if ss -Hlun "sport = :$p" | grep -q .; then echo "port $p is in use (set PORT, NSD_PORT, KNOT_PORT)" >&2; exit 1; fi
done

STATE="$(mktemp -d -t slotdns-bench.XXXXXX)"
REFSTATE=""
PID=""
cleanup() {
  [ -z "$REFSTATE" ] || "$KIT/stop-refs.sh" "$REFSTATE" || true
  if [ -n "$PID" ] && kill -0 "$PID" 2> /dev/null; then kill -TERM "$PID"; wait "$PID" || true; fi
  rm -rf "$STATE"
}
trap cleanup EXIT

# The kit's zone with its www and stage records made the slots of an app.
slots_config "$PORT"

taskset -c "$SERVER_CPUS" "$BIN" serve --config "$STATE/slotdns.toml" > "$STATE/slotdns.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  dig +time=1 +tries=1 +short @127.0.0.1 -p "$PORT" yourwebapp.com SOA 2> /dev/null | grep -q hostmaster && break
  kill -0 "$PID" 2> /dev/null || { echo "slotdns exited:" >&2; cat "$STATE/slotdns.out" >&2; exit 1; }
  sleep 0.1
done
echo "slotdns pid=$PID port=$PORT cpus=$SERVER_CPUS"

"$KIT/start-refs.sh" nsd knot > "$STATE/refs.out" 2>&1 || { cat "$STATE/refs.out" >&2; REFSTATE="$(sed -n 's/^state=//p' "$STATE/refs.out")"; exit 1; }
REFSTATE="$(sed -n 's/^state=//p' "$STATE/refs.out")"
grep -v '^stop with' "$STATE/refs.out"

export KEEP="${KEEP:-$(mktemp -d -t dnsbench-compare.XXXXXX)}" # kept, as compare.sh keeps its own
"$KIT/compare.sh" nsd="$NSD_PORT" knot="$KNOT_PORT" slotdns="$PORT"
# results.tsv: name port round qps ... srv_cpu_pct (9th); qps/cpu = 100*qps/srv_cpu.
awk -F'\t' '
  NR > 1 && $9 > 0 { e[$1, $3] = 100 * $4 / $9; q[$1, $3] = $4; if ($3 > rounds) rounds = $3 }
  function median(a, n,    i, j, x) {
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
  }
  function ratios(num, den, per,    r, n, k, a) {
    n = 0
    for (r = 1; r <= rounds; r++) if ((num, r) in per && (den, r) in per && per[den, r] > 0) a[++n] = per[num, r] / per[den, r]
    return n ? sprintf("%.2f", median(a, n)) : "-"
  }
  END {
    printf "per CPU-second: slotdns/NSD %s, slotdns/Knot %s; QPS: slotdns/NSD %s, slotdns/Knot %s (median of %d rounds)\n",
      ratios("slotdns", "nsd", e), ratios("slotdns", "knot", e), ratios("slotdns", "nsd", q), ratios("slotdns", "knot", q), rounds
  }' "$KEEP/results.tsv"
echo "slotdns after the runs: $(grep VmRSS "/proc/$PID/status")"
