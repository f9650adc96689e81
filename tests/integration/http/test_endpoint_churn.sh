#!/usr/bin/env bash
# Endpoints that leave the configuration give back their per-worker state.
#
# hydrofoil serves an Istio directory whose one ServiceEntry is rewritten
# ROUNDS times, each time with BLOCK endpoints it never listed before (60
# addresses on the Linux side of the tap × 100 nginx ports = 6,000 distinct
# endpoints, more than the 4,096 pool slots a worker has). After each change
# every endpoint of the new set answers one request. Checked: every request is
# answered 200; no endpoint ever finds the slot table full
# (http.endpoint_table_full 0) because the slots of endpoints that left are
# given back (http.endpoint_slots_freed) and the slots in use stay near one
# set's size; hydrofoil's resident memory stays flat across the churn.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
TOOL=$(dirname "$0")/churntool.py

ROUNDS=${HF_CHURN_ROUNDS:-20}
BLOCK=300
ADDRS=60			# 198.51.100.10 .. 198.51.100.69 on the Linux side
PORTS=100			# nginx on 10000 .. 10099, every address
PEER=198.51.100.1
GW=198.51.100.2
ISTIO=$HF_TMP/istio
mkdir -p "$ISTIO" "$HF_TMP/nginx"

NS=$(hf_ns_new churn) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")

cat > "$ISTIO/gateway.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: gw
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "*"
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: churn
spec:
  hosts:
  - churn.example.com
  gateways:
  - gw
  http:
  - route:
    - destination:
        host: churn.example.com
---
# Round robin, so that one request per endpoint of a set reaches every one of them.
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: churn
spec:
  host: churn.example.com
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
YAML
# service_entry ROUND: the ServiceEntry listing endpoint block ROUND (BLOCK endpoints).
service_entry() {
	cat <<YAML
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: churn
spec:
  hosts:
  - churn.example.com
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 80
    name: http
    protocol: HTTP
  endpoints:
YAML
	"$HF_PY" "$TOOL" endpoints "$1" "$BLOCK" "$ADDRS" "$PORTS"
}
service_entry 0 > "$ISTIO/service.yaml"

hf_cfg "$HF_TMP/hf.cfg" hf0 "$GW/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; };"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil serving the churn ServiceEntry reports LIVE"
	exit 1
fi
hf_ok "hydrofoil serving the churn ServiceEntry reports LIVE"
for a in $(seq 10 $((10 + ADDRS - 1))); do
	ip -n "$NS" addr add "198.51.100.$a/24" dev hf0 2>/dev/null
done

{
	echo "worker_processes 1; pid $HF_TMP/nginx/nginx.pid; error_log $HF_TMP/nginx/error.log warn;"
	echo "events { worker_connections 4096; }"
	echo "http { access_log off; client_body_temp_path $HF_TMP/nginx; keepalive_timeout 300s;"
	echo "  server {"
	for p in $(seq 10000 $((10000 + PORTS - 1))); do echo "    listen $p;"; done
	echo "    location / { return 200 \"\$server_addr:\$server_port\n\"; } } }"
} > "$HF_TMP/nginx.conf"
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx/error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)
for _ in $(seq 50); do
	[ -n "$(ip netns exec "$NS" ss -Hltn 'sport = :10099')" ] && break
	sleep 0.1
done

st() { hf_stat "$NS" "$1"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$HF_PID/status"; }

bad=0
rss0=""
for r in $(seq 0 $((ROUNDS - 1))); do
	if [ "$r" -gt 0 ]; then
		v=$(st control_plane.snapshot_version)
		service_entry "$r" > "$HF_TMP/service.yaml.new"
		mv -f "$HF_TMP/service.yaml.new" "$ISTIO/service.yaml"
		for _ in $(seq 100); do
			[ "$(st control_plane.snapshot_version)" -gt "$v" ] && break
			sleep 0.05
		done
	fi
	# one request to every endpoint of the set (round robin visits each once per cycle)
	out=$(ip netns exec "$NS" "$HF_PY" "$TOOL" get "$GW" 80 churn.example.com "$BLOCK" "$r" "$BLOCK" \
		"$ADDRS" "$PORTS" 2>&1)
	[ "$out" = "ok" ] || { bad=$((bad + 1)); echo "# round $r: $out"; }
	[ "$r" = 1 ] && rss0=$(rss)
	slots=$(st http.endpoint_slots_in_use)
	[ "$r" = $((ROUNDS / 2)) ] && slots_mid=$slots
done
rss1=$(rss)
full=$(st http.endpoint_table_full)
freed=$(st http.endpoint_slots_freed)
slots=$(st http.endpoint_slots_in_use)
total=$((ROUNDS * BLOCK))

hf_check "$ROUNDS sets of $BLOCK new endpoints ($total distinct, 4096 slots per worker): every endpoint of every set answered 200 ($bad rounds with a failure)" \
	test "$bad" = 0
hf_check "no endpoint found the slot table full: http.endpoint_table_full ${full:-?} (want 0)" test "${full:-1}" = 0
hf_check "slots of endpoints that left are given back: http.endpoint_slots_freed ${freed:-?} (want ≥ $((total - 2 * BLOCK)))" \
	test "${freed:-0}" -ge $((total - 2 * BLOCK))
hf_check "slots in use stay near one set: ${slots_mid:-?} half-way, ${slots:-?} at the end (want ≤ $((2 * BLOCK)))" \
	bash -c '[ "$1" -le "$3" ] && [ "$2" -le "$3" ]' _ "${slots_mid:-99999}" "${slots:-99999}" $((2 * BLOCK))
hf_check "resident memory flat across the churn: VmRSS ${rss0:-?} kB after the second set, ${rss1:-?} kB after the last (want +< 16 MiB)" \
	bash -c '[ $(($2 - $1)) -lt 16384 ]' _ "${rss0:-0}" "${rss1:-999999}"
hf_check_stop
hf_done
