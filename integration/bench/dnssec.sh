#!/usr/bin/env bash
# DO=1 queries against signed zones: the kit's query mix under dnsperf -D
# (DNSSEC OK) against slotdns serving the benchmark zone unsigned and
# signed, and Knot serving it unsigned and signed by Knot itself.
#
#   integration/bench/dnssec.sh bin/slotdns      (make bench runs it)
#
# slotdns serves the zone with its www and stage records made slots, as
# in sidebyside.sh; the signed one makes its key at start (one
# ECDSAP256SHA256 CSK) and denies with NSEC. Knot signs the kit's zone
# file with its automatic signing (dnssec-signing: on) and a policy of the
# same algorithm 13, one CSK and NSEC. Before the load, each signed server
# must answer www with the RRSIG of its CNAME. Every server is pinned to
# CPU 1, dnsperf runs on CPU 0, three interleaved rounds (compare.sh).
# After compare.sh's table, one line each gives the signed slotdns against
# the unsigned one (the issue asks 0.85 at least), the signed slotdns
# against the signed Knot, and the signed Knot against the unsigned one:
# the median over the rounds of each round's ratio, of QPS and of QPS per
# server CPU-second. Without dnsperf or knotd it says so and exits 0.
#
# Environment (all optional): SHARED=../shared, PORT=5323 (slotdns
# unsigned), SIGNED_PORT=5324, KNOT_PORT=5325, KNOT_SIGNED_PORT=5326,
# SERVER_CPUS=1, ROUNDS=3 and compare.sh's knobs (-D is added to
# DNSPERF_ARGS).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: dnssec.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
PORT="${PORT:-5323}" SIGNED_PORT="${SIGNED_PORT:-5324}"
KNOT_PORT="${KNOT_PORT:-5325}" KNOT_SIGNED_PORT="${KNOT_SIGNED_PORT:-5326}"
SERVER_CPUS="${SERVER_CPUS:-1}"
export ROUNDS="${ROUNDS:-3}" DNSPERF_ARGS="-D${DNSPERF_ARGS:+ $DNSPERF_ARGS}"
PATH="$PATH:/usr/sbin"

need DNSSEC "dnsperf knot bind9-dnsutils" dnsperf knotd knotc dig taskset ss
for p in "$PORT" "$SIGNED_PORT" "$KNOT_PORT" "$KNOT_SIGNED_PORT"; do
  if ss -Hlun "sport = :$p" | grep -q .; then echo "port $p is in use (set PORT, SIGNED_PORT, KNOT_PORT, KNOT_SIGNED_PORT)" >&2; exit 1; fi
done
make_state dnssec

# start_slotdns NAME PORT [TOML]: a slotdns in $STATE/NAME serving the
# kit's zone with slots, TOML in its [[zone]] table, pinned to
# SERVER_CPUS, waited for.
start_slotdns() {
  mkdir -p "$STATE/$1"
  slots_config "$2" "$STATE/$1" "${3:-}"
  taskset -c "$SERVER_CPUS" "$BIN" serve --config "$STATE/$1/slotdns.toml" > "$STATE/$1/out" 2>&1 &
  PIDS+=($!)
  wait_dns "$2" || { echo "slotdns $1 did not start:" >&2; cat "$STATE/$1/out" >&2; exit 1; }
}

