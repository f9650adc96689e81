#!/usr/bin/env bash
# The L7 proxy end to end over net_tap in a private namespace, with real peers
# on the kernel side: curl, wrk and Python's sockets as clients; nginx as the
# upstream for files, and httptool.py (stdlib, plus websockets) where nginx
# cannot do the job: echoing bodies, chunked responses, a WebSocket echo, an
# upstream that stalls, answers garbage, closes or resets.
#
# Checks bodies byte-exact both ways (Content-Length and chunked), keep-alive
# reuse of upstream connections, pipelining, Expect: 100-continue, WebSocket
# upgrades, local replies (UF, UT, NR, UPE, UC, 408, 414, 431), request
# smuggling refused, forwarding and hop-by-hop headers, the access log against
# the requests sent, wrk under 200 connections, and no mbuf left behind.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
DIR=$HF_ROOT/tests/integration/http
TOOL=$DIR/httptool.py

OUR=198.51.100.2
PEER=198.51.100.1
WEB_PORT=8080   # nginx
PY_PORT=8081    # httptool.py serve
WS_PORT=8082    # httptool.py ws
DOWN_PORT=8089  # nothing listens here
ALOG=$HF_TMP/access.log
WWW=$HF_TMP/www

T0=$SECONDS
NS=$(hf_ns_new http) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")	# hf_ns_new ran in a subshell: record the namespace here, for the cleanup
ROUTES_ALL='
          { name = "all"; domains = [ "*" ];
            routes = (
              { name = "ws";      match = { prefix = "/ws/"; };   route = { cluster = "ws"; }; },
              { name = "slow";    match = { prefix = "/slow"; };  route = { cluster = "py"; timeout_ms = 500; }; },
              { name = "limited"; match = { prefix = "/py/echo-limited"; }; route = { cluster = "py"; max_request_bytes = 1000; }; },
              { name = "py";      match = { prefix = "/py/"; };   route = { cluster = "py"; }; },
              { name = "down";    match = { prefix = "/down"; };  route = { cluster = "down"; }; },
              { name = "default"; match = { prefix = "/"; };      route = { cluster = "web"; }; }
            ); }'
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "
access_log = \"$ALOG\";
http = { max_requests = 256; };
static_resources: {
  listeners = (
    { name = \"http\"; port = 80; filter = \"http\";
      route_config = { virtual_hosts = (
          { name = \"noroute\"; domains = [ \"noroute.test\" ];
            routes = ( { name = \"exact\"; match = { path = \"/exact\"; }; route = { cluster = \"web\"; }; } ); },
$ROUTES_ALL
      ); }; },
    { name = \"http_short\"; port = 8000; filter = \"http\"; request_headers_timeout_ms = 1000; idle_timeout_ms = 1000;
      route_config = { virtual_hosts = ( $ROUTES_ALL ); }; }
  );
  clusters = (
    { name = \"web\";  connect_timeout_ms = 1000; endpoints = [ \"$PEER:$WEB_PORT\" ]; },
    { name = \"py\";   connect_timeout_ms = 1000; endpoints = [ \"$PEER:$PY_PORT\" ]; },
    { name = \"ws\";   connect_timeout_ms = 1000; endpoints = [ \"$PEER:$WS_PORT\" ]; },
    { name = \"down\"; connect_timeout_ms = 1000; endpoints = [ \"$PEER:$DOWN_PORT\" ]; }
  );
};"
if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
	hf_not_ok "bootstrap with http listeners accepted by --check ($out)"
	exit 1
fi
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with HTTP listeners reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with HTTP listeners reports LIVE"

# ---------------------------------------------------------------- peers
mkdir -p "$WWW" "$HF_TMP/nginx" "$HF_TMP/bodies"
: > "$WWW/0.bin"
head -c 1024 /dev/urandom > "$WWW/1k.bin"
head -c $((10 << 20)) /dev/urandom > "$WWW/10m.bin"
for i in 1 2 3 4 5; do echo "pipeline $i" > "$WWW/p$i.txt"; done
echo "exact path" > "$WWW/exact"
: > "$HF_TMP/bodies/0"
head -c 1024 /dev/urandom > "$HF_TMP/bodies/1k"
head -c $((10 << 20)) /dev/urandom > "$HF_TMP/bodies/10m"
head -c 3000000 /dev/urandom > "$HF_TMP/bodies/3m"
sed -e "s|@TMP@|$HF_TMP|g" -e "s|@ADDR@|$PEER|g" -e "s|@PORT@|$WEB_PORT|g" \
	"$DIR/nginx.conf.in" > "$HF_TMP/nginx.conf"
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$TOOL" serve "$PEER" "$PY_PORT" >"$HF_TMP/py.log" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$TOOL" ws "$PEER" "$WS_PORT" >"$HF_TMP/ws.log" 2>&1 &
HF_PIDS+=($!)
peers_up() {
	local p
	for p in "$WEB_PORT" "$PY_PORT" "$WS_PORT"; do
		[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$p")" ] || return 1
	done
}
for _ in $(seq 50); do peers_up && break; sleep 0.1; done
hf_check "upstreams listening: nginx :$WEB_PORT, httptool :$PY_PORT, websockets :$WS_PORT" peers_up

# ---------------------------------------------------------------- helpers
in_ns() { ip netns exec "$NS" "$@"; }
run() { in_ns timeout "$1" "$HF_PY" "$TOOL" "${@:2}" 2>&1; }
# j EXPR: evaluates EXPR over d, the JSON object on the last line of stdin.
j() { "$HF_PY" -c 'import json,sys
try: d=json.loads(sys.stdin.read().strip().splitlines()[-1])
except Exception: sys.exit(0)
try: print(eval(sys.argv[1]))
except Exception: pass' "$1" 2>/dev/null; }
st() { hf_stat "$NS" "$1"; }
CURL=(curl -sS --noproxy '*' --max-time 30)
hc() { in_ns "${CURL[@]}" "$@" 2>>"$HF_TMP/curl.err"; }
sha() { sha256sum "$1" | cut -c1-64; }
short() { cut -c1-12 <<<"$1"; }
# lg SUBSTR: the access-log line whose path contains SUBSTR, as JSON (waits up to 3 s for it).
lg() {
	local out i
	for i in $(seq 30); do
		out=$(run 5 log "$ALOG" "$1") && { echo "$out"; return 0; }
		sleep 0.1
	done
	echo "$out"
}
delta() { echo $(( ${2:-0} - ${1:-0} )); }

idle_mbufs=$(st port.p0.mbufs_free)

# ---------------------------------------------------------------- 1. GET bodies
for f in 0.bin 1k.bin 10m.bin; do
	code=$(hc -o "$HF_TMP/got" -w '%{http_code}' "http://$OUR/$f")
	want=$(sha "$WWW/$f"); got=$(sha "$HF_TMP/got")
	size=$(stat -c %s "$HF_TMP/got")
	hf_check "GET /$f: status $code, $size bytes, sha256 $(short "$got") (nginx's file: $(short "$want"))" \
		test "$code" = 200 -a "$got" = "$want" -a "$size" = "$(stat -c %s "$WWW/$f")"
done

# ---------------------------------------------------------------- 2. POST bodies echoed
for b in 0 1k 10m; do
	code=$(hc -H 'Expect:' -H 'Content-Type: application/octet-stream' --data-binary "@$HF_TMP/bodies/$b" \
		-D "$HF_TMP/hdr" -o "$HF_TMP/got" -w '%{http_code}' "http://$OUR/py/echo?tag=post-$b")
	want=$(sha "$HF_TMP/bodies/$b"); got=$(sha "$HF_TMP/got")
	upsha=$(sed -n 's/^[Xx]-[Bb]ody-[Ss]ha256: *\([0-9a-f]*\).*/\1/p' "$HF_TMP/hdr")
	hf_check "POST of $b: status $code, echoed sha256 $(short "$got"), upstream hashed $(short "$upsha"), sent $(short "$want")" \
		test "$code" = 200 -a "$got" = "$want" -a "$upsha" = "$want"
done

# ---------------------------------------------------------------- 3. chunked both ways
code=$(in_ns "${CURL[@]}" -H 'Transfer-Encoding: chunked' -T - -D "$HF_TMP/hdr" -o "$HF_TMP/got" \
	-w '%{http_code}' "http://$OUR/py/echo?tag=chunked-up" <"$HF_TMP/bodies/3m" 2>>"$HF_TMP/curl.err")
want=$(sha "$HF_TMP/bodies/3m"); got=$(sha "$HF_TMP/got")
upsha=$(sed -n 's/^[Xx]-[Bb]ody-[Ss]ha256: *\([0-9a-f]*\).*/\1/p' "$HF_TMP/hdr")
framing=$(sed -n 's/^[Xx]-[Rr]eq-[Ff]raming: *\([a-z]*\).*/\1/p' "$HF_TMP/hdr")
hf_check "chunked upload of 3 MB (curl -T -): status $code, upstream got it as '$framing', upstream sha256 $(short "$upsha"), echo $(short "$got"), sent $(short "$want")" \
	test "$code" = 200 -a "$got" = "$want" -a "$upsha" = "$want"
"$HF_PY" "$TOOL" gen 3000000 > "$HF_TMP/chunked.want"
code=$(hc -D "$HF_TMP/hdr" -o "$HF_TMP/got" -w '%{http_code}' "http://$OUR/py/chunked?size=3000000")
te=$(sed -n 's/^[Tt]ransfer-[Ee]ncoding: *\([a-z]*\).*/\1/p' "$HF_TMP/hdr")
want=$(sha "$HF_TMP/chunked.want"); got=$(sha "$HF_TMP/got")
hf_check "chunked download of 3000000 bytes in chunks of 1 B..64 KiB: status $code, to the client as '${te:-length}', $(stat -c %s "$HF_TMP/got") bytes, sha256 $(short "$got") (want $(short "$want"))" \
	test "$code" = 200 -a "$got" = "$want"

# ---------------------------------------------------------------- 4. keep-alive
cx0=$(st http.upstream_cx_total); rq0=$(st http.upstream_rq_total)
: > "$HF_TMP/ka.out"
for k in 1 2 3 4; do
	args=()
	for i in $(seq 50); do args+=(-o /dev/null "http://$OUR/1k.bin?ka=$k-$i"); done
	hc -w '%{http_code} %{num_connects}\n' "${args[@]}" >> "$HF_TMP/ka.out"
done
n200=$(grep -c '^200 ' "$HF_TMP/ka.out")
conns=$(awk '{ s += $2 } END { print s + 0 }' "$HF_TMP/ka.out")
dcx=$(delta "$cx0" "$(st http.upstream_cx_total)"); drq=$(delta "$rq0" "$(st http.upstream_rq_total)")
hf_check "keep-alive: 200 sequential GETs over $conns client connections: $n200 × 200, http.upstream_rq_total +$drq, http.upstream_cx_total +$dcx (≤ 10)" \
	test "$n200" = 200 -a "$drq" = 200 -a "$dcx" -le 10 -a "$conns" -le 4

# ---------------------------------------------------------------- 5. pipelining
out=$(run 10 pipeline "$OUR" 80)
hf_check "pipelining: 5 GETs in one $(j 'd["segment_bytes"]' <<<"$out")-byte send → $(j 'd["n"]' <<<"$out") responses $(j 'd["statuses"]' <<<"$out"), in order: $(j 'd["in_order"]' <<<"$out")" \
	test "$(j 'd["in_order"] and d["statuses"] == [200] * 5' <<<"$out")" = True

# ---------------------------------------------------------------- 6. Expect: 100-continue
out=$(run 20 expect "$OUR" 80 100000)
hf_check "Expect: 100-continue: interim '$(j 'd["interim"]' <<<"$out")' after $(j 'd["t100"]' <<<"$out") s, then $(j 'd["final"]' <<<"$out") with the 100000-byte body intact: $(j 'd["same"]' <<<"$out"); upstream saw Expect: $(j 'd["saw_expect"]' <<<"$out")" \
	test "$(j 'd["interim"] == "HTTP/1.1 100 Continue" and d["t100"] < 2 and d["final"] == 200 and d["same"] and d["saw_expect"] == "no"' <<<"$out")" = True

# ---------------------------------------------------------------- 7. WebSocket
up0=$(st http.downstream_cx_upgrades_total)
out=$(run 40 wsclient "ws://$OUR/ws/echo")
dup=$(delta "$up0" "$(st http.downstream_cx_upgrades_total)")
hf_check "WebSocket echo through the proxy: $(j 'd["echoed"]' <<<"$out") of $(j 'd["sent"]' <<<"$out") messages (5 B .. 1 MB, text and binary) echoed exactly$(j '"; " + d["error"] if "error" in d else ""' <<<"$out"); http.downstream_cx_upgrades_total +$dup" \
	test "$(j 'd["echoed"] == d["sent"]' <<<"$out")" = True -a "$dup" -ge 1

# ---------------------------------------------------------------- 8. upstream down, slow upstream
f0=$(st http.upstream_cx_connect_fail)
r=$(hc -o /dev/null -w '%{http_code} %{time_total}' "http://$OUR/down/x?tag=uf")
l=$(lg "tag=uf")
hf_check "upstream down (no listener on :$DOWN_PORT): $r s, access log '$(j 'd["code"] + " " + d["flags"]' <<<"$l")', http.upstream_cx_connect_fail +$(delta "$f0" "$(st http.upstream_cx_connect_fail)")" \
	test "${r%% *}" = 503 -a "$(j 'd["code"] + " " + d["flags"]' <<<"$l")" = "503 UF"
t0=$(st http.upstream_rq_timeout)
r=$(hc -o /dev/null -w '%{http_code} %{time_total}' "http://$OUR/slow?tag=ut")
l=$(lg "tag=ut")
hf_check "slow upstream (answers after 3 s, route timeout_ms = 500): $r s, access log '$(j 'd["code"] + " " + d["flags"]' <<<"$l")', http.upstream_rq_timeout +$(delta "$t0" "$(st http.upstream_rq_timeout)")" \
	bash -c '[ "${1%% *}" = 504 ] && [ "$2" = "504 UT" ] && awk -v s="${1#* }" "BEGIN { exit !(s >= 0.45 && s <= 2) }"' \
	_ "$r" "$(j 'd["code"] + " " + d["flags"]' <<<"$l")"
# More requests in flight than http.max_requests (256): the ones beyond are refused with a
# 503 and counted, the others run their course (504 after the route's 500 ms), and the
# pool is whole again after. The pool is per worker: 44 more than all workers hold together
# leaves at least 44 beyond, however RSS spreads the connections.
burst=$((256 * $(hf_workers) + 44))
ns0=$(st http.drop.no_stream)
out=$(in_ns "$HF_PY" - "$OUR" "$burst" <<'PY'
import socket, sys, threading, collections
addr, n = sys.argv[1], int(sys.argv[2])
got, socks, lock = collections.Counter(), [], threading.Lock()
for i in range(n):
    socks.append(socket.create_connection((addr, 80), timeout=10))
# Every connection is open before any request goes: the requests overlap for the 500 ms.
for i, s in enumerate(socks):
    s.sendall(f"GET /slow?tag=burst-{i} HTTP/1.1\r\nhost: t\r\n\r\n".encode())
def read(s):
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            b = s.recv(4096)
            if not b:
                break
            data += b
    except OSError:
        pass
    with lock:
        got[data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "none"] += 1
ts = [threading.Thread(target=read, args=(s,)) for s in socks]
[t.start() for t in ts]
[t.join() for t in ts]
print(" ".join(f"{k}:{v}" for k, v in sorted(got.items())))
PY
)
ns1=$(st http.drop.no_stream)
r=$(hc -o /dev/null -w '%{http_code}' "http://$OUR/1k.bin")
hf_check "$burst requests in flight, http.max_requests = 256 ($(hf_workers) worker(s)): statuses {$out}, http.drop.no_stream +$(delta "$ns0" "$ns1"), then a request gets $r" \
	bash -c '[ "$(sed -n "s/.*503:\([0-9]*\).*/\1/p" <<<"$1")" = "$2" ] && [ "$2" -ge 44 ] && [ "$(sed -n "s/.*504:\([0-9]*\).*/\1/p" <<<"$1")" -ge 200 ] && [ "$3" = 200 ]' \
	_ "$out" "$(delta "$ns0" "$ns1")" "$r"

# ---------------------------------------------------------------- 9. limits
h0=$(st http.drop.headers_too_large)
out=$(run 10 raw big_headers "$OUR" 80 3)
fine=$(run 10 raw fine_headers "$OUR" 80 1)
dh=$(delta "$h0" "$(st http.drop.headers_too_large)")
hf_check "70 KB of headers → $(j 'd["statuses"]' <<<"$out") (connection: $(j 'd["end"]' <<<"$out")), http.drop.headers_too_large +$dh; 30 KB of headers → $(j 'd["statuses"]' <<<"$fine")" \
	test "$(j 'd["statuses"] == [431]' <<<"$out")$(j 'd["statuses"] == [200]' <<<"$fine")" = TrueTrue -a "$dh" = 1
u0=$(st http.drop.uri_too_long)
out=$(run 10 raw long_line "$OUR" 80 3)
fine=$(run 10 raw fine_line "$OUR" 80 1)
du=$(delta "$u0" "$(st http.drop.uri_too_long)")
hf_check "request line of 9 KB → $(j 'd["statuses"]' <<<"$out") (connection: $(j 'd["end"]' <<<"$out")), http.drop.uri_too_long +$du; 4 KB line → $(j 'd["statuses"]' <<<"$fine")" \
	test "$(j 'd["statuses"] == [414]' <<<"$out")$(j 'd["statuses"] == [200]' <<<"$fine")" = TrueTrue -a "$du" = 1

# ---------------------------------------------------------------- 10. smuggling and malformed heads
smuggle() { # CASE COUNTER DESCRIPTION
	local s0 b0 ds db out want
	s0=$(st http.drop.smuggling); b0=$(st http.drop.bad_request)
	out=$(run 10 raw "$1" "$OUR" 80 3)
	ds=$(delta "$s0" "$(st http.drop.smuggling)"); db=$(delta "$b0" "$(st http.drop.bad_request)")
	if [ "$2" = smuggling ]; then want="1 0"; else want="0 1"; fi
	hf_check "$3 → $(j 'd["statuses"]' <<<"$out"), connection $(j 'd["end"]' <<<"$out") after $(j 'd["secs"]' <<<"$out") s; http.drop.smuggling +$ds, http.drop.bad_request +$db (want http.drop.$2 +1)" \
		test "$(j 'd["statuses"] == [400] and d["closed"]' <<<"$out")" = True -a "$ds $db" = "$want"
}
smuggle cl_te smuggling "Content-Length with Transfer-Encoding: chunked"
smuggle two_cl smuggling "two differing Content-Lengths (5, 6)"
smuggle te_identity smuggling "Transfer-Encoding: chunked, identity"
smuggle obs_fold bad_request "obs-fold (a header line continued with spaces)"
smuggle space_colon bad_request "space before the colon ('Transfer-Encoding : chunked')"
smuggle bare_lf bad_request "bare LF line ends throughout the head"
smuggle bare_lf_mixed bad_request "a bare LF between CRLF lines"

# ---------------------------------------------------------------- 11. no route
nr0=$(st http.no_route)
ok=$(hc -H 'Host: noroute.test' -o /dev/null -w '%{http_code}' "http://$OUR/exact")
r=$(hc -H 'Host: noroute.test' -o /dev/null -w '%{http_code}' "http://$OUR/other?tag=nr")
l=$(lg "tag=nr")
hf_check "no route (vhost noroute.test has only path /exact, which answers $ok): /other → $r, access log '$(j 'd["code"] + " " + d["flags"]' <<<"$l")', http.no_route +$(delta "$nr0" "$(st http.no_route)")" \
	test "$ok" = 200 -a "$r" = 404 -a "$(j 'd["code"] + " " + d["flags"]' <<<"$l")" = "404 NR"

# ---------------------------------------------------------------- upstreams that misbehave, the head timeout
p0=$(st http.drop.upstream_protocol_error)
r=$(hc -o /dev/null -w '%{http_code}' "http://$OUR/py/garbage?tag=upe")
l=$(lg "tag=upe")
hf_check "upstream answers garbage → $r, access log '$(j 'd["code"] + " " + d["flags"]' <<<"$l")', http.drop.upstream_protocol_error +$(delta "$p0" "$(st http.drop.upstream_protocol_error)")" \
	test "$r" = 502 -a "$(j 'd["code"] + " " + d["flags"]' <<<"$l")" = "502 UPE"
r=$(hc -o /dev/null -w '%{http_code}' "http://$OUR/py/close?tag=uc")
l=$(lg "tag=uc")
hf_check "upstream closes before answering → $r, access log '$(j 'd["code"] + " " + d["flags"]' <<<"$l")'" \
	test "$r" = 503 -a "$(j 'd["code"] + " " + d["flags"]' <<<"$l")" = "503 UC"
out=$(run 15 midreset "$OUR" 80)
hf_check "upstream resets after 200000 of 1000000 bytes: client got '$(j 'd["status"]' <<<"$out")' and $(j 'd["body_bytes"]' <<<"$out") body bytes, then $(j 'd["end"]' <<<"$out") (want reset)" \
	test "$(j 'd["end"] == "reset" and d["body_bytes"] < 1000000' <<<"$out")" = True
ht0=$(st http.drop.header_timeout)
out=$(run 10 raw partial_head "$OUR" 8000 5)
hf_check "request head left incomplete on a listener with request_headers_timeout_ms = 1000 → $(j 'd["statuses"]' <<<"$out"), connection $(j 'd["end"]' <<<"$out") after $(j 'd["secs"]' <<<"$out") s, http.drop.header_timeout +$(delta "$ht0" "$(st http.drop.header_timeout)")" \
	test "$(j 'd["statuses"] == [408] and d["closed"] and 0.9 <= d["secs"] <= 3' <<<"$out")" = True

it0=$(st http.downstream_cx_idle_timeout)
out=$(run 10 raw one_get "$OUR" 8000 5)
hf_check "keep-alive connection idle after its response, idle_timeout_ms = 1000 → $(j 'd["statuses"]' <<<"$out"), then $(j 'd["end"]' <<<"$out") after $(j 'd["secs"]' <<<"$out") s, http.downstream_cx_idle_timeout +$(delta "$it0" "$(st http.downstream_cx_idle_timeout)")" \
	test "$(j 'd["statuses"] == [200] and d["end"] == "eof" and 0.9 <= d["secs"] <= 3' <<<"$out")" = True
bl0=$(st http.drop.body_too_large)
head -c 2000 /dev/urandom > "$HF_TMP/bodies/2000"; head -c 500 /dev/urandom > "$HF_TMP/bodies/500"
big=$(hc -H 'Expect:' --data-binary "@$HF_TMP/bodies/2000" -o /dev/null -w '%{http_code}' "http://$OUR/py/echo-limited?tag=413")
small=$(hc -H 'Expect:' --data-binary "@$HF_TMP/bodies/500" -o "$HF_TMP/got" -w '%{http_code}' "http://$OUR/py/echo-limited?tag=small")
dbl=$(delta "$bl0" "$(st http.drop.body_too_large)")
hf_check "route with max_request_bytes = 1000: 2000-byte POST → $big (http.drop.body_too_large +$dbl); 500-byte POST → $small, echoed intact" \
	test "$big" = 413 -a "$dbl" = 1 -a "$small" = 200 -a "$(sha "$HF_TMP/got")" = "$(sha "$HF_TMP/bodies/500")"
bc0=$(st http.drop.bad_chunk)
out=$(run 10 raw bad_chunk "$OUR" 80 3)
hf_check "chunked request body with a chunk size 'zz' → $(j 'd["statuses"]' <<<"$out"), connection $(j 'd["end"]' <<<"$out"), http.drop.bad_chunk +$(delta "$bc0" "$(st http.drop.bad_chunk)")" \
	test "$(j 'd["statuses"] == [400] and d["closed"]' <<<"$out")" = True -a "$(delta "$bc0" "$(st http.drop.bad_chunk)")" = 1
bv0=$(st http.drop.bad_version)
out=$(run 10 raw http2_line "$OUR" 80 3)
hf_check "request line with HTTP/2.0 → $(j 'd["statuses"]' <<<"$out"), connection $(j 'd["end"]' <<<"$out"), http.drop.bad_version +$(delta "$bv0" "$(st http.drop.bad_version)")" \
	test "$(j 'd["statuses"] == [505]' <<<"$out")" = True -a "$(delta "$bv0" "$(st http.drop.bad_version)")" = 1

# ---------------------------------------------------------------- 13. the access log against the requests sent
# Wait until every earlier request is written, so the window below holds only its own.
prev=-1
for _ in $(seq 30); do
	n=$(wc -l < "$ALOG" 2>/dev/null || echo 0)
	[ "$n" = "$prev" ] && [ "$n" = "$(st access_log.records)" ] && break
	prev=$n
	sleep 0.2
done
n0=$(wc -l < "$ALOG" 2>/dev/null || echo 0); rec0=$(st access_log.records)
for i in 1 2 3 4 5; do hc -o /dev/null "http://$OUR/1k.bin?tag=al-get-$i"; done
head -c 1000 /dev/urandom > "$HF_TMP/bodies/1000"
hc -o /dev/null -H 'Expect:' --data-binary "@$HF_TMP/bodies/1000" "http://$OUR/py/echo?tag=al-post"
hc -o /dev/null -X PUT --data-binary "@$HF_TMP/bodies/1000" "http://$OUR/py/echo?tag=al-put"
hc -o "$HF_TMP/al-del.body" -X DELETE "http://$OUR/py/headers?tag=al-del"
hc -o "$HF_TMP/al-404.body" "http://$OUR/nope.txt?tag=al-404"
hc -o /dev/null -H 'Host: noroute.test' "http://$OUR/al-nr"
hc -o /dev/null "http://$OUR/down/al-uf"
rid_body=$(hc -A 'hf-test/1' "http://$OUR/py/headers?tag=al-rid")
kept_body=$(hc -H 'x-request-id: test-rid-0123456789' "http://$OUR/py/headers?tag=al-kept")
sent=13
for _ in $(seq 50); do [ "$(wc -l < "$ALOG")" -ge $((n0 + sent)) ] && break; sleep 0.1; done
sleep 0.5
nl=$(delta "$n0" "$(wc -l < "$ALOG")"); nrec=$(delta "$rec0" "$(st access_log.records)")
hf_check "access log: $sent requests sent → $nl new lines (access_log.records +$nrec), $(j 'd["unparsed_lines"]' <<<"$(lg tag=al-get-1)") lines of the whole log not in Istio's format" \
	test "$nl" = "$sent" -a "$nrec" = "$sent" -a "$(j 'd["unparsed_lines"]' <<<"$(lg tag=al-get-1)")" = 0
fields='" ".join([d["method"], d["path"], d["proto"], d["code"], d["flags"], d["rx"], d["tx"], d["uhost"], d["ucluster"], d["xff"], d["dlocal"], d["dremote"].split(":")[0], d["route"]])'
alcheck() { # TAG WANT
	local got
	got=$(j "$fields" <<<"$(lg "$1")")
	hf_check "access log of $1: '$got'" test "$got" = "$2"
}
start=$(j 'd["start"]' <<<"$(lg tag=al-get-3)")
hf_check "access log START_TIME is the wall clock ($start; now $(date -u +%FT%TZ))" \
	test "$(j 'abs(__import__("datetime").datetime.strptime(d["start"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=__import__("datetime").timezone.utc).timestamp() - __import__("time").time()) < 600' <<<"$(lg tag=al-get-3)")" = True
alcheck "tag=al-get-3" "GET /1k.bin?tag=al-get-3 HTTP/1.1 200 - 0 1024 $PEER:$WEB_PORT web $PEER $OUR:80 $PEER default"
alcheck "tag=al-post" "POST /py/echo?tag=al-post HTTP/1.1 200 - 1000 1000 $PEER:$PY_PORT py $PEER $OUR:80 $PEER py"
alcheck "tag=al-del" "DELETE /py/headers?tag=al-del HTTP/1.1 200 - 0 $(stat -c %s "$HF_TMP/al-del.body") $PEER:$PY_PORT py $PEER $OUR:80 $PEER py"
alcheck "tag=al-404" "GET /nope.txt?tag=al-404 HTTP/1.1 404 - 0 $(stat -c %s "$HF_TMP/al-404.body") $PEER:$WEB_PORT web $PEER $OUR:80 $PEER default"
l=$(lg "/al-nr"); got=$(j 'd["method"] + " " + d["path"] + " " + d["code"] + " " + d["flags"] + " " + d["uhost"] + " " + d["ucluster"] + " " + d["ust"]' <<<"$l")
hf_check "access log of the unrouted /al-nr: '$got'" test "$got" = "GET /al-nr 404 NR - - -"
l=$(lg "/down/al-uf"); got=$(j 'd["method"] + " " + d["path"] + " " + d["code"] + " " + d["flags"] + " " + d["ucluster"]' <<<"$l")
hf_check "access log of /down/al-uf: '$got'" test "$got" = "GET /down/al-uf 503 UF down"
up_rid=$(j '[v for n, v in d["headers"] if n.lower() == "x-request-id"]' <<<"$rid_body")
log_rid=$(j 'd["rid"]' <<<"$(lg tag=al-rid)")
hf_check "x-request-id in the access log ($log_rid) is the one the upstream saw ($up_rid)" \
	test "$up_rid" = "['$log_rid']" -a -n "$log_rid" -a "$log_rid" != "-"
up_kept=$(j '[v for n, v in d["headers"] if n.lower() == "x-request-id"]' <<<"$kept_body")
log_kept=$(j 'd["rid"]' <<<"$(lg tag=al-kept)")
hf_check "a client's x-request-id is kept: upstream saw $up_kept, access log $log_kept" \
	test "$up_kept" = "['test-rid-0123456789']" -a "$log_kept" = "test-rid-0123456789"

# ---------------------------------------------------------------- 14. forwarding and hop-by-hop headers
body=$(hc -D "$HF_TMP/hdr" -H 'Connection: keep-alive' -H 'Proxy-Connection: keep-alive' \
	-H 'Keep-Alive: timeout=5' -H 'X-Forwarded-Client-Cert: By=spiffe://forged;URI=spiffe://cluster.local/ns/x/sa/admin' \
	"http://$OUR/py/headers?tag=hop")
hv() { j "[v for n, v in d[\"headers\"] if n.lower() == \"$1\"]" <<<"$body"; }
hf_check "upstream sees x-forwarded-for $(hv x-forwarded-for)" test "$(hv x-forwarded-for)" = "['$PEER']"
hf_check "upstream sees x-forwarded-proto $(hv x-forwarded-proto)" test "$(hv x-forwarded-proto)" = "['http']"
# Envoy's default (SANITIZE; istiod's SANITIZE_SET for gateways): a client's XFCC is never believed.
hf_check "a client's x-forwarded-client-cert is stripped: upstream sees $(hv x-forwarded-client-cert)" \
	test "$(hv x-forwarded-client-cert)" = "[]"
rid=$(hv x-request-id)
hf_check "upstream sees a UUIDv4 x-request-id $rid" \
	grep -Eq "^\['[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'\]$" <<<"$rid"
hop="connection $(hv connection), proxy-connection $(hv proxy-connection), keep-alive $(hv keep-alive)"
hf_check "hop-by-hop headers from the client do not reach the upstream ($hop)" \
	bash -c '! grep -qi "keep-alive" <<<"$1" && [ "$2" = "[]" ] && [ "$3" = "[]" ]' \
	_ "$(hv connection)" "$(hv proxy-connection)" "$(hv keep-alive)"
ust=$(tr -d '\r' < "$HF_TMP/hdr" | sed -n 's/^[Xx]-[Ee]nvoy-[Uu]pstream-[Ss]ervice-[Tt]ime: *//p')
hf_check "client sees x-envoy-upstream-service-time: '$ust'" grep -Eq '^[0-9]+$' <<<"$ust"

# ---------------------------------------------------------------- 12. wrk
ulimit -n 65536 2>/dev/null || true
out=$(in_ns timeout 40 wrk -t2 -c200 -d10s --timeout 5s "http://$OUR/1k.bin" 2>&1)
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
errs=$(grep -E 'Socket errors|Non-2xx' <<<"$out" | tr -s ' ' | paste -sd';')
# At least 1000 requests (5 per connection): a proxy that stalls most connections fails too.
hf_check "wrk -t2 -c200 -d10s: ${reqs:-no} requests (${rps:-?}/s, want ≥ 1000), ${errs:-no socket errors, no non-2xx}" \
	bash -c '[ "${1:-0}" -ge 1000 ] && [ -z "$2" ]' _ "$reqs" "$errs"
[ -n "$reqs" ] || sed 's/^/# wrk: /' <<<"$out"

# ---------------------------------------------------------------- 15. resources, shutdown
for _ in $(seq 25); do [ "$(st port.p0.mbufs_free)" = "$idle_mbufs" ] && break; sleep 0.2; done
hf_check "mbufs all back in the pool ($idle_mbufs free before, $(st port.p0.mbufs_free) after)" \
	test "$(st port.p0.mbufs_free)" = "$idle_mbufs"
# What hydrofoil holds besides TIME_WAIT must be its idle upstream pool: exactly the
# connections the kernel sees established to the upstreams. A leaked session shows as more.
upstream_cx() { in_ns ss -Htn state established "( sport = :$WEB_PORT or sport = :$PY_PORT or sport = :$WS_PORT )" | wc -l; }
# Both counters from one /stats read: a connection leaving TIME_WAIT between two reads would
# count once as held. Each try samples both sides once, and the verdict is on those samples.
held() { hf_admin "$NS" /stats | awk '$1 == "tcp.cx_active:" { a = $2 } $1 == "tcp.cx_time_wait:" { t = $2 } END { print a - t }'; }
for _ in $(seq 50); do
	h=$(held)
	u=$(upstream_cx)
	[ "$h" = "$u" ] && break
	sleep 0.2
done
hf_check "no connection left behind: hydrofoil holds $h besides TIME_WAIT, the kernel sees $u pooled upstream connections, $(in_ns ss -Htn "( dport = :80 or dport = :8000 )" | wc -l) client connections" \
	test "$h" = "$u"
if [ "$HF_FAIL" -gt 0 ]; then
	hf_admin "$NS" /stats | grep -E '^(http\.|access_log\.|tcp\.cx_active|port\.p0\.mbufs)' | sed 's/^/# /'
	grep -v '^$' "$HF_TMP/hf.log" | tail -20 | sed 's/^/# hydrofoil: /'
fi
hf_check_stop
echo "# finished in $((SECONDS - T0)) s"
hf_done
