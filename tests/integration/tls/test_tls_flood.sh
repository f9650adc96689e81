#!/usr/bin/env bash
# A ClientHello flood and trickled handshakes while real clients are served (issue 13).
# Hydrofoil terminates TLS for an HTTPS Gateway server in front of nginx. hello_flood.py
# opens 300 connections that each send a whole ClientHello and never finish the
# handshake, and 20 that trickle theirs one byte every 30 ms (a hello takes ~15 s, past
# the 10 s handshake timeout). Meanwhile curl must get every HTTPS request answered; the
# flooders must each get the server's flight and then be reset at the timeout, counted in
# tls.handshake.timeout, and the trickled ones reset without an answer.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
FLOOD=$HF_ROOT/tests/integration/tls/hello_flood.py
NGINX_CONF=$HF_ROOT/tests/integration/http/nginx.conf.in

OUR=198.51.100.2
PEER=198.51.100.1
WEB_PORT=8080
CERTS=$HF_TMP/certs
ISTIO=$HF_TMP/istio
N_FULL=300
N_TRICKLE=20

"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" >/dev/null &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" f-cred f.example.com >/dev/null ||
	{ hf_not_ok "certificates made by scripts/mkcert.sh"; exit 1; }
mkdir -p "$ISTIO" "$HF_TMP/www" "$HF_TMP/nginx"
echo hello > "$HF_TMP/www/hello.txt"
cat > "$ISTIO/gw.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["f.example.com"]
    tls: {mode: SIMPLE, credentialName: f-cred}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: web, namespace: default}
spec:
  hosts: [web.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: ["f.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: web, port: {number: 8080}}}]
YAML

NS=$(hf_ns_new tlsflood) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with an HTTPS Gateway server reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with an HTTPS Gateway server reports LIVE"
sed -e "s|@TMP@|$HF_TMP|g" -e "s|@ADDR@|$PEER|g" -e "s|@PORT@|$WEB_PORT|g" "$NGINX_CONF" > "$HF_TMP/nginx.conf"
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)
for _ in $(seq 50); do
	[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$WEB_PORT")" ] && break
	sleep 0.1
done
https() {
	ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CERTS/ca.crt" \
		--resolve "f.example.com:443:$OUR" https://f.example.com/hello.txt
}
hf_check "an HTTPS request is answered before the flood ($(https))" test "$(https)" = 200
t0=$(hf_stat "$NS" tls.handshake.timeout)

ip netns exec "$NS" "$HF_PY" "$FLOOD" "$OUR" 443 f.example.com "$N_FULL" "$N_TRICKLE" 0.03 18 \
	> "$HF_TMP/flood.json" 2> "$HF_TMP/flood.err" &
FLOOD_PID=$!
HF_PIDS+=("$FLOOD_PID")
sleep 2	# the flood's connections are open and their hellos sent
ok=0
codes=""
for i in $(seq 20); do
	c=$(https)
	[ "$c" = 200 ] && ok=$((ok + 1))
	codes+="$c "
	sleep 0.3
done
hf_check "all 20 HTTPS requests during the flood answered 200 ($ok; codes: $codes)" test "$ok" = 20
wait "$FLOOD_PID"
flood=$(cat "$HF_TMP/flood.json")
field() { "$HF_PY" -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$flood" "$1" 2>/dev/null; }
hf_check "the flood connected all $((N_FULL + N_TRICKLE)) ($flood $(head -c 200 "$HF_TMP/flood.err"))" \
	test "$(field connected)" = $((N_FULL + N_TRICKLE))
hf_check "every whole ClientHello got the server's flight ($(field answered) of $N_FULL)" \
	test "$(field answered)" = "$N_FULL"
hf_check "every flood connection was ended by the server by the end (timeout; $(field ended_by_server))" \
	test "$(field ended_by_server)" = $((N_FULL + N_TRICKLE))
trickled=$(field trickled_bytes)
hf_check "the trickled hellos were cut short (${trickled:-?} bytes sent of ~$((N_TRICKLE * 517)))" \
	test -n "$trickled" -a "${trickled:-0}" -gt 0 -a "${trickled:-0}" -lt $((N_TRICKLE * 400))
t1=$(hf_stat "$NS" tls.handshake.timeout)
hf_check "tls.handshake.timeout counted the $((N_FULL + N_TRICKLE)) stalled handshakes ($t0 -> $t1)" \
	test "$((t1 - t0))" -ge $((N_FULL + N_TRICKLE))
hf_check "an HTTPS request is answered after the flood ($(https))" test "$(https)" = 200
hf_check "no TLS pool or memory drop (tls.drop.*: $(hf_admin "$NS" /stats | grep '^tls\.drop\.' | awk '{ s += $2 } END { print s + 0 }'))" \
	test "$(hf_admin "$NS" /stats | grep '^tls\.drop\.' | awk '{ s += $2 } END { print s + 0 }')" = 0

hf_check_stop
hf_done
