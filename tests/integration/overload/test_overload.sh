#!/usr/bin/env bash
# The overload manager (dataplane/overload.h) end to end: hydrofoil over net_tap in a
# private namespace in front of one upstream (lenient_upstream.py). Pressure is made real:
# idle TCP connections held by holder.py take the worker's TCBs, and the bootstrap's
# triggers on the "connections" monitor make each action start at its own share of
# tcp.max_connections (256 per worker):
#   disable_keepalive  from 10% (26 TCBs): a response carries connection: close;
#   shed_requests      from 20% (52 TCBs): a request gets 503 "envoy overloaded", flag OM;
#   refuse_connections from 30% (77 TCBs): a SYN is answered with RST (curl: refused).
# Connections are opened in batches until the overload.active.* gauge says every worker
# is past the threshold (RSS spreads them), so the test holds with any HF_WORKERS. When the
# holders let go, every action stops and requests pass with keep-alive again. A bad
# trigger is refused by --check with its file, line and key. The queue_delay controller
# is on for shed_requests too, and sheds nothing under wrk below saturation.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
UP=$HF_ROOT/tests/integration/http/lenient_upstream.py
HOLD=$HF_ROOT/tests/integration/overload/holder.py

OUR=198.51.100.2
PEER=198.51.100.1
UP_PORT=8090
W=$(hf_workers)

NS=$(hf_ns_new overload) || { hf_not_ok "create namespace"; exit 1; }

