#!/usr/bin/env bash
# Response rate limiting under a flood, slotdns beside NSD: one source
# (127.0.0.1) sends 20,000 qps of one question for 10 s while another
# (127.0.1.2, another /24) sends 1,000 qps of 1,000 names. Both
# servers limit at 200 responses/s with slip 2, NSD's defaults. It prints,
# per server and source, the queries sent, answered (whole or truncated)
# and lost: the flood should get about rate x 10 s whole answers plus
# half the rest truncated (slip 2), the other source 99 % or more.
#
#   integration/bench/rrl.sh bin/slotdns      (make bench runs it)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: rrl.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
PORT="${PORT:-5308}" NSD_PORT="${NSD_PORT:-5309}"
PATH="$PATH:/usr/sbin"

need "rate limiting" "dnsperf nsd bind9-dnsutils" dnsperf nsd dig taskset
make_state rrl
slotdns_config "$PORT"
cat >> "$STATE/slotdns.toml" <<TOML

[rrl]
rate   = 200
slip   = 2
exempt = []
TOML
ref_config "$KIT/nsd.conf.in" | sed -e "s|rrl-ratelimit: 0|rrl-ratelimit: 200\n    rrl-slip: 2\n    rrl-ipv4-prefix-length: 24|" \
    -e "/rrl-whitelist-ratelimit/d" > "$STATE/nsd.conf"

taskset -c 1 "$BIN" serve --config "$STATE/slotdns.toml" > "$STATE/slotdns.out" 2>&1 &
PIDS+=($!)
taskset -c 1 nsd -d -c "$STATE/nsd.conf" > "$STATE/nsd.out" 2>&1 &
PIDS+=($!)
for port in "$PORT" "$NSD_PORT"; do
  wait_dns "$port" || { echo "no server answers on port $port" >&2; exit 1; }
done
echo "www.yourwebapp.com A" > "$STATE/flood.txt"
# The other source asks for many names, each well under the rate.
for i in $(seq 1 1000); do echo "host$i.yourwebapp.com A"; done > "$STATE/other.txt"

# count FILE: sent completed lost, from dnsperf's report.
count() { awk '/Queries sent:/ {s=$3} /Queries completed:/ {c=$3} /Queries lost:/ {l=$3} END {print s, c, l}' "$1"; }

printf "%-8s %-22s %10s %10s %10s\n" server source sent answered lost
for server in slotdns=$PORT nsd=$NSD_PORT; do
  name="${server%=*}" port="${server#*=}"
  taskset -c 0 dnsperf -a 127.0.0.1 -s 127.0.0.1 -p "$port" -d "$STATE/flood.txt" -Q 20000 -l 10 -c 1 -q 20000 -t 1 > "$STATE/$name-flood.out" 2>&1 &
  flood=$!
  taskset -c 0 dnsperf -a 127.0.1.2 -s 127.0.0.1 -p "$port" -d "$STATE/other.txt" -Q 1000 -l 10 -c 1 -q 1000 -t 1 > "$STATE/$name-other.out" 2>&1
  wait "$flood" || true
  read -r s c l <<< "$(count "$STATE/$name-flood.out")"
  printf "%-8s %-22s %10s %10s %10s\n" "$name" "flood 127.0.0.1" "$s" "$c" "$l"
  read -r s c l <<< "$(count "$STATE/$name-other.out")"
  printf "%-8s %-22s %10s %10s %10s\n" "$name" "other 127.0.1.2" "$s" "$c" "$l"
  sleep 2
done
echo "at rate 200 and slip 2, the flood's 10 s allow about 2,000 whole answers and half the rest truncated"
