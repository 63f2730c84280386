# Shared by the benchmark scripts here; sourced, not run.

# wait_dns PORT: wait up to 10 s until a server on 127.0.0.1:PORT answers
# the SOA of the benchmark zone; 1 when none does. A line of dig's that
# starts with ";;" is its complaint (connection refused, timed out), not
# an answer.
wait_dns() {
  local _
  for _ in $(seq 1 100); do
    dig +time=1 +tries=1 +short @127.0.0.1 -p "$1" yourwebapp.com SOA 2> /dev/null | grep -q '^[^;]' && return 0
    sleep 0.1
  done
  return 1
}

# Each script sets BIN, KIT (the benchmark kit's folder) and its ports,
# then calls these.

# need WHAT PACKAGES TOOL...: exit 0, saying what is missing, when a tool
# or the benchmark kit is not there; else make KIT absolute.
need() {
  local what="$1" packages="$2" missing="" tool
  shift 2
  for tool in "$@"; do command -v "$tool" > /dev/null || missing+=" $tool"; done
  if [ -n "$missing" ] || [ ! -r "$KIT/yourwebapp.com.zone" ]; then
    echo "$what run skipped: missing${missing:- the benchmark kit at $KIT (set SHARED to the folder holding bench/)} (apt-get install $packages)"
    exit 0
  fi
  KIT="$(cd "$KIT" && pwd)"
}

# make_state NAME: a temporary folder STATE, removed at exit with every
# process in PIDS stopped.
make_state() {
  STATE="$(mktemp -d -t "slotdns-$1.XXXXXX")"
  PIDS=()
  trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null || true; done; wait 2> /dev/null; rm -rf "$STATE"' EXIT
}

# slotdns_config PORT [DIR]: DIR/slotdns.toml (DIR is $STATE unless
# given) serving the kit's zone on 127.0.0.1:PORT; a script appends its
# own tables.
slotdns_config() {
  local dir="${2:-$STATE}"
  cp "$KIT/yourwebapp.com.zone" "$dir/"
  cat > "$dir/slotdns.toml" <<TOML
listen    = ["127.0.0.1:$1"]
db        = "slotdns.db"
control   = "slotdns.sock"
log_level = "warn"

[[zone]]
origin = "yourwebapp.com."
file   = "yourwebapp.com.zone"
TOML
}

# slot_line NAME: the TTL and target of the kit's CNAME at NAME.
slot_line() { awk -v n="$1" '$1 == n && $4 == "CNAME" { print $2, $5 }' "$KIT/yourwebapp.com.zone"; }

# slots_config PORT [DIR] [TOML]: slotdns_config, with the kit's www and
# stage CNAMEs taken out of the zone file and made the slots of an app
# (same targets and TTL, so that slotdns sends the answers NSD and Knot
# send from the kit's file); TOML goes in the [[zone]] table, before the
# app's tables.
slots_config() {
  local dir="${2:-$STATE}" www_ttl www_target stage_ttl stage_target
  read -r www_ttl www_target <<< "$(slot_line www)" || true
  read -r stage_ttl stage_target <<< "$(slot_line stage)" || true
  if [ -z "$www_target" ] || [ -z "$stage_target" ] || [ "$www_ttl" != "$stage_ttl" ]; then
    echo "expected 'www TTL IN CNAME target' and 'stage' alike in $KIT/yourwebapp.com.zone" >&2
    exit 1
  fi
  slotdns_config "$1" "$dir"
  awk '!($1 == "www" || $1 == "stage")' "$KIT/yourwebapp.com.zone" > "$dir/yourwebapp.com.zone"
  cat >> "$dir/slotdns.toml" <<TOML
${3:-}

[[app]]
name = "yourwebapp"
zone = "yourwebapp.com."
ttl  = $www_ttl

[app.slots.production]
names  = ["www"]
target = "$www_target"

[app.slots.staging]
names  = ["stage"]
target = "$stage_target"
TOML
}

# ref_config TEMPLATE: the kit's NSD or Knot config filled in for
# NSD_PORT or KNOT_PORT, one worker, on stdout.
ref_config() {
  sed -e "s|@STATE@|$STATE|g" -e "s|@BENCH@|$KIT|g" -e "s|@WORKERS@|1|g" -e "s|@NSD_PORT@|${NSD_PORT:-}|g" \
    -e "s|@KNOT_PORT@|${KNOT_PORT:-}|g" -e "s|@NSD_REUSEPORT@|no|g" "$1"
}

# rss PORT: the resident KiB of every process listening on the port.
rss() {
  local total=0 pid
  for pid in $(ss -Hlntup "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")))
  done
  echo "$total"
}

# serve_slotdns NAME PORT [TOML]: a slotdns in $STATE/NAME on the kit's
# zone with TOML appended to its config, pinned to SERVER_CPUS (default
# 1), waited for.
serve_slotdns() {
  local dir="$STATE/$1"
  mkdir -p "$dir"
  slotdns_config "$2" "$dir"
  echo "${3:-}" >> "$dir/slotdns.toml"
  taskset -c "${SERVER_CPUS:-1}" "$BIN" serve --config "$dir/slotdns.toml" > "$dir/out" 2>&1 &
  PIDS+=($!)
  wait_dns "$2" && return
  echo "slotdns $1 did not start:" >&2; cat "$dir/out" >&2; exit 1
}
