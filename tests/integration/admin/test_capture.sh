#!/usr/bin/env bash
# Capture and introspection with DPDK's own tools, against a running hydrofoil
# (hugepages, no --in-memory: secondary processes attach to it):
#   - dpdk-dumpcap captures a bounded number of packets (-c) of live traffic
#     from its port into a pcapng, and tshark finds in it the HTTP request curl
#     sent through hydrofoil;
#   - dpdk-telemetry.py lists its port (/ethdev/list), the port's stats
#     (/ethdev/stats) and hydrofoil's own counters (/hydrofoil/stats);
#   - the EAL files (hugepage files, runtime directory) are gone after a
#     SIGTERM, after a kill -9 (the watcher removes them), and those an
#     earlier instance left are removed by the next start.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
WEB_PORT=8080
HUGE=/dev/hugepages
RUN=/var/run/dpdk
DUMPCAP=$(command -v dpdk-dumpcap || true)
TELEMETRY=$(command -v dpdk-telemetry.py || true)

if [ -z "$DUMPCAP" ] || [ -z "$TELEMETRY" ] || ! command -v tshark >/dev/null; then
	hf_skip "capture and telemetry: dpdk-dumpcap, dpdk-telemetry.py or tshark missing (scripts/setup.sh installs them)"
	exit 0
fi
if ! grep -qs " $HUGE hugetlbfs " /proc/mounts; then
	hf_skip "capture and telemetry: no hugetlbfs at $HUGE (secondary processes share hugepage memory)"
	exit 0
fi

NS=$(hf_ns_new cap) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
in_ns() { ip netns exec "$NS" "$@"; }
CURL=(curl -s --noproxy '*' --max-time 5)

mkdir -p "$HF_TMP/nginx"
cat > "$HF_TMP/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/nginx/body;
    proxy_temp_path $HF_TMP/nginx/proxy;
    fastcgi_temp_path $HF_TMP/nginx/fastcgi;
    uwsgi_temp_path $HF_TMP/nginx/uwsgi;
    scgi_temp_path $HF_TMP/nginx/scgi;
    server { listen $WEB_PORT; location / { return 200 "captured\n"; } }
}
EOF
# Not through in_ns: a shell function in the background is a subshell, whose PID the cleanup
# would end while nginx, its child, stays.
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)

hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "
static_resources: {
  listeners = ( { name = \"web\"; port = 80; filter = \"http\"; route_config = { virtual_hosts = (
      { name = \"all\"; domains = [ \"*\" ];
        routes = ( { name = \"all\"; match = { prefix = \"/\"; }; route = { cluster = \"web\"; }; } ); } ); }; } );
  clusters = ( { name = \"web\"; connect_timeout_ms = 1000; endpoints = [ \"$PEER:$WEB_PORT\" ]; } );
};"
# hugepage memory that a secondary process can map: no --in-memory
sed -i 's/"--in-memory", //' "$HF_TMP/hf.cfg"

# prefix_of LOG: the EAL file prefix hydrofoil announced
prefix_of() {
	local i p
	for i in $(seq 50); do
		p=$(sed -n 's/^hydrofoil: EAL file prefix \([^ :]*\).*/\1/p' "$1" | head -1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.1
	done
	return 1
}
# files_of PREFIX: how many hugepage files and runtime directories PREFIX has
files_of() {
	local n
	n=$(find "$HUGE" -maxdepth 1 -name "$1map_*" 2>/dev/null | wc -l)
	[ -d "$RUN/$1" ] && n=$((n + 1))
	echo "$n"
}
# gone PREFIX: waits up to 10 s for PREFIX's files to go
gone() {
	local i
	for i in $(seq 100); do
		[ "$(files_of "$1")" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- an earlier instance's leftovers
sleep 0 & dead=$!
wait "$dead"
STALE=hydrofoil-$dead
mkdir -p "$RUN/$STALE"
: > "$RUN/$STALE/config"
: > "$HUGE/${STALE}map_0" 2>/dev/null || true

if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil on hugepages (no --in-memory) reports LIVE"
	exit 1
fi
hf_ok "hydrofoil on hugepages (no --in-memory) reports LIVE"
PREFIX=$(prefix_of "$HF_TMP/hf.log")
hf_check "it announces its EAL file prefix ($PREFIX) and packet capture is on" \
	grep -q "^hydrofoil: EAL file prefix $PREFIX: dpdk-dumpcap and dpdk-telemetry.py take" "$HF_TMP/hf.log"
hf_check "the start removed what the dead instance $STALE left ($(files_of "$STALE") left)" \
	test "$(files_of "$STALE")" -eq 0
hf_check "its hugepage files and runtime directory exist while it runs ($(files_of "$PREFIX"))" \
	test "$(files_of "$PREFIX")" -ge 2
for _ in $(seq 50); do [ -n "$(in_ns ss -Hltn "sport = :$WEB_PORT")" ] && break; sleep 0.1; done

# ---------------------------------------------------------------- dpdk-dumpcap
PROBE=/capture-probe-$RANDOM$RANDOM
in_ns timeout 60 "$DUMPCAP" --file-prefix="$PREFIX" -i net_tap0 -c 40 -w "$HF_TMP/cap.pcapng" \
	>"$HF_TMP/dumpcap.log" 2>&1 &
CAP=$!
HF_PIDS+=("$CAP")
# it attaches (a secondary process start), then counts 40 packets of the traffic below
for _ in $(seq 100); do grep -q "Capturing on" "$HF_TMP/dumpcap.log" && break; kill -0 "$CAP" 2>/dev/null || break; sleep 0.1; done
sent=0
for _ in $(seq 100); do
	kill -0 "$CAP" 2>/dev/null || break
	in_ns "${CURL[@]}" -o /dev/null "http://$OUR$PROBE" && sent=$((sent + 1))
	sleep 0.05
done
wait "$CAP" 2>/dev/null
rc=$?
hf_check "dpdk-dumpcap -c 40 attached and ended by itself after $sent requests (exit $rc: $(tail -2 "$HF_TMP/dumpcap.log" | tr '\n' ' '))" \
	test "$rc" -eq 0
pkts=$(tshark -r "$HF_TMP/cap.pcapng" 2>/dev/null | wc -l)
hf_check "tshark reads the pcapng: 40 packets (got $pkts)" test "$pkts" -eq 40
uris=$(tshark -r "$HF_TMP/cap.pcapng" -Y http.request -T fields -e http.request.uri 2>/dev/null | sort -u)
hf_check "tshark finds the HTTP request curl sent in the capture (GET $PROBE; saw: $(echo $uris))" \
	grep -qx "$PROBE" <<<"$uris"
hf_check "hydrofoil still serves after the capture" \
	test "$(in_ns "${CURL[@]}" "http://$OUR/after")" = "captured"

# ---------------------------------------------------------------- dpdk-telemetry.py
tel() { printf '%s\n' "$@" | timeout 20 "$TELEMETRY" -f "$PREFIX" 2>&1; }
out=$(tel /ethdev/list /ethdev/stats,0 /hydrofoil/stats /hydrofoil/stats,port.)
echo "$out" | sed 's/^/# /' | cut -c1-200 | head -8
hf_check "dpdk-telemetry.py /ethdev/list lists hydrofoil's port 0" \
	grep -q '"/ethdev/list": \[0\]' <<<"$out"
ipk=$(grep -o '"/ethdev/stats": {[^}]*' <<<"$out" | grep -o '"ipackets": [0-9]*' | grep -o '[0-9]*$')
hf_check "dpdk-telemetry.py /ethdev/stats,0 counts the packets received (ipackets $ipk ≥ 10)" \
	test "${ipk:-0}" -ge 10
rx=$(grep -o '"/hydrofoil/stats": {[^}]*' <<<"$out" | head -1 | grep -o '"http/[^,}]*' | head -3)
hf_check "dpdk-telemetry.py /hydrofoil/stats answers hydrofoil's counters ($(echo $rx))" \
	bash -c 'grep -q "\"/hydrofoil/stats\": {.*\"port/rx_packets\": [1-9]" <<<"$1"' _ "$out"
hf_check "/hydrofoil/stats,port. answers only the counters named port.*" \
	bash -c 'l=$(grep -o "\"/hydrofoil/stats\": {[^}]*}" <<<"$1" | tail -1); grep -q "\"port/rx_packets\"" <<<"$l" && ! grep -q "\"tcp/" <<<"$l"' _ "$out"

# ---------------------------------------------------------------- exits leave no file
hf_check_stop
hf_check "after SIGTERM no hugepage file or runtime directory of $PREFIX is left" \
	test "$(files_of "$PREFIX")" -eq 0
hf_forget_pid "$HF_PID"

if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf2.log" "$PEER/24"; then
	hf_not_ok "hydrofoil starts again"
	exit 1
fi
PREFIX=$(prefix_of "$HF_TMP/hf2.log")
in_ns "${CURL[@]}" -o /dev/null "http://$OUR/before-the-kill"
hf_check "the new instance has its files ($(files_of "$PREFIX") for $PREFIX)" test "$(files_of "$PREFIX")" -ge 2
kill -KILL "$HF_PID"
wait "$HF_PID" 2>/dev/null
hf_check "after kill -9 the watcher removes $PREFIX's hugepage files and runtime directory" gone "$PREFIX"
hf_forget_pid "$HF_PID"
hf_done
