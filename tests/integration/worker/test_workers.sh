#!/usr/bin/env bash
# Several workers on one net_tap, end to end: hydrofoil as an Istio gateway with
# three workers (HF_WORKERS if more than one) on the CPUs there are, the agent and
# the workers floating over them as DPDK's --lcores map "(0-3)@(0-1)". net_tap
# spreads frames over the queues with a hash of the kernel's, so flows reach
# their owners by software steering (port.steered), and what the test checks is
# what only goes wrong with more than one worker:
#   - active opens (tcp_proxy upstreams) from every worker get their answers;
#   - ICMP errors reach the worker that owns the connection they quote: an
#     upstream host refusing with "port unreachable" (icmp_refuser.py) ends each
#     connect at once (tcp.icmp_connect_refused, none unmatched);
#   - ARP news between workers: the upstream host's MAC changes and the kernel
#     announces it (arp_notify); one worker hears it, every worker uses it;
#   - a listener the configuration gains is opened by every worker
#     (http.listeners_opened rises by the worker count) and answers;
#   - /stats sums every worker's counters, and the access log holds one line per
#     request from every worker's ring;
#   - no segment reached a worker without its connection (tcp.drop.no_listener 0).
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
LBTOOL=$HF_ROOT/tests/integration/lb/lbtool.py
REFUSER=$HF_ROOT/tests/integration/worker/icmp_refuser.py

[ "$(hf_workers)" -gt 1 ] || export HF_WORKERS=3
W=$(hf_workers)
OUR=198.51.100.2
PEER=198.51.100.1
GONE=198.51.100.77	# a host only icmp_refuser.py answers for
N=30
ISTIO=$HF_TMP/istio
ALOG=$HF_TMP/access.log
LOG=$HF_TMP/hf.log

NS=$(hf_ns_new workers) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }
json() { "$HF_PY" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1" 2>/dev/null; }
# picks OUT: lbtool's error count and the names it received: "ERRORS SEQ".
picks() { echo "$(json errors <<<"$1") $(json seq <<<"$1")"; }
# wait_stat NAME MIN: waits up to 20 s for counter NAME to reach MIN.
wait_stat() {
	local i
	for i in $(seq 200); do
		[ "$(st "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- the Istio configuration
mkdir -p "$ISTIO"
# gateway PORTS...: the Gateway with an HTTP server on each of PORTS, and the TCP servers.
gateway() {
	local p stage=$HF_TMP/.gw-$$
	{
		cat <<'YAML'
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: gw
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 9000, name: tcp-echo, protocol: TCP}
    hosts: ["*"]
  - port: {number: 9005, name: tcp-refused, protocol: TCP}
    hosts: ["*"]
YAML
		for p in "$@"; do
			printf '  - port: {number: %s, name: http-%s, protocol: HTTP}\n    hosts: ["*"]\n' "$p" "$p"
		done
	} > "$stage"
	mv -f "$stage" "$ISTIO/gateway.yaml"
}
gateway 80
cat > "$ISTIO/routes.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: routes
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route:
    - destination: {host: web.test.example, port: {number: 80}}
  tcp:
  - match: [{port: 9000}]
    route:
    - destination: {host: namer.test.example, port: {number: 9000}}
  - match: [{port: 9005}]
    route:
    - destination: {host: gone.test.example, port: {number: 9005}}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: web
spec:
  hosts: [web.test.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP}
  endpoints:
  - address: $PEER
    ports: {http: 9101}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: namer
spec:
  hosts: [namer.test.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 9000, name: tcp, protocol: TCP}
  endpoints:
  - address: $PEER
    ports: {tcp: 9201}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: gone
spec:
  hosts: [gone.test.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 9005, name: tcp, protocol: TCP}
  endpoints:
  - address: $GONE
    ports: {tcp: 9005}
YAML

hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; };
access_log = \"$ALOG\";"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$PEER/24"; then
	hf_not_ok "hydrofoil with $W workers reports LIVE"
	exit 1
fi
hf_check "hydrofoil with $W workers on $(nproc) CPUs (dpdk.lcores \"$(hf_lcores)\") reports LIVE" \
	grep -q "running $W workers" "$LOG"

# ---------------------------------------------------------------- the peers
mkdir -p "$HF_TMP/nginx"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/nginx; proxy_temp_path $HF_TMP/nginx;
    fastcgi_temp_path $HF_TMP/nginx; uwsgi_temp_path $HF_TMP/nginx; scgi_temp_path $HF_TMP/nginx;
    default_type text/plain;
    server { listen $PEER:9101; location / { return 200 "H\n"; } }
}
NGINX
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' > "$HF_TMP/nginx.out" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$LBTOOL" serve "$PEER" 9201:T:close > "$HF_TMP/serve.out" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$REFUSER" hf0 "$GONE" 9005 > "$HF_TMP/refuser.out" 2>&1 &
HF_PIDS+=($!)
peers_up() {
	[ -n "$(in_ns ss -Hltn 'sport = :9101')" ] && [ -n "$(in_ns ss -Hltn 'sport = :9201')" ] &&
		grep -q '^ready' "$HF_TMP/refuser.out"
}
for _ in $(seq 100); do peers_up && break; sleep 0.2; done
if ! peers_up; then
	hf_not_ok "nginx on $PEER:9101, lbtool.py on $PEER:9201 and icmp_refuser.py for $GONE are up"
	cat "$HF_TMP/nginx-error.log" "$HF_TMP/serve.out" "$HF_TMP/refuser.out" 2>/dev/null | sed 's/^/# /'
	exit 1