# start_knot NAME PORT [signed]: knotd in $STATE/NAME with the kit's
# config and zone, signing it when asked, pinned to SERVER_CPUS, waited
# for.
start_knot() {
  local dir="$STATE/$1" pid
  mkdir -p "$dir/knot-db"
  STATE="$dir" KNOT_PORT="$2" ref_config "$KIT/knot.conf.in" > "$dir/knot.conf"
  if [ "${3:-}" = signed ]; then
    awk '/^zone:/ { print "policy:\n  - id: bench\n    algorithm: ecdsap256sha256\n    single-type-signing: on\n    nsec3: off\n" }
      { print }
      /^  - domain: yourwebapp\.com$/ { print "    dnssec-signing: on\n    dnssec-policy: bench" }' "$dir/knot.conf" > "$dir/knot.conf.new"
    mv "$dir/knot.conf.new" "$dir/knot.conf"
  fi
  knotc -c "$dir/knot.conf" conf-check > /dev/null
  taskset -c "$SERVER_CPUS" knotd -c "$dir/knot.conf" > "$dir/out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_dns "$2" || { echo "knot $1 did not start:" >&2; cat "$dir/out" "$dir/knot.log" >&2; exit 1; }
  # Knot pins each UDP worker to a CPU of its choosing when it starts,
  # whatever taskset said (start-refs.sh pins them again too).
  taskset -a -p -c "$SERVER_CPUS" "$pid" > /dev/null
}

# signed PORT: wait up to 10 s until the server answers www with DO set
# and the RRSIG of its CNAME; 1 when it does not.
signed() {
  local _
  for _ in $(seq 1 100); do
    dig +time=1 +tries=1 +norec +dnssec @127.0.0.1 -p "$1" www.yourwebapp.com A 2> /dev/null |
      awk '$4 == "RRSIG" && $5 == "CNAME" { found = 1 } END { exit !found }' && return 0
    sleep 0.1
  done
  return 1
}

start_slotdns unsigned "$PORT"
start_slotdns signed "$SIGNED_PORT" "$(printf '[zone.dnssec]\nalgorithm     = "ECDSAP256SHA256"\ndenial        = "nsec"\ngenerate_keys = true\n')"
start_knot knot "$KNOT_PORT"
start_knot knot-signed "$KNOT_SIGNED_PORT" signed
signed "$SIGNED_PORT" || { echo "the signed slotdns answers www without an RRSIG:" >&2; cat "$STATE/signed/out" >&2; exit 1; }
signed "$KNOT_SIGNED_PORT" || { echo "the signed Knot answers www without an RRSIG:" >&2; cat "$STATE/knot-signed/knot.log" >&2; exit 1; }
echo "slotdns unsigned: port $PORT, signed: port $SIGNED_PORT; Knot unsigned: port $KNOT_PORT, signed by Knot: port $KNOT_SIGNED_PORT; cpus=$SERVER_CPUS; dnsperf$DNSPERF_ARGS"

export KEEP="${KEEP:-$(mktemp -d -t dnsbench-compare.XXXXXX)}" # kept, as compare.sh keeps its own
"$KIT/compare.sh" unsigned="$PORT" signed="$SIGNED_PORT" knot="$KNOT_PORT" knot-signed="$KNOT_SIGNED_PORT"
# results.tsv: name port round qps ... srv_cpu_pct (9th); qps/cpu = 100*qps/srv_cpu.
awk -F'\t' '
  NR > 1 { q[$1, $3] = $4; if ($9 > 0) e[$1, $3] = 100 * $4 / $9; if ($3 > rounds) rounds = $3 }
  function median(a, n,    i, j, x) {
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
  }
  function ratios(num, den, per,    r, n, a) {
    n = 0
    for (r = 1; r <= rounds; r++) if ((num, r) in per && (den, r) in per && per[den, r] > 0) a[++n] = per[num, r] / per[den, r]
    return n ? sprintf("%.3f", median(a, n)) : "-"
  }
  function line(what, num, den) { printf "%-32s %8s %14s\n", what, ratios(num, den, q), ratios(num, den, e) }
  END {
    printf "%-32s %8s %14s   (DO=1, median of %d rounds)\n", "ratio", "QPS", "QPS/CPU-second", rounds
    line("slotdns signed / unsigned", "signed", "unsigned")
    line("slotdns signed / Knot signed", "signed", "knot-signed")
    line("Knot signed / unsigned", "knot-signed", "knot")
  }' "$KEEP/results.tsv"
