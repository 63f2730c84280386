# Shared by the benchmark scripts here; sourced, not run.

# wait_dns PORT: wait up to 10 s until a server on 127.0.0.1:PORT answers
# the SOA of the benchmark zone; 1 when none does.
wait_dns() {
  local _
  for _ in $(seq 1 100); do
    dig +time=1 +tries=1 +short @127.0.0.1 -p "$1" yourwebapp.com SOA 2> /dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}
