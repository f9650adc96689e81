#!/usr/bin/env bash
# What the check and the report cost per proxied request (issue 15): hf-loadgen drives
# hydrofoil over net_memif (keep-alive, closed loop, 100-byte bodies, the loadgen's
# server role as the upstream), hydrofoil configured from an Istio directory (Gateway,
# ServiceEntry, VirtualService) in these variants, each beside the plain one of the
# same round:
#   plain          metrics.enabled = false, no policy
#   metrics        Istio's standard metrics recorded (the default)
#   authz          20 AuthorizationPolicies with 100 rules in the root namespace (19 DENY
#                  whose rules never match a bench request, one ALLOW whose last rule
#                  does: every request is checked against all of them), metrics off
#   authz+metrics  both: the issue's target is at most 10% over plain (and, as the plain
#                  path gets cheaper, at most 200 cycles added: the table gives both)
#   jwt            a RequestAuthentication (ES256 JWKS inline) and a token on every
#                  request, validated per request, metrics off
#   paths          authz+metrics with the request's path one of 64 in turn (/bench/0 ..
#                  /bench/63): every other variant repeats one request, so the worker's memo
#                  of each attribute's last value (hf_authz_memo) always answers the path there;
#                  here it never does (Host and addresses still repeat)
# Cycles per request: hydrofoil worker.busy_cycles delta ÷ http.downstream_rq_total
# delta over the run; and "unstalled", the same without the loop iterations a stall
# stretched (preemption on a shared machine; worker.busy_cycles_unstalled, as
# bench/loadgen/memif_bench.sh). Rounds alternate the variants; the medians are kept.
# Figures are measured, never asserted. Needs a machine nobody else is using (two cores:
# the loadgen on core 0, hydrofoil's worker on core 1).
#
# Interleaved (the figure that survives a machine whose speed changes from minute to minute):
# one hydrofoil process, metrics allocated, under one loadgen run, its Istio directory
# switched every window between plain (a Telemetry turning every metric off, no policy),
# metrics, authz and authz+metrics (the same resources as above, hot-reloaded). Each window
# starts once the worker has the new snapshot and after a settling time, and lasts
# --window seconds; plain windows sit between the others (P M P A P AM P ...), and each
# variant's cost is taken against the mean of the two plain windows beside it, so a swing
# of the machine's speed longer than a few seconds falls on both sides alike. The medians
# over the rounds are kept; the spread (the quartiles) is printed too.
#
# Usage: bench/proxy/check_cost.sh [--rounds N (3)] [--duration S (4)] [--conns C (16)]
#                                  [--interleave-rounds N (12; 0: none)] [--window S (1)]
# Environment: HF_BUILD_DIR (default build), HF_BIN (the hydrofoil binary), HF_KEEP_TMP=1
# keeps the temp dir, HF_COST_VARIANTS (a subset of the variants, in that order).
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/netns.sh
source scripts/lib/jwt.sh
ROUNDS=3 DUR=4 CONNS=16 IROUNDS=12 WINDOW=1
while [ $# -gt 0 ]; do
	case $1 in
	--interleave-rounds) IROUNDS=$2; shift ;;
	--window) WINDOW=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--duration) DUR=$2; shift ;;
	--conns) CONNS=$2; shift ;;
	*) echo "check_cost: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
LG=$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-loadgen
HF_ADDR=198.51.100.2
LG_ADDR=198.51.100.1
T=$HF_TMP
NS=$(hf_ns_new cost) || { echo "check_cost: cannot create a namespace" >&2; exit 1; }
VARIANTS=${HF_COST_VARIANTS:-"plain metrics authz authz+metrics paths jwt"}
JWT_OK=0

# ---------------------------------------------------------------- the Istio directories
base_yaml() {
	cat <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: lg, namespace: bench}
spec:
  hosts: [lg.bench.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: $LG_ADDR}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: lg, namespace: bench}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http:
  - route:
    - destination: {host: lg.bench.svc.cluster.local, port: {number: 8080}}
