#!/usr/bin/env bash
# shellcheck disable=SC2153 # HF_PID is set by hf_start in scripts/lib/netns.sh
# hydrofoil's memif port outlives its peer: the loadgen (memif client) is
# killed (SIGKILL) under load and started again on the same socket five times,
# then a sixth run goes to its end. net_memif tears its rings down and maps
# new ones on the EAL interrupt thread when a peer goes or comes; the worker
# must never be in a burst on them then (the I/O gate of dataplane/port.c).
#
# Checks: first, where gdb is installed and the driver is the build whose
# machine code we know, the race itself: the worker is held (breakpoint)
# inside the driver's RX burst past its connected test, the peer is killed
# and only the EAL interrupt thread runs for a second, then everything
# resumes (without the gate that thread unmaps the rings under the held
# burst: SIGSEGV; with it, it waits for the burst to end). Then hydrofoil is
# alive after every kill and serves requests on every new link; the last run
# (open loop at a fixed rate) is answered in full, every request 2xx; the link
# is reported down while no peer is there; a SIGTERM stops it cleanly. Both
# processes run in a private namespace (198.51.100.0/24), --no-huge, each with
# its own --file-prefix.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
LG=${HF_LOADGEN:-$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-loadgen}
KILLS=${MEMIF_KILLS:-5}
RATE=${LG_RATE:-2000}
SECS=${LG_SECS:-3}
HF_ADDR=198.51.100.2
LG_ADDR=198.51.100.1
EAL=(--no-huge -m 512 --no-pci --log-level=lib.eal:error)
SOCK=$HF_TMP/memif.sock

[ -x "$LG" ] || { hf_not_ok "hf-loadgen built at $LG"; exit 1; }
NS=$(hf_ns_new mre) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
# lg NAME ARGS...: a client loadgen in the background (JSON in NAME.json); sets LGP.
lg() {
	local name=$1
	shift
	ip netns exec "$NS" "$LG" --port "p0,net_memif0,role=client,socket=$SOCK,$LG_ADDR/24" \
		--client "$HF_ADDR:80" --server 8080 --response-size 100 --json --lcores 0@0,1@0 \
		"$@" -- "${EAL[@]}" >"$HF_TMP/$name.json" 2>"$HF_TMP/$name.log" &
	LGP=$!
	HF_PIDS+=("$LGP")
}
alive() { kill -0 "$HF_PID" 2>/dev/null; }
# wait_stat NAME MIN SECONDS: waits until hydrofoil's counter NAME reaches MIN.
wait_stat() {
	local v
	for _ in $(seq $(($3 * 10))); do
		v=$(hf_stat "$NS" "$1")
		[ "${v:-0}" -ge "$2" ] && return 0
		alive || return 1
		sleep 0.1
	done
	return 1
}

