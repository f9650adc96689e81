#!/usr/bin/env bash
# hf-loadgen against hydrofoil, two DPDK processes over net_memif (both
# --no-huge, each with its own --file-prefix; the memif socket in the test's
# temporary directory; hydrofoil is the memif server). hydrofoil's HTTP
# listener routes to the loadgen's own server role, on the same address as its
# clients, so one loadgen process is both ends of the proxy.
#
# Checks: the loadgen alone against its own server role; then through
# hydrofoil at a low fixed rate (open loop), every request answered 2xx and
# hydrofoil's counters (http.downstream_rq_2xx, http.upstream_rq_total) equal
# to the loadgen's count exactly. Speeds are measured elsewhere, never asserted.
# Both processes run inside a private namespace, so the admin port is ours.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
LG=${HF_LOADGEN:-$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-loadgen}
RATE=${LG_RATE:-2000}
SECS=${LG_SECS:-3}
HF_ADDR=198.51.100.2
LG_ADDR=198.51.100.1
EAL=(--no-huge -m 512 --no-pci --log-level=lib.eal:error)
SOCK=$HF_TMP/memif.sock

[ -x "$LG" ] || { hf_not_ok "hf-loadgen built at $LG"; exit 1; }
NS=$(hf_ns_new lg) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
in_ns() { ip netns exec "$NS" "$@"; }
# j KEY: a top-level or dotted (errors.reset) field of the JSON line on stdin.
j() { "$HF_PY" -c 'import json,sys
d=json.loads(sys.stdin.read().strip().splitlines()[-1])
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1" 2>/dev/null; }

# ---------------------------------------------------------------- 1. loadgen alone
# A server-role loadgen and a client-role loadgen over their own memif link.
# (ip netns exec runs the program in its own process, so $! is the loadgen's PID.)
ip netns exec "$NS" "$LG" --port "p0,net_memif0,role=server,socket=$HF_TMP/self.sock,$LG_ADDR/24" \
	--server 8080 --response-size 100 --lcores 0@0,1@1 -- "${EAL[@]}" >"$HF_TMP/self-srv.log" 2>&1 &
SRV=$!
HF_PIDS+=("$SRV")
sleep 1
out=$(in_ns timeout 60 "$LG" --port "p0,net_memif0,role=client,socket=$HF_TMP/self.sock,198.51.100.3/24" \
	--client "$LG_ADDR:8080" -c 16 --timeout 10000 --rate "$RATE" --duration "$SECS" --json --lcores 0@1,1@0 -- "${EAL[@]}" \
	2>"$HF_TMP/self-cli.log")
want=$(awk -v r="$RATE" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
ok=$(j ok <<<"$out"); errs=$(j errors_total <<<"$out"); total=$(j responses_total <<<"$out")
hf_check "loadgen → its own server role: $ok of $want requests 2xx at $RATE/s, $errs errors, p99 $(j latency_us.p99 <<<"$out") us" \
	test "${ok:-0}" -eq "$want" -a "${errs:-1}" -eq 0 -a "${total:-0}" -eq "$(j requests_total <<<"$out")"
kill -TERM "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null
served=$(sed -n 's/.*server: \([0-9]*\) requests answered.*/\1/p' "$HF_TMP/self-srv.log")
hf_check "the server role answered exactly the requests the client sent (${served:-none} = ${total:-none})" \
	test "${served:-x}" = "${total:-y}"

# ---------------------------------------------------------------- 2. through hydrofoil
cat > "$HF_TMP/hf.cfg" <<CFG
node:  { id = "gw-loadgen"; cluster = "hydrofoil"; };
dpdk:  { lcores = "0-1"; args = [ "--no-pci", "--no-huge", "-m", "512", "--log-level=lib.eal:error" ]; };
ports = ( { name = "p0"; device = "net_memif0,role=server,socket=$SOCK"; address = "$HF_ADDR/24"; mtu = 1500; } );
workers = 1;
admin: { address = "127.0.0.1"; port = 15000; };
static_resources: {
  listeners = ( { name = "http"; port = 80; filter = "http";
      route_config = { virtual_hosts = ( { name = "all"; domains = [ "*" ];
          routes = ( { name = "lg"; match = { prefix = "/"; }; route = { cluster = "lg"; }; } ); } ); }; } );
  clusters = ( { name = "lg"; connect_timeout_ms = 1000; endpoints = [ "$LG_ADDR:8080" ]; } );
};
CFG
hf_start "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log"
for _ in $(seq 200); do grep -q "running" "$HF_TMP/hf.log" && break; kill -0 "$HF_PID" || break; sleep 0.1; done
# The memif link comes up once the loadgen connects; it waits for it before its clock starts.
ip netns exec "$NS" timeout 60 "$LG" --port "p0,net_memif0,role=client,socket=$SOCK,$LG_ADDR/24" \
	--client "$HF_ADDR:80" --server 8080 --response-size 100 -c 16 --timeout 10000 --rate "$RATE" --duration "$SECS" \
	--path /lg --header 'x-test: loadgen' --json --lcores 0@0,1@0 -- "${EAL[@]}" \
	>"$HF_TMP/lg.json" 2>"$HF_TMP/lg.log" &
LGP=$!
HF_PIDS+=("$LGP")
if ! hf_wait_ready "$NS" 20; then
	cat "$HF_TMP/hf.log" "$HF_TMP/lg.log"
	hf_not_ok "hydrofoil on a memif port reports LIVE once the loadgen is connected"
	exit 1
fi
hf_ok "hydrofoil on a memif port reports LIVE once the loadgen is connected"
wait "$LGP"
out=$(cat "$HF_TMP/lg.json")
echo "# $out"
ok=$(j ok <<<"$out"); errs=$(j errors_total <<<"$out"); total=$(j responses_total <<<"$out")
sent=$(j requests_total <<<"$out"); served=$(j server_requests <<<"$out")
hf_check "loadgen → hydrofoil → loadgen at $RATE/s for $SECS s: $ok of $want measured requests 2xx, $errs errors" \
	test "${ok:-0}" -eq "$want" -a "${errs:-1}" -eq 0
hf_check "every request sent was answered ($sent sent, $total answered) and reached the server role ($served)" \
	test -n "$sent" -a "$sent" = "$total" -a "$sent" = "$served"
d2xx=$(hf_stat "$NS" http.downstream_rq_2xx)
dup=$(hf_stat "$NS" http.upstream_rq_total)
hf_check "hydrofoil's http.downstream_rq_2xx ($d2xx) equals the loadgen's answered count ($total)" \
	test "$d2xx" = "$total"
hf_check "hydrofoil's http.upstream_rq_total ($dup) equals the loadgen server role's count ($served)" \
	test "$dup" = "$served"
hf_done
