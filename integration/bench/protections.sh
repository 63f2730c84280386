#!/usr/bin/env bash
# The cost of the protections when nothing triggers them: the same dnsperf
# run against two slotdns servers on the benchmark zone, one with response
# rate limiting and cookies off, one with both on. The second limits at
# 1,000,000 responses/s with no source exempt, so every response goes
# through the rate table without being limited; the query mix carries no
# cookie (cookies.sh measures those). Both on CPU 1, one loaded at a time
# (compare.sh interleaves them), dnsperf on CPU 0.
#
#   integration/bench/protections.sh bin/slotdns      (make bench runs it)
#
# Environment (all optional): SHARED=../shared, OFF_PORT=5317,
# ON_PORT=5318, SERVER_CPUS=1, ROUNDS=3 and compare.sh's knobs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: protections.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
OFF_PORT="${OFF_PORT:-5317}" ON_PORT="${ON_PORT:-5318}"
export ROUNDS="${ROUNDS:-3}"

need protections "dnsperf bind9-dnsutils" dnsperf dig taskset
make_state protections
serve_slotdns off "$OFF_PORT" "$(printf '[rrl]\nrate = 0\n\n[cookies]\nenabled = false\n')"
serve_slotdns on "$ON_PORT" "$(printf '[rrl]\nrate = 1000000\nexempt = []\n\n[cookies]\nenabled = true\n')"
echo "rate limiting and cookies off: port $OFF_PORT; on, never triggered: port $ON_PORT"
"$KIT/compare.sh" off="$OFF_PORT" on="$ON_PORT"