fi
hf_ok "nginx on $PEER:9101, lbtool.py on $PEER:9201 and icmp_refuser.py for $GONE are up"

# ---------------------------------------------------------------- the checks
opened=$(st http.listeners_opened)
hf_check "every worker opened the HTTP listener of port 80 (http.listeners_opened $opened, want $W)" \
	test "$opened" = "$W"

out=$(in_ns timeout 300 "$HF_PY" "$LBTOOL" tcp "$OUR" 9000 "$N")
read -r errors seq <<<"$(picks "$out")"
hf_check "$N tcp_proxy connections, each an active open by the worker that took it: all answered ($errors failed)" \
	test "${errors:-1}" = 0 -a "${#seq}" = "$N"
steered=$(st port.steered)
hf_check "net_tap spreads frames over the $W queues and the workers steer them to their flows' owners (port.steered $steered)" \
	test "${steered:-0}" -gt 0

# The upstream host's MAC changes; the kernel announces it (gratuitous ARP), which RSS
# brings to one worker. Every worker learnt the old MAC from the first connections and
# holds it as confirmed for 30 s (HF_ARP_REACHABLE_MS): without the news, those that did
# not hear the announcement would send there until then. The change also flushes the
# kernel's neighbours, and its next ARP request for our address would teach every worker
# the new MAC: a permanent entry for us leaves the announcement the only news.
newmac=02:00:5e:10:00:01
ourmac=$(in_ns ip neigh show "$OUR" dev hf0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
s0=$(st arp.sibling_updates)
in_ns sysctl -qw net.ipv4.conf.hf0.arp_notify=1
in_ns ip link set dev hf0 address "$newmac"
in_ns ip neigh replace "$OUR" lladdr "${ourmac:-00:00:00:00:00:00}" dev hf0 nud permanent
wait_stat arp.sibling_updates $((s0 + W - 1))
news=$(( $(st arp.sibling_updates) - s0 ))
out=$(in_ns timeout 300 "$HF_PY" "$LBTOOL" tcp "$OUR" 9000 "$N")
read -r errors seq <<<"$(picks "$out")"
hf_check "the upstream host moves to MAC $newmac: the news reaches every worker (arp.sibling_updates +$news) and $N connections from all of them are answered ($errors failed)" \
	test "$news" -ge $((W - 1)) -a "${errors:-1}" = 0 -a "${#seq}" = "$N"

# ICMP "port unreachable" from the upstream host ends each connect, whichever worker it reached.
r0=$(st tcp.icmp_connect_refused); u0=$(st tcp.drop.icmp_unmatched)
out=$(in_ns timeout 300 "$HF_PY" "$LBTOOL" tcp "$OUR" 9005 12)
wait_stat tcp.icmp_connect_refused $((r0 + 12))
refused=$(( $(st tcp.icmp_connect_refused) - r0 )); unmatched=$(( $(st tcp.drop.icmp_unmatched) - u0 ))
hf_check "12 connects refused by ICMP port unreachable: each reached the worker of its connection (tcp.icmp_connect_refused +$refused, tcp.drop.icmp_unmatched +$unmatched; $(grep -c '^unreachable' "$HF_TMP/refuser.out") sent)" \
	test "$refused" = 12 -a "$unmatched" = 0

# A Gateway server added live: every worker opens its port.
v=$(st control_plane.snapshot_version)
gateway 80 8080
for _ in $(seq 100); do [ "$(st control_plane.snapshot_version)" -gt "$v" ] && break; sleep 0.1; done
wait_stat http.listeners_opened $((2 * W))
opened=$(st http.listeners_opened)
out=$(in_ns timeout 300 "$HF_PY" "$LBTOOL" http "$OUR" 8080 "$N" web.test.example)
read -r errors seq <<<"$(picks "$out")"
hf_check "port 8080 added to the Gateway live: every worker opens it (http.listeners_opened $opened, want $((2 * W))) and $N requests on new connections get 200 ($errors failed)" \
	test "$opened" = $((2 * W)) -a "${errors:-1}" = 0 -a "${#seq}" = "$N"
out=$(in_ns timeout 300 "$HF_PY" "$LBTOOL" http "$OUR" 80 "$N" web.test.example)
read -r errors seq <<<"$(picks "$out")"
hf_check "$N requests on port 80 get 200 ($errors failed)" test "${errors:-1}" = 0 -a "${#seq}" = "$N"

rq=$(st http.downstream_rq_2xx)
hf_check "/stats sums the workers: http.downstream_rq_2xx $rq, want $((2 * N))" test "$rq" = $((2 * N))
for _ in $(seq 100); do [ "$(grep -c '"GET / ' "$ALOG" 2>/dev/null)" -ge $((2 * N)) ] && break; sleep 0.1; done
lines=$(grep -c '"GET / HTTP/1.1" 200 ' "$ALOG" 2>/dev/null)
hf_check "the access log has one line per request from every worker's ring ($lines, want $((2 * N)); access_log.records $(st access_log.records))" \
	test "$lines" = $((2 * N)) -a "$(st access_log.records)" = $((2 * N))
nl=$(st tcp.drop.no_listener)
hf_check "no segment reached a worker without its connection (tcp.drop.no_listener $nl)" test "$nl" = 0

hf_check_stop
hf_done