YAML
}
# 19 DENY policies of 5 rules each that a bench request never matches (methods, paths
# with templates, headers, source blocks, hosts), then one ALLOW whose fifth rule does.
authz_yaml() {
	local i
	for i in $(seq 19); do
		cat <<YAML
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-$i, namespace: istio-system}
spec:
  action: DENY
  rules:
  - to: [{operation: {methods: [DELETE, PATCH], paths: ["/admin-$i/*"]}}]
  - to: [{operation: {paths: ["/private-$i/{*}/secret", "*.bak$i"]}}]
  - when: [{key: "request.headers[x-block-$i]", values: ["yes"]}]
  - from: [{source: {ipBlocks: ["203.0.113.$i/32"]}}]
  - to: [{operation: {hosts: ["blocked-$i.example.com"], ports: ["81$i"]}}]
YAML
	done
	cat <<YAML
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-bench, namespace: istio-system}
spec:
  action: ALLOW
  rules:
  - to: [{operation: {paths: ["/never-a"]}}]
  - to: [{operation: {paths: ["/never-b/*"]}}]
  - to: [{operation: {methods: [PUT]}}]
  - from: [{source: {ipBlocks: ["192.0.2.0/24"]}}]
  - to: [{operation: {methods: [GET], paths: ["/*"]}}]
YAML
}
# The ES256 key, its JWKS and a token valid for an hour, made with openssl (scripts/lib/jwt.sh).
jwt_setup() {
	local now claims
	openssl ecparam -name prime256v1 -genkey -noout -out "$T/jwt.key" 2>/dev/null || return 1
	printf '{"keys":[%s]}' "$(ec_jwk "$T/jwt.key" bench)" > "$T/jwks.json"
	now=$(date +%s)
	claims=$(printf '{"iss":"bench@hydrofoil","sub":"loadgen","aud":"bench","iat":%d,"exp":%d}' \
		"$now" "$((now + 3600))")
	jwt_token ES256 "$T/jwt.key" bench "$claims" > "$T/token"
	[ -s "$T/token" ]
}
jwt_yaml() {
	cat <<YAML
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: bench-jwt, namespace: istio-system}
spec:
  jwtRules:
  - issuer: bench@hydrofoil
    audiences: [bench]
    jwks: '$(cat "$T/jwks.json")'
YAML
}

for v in $VARIANTS; do
	mkdir -p "$T/istio-$v"
	{
		base_yaml
		case $v in authz* | paths) authz_yaml ;; esac
		[ "$v" = jwt ] && jwt_setup && JWT_OK=1 && jwt_yaml
	} > "$T/istio-$v/all.yaml"
done
[ "$JWT_OK" = 1 ] || VARIANTS=${VARIANTS% jwt}

