#!/usr/bin/env bash
# One zone of 1,000,007 records, slotdns beside NSD and Knot. The zone is
# generated here, in a temporary folder, never committed: 1,000,000 records
# of A, TXT and CNAMEs in and out of the zone, and seven at the apex.
# slotdns serves www and stage as the slots of an app; NSD and Knot get
# them as CNAMEs in the file. It prints, per server:
#   - the time from start to the first answer for the zone's last name;
#   - the resident memory once it answers, and in bytes per record.
# and for slotdns alone:
#   - the time of a restart to the first answer;
#   - an AXFR of the zone into a Knot secondary: the time until Knot
#     serves the serial;
#   - four swaps, each as the CLI runs it (until the secondary serves it),
#     and the memory after them;
#   - a reload of the changed zone: its time, the peak memory during it
#     (read every 50 ms) against old + new, and the queries lost meanwhile.
#
#   integration/bench/bigzone.sh bin/slotdns      (make bench runs it)
#
# Environment (all optional): SHARED=../shared, RECORDS=1000000 (the
# generated records, besides the apex's seven), PORT=5319, NSD_PORT=5320,
# KNOT_PORT=5321, SECONDARY_PORT=5322.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$(realpath "${1:?usage: bigzone.sh path/to/slotdns}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KIT="${SHARED:-$REPO/../shared}/bench"
RECORDS="${RECORDS:-1000000}"
PORT="${PORT:-5319}" NSD_PORT="${NSD_PORT:-5320}" KNOT_PORT="${KNOT_PORT:-5321}" SECONDARY_PORT="${SECONDARY_PORT:-5322}"
PATH="$PATH:/usr/sbin"

need "big zone" "nsd knot dnsperf bind9-dnsutils" nsd knotd dig dnsperf ss
make_state bigzone
mkdir -p "$STATE/slotdns" "$STATE/ref" "$STATE/secondary"

# The records: every tenth an in-zone CNAME, every tenth one to a name
# elsewhere, every tenth a TXT beside an A, the rest A. LAST is the name
# of the last A, asked to see that a server has loaded everything.
gen() {
  awk -v n="$RECORDS" 'BEGIN {
    print "$ORIGIN yourwebapp.com."
    print "$TTL 3600"
    print "@ SOA ns1 hostmaster 1 3600 600 1209600 300"
    print "@ NS ns1"
    print "ns1 A 192.0.2.53"
    print "@ MX 10 mail"
    print "mail A 192.0.2.25"
    print "@ A 192.0.2.80"
    print "@ AAAA 2001:db8::80"
    for (i = 0; i < n; i++) {
      r = i % 10
      if (r == 0) printf "c%d CNAME h%d\n", i, i + 1
      else if (r == 2) printf "e%d CNAME host%d.example.net.\n", i, i
      else if (r == 5) printf "h%d TXT \"host %d\"\n", i - 4, i - 4
      else printf "h%d A 198.51.100.%d\n", i, i % 250 + 1
    }
  }'
}
slotdns_config "$PORT" "$STATE/slotdns"
gen > "$STATE/slotdns/yourwebapp.com.zone"
cp "$STATE/slotdns/yourwebapp.com.zone" "$STATE/ref/"
printf 'www CNAME h1\nstage CNAME h3\n' >> "$STATE/ref/yourwebapp.com.zone"
TOTAL=$((RECORDS + 7))
LAST="$(tail -1 "$STATE/slotdns/yourwebapp.com.zone" | awk '{print $1}').yourwebapp.com."
case "$LAST" in h*) ;; *) LAST="h$((RECORDS - 1)).yourwebapp.com." ;; esac
echo "zone: $TOTAL records, $(du -m "$STATE/slotdns/yourwebapp.com.zone" | cut -f1) MB; asking for $LAST"

cat >> "$STATE/slotdns/slotdns.toml" <<TOML

[[zone.secondary]]
address = "127.0.0.1:$SECONDARY_PORT"

[[app]]
name = "yourwebapp"
zone = "yourwebapp.com."
ttl  = 30

[app.slots.production]
names  = ["www"]
target = "h1.yourwebapp.com."

