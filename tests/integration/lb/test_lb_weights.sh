#!/usr/bin/env bash
# Endpoint weights end to end: hydrofoil as an Istio gateway (a directory of
# Istio YAML) whose ServiceEntries give two endpoints weights 1 and 3, in front
# of real servers on the Linux side of a net_tap in a private namespace that
# name themselves ("A" is the weight-1 endpoint, "B" the weight-3 one):
#   - tcp_proxy (Gateway TCP server :9000, VirtualService tcp route), servers
#     from lbtool.py, one connection per pick;
#   - HTTP (Gateway HTTP server :80, http route), two nginx servers, one request
#     per new connection;
# under each DestinationRule loadBalancer (ROUND_ROBIN, RANDOM, LEAST_REQUEST),
# switched live. N picks each: round robin gives A exactly N/4 times and never
# twice in a row (one worker: the picks are consecutive in its cycle; with
# HF_WORKERS=W, W cycles interleave and the bounds widen by W); the
# random ones give A within 5 sigma of N/4 (sigma = sqrt(N p (1-p))).
# LEAST_CONN over TCP against load: of two endpoints of equal weight, one holds
# its connections open (they stay in flight) and the other closes at once; once
# the first holds one, it is picked only when both of the two choices are it,
# so it gets about a quarter of the connections where RANDOM would give half.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
TOOL=$HF_ROOT/tests/integration/lb/lbtool.py

OUR=198.51.100.2
PEER=198.51.100.1
N=${HF_LB_N:-2000}
N_HOLD=400
ISTIO=$HF_TMP/istio
LOG=$HF_TMP/hf.log

NS=$(hf_ns_new lb) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }

# ---------------------------------------------------------------- the Istio configuration
mkdir -p "$ISTIO"
cat > "$ISTIO/gateway.yaml" <<'YAML'
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: lb-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: ["*"]
  - port: {number: 9001, name: tcp-held, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: lb
spec:
  hosts: ["*"]
  gateways: [lb-gateway]
  http:
  - route:
    - destination: {host: ident-http.lb.example, port: {number: 80}}
  tcp:
  - match: [{port: 9000}]
    route:
    - destination: {host: ident-tcp.lb.example, port: {number: 9000}}
  - match: [{port: 9001}]
    route:
    - destination: {host: held.lb.example, port: {number: 9001}}
YAML
cat > "$ISTIO/services.yaml" <<YAML
# Two endpoints each: weight 1 ("A") and weight 3 ("B"); held: 1 and 1.
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: ident-http
spec:
  hosts: [ident-http.lb.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP}
  endpoints:
  - address: $PEER
    ports: {http: 9101}
    weight: 1
  - address: $PEER
    ports: {http: 9103}
    weight: 3
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: ident-tcp
spec:
  hosts: [ident-tcp.lb.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 9000, name: tcp, protocol: TCP}
  endpoints:
  - address: $PEER
    ports: {tcp: 9201}
    weight: 1
  - address: $PEER
    ports: {tcp: 9203}
    weight: 3
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: held
spec:
  hosts: [held.lb.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 9001, name: tcp, protocol: TCP}
  endpoints:
  - address: $PEER
    ports: {tcp: 9301}
  - address: $PEER
    ports: {tcp: 9303}
YAML
# policies POLICY: every DestinationRule with loadBalancer.simple POLICY, installed with one rename.
policies() {
	local h stage=$HF_TMP/.dr-$$
	for h in ident-http ident-tcp held; do
		cat <<YAML
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: $h
spec:
  host: $h.lb.example
  trafficPolicy:
    loadBalancer: {simple: $1}
YAML
	done > "$stage"
	mv -f "$stage" "$ISTIO/destination-rules.yaml"
}
# wait_version V: waits up to 10 s for control_plane.snapshot_version to pass V.
wait_version() {
	local i v
	for i in $(seq 100); do
		v=$(st control_plane.snapshot_version)
		[ "${v:-0}" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
policies ROUND_ROBIN

hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; };"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$PEER/24"; then
	hf_not_ok "hydrofoil with the Istio directory reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with the Istio directory reports LIVE"
complaints=$(grep '^hydrofoil:' "$LOG" | grep -ciE 'refused|error|invalid|reject|unknown|unsupported')
hf_check "the Istio directory is loaded without complaint ($complaints lines)" test "$complaints" = 0
[ "$complaints" = 0 ] || grep '^hydrofoil:' "$LOG" | sed 's/^/# /'

# ---------------------------------------------------------------- the servers
mkdir -p "$HF_TMP/nginx"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/nginx; proxy_temp_path $HF_TMP/nginx;
    fastcgi_temp_path $HF_TMP/nginx; uwsgi_temp_path $HF_TMP/nginx; scgi_temp_path $HF_TMP/nginx;
    keepalive_requests 1000000;
    default_type text/plain;
    server { listen $PEER:9101; location / { return 200 "A\n"; } }
    server { listen $PEER:9103; location / { return 200 "B\n"; } }
}
NGINX
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' > "$HF_TMP/nginx.out" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$TOOL" serve "$PEER" 9201:A:close 9203:B:close 9301:A:hold 9303:B:close \
	> "$HF_TMP/serve.out" 2>&1 &
HF_PIDS+=($!)
listening() {
	local p
	for p in 9101 9103 9201 9203 9301 9303; do
		[ -n "$(in_ns ss -Hltn "sport = :$p")" ] || return 1
	done
}
for _ in $(seq 50); do listening && break; sleep 0.1; done
if ! listening; then
	hf_not_ok "the servers listen on $PEER:9101,9103 (nginx) and 9201,9203,9301,9303 (lbtool.py)"
	cat "$HF_TMP/nginx.out" "$HF_TMP/nginx-error.log" "$HF_TMP/serve.out" 2>/dev/null
	exit 1
fi
hf_ok "the servers listen on $PEER:9101,9103 (nginx) and 9201,9203,9301,9303 (lbtool.py)"

# ---------------------------------------------------------------- the checks
json() { "$HF_PY" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1" 2>/dev/null; }
# share WHAT POLICY N OUT: checks the picks in OUT (lbtool's JSON line) against 1:3.
share() {
	local what=$1 policy=$2 n=$3 out=$4 seq errors a b sigma lo hi
	seq=$(json seq <<<"$out")
	errors=$(json errors <<<"$out")
	a=$(tr -cd A <<<"$seq" | wc -c)
	b=$(tr -cd B <<<"$seq" | wc -c)
	sigma=$(awk -v n="$n" 'BEGIN { printf "%.1f", sqrt(n * 0.25 * 0.75) }')
	lo=$(awk -v n="$n" -v s="$sigma" 'BEGIN { printf "%d", n / 4 - 5 * s + 0.999 }')
	hi=$(awk -v n="$n" -v s="$sigma" 'BEGIN { printf "%d", n / 4 + 5 * s }')
	hf_check "$what $policy, weights 1:3: $n picks, none failed ($errors failed)" \
		test "${errors:-1}" = 0 -a $((a + b)) = "$n"
	hf_check "$what $policy: A $a of $n ($(awk -v a="$a" -v n="$n" 'BEGIN { printf "%.2f", 100 * a / n }')%), B $b; want $((n / 4)) ± 5σ (σ = $sigma: $lo..$hi)" \
		test "$a" -ge "$lo" -a "$a" -le "$hi"
	if [ "$policy" = ROUND_ROBIN ] && [ "$(hf_workers)" = 1 ]; then
		hf_check "$what ROUND_ROBIN is exact and interleaved: A exactly $((n / 4)) times ($a), never AA, never BBBB" \
			bash -c '[ "$1" = "$2" ] && [[ "$3" != *AA* ]] && [[ "$3" != *BBBB* ]]' _ "$a" "$((n / 4))" "$seq"
		echo "# $what ROUND_ROBIN picks start: ${seq:0:24}"
	elif [ "$policy" = ROUND_ROBIN ]; then
		# Each worker keeps its own cycle (one A in every four picks), and RSS interleaves
		# the W workers' picks: A is within 3W/4 of N/4, no run has more than W As (one per
		# worker) or 3W Bs (three per worker).
		local wk aa bb
		wk=$(hf_workers)
		aa=$(printf 'A%.0s' $(seq $((wk + 1))))
		bb=$(printf 'B%.0s' $(seq $((3 * wk + 1))))
		hf_check "$what ROUND_ROBIN over $wk workers' cycles: A $a times, want $((n / 4)) ± $((3 * wk / 4)), never $aa, never $bb" \
			bash -c 'd=$(($1 - $2)); [ "${d#-}" -le "$3" ] && [[ "$4" != *"$5"* ]] && [[ "$4" != *"$6"* ]]' \
			_ "$a" "$((n / 4))" "$((3 * wk / 4))" "$seq" "$aa" "$bb"
		echo "# $what ROUND_ROBIN picks start: ${seq:0:24}"
	fi
}

for policy in ROUND_ROBIN RANDOM LEAST_REQUEST; do
	if [ "$policy" != ROUND_ROBIN ]; then
		v=$(st control_plane.snapshot_version)
		policies "$policy"
		hf_check "DestinationRules switched to $policy live (snapshot_version $v → $(wait_version "$v"; st control_plane.snapshot_version))" \
			test "$(st control_plane.snapshot_version)" -gt "$v"
	fi
	out=$(in_ns timeout 300 "$HF_PY" "$TOOL" tcp "$OUR" 9000 "$N")
	share "tcp_proxy" "$policy" "$N" "$out"
	out=$(in_ns timeout 300 "$HF_PY" "$TOOL" http "$OUR" 80 "$N" ident-http.lb.example)
	share "HTTP" "$policy" "$N" "$out"
done

# LEAST_CONN against load (LEAST_REQUEST is in force): A holds what it gets.
out=$(in_ns timeout 300 "$HF_PY" "$TOOL" hold "$OUR" 9001 "$N_HOLD" A)
seq=$(json seq <<<"$out")
a=$(tr -cd A <<<"$seq" | wc -c)
sigma=$(awk -v n="$N_HOLD" 'BEGIN { printf "%.1f", sqrt(n * 0.25 * 0.75) }')
lo=$(awk -v n="$N_HOLD" -v s="$sigma" 'BEGIN { printf "%d", n / 4 - 5 * s + 0.999 }')
hi=$(awk -v n="$N_HOLD" -v s="$sigma" 'BEGIN { printf "%d", n / 4 + 1 + 5 * s }')
hf_check "tcp_proxy LEAST_CONN, equal weights, A holds its connections: A $a of $N_HOLD, want $((N_HOLD / 4)) ± 5σ (σ = $sigma: $lo..$hi; RANDOM would give $((N_HOLD / 2)))" \
	test "$(json errors <<<"$out")" = 0 -a "$a" -ge "$lo" -a "$a" -le "$hi"

hf_check_stop
hf_done
