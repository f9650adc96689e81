#!/usr/bin/env bash
# Incremental reload of an Istio directory under load: 20 VirtualServices for
# host "*" in files of their own (merged into one virtual host), routes to v1
# (nginx on 8081) and a catch-all to v2 (8082) in the last file. While wrk
# asks for a route of the first file (the http routes of unchanged
# VirtualServices are lent from the last load, not translated again), one
# file changes, one is removed and comes back, and the catch-all moves: each
# change is served (curl sees the new upstream), a removed route is gone (its
# path falls to the catch-all), the agent's log says the other
# VirtualServices' routes were reused (and none when a resource they may
# depend on is added), and wrk sees no failed request.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

N_VS=20
NS=$(hf_ns_new reloadinc) || exit 1
IST=$HF_TMP/ist
mkdir -p "$IST" "$HF_TMP/ngx"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/ngx; proxy_temp_path $HF_TMP/ngx; fastcgi_temp_path $HF_TMP/ngx;
    uwsgi_temp_path $HF_TMP/ngx; scgi_temp_path $HF_TMP/ngx;
    server { listen 8081; location / { return 200 "v1\n"; } }
    server { listen 8082; location / { return 200 "v2\n"; } }
}
NGINX
ip netns exec "$NS" nginx -c "$HF_TMP/nginx.conf" -g 'daemon off;' &
HF_PIDS+=($!)

# put NAME: stdin into IST/NAME, renamed into place (the loader skips hidden files)
put() { cat > "$IST/.$1.tmp" && mv "$IST/.$1.tmp" "$IST/$1"; }
# vs K DEST [CATCH_ALL_DEST]: VirtualService vs-K: /p/K/ (prefix), /r/K (exact) and
# /x/K/<digits> (regex) to DEST, then a catch-all to CATCH_ALL_DEST when given
vs() {
	{
		cat <<YAML
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: vs-$1, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: "/p/$1/"}}]
    route: [{destination: {host: $2.bench}}]
  - match: [{uri: {exact: "/r/$1"}}]
    route: [{destination: {host: $2.bench}}]
  - match: [{uri: {regex: "/x/$1/[0-9]+"}}]
    route: [{destination: {host: $2.bench}}]
YAML
		[ -n "${3:-}" ] && echo "  - route: [{destination: {host: $3.bench}}]"
	} | put "$(printf 'vs-%03d.yaml' "$1")"
}
put base.yaml <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: v1, namespace: default}
spec:
  hosts: [v1.bench]
  ports: [{number: 8081, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 198.51.100.1}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: v2, namespace: default}
spec:
  hosts: [v2.bench]
  ports: [{number: 8082, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 198.51.100.1}]
YAML
for k in $(seq 0 $((N_VS - 2))); do vs "$k" v1; done
LAST=$((N_VS - 1))
vs "$LAST" v1 v2

hf_cfg "$HF_TMP/hf.cfg" hf0 198.51.100.2/24 198.51.100.1 "config: { istio_dir = \"$IST\"; };"
LOG=$HF_TMP/hf.log
hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" 198.51.100.1/24 || exit 1

G=http://198.51.100.2
get() { ip netns exec "$NS" curl -s --max-time 5 "$G$1" 2>/dev/null | tr -d '\r'; }
# wait_body PATH WANT: up to 10 s for PATH to answer WANT
wait_body() {
	for _ in $(seq 200); do [ "$(get "$1")" = "$2" ] && return 0; sleep 0.05; done
	return 1
}
builds() { grep -c ' built in ' "$LOG"; }
# reused_after N: the "reused" count of the first build after the N-th
reused_after() {
	grep ' built in ' "$LOG" | sed -n "$(($1 + 1))s/.*the http routes of \([0-9]*\) VirtualServices reused.*/\1/p"
}

hf_check "first snapshot: /p/3/a to v1, /x/4/17 (regex) to v1, /nothing to the catch-all (v2)" \
	test "$(get /p/3/a)/$(get /x/4/17)/$(get /nothing)" = "v1/v1/v2"

ip netns exec "$NS" wrk -t1 -c4 -d60s --timeout 5s "$G/p/0/w" > "$HF_TMP/wrk.out" 2>&1 &
WRK=$!
HF_PIDS+=("$WRK")
sleep 0.5

# 1. one VirtualService changes: its routes go to v2; the 19 others are lent
b=$(builds)
vs 5 v2
hf_check "vs-005 changed: /p/5/a, /r/5 and /x/5/9 now go to v2" \
	eval 'wait_body /p/5/a v2 && test "$(get /r/5)/$(get /x/5/9)" = "v2/v2"'
hf_check "the other routes as before: /p/6/a v1, /r/4 v1" test "$(get /p/6/a)/$(get /r/4)" = "v1/v1"
r=$(reused_after "$b")
hf_check "that build reused the http routes of the $((N_VS - 1)) unchanged VirtualServices (log: ${r:-none})" \
	test "${r:-0}" -eq $((N_VS - 1))

# 2. one removed: its paths fall to the catch-all; then back
b=$(builds)
rm "$IST/vs-007.yaml"
hf_check "vs-007 removed: /p/7/a and /r/7 now reach the catch-all (v2)" \
	eval 'wait_body /p/7/a v2 && test "$(get /r/7)" = v2'
r=$(reused_after "$b")
hf_check "that build reused the $((N_VS - 1)) others (log: ${r:-none})" test "${r:-0}" -eq $((N_VS - 1))
vs 7 v1
hf_check "vs-007 back: /p/7/a to v1 again" wait_body /p/7/a v1

# 3. the catch-all moves to v1, then an unchanged file's routes still win over it
vs "$LAST" v1 v1
hf_check "the catch-all moved: /nothing now v1; /p/5/a still v2" \
	eval 'wait_body /nothing v1 && test "$(get /p/5/a)" = v2'

# 4. another resource added (a ServiceEntry a VirtualService could name): everything translated again
b=$(builds)
put extra.yaml <<YAML
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: v3, namespace: default}
spec:
  hosts: [v3.bench]
  ports: [{number: 8083, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 198.51.100.1}]
YAML
for _ in $(seq 200); do [ "$(builds)" -gt "$b" ] && break; sleep 0.05; done
r=$(reused_after "$b")
hf_check "a ServiceEntry added: that build translated every VirtualService again (reused: ${r:-none}); /p/5/a v2, /p/6/a v1" \
	test "${r:-x}" = 0 -a "$(get /p/5/a)/$(get /p/6/a)" = "v2/v1"

kill -INT "$WRK"
wait "$WRK" 2>/dev/null
hf_forget_pid "$WRK"
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$HF_TMP/wrk.out")
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$HF_TMP/wrk.out")
sock=$(sed -n 's/^ *Socket errors: *//p' "$HF_TMP/wrk.out")
hf_check "wrk -c4 on /p/0/w throughout: ${reqs:-no} requests, non-2xx ${non2xx:-0}, socket errors ${sock:-none}" \
	test -n "$reqs" -a "${reqs:-0}" -gt 0 -a "${non2xx:-0}" = 0 -a -z "$sock"
[ -n "$reqs" ] || sed 's/^/# wrk: /' "$HF_TMP/wrk.out"
grep ' built in ' "$LOG" | tail -3 | sed 's/^/# /'
hf_check_stop
hf_done