# ---------------------------------------------------------------- one run
# write_cfg FILE SOCKET ISTIO_DIR METRICS: hydrofoil's bootstrap, one worker on core 1.
write_cfg() {
	cat > "$1" <<CFG
node:  { id = "gw-cost"; cluster = "hydrofoil"; labels = [ "istio=ingressgateway" ]; };
dpdk:  { lcores = "0-1"; args = [ "--no-pci", "--no-huge", "-m", "512", "--log-level=lib.eal:error" ]; };
ports = ( { name = "p0"; device = "net_memif0,role=server,socket=$2"; address = "$HF_ADDR/24"; mtu = 1500; } );
workers = 1;
admin: { address = "127.0.0.1"; port = 15000; };
config: { istio_dir = "$3"; };
metrics = { enabled = $4; };
CFG
}
# loadgen SOCKET SECONDS OUT [ARGS...]: the loadgen on core 0 in the background (its PID in $!,
# also in HF_PIDS), JSON to OUT.json, its log to OUT.log.
loadgen() {
	local sock=$1 secs=$2 out=$3
	shift 3
	ip netns exec "$NS" "$LG" --port "p0,net_memif0,role=client,socket=$sock,$LG_ADDR/24" \
		--client "$HF_ADDR:80" --server 8080 --response-size 100 -c "$CONNS" --path /bench \
		"$@" --duration "$secs" --warmup 1 --json --lcores 0@0,1@0 \
		-- --no-huge --no-pci --log-level=lib.eal:error -m 512 > "$out.json" 2>"$out.log" &
	HF_PIDS+=("$!")
}
stat_of() { awk -v n="$1:" '$1 == n { print $2 }' "$2"; }
# unstalled S0 S1: the worker's cycles per request without the iterations a stall
# (preemption: a shared machine) stretched, as bench/loadgen/memif_bench.sh takes them:
# busy_cycles_unstalled ÷ busy_frames_unstalled × frames per request; "-" when the
# binary has no such counters.
unstalled() {
	awk 'FNR == NR { a[$1] = $2; next } { b[$1] = $2 }
	END {
		c = b["worker.busy_cycles_unstalled:"] - a["worker.busy_cycles_unstalled:"]
		f = b["worker.busy_frames_unstalled:"] - a["worker.busy_frames_unstalled:"]
		p = b["worker.stack_packets:"] - a["worker.stack_packets:"]
		r = b["http.downstream_rq_total:"] - a["http.downstream_rq_total:"]
		if (f > 0 && r > 0 && p > 0) printf "%d\n", c / f * p / r; else print "-"
	}' "$1" "$2"
}
# run VARIANT ROUND: hydrofoil with that directory, the loadgen for DUR seconds; appends
# "VARIANT cycles_per_request requests_per_s non_2xx" to $T/results.
run() {
	local v=$1 sock=$T/memif.$1.$2.sock cfg=$T/hf-$1.cfg metrics=false hdr=() out b0 r0 b1 r1
	case $v in *metrics | paths) metrics=true ;; esac
	[ "$v" = jwt ] && hdr=(--header "authorization: Bearer $(cat "$T/token")")
	[ "$v" = paths ] && hdr=(--paths 64)
	write_cfg "$cfg" "$sock" "$T/istio-$v" "$metrics"
	if ! "$HF_BIN" -c "$cfg" --check > "$T/check-$v.log" 2>&1; then
		echo "$v refused $(tail -1 "$T/check-$v.log")" >> "$T/results"
		return
	fi
	hf_start "$NS" "$cfg" "$T/hf-$v.log"
	for _ in $(seq 200); do grep -q running "$T/hf-$v.log" && break; sleep 0.05; done
	loadgen "$sock" "$((DUR + 1))" "$T/lg-$v" "${hdr[@]}"
	local lg=$!
	sleep 1.5
	hf_admin "$NS" /stats > "$T/s0"
	sleep "$((DUR - 1))"
	hf_admin "$NS" /stats > "$T/s1"
	b0=$(stat_of worker.busy_cycles "$T/s0"); r0=$(stat_of http.downstream_rq_total "$T/s0")
	b1=$(stat_of worker.busy_cycles "$T/s1"); r1=$(stat_of http.downstream_rq_total "$T/s1")
	wait "$lg"
	out=$("$HF_PY" -c 'import json,sys
d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("%.0f %d" % (d["requests_per_s"], d["errors_total"]))' \
		"$T/lg-$v.json" 2>/dev/null || echo "0 ?")
	kill -TERM "$HF_PID" 2>/dev/null
	wait "$HF_PID" 2>/dev/null
	if [ -n "${r1:-}" ] && [ -n "${r0:-}" ] && [ "$((r1 - r0))" -gt 0 ]; then
		echo "$v $(((b1 - b0) / (r1 - r0))) $out $(unstalled "$T/s0" "$T/s1")" >> "$T/results"
	else
		echo "$v failed (hydrofoil counted no request; $(tail -1 "$T/lg-$v.log"))" >> "$T/results"
	fi
}

: > "$T/results"
for r in $(seq "$ROUNDS"); do
	for v in $VARIANTS; do
		run "$v" "$r"
	done
done

# ---------------------------------------------------------------- the table
"$HF_PY" - "$T/results" "$ROUNDS" "$CONNS" "$JWT_OK" <<'PY'
import statistics, sys
rows, rounds, conns, jwt_ok = {}, sys.argv[2], sys.argv[3], sys.argv[4] == "1"
unst = {}
fails = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 5 and f[1].isdigit():
        rows.setdefault(f[0], []).append((int(f[1]), float(f[2]), f[3]))
        if f[4].isdigit():
            unst.setdefault(f[0], []).append(int(f[4]))
    else:
        fails.append(line.strip())
print(f"What the check and the report cost, cycles per proxied request (hydrofoil's worker, memif, "
      f"keep-alive c={conns}, medians of {rounds} rounds, variants alternating)\n")