# cfg OVERLOAD: the bootstrap with overload = { OVERLOAD }.
cfg() {
	hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "
tcp = { max_connections = 256; };
access_log = \"$HF_TMP/access.log\";
overload = { $1 };
static_resources: {
  listeners = (
    { name = \"http\"; port = 80; filter = \"http\";
      request_headers_timeout_ms = 60000; idle_timeout_ms = 60000;
      route_config = { virtual_hosts = ( { name = \"all\"; domains = [ \"*\" ];
          routes = ( { name = \"root\"; match = { prefix = \"/\"; }; route = { cluster = \"up\"; }; } ); } ); }; }
  );
  clusters = ( { name = \"up\"; connect_timeout_ms = 1000; endpoints = [ \"$PEER:$UP_PORT\" ]; } );
};"
}

in_ns() { ip netns exec "$NS" "$@"; }
st() { local v; v=$(hf_stat "$NS" "$1"); echo "${v:-0}"; }
# get: "CODE CONNECTION-HEADER BODY" of one curl request (CONNECTION-HEADER "-" when absent);
# "000 - -" with curl's exit status when no answer came.
get() {
	local out rc
	out=$(in_ns curl -s -m 5 -D "$HF_TMP/h" -o "$HF_TMP/b" -w '%{http_code}' "http://$OUR/x" 2>/dev/null)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "000 - rc=$rc"
		return
	fi
	local conn
	conn=$(tr -d '\r' <"$HF_TMP/h" | awk -F': ' 'tolower($1) == "connection" { print tolower($2) }')
	echo "$out ${conn:--} $(head -c 40 "$HF_TMP/b" | tr ' \n' '_')"
}
# hold_until GAUGE: opens batches of 8 idle connections until GAUGE reaches $W (every
# worker past the threshold) or 200 are held; prints how many are held.
HELD=0
hold_until() {
	local got
	for _ in $(seq 25); do
		[ "$(st "$1")" -ge "$W" ] && break
		ip netns exec "$NS" "$HF_PY" "$HOLD" "$OUR" 80 8 >"$HF_TMP/hold.$HELD" 2>&1 &
		HF_PIDS+=($!)
		HOLDERS+=($!)
		for _ in $(seq 50); do [ -s "$HF_TMP/hold.$HELD" ] && break; sleep 0.1; done
		got=$(head -1 "$HF_TMP/hold.$HELD" 2>/dev/null)
		HELD=$((HELD + ${got:-0}))
		sleep 0.1	# a few overload windows (10 ms each)
	done
}
release() {
	local p
	for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	HOLDERS=()
	HELD=0
	# Closed connections give their TCBs back; the gauges follow within a window.
	for _ in $(seq 100); do
		[ "$(st overload.active.disable_keepalive)" = 0 ] && break
		sleep 0.1
	done
}
HOLDERS=()

# ---------------------------------------------------------------- bad triggers refused
for bad in 'shed_requests = { backlog = [0.9]; };|overload.shed_requests.backlog: want \[scaling, saturation\]' \
	   'shed_requests = { backlog = [0.99, 0.5]; };|overload.shed_requests.backlog: \[0.99, 0.5\]: want 0 <= scaling <= saturation <= 1' \
	   'shed_requests = { lag = [0.5, 0.9]; };|lag' \
	   'queue_delay_us = 0;|overload.queue_delay_us' \
	   'drop_everything = { };|drop_everything'; do
	cfg "${bad%%|*}"
	out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1)
	rc=$?
	hf_check "overload = { ${bad%%|*} } refused by --check (status $rc): $out" \
		bash -c '[ "$1" = 2 ] && grep -q "hf.cfg:[0-9]*: .*$2" <<<"$3"' _ "$rc" "${bad#*|}" "$out"
done

# ---------------------------------------------------------------- up
cfg 'window_ms = 10; queue_delay_us = 500;
  disable_keepalive  = { connections = [0.10, 0.10]; };
  shed_requests      = { connections = [0.20, 0.20]; queue_delay = [0.0, 1.0]; };
  refuse_connections = { connections = [0.30, 0.30]; };'
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with overload triggers reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with overload triggers reports LIVE ($W worker(s))"
ip netns exec "$NS" "$HF_PY" "$UP" "$PEER" "$UP_PORT" "$HF_TMP/up.jsonl" >"$HF_TMP/up.err" 2>&1 &
HF_PIDS+=($!)
for _ in $(seq 50); do [ -n "$(in_ns ss -Hltn "sport = :$UP_PORT")" ] && break; sleep 0.1; done

r=$(get)
hf_check "no pressure: $r (want 200 with keep-alive), overload.active.* $(st overload.active.disable_keepalive)/$(st overload.active.shed_requests)/$(st overload.active.refuse_connections)" \
	bash -c '[ "${1%% *}" = 200 ] && [ "$(cut -d" " -f2 <<<"$1")" != close ]' _ "$r"

# ---------------------------------------------------------------- disable_keepalive
k0=$(st overload.keepalive_disabled)
hold_until overload.active.disable_keepalive
r=$(get)
hf_check "$HELD idle connections held (connections pressure $(st overload.pressure_pct.connections)% summed over $W worker(s)): $r (want 200, connection: close), overload.keepalive_disabled +$(( $(st overload.keepalive_disabled) - k0 ))" \
	bash -c '[ "${1%% *}" = 200 ] && [ "$(cut -d" " -f2 <<<"$1")" = close ] && [ "$2" -gt "$3" ]' \
	_ "$r" "$(st overload.keepalive_disabled)" "$k0"

# ---------------------------------------------------------------- shed_requests
s0=$(st overload.requests_shed)
n0=$(wc -l <"$HF_TMP/up.jsonl")
hold_until overload.active.shed_requests
r=$(get)
hf_check "$HELD idle connections held: $r (want 503 envoy overloaded), overload.requests_shed +$(( $(st overload.requests_shed) - s0 )), the upstream saw $(( $(wc -l <"$HF_TMP/up.jsonl") - n0 )) of them" \
	bash -c '[ "${1%% *}" = 503 ] && grep -q envoy_overloaded <<<"$1" && [ "$2" -gt "$3" ] && [ "$4" = "$5" ]' \
	_ "$r" "$(st overload.requests_shed)" "$s0" "$(wc -l <"$HF_TMP/up.jsonl")" "$n0"
lg=""
for _ in $(seq 30); do
	lg=$(grep ' 503 ' "$HF_TMP/access.log" 2>/dev/null | tail -1)
	[ -n "$lg" ] && break
	sleep 0.1
done
hf_check "the shed request's access log line carries response flag OM: $lg" \
	bash -c 'grep -q "\" 503 OM overload " <<<"$1"' _ "$lg"

# ---------------------------------------------------------------- refuse_connections
c0=$(st overload.connections_refused)
hold_until overload.active.refuse_connections
r=$(get)
hf_check "$HELD idle connections held: $r (want no answer: connection refused, curl status 7), overload.connections_refused +$(( $(st overload.connections_refused) - c0 ))" \
	bash -c '[ "$1" = "000 - rc=7" ] && [ "$2" -gt "$3" ]' _ "$r" "$(st overload.connections_refused)" "$c0"

# ---------------------------------------------------------------- pressure gone
release
r=$(get)
hf_check "holders gone (overload.active.* $(st overload.active.disable_keepalive)/$(st overload.active.shed_requests)/$(st overload.active.refuse_connections)): $r (want 200 with keep-alive)" \
	bash -c '[ "${1%% *}" = 200 ] && [ "$(cut -d" " -f2 <<<"$1")" != close ] && [ "$2$3$4" = 000 ]' \
	_ "$r" "$(st overload.active.disable_keepalive)" "$(st overload.active.shed_requests)" "$(st overload.active.refuse_connections)"
hf_check "tcp.drop.no_tcb stayed 0 (the actions came before the pool ran out): $(st tcp.drop.no_tcb)" \
	test "$(st tcp.drop.no_tcb)" = 0

# ---------------------------------------------------------------- queue_delay below saturation
# wrk over net_tap keeps the worker's loop busy with a syscall a frame, behind a slow
# upstream: queues fill in bursts and drain, the worker has time to spare, and the
# queue_delay controller (on for shed_requests above) sheds nothing. Two connections
# (four TCBs with the upstream's) stay under the connections triggers.
s0=$(st overload.requests_shed)
out=$(in_ns timeout 20 wrk -t1 -c2 -d2s --timeout 5s "http://$OUR/q" 2>&1)
reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
hf_check "wrk -c2 -d2s below saturation: ${reqs:-no} requests, overload.requests_shed +$(( $(st overload.requests_shed) - s0 )) (want 0), queue_delay pressure $(st overload.pressure_pct.queue_delay)%, standing $(st overload.queue_standing_us) us" \
	bash -c '[ "${1:-0}" -gt 0 ] && [ "$2" = "$3" ] && ! grep -q "Non-2xx" <<<"$4"' \
	_ "$reqs" "$(st overload.requests_shed)" "$s0" "$out"

hf_check_stop
hf_done
