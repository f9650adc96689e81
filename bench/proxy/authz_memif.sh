#!/usr/bin/env bash
# shellcheck disable=SC2153 # HF_PID is set by hf_start in scripts/lib/netns.sh
# What AuthorizationPolicy costs a proxied request (issue 15's speed table): hydrofoil and
# hf-loadgen over net_memif as in tests/integration/loadgen (one private namespace, both
# --no-huge, the loadgen both the clients and the upstream), once with no policy and once
# with 20 AuthorizationPolicies of 100 rules in force (bench_authz.cc's set: 5 DENY, 15
# ALLOW, the loadgen's requests allowed by the last rule, so every rule is looked at), the
# two alternated RUNS times each. Cycles per request: hydrofoil's worker.busy_cycles delta
# over the run / http.downstream_rq_total delta. Prints one Markdown table; measures,
# never asserts. Env: RUNS (3), SECS (5), RATE (20000 requests/s, open loop), CONNS (16).
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib/netns.sh"
LG=${HF_LOADGEN:-$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-loadgen}
RUNS=${RUNS:-3} SECS=${SECS:-5} RATE=${RATE:-20000} CONNS=${CONNS:-16}
HF_ADDR=198.51.100.2
LG_ADDR=198.51.100.1
EAL=(--no-huge -m 512 --no-pci --log-level=lib.eal:error)
ISTIO=$HF_TMP/istio
mkdir -p "$ISTIO"

# the 20 policies: 5 DENY (methods DELETE/PUT on exact paths, a header condition), 15 ALLOW
# (ipBlocks, hosts, methods, path prefixes and templates); the last rule allows /lg
{
	for p in $(seq 0 19); do
		act=ALLOW; [ "$p" -lt 5 ] && act=DENY
		printf -- '---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n'
		printf 'metadata: {name: p%d, namespace: istio-system}\nspec:\n  action: %s\n  rules:\n' "$p" "$act"
		for r in 0 1 2 3 4; do
			if [ "$act" = DENY ]; then
				printf '  - to:\n    - operation: {methods: ["DELETE", "PUT"], paths: ["/admin/%d/%d"]}\n' "$p" "$r"
				printf '    when:\n    - {key: "request.headers[x-debug-%d]", values: ["on"]}\n' "$r"
			elif [ "$p" = 19 ] && [ "$r" = 4 ]; then
				printf '  - from:\n    - source: {ipBlocks: ["198.51.100.0/24"]}\n'
				printf '    to:\n    - operation: {methods: ["GET"], paths: ["/lg"]}\n'
			else
				printf '  - from:\n    - source: {ipBlocks: ["192.0.2.0/24", "198.51.100.0/24"]}\n'
				printf '    to:\n    - operation: {hosts: ["svc%d.example.com", "*.s%d.example.com"], methods: ["GET", "HEAD"], paths: ["/v%d/r%d/*", "/v%d/{*}/r%d/{**}"]}\n' \
					"$p" "$r" "$p" "$r" "$p" "$r"
			fi
		done
	done
} > "$HF_TMP/policies.yaml"

NS=$(hf_ns_new azbench) || exit 1
HF_NAMESPACES+=("$NS")
stat_of() { awk -v n="$1:" '$1 == n { print $2 }' "$2"; }

# run MODE (plain | policies): one fresh pair; prints "cycles_per_request rq ok errors"
run() {
	local sock=$HF_TMP/memif.$RANDOM.sock extra="" s0=$HF_TMP/s0 s1=$HF_TMP/s1 lgp out
	rm -f "$ISTIO"/*.yaml
	if [ "$1" = policies ]; then
		cp "$HF_TMP/policies.yaml" "$ISTIO/"
	fi
	extra="config: { istio_dir = \"$ISTIO\"; };"
	hf_memif_cfg "$HF_TMP/hf.cfg" "$sock" "$HF_ADDR" "" 512 "$extra
static_resources: {
  listeners = ( { name = \"http\"; port = 80; filter = \"http\"; route_config = $HF_LG_ROUTES; } );
  clusters = ( { name = \"lg\"; connect_timeout_ms = 1000; endpoints = [ \"$LG_ADDR:8080\" ]; } );
};"
	hf_start "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log"
	for _ in $(seq 200); do grep -q "running" "$HF_TMP/hf.log" && break; kill -0 "$HF_PID" || break; sleep 0.1; done
	ip netns exec "$NS" timeout 120 "$LG" --port "p0,net_memif0,role=client,socket=$sock,$LG_ADDR/24" \
		--client "$HF_ADDR:80" --server 8080 --response-size 100 -c "$CONNS" --timeout 10000 \
		--rate "$RATE" --duration "$SECS" --warmup 1 --path /lg --json --lcores 0@0,1@0 -- "${EAL[@]}" \
		>"$HF_TMP/lg.json" 2>"$HF_TMP/lg.log" &
	lgp=$!
	HF_PIDS+=("$lgp")
	hf_wait_ready "$NS" 20 >/dev/null
	sleep 1.2	# past the warmup
	hf_admin "$NS" /stats | awk -F': ' 'NF == 2 { print $1": "$2 }' > "$s0"
	wait "$lgp"
	hf_admin "$NS" /stats | awk -F': ' 'NF == 2 { print $1": "$2 }' > "$s1"
	out=$(cat "$HF_TMP/lg.json")
	kill -TERM "$HF_PID" 2>/dev/null; wait "$HF_PID" 2>/dev/null
	local c=$(( $(stat_of worker.busy_cycles "$s1") - $(stat_of worker.busy_cycles "$s0") ))
	local n=$(( $(stat_of http.downstream_rq_total "$s1") - $(stat_of http.downstream_rq_total "$s0") ))
	local a=$(( $(stat_of rbac.allowed "$s1") - $(stat_of rbac.allowed "$s0") ))
	echo "$(( n > 0 ? c / n : 0 )) $n $a $(hf_lg_field ok <<<"$out") $(hf_lg_field errors_total <<<"$out")"
}

echo "| run | mode | cycles/request | requests | rbac.allowed | loadgen 2xx | errors |"
echo "|---|---|---|---|---|---|---|"
for i in $(seq "$RUNS"); do
	for mode in plain policies; do
		read -r cyc n a ok err <<<"$(run "$mode")"
		echo "| $i | $mode | $cyc | $n | $a | $ok | $err |"
	done
done