[app.slots.staging]
names  = ["stage"]
target = "h3.yourwebapp.com."
TOML
KIT="$STATE/ref" ref_config "${SHARED:-$REPO/../shared}/bench/nsd.conf.in" > "$STATE/ref/nsd.conf"
KIT="$STATE/ref" ref_config "${SHARED:-$REPO/../shared}/bench/knot.conf.in" > "$STATE/ref/knot.conf"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
# answers PORT: whether the server on PORT answers LAST with an address.
answers() { dig +time=1 +tries=1 +short @127.0.0.1 -p "$1" "$LAST" A 2> /dev/null | grep -q '^198'; }
# first_answer PORT: wait (up to 10 minutes) until the server answers LAST.
first_answer() {
  local _
  for _ in $(seq 1 30000); do answers "$1" && return 0; sleep 0.02; done
  echo "no answer for $LAST on port $1" >&2
  exit 1
}
per_record() { awk -v k="$1" -v n="$TOTAL" 'BEGIN {printf "%d", k * 1024 / n}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }

printf "%-8s %14s %12s %14s\n" server "first answer" "rss MiB" "bytes/record"
start_slotdns() {
  (cd "$STATE/slotdns" && exec "$BIN" serve --config slotdns.toml > out 2>&1) &
  SLOTDNS_PID=$!
  PIDS+=("$SLOTDNS_PID")
}
t0="$(now)"; start_slotdns; first_answer "$PORT"; slotdns_start="$(since "$t0")"
sleep 2; slotdns_rss="$(rss "$PORT")"
printf "%-8s %12s s %12s %14s\n" slotdns "$slotdns_start" "$(mib "$slotdns_rss")" "$(per_record "$slotdns_rss")"
for ref in nsd knot; do
  port=$NSD_PORT; [ "$ref" = knot ] && port=$KNOT_PORT
  t0="$(now)"
  if [ "$ref" = nsd ]; then nsd -d -c "$STATE/ref/nsd.conf" > "$STATE/ref/nsd.out" 2>&1 &
  else knotd -c "$STATE/ref/knot.conf" > "$STATE/ref/knot.out" 2>&1 &
  fi
  pid=$!
  PIDS+=("$pid")
  first_answer "$port"
  took="$(since "$t0")"
  sleep 2; mem="$(rss "$port")"
  printf "%-8s %12s s %12s %14s\n" "$ref" "$took" "$(mib "$mem")" "$(per_record "$mem")"
  kill -TERM "$pid"; wait "$pid" 2> /dev/null || true
done

cli() { (cd "$STATE/slotdns" && "$BIN" --config slotdns.toml "$@"); }
echo
kill -TERM "$SLOTDNS_PID"; wait "$SLOTDNS_PID" 2> /dev/null || true
t0="$(now)"; start_slotdns; first_answer "$PORT"
echo "slotdns restart to the first answer: $(since "$t0") s"

# An AXFR into a Knot secondary, timed until it serves the serial.
serial="$(dig +short @127.0.0.1 -p "$PORT" yourwebapp.com SOA | awk '{print $3}')"
cat > "$STATE/secondary/knot.conf" <<CONF
server:
    rundir: "$STATE/secondary"
    listen: 127.0.0.1@$SECONDARY_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$STATE/secondary/knot.sock"
database:
    storage: "$STATE/secondary/db"
log:
  - target: "$STATE/secondary/knot.log"
    any: warning
remote:
  - id: primary
    address: 127.0.0.1@$PORT
acl:
  - id: notify
    address: 127.0.0.1
    action: notify
zone:
  - domain: yourwebapp.com
    storage: "$STATE/secondary"
    master: primary
    acl: notify
    zonefile-sync: -1
    journal-content: none
CONF
t0="$(now)"
knotd -c "$STATE/secondary/knot.conf" > "$STATE/secondary/out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 30000); do
  [ "$(dig +time=1 +tries=1 +short @127.0.0.1 -p "$SECONDARY_PORT" yourwebapp.com SOA 2> /dev/null | awk '{print $3}')" = "$serial" ] && break
  sleep 0.05
done
echo "AXFR into a Knot secondary: serial $serial served after $(since "$t0") s"

t0="$(now)"
for _ in 1 2 3 4; do cli swap yourwebapp > /dev/null; done
echo "four swaps, each until the Knot secondary serves it: $(since "$t0") s, then $(mib "$(rss "$PORT")") MiB"

# A reload of the zone with a new serial and one record changed, while
# dnsperf asks for the last name at 1,000 qps.
before="$(rss "$PORT")"
sed -i -e 's/^@ SOA ns1 hostmaster 1 /@ SOA ns1 hostmaster 2 /' -e 's/^h1 A 198.51.100.2$/h1 A 198.51.100.250/' "$STATE/slotdns/yourwebapp.com.zone"
echo "$LAST A" > "$STATE/last.txt"
dnsperf -s 127.0.0.1 -p "$PORT" -d "$STATE/last.txt" -Q 1000 -l 600 -t 1 > "$STATE/reload-load.out" 2>&1 &
load=$!
PIDS+=("$load")
sleep 1
peak_file="$STATE/peak"
( peak=0; while :; do k="$(rss "$PORT")"; [ "${k:-0}" -gt "$peak" ] && peak="$k" && echo "$peak" > "$peak_file"; sleep 0.05; done ) &
sampler=$!
PIDS+=("$sampler")
t0="$(now)"; cli reload > /dev/null; reload_took="$(since "$t0")"
sleep 1
kill "$sampler" 2> /dev/null || true; wait "$sampler" 2> /dev/null || true
kill -INT "$load" 2> /dev/null || true; wait "$load" 2> /dev/null || true
lost="$(awk '/Queries lost:/ {print $3}' "$STATE/reload-load.out")"
sent="$(awk '/Queries sent:/ {print $3}' "$STATE/reload-load.out")"
echo "reload: $reload_took s; memory $(mib "$before") MiB before, peak $(mib "$(cat "$peak_file")") MiB (old + new would be $(mib $((2 * before))) MiB), after $(mib "$(rss "$PORT")") MiB; queries lost during it: ${lost:-?} of ${sent:-?}"