hf_memif_cfg "$HF_TMP/hf.cfg" "$SOCK" "$HF_ADDR" "" 512 "tcp: { time_wait_ms = 1000; };
static_resources: {
  listeners = ( { name = \"http\"; port = 80; filter = \"http\"; route_config = $HF_LG_ROUTES; } );
  clusters = ( { name = \"lg\"; connect_timeout_ms = 1000; endpoints = [ \"$LG_ADDR:8080\" ]; } );
};"
hf_start "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log"
for _ in $(seq 200); do grep -q "running" "$HF_TMP/hf.log" && break; alive || break; sleep 0.1; done

# ---------------------------------------------------------------- the race, held open with gdb
# eth_memif_rx() of Debian's DPDK 22.11: "movzwl 0x1c(%rbp),%r14d; movzwl 0x6(%r9),%eax", the
# load of the C2S ring's head right after the connected test. Found by its bytes, once.
race_check() {
	local lib base off
	command -v gdb >/dev/null || { echo "no gdb"; return 2; }
	# The driver's first mapping (file offset 0): its start and its file.
	read -r base lib < <(awk '/librte_net_memif\.so/ && $3 == "00000000" {
		split($1, a, "-"); print a[1], $6; exit }' "/proc/$HF_PID/maps")
	if [ -z "$lib" ] || [ -z "$base" ]; then
		echo "librte_net_memif not mapped"
		return 2
	fi
	off=$("$HF_PY" -c 'import sys
d = open(sys.argv[1], "rb").read()
p = bytes.fromhex("440fb7751c410fb74106")
print(d.find(p) + 5 if d.count(p) == 1 else -1)' "$lib")
	[ "${off:--1}" -ge 0 ] || { echo "unknown build of $lib"; return 2; }
	# SIGWINCH ends each run of the inferior: ignored by hydrofoil should one come late.
	cat > "$HF_TMP/race.gdb" <<G
set pagination off
set confirm off
handle SIGWINCH stop nopass
break *$((0x$base + off))
continue
delete
shell kill -KILL $LGP
python
for t in gdb.selected_inferior().threads():
    if t.name and 'intr' in t.name:
        t.switch()
end
set scheduler-locking on
shell (sleep 1; kill -WINCH $HF_PID) &
continue
set scheduler-locking off
shell (sleep 1; kill -WINCH $HF_PID) &
continue
detach
quit
G
	timeout 60 gdb -q -batch -x "$HF_TMP/race.gdb" -p "$HF_PID" >"$HF_TMP/race.out" 2>&1
	grep -q "hit Breakpoint" "$HF_TMP/race.out" || {
		echo "the worker never reached the burst"
		return 1
	}
	sleep 0.5
	return 0
}
RACE="the worker held inside memif's RX burst while the peer goes and the rings are torn down"
# (started from a subshell: killed from gdb, it must not leave a job notice on our stderr)
LGP=$( (lg race -c 16 --duration 60 --timeout 2000; echo "$LGP") )
HF_PIDS+=("$LGP")
wait_stat http.downstream_rq_total 2000 20
why=$(race_check)
case $? in
0) hf_check "$RACE: hydrofoil survives" alive ;;
2) hf_skip "$RACE: $why" ;;
*) hf_not_ok "$RACE: $why" ;;
esac
kill -KILL "$LGP" 2>/dev/null
for _ in $(seq 50); do kill -0 "$LGP" 2>/dev/null || break; sleep 0.1; done
rm -rf "/var/run/dpdk/hf-loadgen-$LGP"
if ! alive; then
	grep -E "SIGSEGV|signal" "$HF_TMP/race.out" | sed 's/^/# /'
	exit 1
fi

# ---------------------------------------------------------------- five kills under load
survived=0
served=0
for i in $(seq "$KILLS"); do
	before=$(hf_stat "$NS" http.downstream_rq_total)
	lg "run$i" -c 64 --duration 60 --timeout 2000
	# Under load: a few thousand requests through this link before the kill.
	wait_stat http.downstream_rq_total $((${before:-0} + 5000)) 20 && served=$((served + 1))
	kill -KILL "$LGP" 2>/dev/null
	wait "$LGP" 2>/dev/null
	rm -rf "/var/run/dpdk/hf-loadgen-$LGP"
	alive || break
	survived=$((survived + 1))
done
hf_check "hydrofoil survives $KILLS SIGKILLs of its memif peer under load ($survived)" \
	test "$survived" -eq "$KILLS"
hf_check "every new link carried traffic ($served of $KILLS runs served 5000 requests or more)" \
	test "$served" -eq "$KILLS"
if ! alive; then
	tail -5 "$HF_TMP/hf.log"
	exit 1
fi
down=""
for _ in $(seq 50); do
	down=$(hf_stat "$NS" port.p0.link_up)
	[ "$down" = 0 ] && break
	sleep 0.1
done
hf_check "the link is reported down while the memif peer is gone (port.p0.link_up $down)" \
	test "$down" = 0

lg last -c 16 --rate "$RATE" --duration "$SECS" --timeout 10000
wait "$LGP"
out=$(cat "$HF_TMP/last.json")
echo "# $out"
want=$(awk -v r="$RATE" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
ok=$(hf_lg_field ok <<<"$out"); errs=$(hf_lg_field errors_total <<<"$out"); total=$(hf_lg_field responses_total <<<"$out")
sent=$(hf_lg_field requests_total <<<"$out"); served=$(hf_lg_field server_requests <<<"$out")
hf_check "the last run after $KILLS kills: $ok of $want requests 2xx at $RATE/s, $errs errors" \
	test "${ok:-0}" -eq "$want" -a "${errs:-1}" -eq 0
hf_check "every request of the last run was answered ($sent sent, $total answered)" \
	test -n "$sent" -a "$sent" = "$total"
# On a shortfall, the counters that say where it went (as TAP comments).
[ "${ok:-0}" -eq "$want" ] || hf_admin "$NS" /stats |
	grep -E '^(http|tcp|port|arp|eth)\.' | grep -v ': 0$' | sed 's/^/# /'
# (The server role may see a few more: requests of the killed run that hydrofoil sent again
# on a new upstream connection once the old one turned out dead, upstream_rq_stale_retry.)
hf_check "and reached the loadgen's server role through hydrofoil (${served:-none} served)" \
	test "${served:-0}" -ge "${sent:-1}"
hf_check_stop
hf_done