print("| variant | cycles per request | added cycles | over plain | unstalled cycles per request | added | req/s | errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
uplain = statistics.median(unst["plain"]) if unst.get("plain") else None
plain = statistics.median(c for c, _, _ in rows["plain"]) if rows.get("plain") else None
what = {"plain": "plain (metrics off, no policy)", "metrics": "Istio's metrics on",
        "authz": "20 AuthorizationPolicies, 100 rules", "authz+metrics": "policies and metrics (target ≤ +10%)",
        "paths": "policies and metrics, the path one of 64 in turn (the memo misses it)",
        "jwt": "a JWT validated per request (ES256)"}
for v in ("plain", "metrics", "authz", "authz+metrics", "paths", "jwt"):
    if v not in rows:
        why = next((x for x in fails if x.startswith(v + " ")), "not run" if v != "jwt" or jwt_ok else "no token")
        print(f"| {what[v]} | — | — | — | — | — | — | {why} |")
        continue
    c = statistics.median(x for x, _, _ in rows[v])
    rps = statistics.median(x for _, x, _ in rows[v])
    errs = ",".join(e for _, _, e in rows[v])
    over = f"{(c / plain - 1) * 100:+.1f}%" if plain else "—"
    # the absolute figure too: the plain path keeps getting cheaper, which alone moves the ratio
    added = f"{c - plain:+,.0f}" if plain and v != "plain" else "—"
    u = statistics.median(unst[v]) if unst.get(v) else None
    us = f"{u:,.0f}" if u is not None else "—"
    uadded = f"{u - uplain:+,.0f}" if u is not None and uplain and v != "plain" else "—"
    print(f"| {what[v]} | {c:,.0f} | {added} | {over} | {us} | {uadded} | {rps:,.0f} | {errs} |")
for x in fails:
    print(f"\nnote: {x}")
PY
# ---------------------------------------------------------------- interleaved
# telemetry_off: a Telemetry of the root namespace turning every metric off (Istio's own way)
telemetry_off() {
	cat <<YAML
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: bench-metrics-off, namespace: istio-system}
spec:
  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - disabled: true
YAML
}
LIVE=$T/istio-live
# set_state VARIANT: the live directory's variable part, swapped in whole (rename)
set_state() {
	{
		echo "# check_cost: $1"
		case $1 in plain | authz) telemetry_off ;; esac
		case $1 in authz*) authz_yaml ;; esac
	} > "$LIVE/.state.tmp"
	mv -f "$LIVE/.state.tmp" "$LIVE/state.yaml"
}
# window VARIANT ROUND: switches to VARIANT, waits for the worker's snapshot and the settling
# time, then measures WINDOW seconds; appends "VARIANT ROUND cycles unstalled requests".
window() {
	local v0 s0=$T/w0 s1=$T/w1 c r
	v0=$(hf_stat "$NS" control_plane.snapshot_version)
	set_state "$1"
	for _ in $(seq 250); do
		[ "$(hf_stat "$NS" control_plane.snapshot_version)" != "$v0" ] && break
		sleep 0.02
	done
	sleep 0.3
	hf_admin "$NS" /stats > "$s0"
	sleep "$WINDOW"
	hf_admin "$NS" /stats > "$s1"
	r=$(( $(stat_of http.downstream_rq_total "$s1") - $(stat_of http.downstream_rq_total "$s0") ))
	c=$(( $(stat_of worker.busy_cycles "$s1") - $(stat_of worker.busy_cycles "$s0") ))
	if [ "$r" -gt 0 ]; then
		echo "$1 $2 $((c / r)) $(unstalled "$s0" "$s1") $r $(stat_of control_plane.snapshot_version "$s1")" >> "$T/live"
	else
		echo "$1 $2 failed" >> "$T/live"
	fi
}
interleaved() {
	local sock=$T/memif.live.sock cfg=$T/hf-live.cfg secs lg rej
	mkdir -p "$LIVE"
	base_yaml > "$LIVE/base.yaml"
	set_state plain
	write_cfg "$cfg" "$sock" "$LIVE" true
	: > "$T/live"
	hf_start "$NS" "$cfg" "$T/hf-live.log"
	for _ in $(seq 200); do grep -q running "$T/hf-live.log" && break; sleep 0.05; done
	# each window: the reload and the settling time (about 0.5 s) and WINDOW
	secs=$(awk -v r="$IROUNDS" -v w="$WINDOW" 'BEGIN { printf "%d", (6 * r + 1) * (w + 0.8) + 6 }')
	loadgen "$sock" "$secs" "$T/lg-live"
	lg=$!
	sleep 2
	for r in $(seq "$IROUNDS"); do
		for v in metrics authz authz+metrics; do
			window plain "$r"
			window "$v" "$r"
		done
	done
	window plain "$((IROUNDS + 1))"
	rej=$(hf_stat "$NS" control_plane.config_rejected)
	kill -INT "$lg" 2>/dev/null
	wait "$lg" 2>/dev/null
	kill -TERM "$HF_PID" 2>/dev/null
	wait "$HF_PID" 2>/dev/null
	"$HF_PY" - "$T/live" "$IROUNDS" "$WINDOW" "$CONNS" "${rej:-?}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
rounds, window, conns, rej = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
seq = [r for r in rows if len(r) == 6]
failed = [r for r in rows if len(r) != 6]
print(f"\nInterleaved in one hydrofoil process and one loadgen run (memif, keep-alive c={conns}): "
      f"the Istio directory switched live, {window} s windows, plain between the others, "
      f"{rounds} rounds; each variant against the mean of the plain windows beside it\n")
print("| variant | cycles per request | added (quartiles) | over plain (quartiles) | unstalled cycles per request | unstalled added (quartiles) | unstalled over plain (quartiles) | windows |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
what = {"metrics": "Istio's metrics on", "authz": "20 AuthorizationPolicies, 100 rules",
        "authz+metrics": "policies and metrics (target ≤ +10%)"}
def q(v):
    v = sorted(v)
    if len(v) < 4:
        return (v[0], v[-1]) if v else (0, 0)
    qs = statistics.quantiles(v, n=4)
    return qs[0], qs[2]
def cell(v, fmt):
    if not v:
        return "—"
    a, b = q(v)
    return f"{fmt(statistics.median(v))} ({fmt(a)} … {fmt(b)})"
absn = lambda x: f"{x:+,.0f}"
pct = lambda x: f"{x:+.1f}%"
plain = [r for r in seq if r[0] == "plain"]
pu = [int(r[3]) for r in plain if r[3].isdigit()]
print(f"| plain (every metric off by Telemetry, no policy) | "
      f"{statistics.median(int(r[2]) for r in plain) if plain else 0:,.0f} | — | — | "
      f"{statistics.median(pu) if pu else 0:,.0f} | — | — | {len(plain)} |")
for v in ("metrics", "authz", "authz+metrics"):
    add, rel, uadd, urel, cs, us = [], [], [], [], [], []
    for i, r in enumerate(seq):
        if r[0] != v or i == 0 or i + 1 >= len(seq):
            continue
        a, b = seq[i - 1], seq[i + 1]
        if a[0] != "plain" or b[0] != "plain":
            continue
        p = (int(a[2]) + int(b[2])) / 2
        cs.append(int(r[2]))
        add.append(int(r[2]) - p)
        rel.append((int(r[2]) / p - 1) * 100)
        if r[3].isdigit() and a[3].isdigit() and b[3].isdigit():
            up = (int(a[3]) + int(b[3])) / 2
            us.append(int(r[3]))
            uadd.append(int(r[3]) - up)
            urel.append((int(r[3]) / up - 1) * 100)
    um = f"{statistics.median(us):,.0f}" if us else "—"
    cm = f"{statistics.median(cs):,.0f}" if cs else "—"
    print(f"| {what[v]} | {cm} | {cell(add, absn)} | {cell(rel, pct)} | {um} | "
          f"{cell(uadd, absn)} | {cell(urel, pct)} | {len(add)} |")
print(f"\nconfigurations refused during the run: {rej}; windows that counted no request: {len(failed)}")
PY
}
if [ "$IROUNDS" -gt 0 ]; then
	interleaved
fi
# the status is the run's, not the last test's: scripts/bench.sh says "check_cost failed" otherwise
if [ "${HF_KEEP_TMP:-0}" = 1 ]; then
	echo "(kept $T)"
fi
exit 0
