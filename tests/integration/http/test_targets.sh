#!/usr/bin/env bash
# Request targets (RFC 9112 3.2) and path normalization (Istio's pathNormalization) end to
# end: hydrofoil over net_tap in a private namespace, in front of three lenient_upstream.py
# instances that log the request line and every Host field they receive. Requests are
# written raw (rawreq.py), since no client would send most of them, and with curl
# --path-as-is for the traversal a real client can send.
#
# Routes: virtual host b.test -> upstream "b"; any other host: /admin -> upstream "admin",
# /public and / -> upstream "main". A request that reaches "admin" through "/public/.." was
# routed by its normalized path; the target the upstream logs is what was sent.
#
# Phase 1 (BASE, Istio's default): absolute-form routed by its authority and forwarded in
# origin-form with that authority as the only Host, whatever Host said; asterisk-form with
# OPTIONS forwarded, with GET refused; CONNECT refused (405) and the connection closed; bad
# targets refused; "..", "%2e%2e", unreserved escapes normalized before routing and sent
# normalized; %2F kept encoded; %zz and %00 refused; the query untouched. Each refusal is
# a 400/405 with its own counter, and no upstream sees a refused request.
# Phase 2 (DECODE_AND_MERGE_SLASHES) and phase 3 (NONE): the bootstrap choice changes what
# routes where. A bad value of the key is refused by --check.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
DIR=$HF_ROOT/tests/integration/http
UP=$DIR/lenient_upstream.py
RAW=$DIR/rawreq.py

OUR=198.51.100.2
PEER=198.51.100.1
MAIN_PORT=8090
ADMIN_PORT=8091
B_PORT=8092

T0=$SECONDS
NS=$(hf_ns_new targets) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")

# cfg MODE: the bootstrap with http.path_normalization = MODE.
cfg() {
	hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "
http = { path_normalization = \"$1\"; };
static_resources: {
  listeners = (
    { name = \"http\"; port = 80; filter = \"http\";
      route_config = { virtual_hosts = (
        { name = \"b\"; domains = [ \"b.test\" ];
          routes = ( { name = \"b\"; match = { prefix = \"/\"; }; route = { cluster = \"b\"; }; } ); },
        { name = \"all\"; domains = [ \"*\" ];
          routes = (
            { name = \"admin\";  match = { prefix = \"/admin\"; };  route = { cluster = \"admin\"; }; },
            { name = \"public\"; match = { prefix = \"/public\"; }; route = { cluster = \"main\"; }; },
            { name = \"root\";   match = { prefix = \"/\"; };       route = { cluster = \"main\"; }; }
          ); }
      ); }; }
  );
  clusters = (
    { name = \"main\";  connect_timeout_ms = 1000; endpoints = [ \"$PEER:$MAIN_PORT\" ]; },
    { name = \"admin\"; connect_timeout_ms = 1000; endpoints = [ \"$PEER:$ADMIN_PORT\" ]; },
    { name = \"b\";     connect_timeout_ms = 1000; endpoints = [ \"$PEER:$B_PORT\" ]; }
  );
};"
}

in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }
# j EXPR: evaluates EXPR over d, the JSON object on the last line of stdin.
j() { "$HF_PY" -c 'import json,sys
try: d=json.loads(sys.stdin.read().strip().splitlines()[-1])
except Exception: sys.exit(0)
try: print(eval(sys.argv[1]))
except Exception: pass' "$1" 2>/dev/null; }
# req REQUEST [close]: rawreq.py's JSON line for REQUEST sent to hydrofoil.
req() { in_ns timeout 10 "$HF_PY" "$RAW" "$OUR" 80 "$@" 2>&1; }
last() { "$HF_PY" "$RAW" last "$HF_TMP/$1.jsonl"; }
# total: requests the three upstreams have logged.
total() { "$HF_PY" "$RAW" count "$HF_TMP/main.jsonl" "$HF_TMP/admin.jsonl" "$HF_TMP/b.jsonl"; }

# routed NAME UPSTREAM TARGET HOST REQUEST: REQUEST is answered 200 by UPSTREAM, which logged
# exactly TARGET and one Host field HOST, and no other upstream saw a request.
routed() {
	local name=$1 up=$2 want=$3 host=$4 before out code body got hosts
	before=$(total)
	out=$(req "$5")
	code=$(j "d['status']" <<<"$out")
	body=$(j "d['body']" <<<"$out")
	IFS=$'\t' read -r got hosts < <(last "$up" | j "d['target'] + '\t' + ','.join(d['hosts'])")
	hf_check "$name: $code from $up, which got target '$got', Host '$hosts' (want '$want', '$host')" \
		test "$code" = 200 -a "$got" = "$want" -a "$hosts" = "$host" \
		-a "$(total)" = "$((before + 1))" -a "$body" = "seen $want"
}

# refused NAME STATUS COUNTER REQUEST: answered STATUS locally, the connection closed, COUNTER
# up by one, and no upstream saw anything.
refused() {
	local name=$1 status=$2 counter=$3 before c0 out code closed d
	before=$(total)
	c0=$(st "$counter")
	out=$(req "$4" close)
	code=$(j "d['status']" <<<"$out")
	closed=$(j "d['closed']" <<<"$out")
	d=$(( $(st "$counter") - ${c0:-0} ))
	hf_check "$name: $code, connection closed: $closed, $counter +$d, upstreams saw $(( $(total) - before ))" \
		test "$code" = "$status" -a "$closed" = True -a "$d" = 1 -a "$(total)" = "$before"
}

up_hf() {
	cfg "$1"
	if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
		hf_not_ok "bootstrap with path_normalization = $1 accepted by --check ($out)"
		return 1
	fi
	if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
		hf_not_ok "hydrofoil (path_normalization = $1) reports LIVE"
		return 1
	fi
	hf_ok "hydrofoil (path_normalization = $1) reports LIVE"
}

# ---------------------------------------------------------------- the key's values
cfg MERGE
out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1)
rc=$?
hf_check "http.path_normalization = \"MERGE\" refused by --check with status $rc: $out" \
	bash -c '[ "$1" = 2 ] && grep -q "http.path_normalization: .MERGE. is not one of NONE, BASE" <<<"$2"' \
	_ "$rc" "$out"

# ---------------------------------------------------------------- phase 1: BASE
up_hf BASE || exit 1
for u in main:$MAIN_PORT admin:$ADMIN_PORT b:$B_PORT; do
	: > "$HF_TMP/${u%%:*}.jsonl"
	# straight, not through in_ns: $! must be the upstream itself, for the cleanup
	ip netns exec "$NS" "$HF_PY" "$UP" "$PEER" "${u##*:}" "$HF_TMP/${u%%:*}.jsonl" >"$HF_TMP/${u%%:*}.err" 2>&1 &
	HF_PIDS+=($!)
done
listening() {
	local p
	for p in $MAIN_PORT $ADMIN_PORT $B_PORT; do
		[ -n "$(in_ns ss -Hltn "sport = :$p")" ] || return 1
	done
}
for _ in $(seq 50); do listening && break; sleep 0.1; done
hf_check "upstreams main :$MAIN_PORT, admin :$ADMIN_PORT, b :$B_PORT listening" listening

# absolute-form (RFC 9112 3.2.2): its authority routes and is the Host sent, Host ignored
abs0=$(st http.downstream_rq_absolute_form)
routed "absolute-form http://b.test/x?q=1 with Host: a.test" b "/x?q=1" "b.test" \
	'GET http://b.test/x?q=1 HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "absolute-form http://a.test/admin with Host: b.test goes by a.test, not to b" admin \
	"/admin" "a.test" 'GET http://a.test/admin HTTP/1.1\r\nHost: b.test\r\n\r\n'
routed "absolute-form HTTP://B.Test (scheme and host in capitals, no path) sent as '/'" b "/" \
	"B.Test" 'GET HTTP://B.Test HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "absolute-form http://a.test:8080/admin: the port goes into Host too" admin "/admin" \
	"a.test:8080" 'GET http://a.test:8080/admin HTTP/1.1\r\nHost: b.test\r\n\r\n'
routed "absolute-form https://b.test?k=v (query, no path) sent as '/?k=v'" b "/?k=v" "b.test" \
	'GET https://b.test?k=v HTTP/1.1\r\nHost: x\r\n\r\n'
routed "HTTP/1.0 absolute-form with no Host gets its authority as Host" b "/y" "b.test" \
	'GET http://b.test/y HTTP/1.0\r\n\r\n'
routed "absolute-form path normalized too: http://a.test/public/../admin" admin "/admin" \
	"a.test" 'GET http://a.test/public/../admin HTTP/1.1\r\nHost: a.test\r\n\r\n'
abs1=$(st http.downstream_rq_absolute_form)
hf_check "http.downstream_rq_absolute_form counted the 7 (+$((abs1 - abs0)))" test "$((abs1 - abs0))" = 7
refused "absolute-form with userinfo http://user@b.test/" 400 http.drop.bad_target \
	'GET http://user@b.test/ HTTP/1.1\r\nHost: b.test\r\n\r\n'
refused "absolute-form with scheme ftp" 400 http.drop.bad_target \
	'GET ftp://b.test/ HTTP/1.1\r\nHost: b.test\r\n\r\n'
refused "absolute-form with an empty host" 400 http.drop.bad_target \
	'GET http:///admin HTTP/1.1\r\nHost: b.test\r\n\r\n'
refused "relative target 'foo'" 400 http.drop.bad_target 'GET foo HTTP/1.1\r\nHost: a.test\r\n\r\n'
refused "origin-form without its leading '/': 'Gpi/x'" 400 http.drop.bad_target \
	'GET Gpi/x HTTP/1.1\r\nHost: a.test\r\n\r\n'
refused "a query alone '?q=/' (no path)" 400 http.drop.bad_target 'GET ?q=/ HTTP/1.1\r\nHost: a.test\r\n\r\n'
refused "target with a fragment '/admin#x'" 400 http.drop.bad_target \
	'GET /admin#x HTTP/1.1\r\nHost: a.test\r\n\r\n'
refused "authority-form with GET" 400 http.drop.bad_target \
	'GET b.test:443 HTTP/1.1\r\nHost: b.test\r\n\r\n'

# asterisk-form (3.2.4): OPTIONS only, forwarded as '*'
routed "OPTIONS * forwarded as '*' to the vhost's '/' route" main "*" "a.test" \
	'OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n'
m=$(last main | j "d['method']")
hf_check "the upstream got method OPTIONS ($m)" test "$m" = OPTIONS
routed "OPTIONS http://b.test (absolute, no path) forwarded as '*' (RFC 9112 3.2.4)" b "*" "b.test" \
	'OPTIONS http://b.test HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "OPTIONS http://b.test/ (a path) forwarded as '/'" b "/" "b.test" \
	'OPTIONS http://b.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n'
refused "GET *" 400 http.drop.asterisk_form 'GET * HTTP/1.1\r\nHost: a.test\r\n\r\n'

# CONNECT (3.2.3): no route allows a tunnel; the bytes after the head are no request
refused "CONNECT b.test:443 with tunnel bytes behind it" 405 http.drop.connect \
	'CONNECT b.test:443 HTTP/1.1\r\nHost: b.test:443\r\n\r\n\x16\x03\x01\x00\x05hello'
allow=$(req 'CONNECT b.test:443 HTTP/1.1\r\nHost: b.test:443\r\n\r\n' | j "d['headers'].get('allow','')")
hf_check "405 names what is allowed: '$allow'" bash -c '[[ "$1" == *GET* && "$1" != *CONNECT* ]]' _ "$allow"
refused "CONNECT with a path" 400 http.drop.bad_target 'CONNECT /x HTTP/1.1\r\nHost: b.test\r\n\r\n'

# path normalization, BASE
n0=$(st http.downstream_rq_path_normalized)
before=$(total)
code=$(in_ns curl -sS --noproxy '*' --max-time 10 --path-as-is -o "$HF_TMP/body" -w '%{http_code}' \
	"http://$OUR/public/../admin")
got=$(last admin | j "d['target']")
hf_check "curl --path-as-is /public/../admin: $code, routed to admin as '$got'" \
	test "$code" = 200 -a "$got" = /admin -a "$(cat "$HF_TMP/body")" = "seen /admin"
routed "/public/%2e%2e/admin (encoded dots) routed to admin" admin "/admin" "a.test" \
	'GET /public/%2e%2e/admin HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "/public/%2E./../admin (mixed dots, above the root) routed to admin" admin "/admin" \
	"a.test" 'GET /public/%2E./../../admin HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "/public/..%2fadmin: %2F kept encoded (upper case), so no traversal" main \
	"/public/..%2Fadmin" "a.test" 'GET /public/..%2fadmin HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "/a%2fb%5cc keeps its encoded slashes" main "/a%2Fb%5Cc" "a.test" \
	'GET /a%2fb%5cc HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "/public\\..\\admin: a backslash is a slash" admin "/admin" "a.test" \
	'GET /public\\..\\admin HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "/%7euser/%41%62 decoded, query '?x=/../&y=%41' untouched" main "/~user/Ab?x=/../&y=%41" \
	"a.test" 'GET /%7euser/%41%62?x=/../&y=%41 HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "//admin: slashes not merged under BASE" main "//admin" "a.test" \
	'GET //admin HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "/plain/path?x=1 passes as it came" main "/plain/path?x=1" "a.test" \
	'GET /plain/path?x=1 HTTP/1.1\r\nHost: a.test\r\n\r\n'
n1=$(st http.downstream_rq_path_normalized)
hf_check "http.downstream_rq_path_normalized counted the 7 changed paths (+$((n1 - n0)))" \
	test "$((n1 - n0))" = 7
refused "/%zz (no normal form)" 400 http.drop.bad_path 'GET /%zz HTTP/1.1\r\nHost: a.test\r\n\r\n'
refused "/admin%0 (a cut escape)" 400 http.drop.bad_path 'GET /admin%0 HTTP/1.1\r\nHost: a.test\r\n\r\n'
refused "/public%00/../admin (NUL)" 400 http.drop.bad_path \
	'GET /public%00/../admin HTTP/1.1\r\nHost: a.test\r\n\r\n'

# keep-alive still works after normalized requests: two on one connection
out=$(in_ns curl -sS --noproxy '*' --max-time 10 --path-as-is -w '%{http_code} %{num_connects}\n' \
	-o /dev/null "http://$OUR/x/../public/1" -o /dev/null "http://$OUR/public/./2" 2>&1 | tr '\n' ' ')
hf_check "two normalized requests on one keep-alive connection: $out" test "$out" = "200 1 200 0 "
hf_check_stop

# ---------------------------------------------------------------- phase 2: DECODE_AND_MERGE_SLASHES
up_hf DECODE_AND_MERGE_SLASHES || exit 1
routed "DECODE: /public%2f..%2fadmin routed to admin" admin "/admin" "a.test" \
	'GET /public%2f..%2fadmin HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "DECODE: //admin//x merged" admin "/admin/x" "a.test" \
	'GET //admin//x HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "DECODE: /a%5Cb becomes /a/b" main "/a/b" "a.test" 'GET /a%5Cb HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "DECODE: /a//.. merged after the dots, as Envoy" main "/a/" "a.test" \
	'GET /a//.. HTTP/1.1\r\nHost: a.test\r\n\r\n'
hf_check_stop

# ---------------------------------------------------------------- phase 3: NONE
up_hf NONE || exit 1
routed "NONE: /public/../admin goes as it came, by the /public route" main "/public/../admin" \
	"a.test" 'GET /public/../admin HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "NONE: /%7e%zz untouched" main "/%7e%zz" "a.test" 'GET /%7e%zz HTTP/1.1\r\nHost: a.test\r\n\r\n'
refused "NONE: /%00 still refused" 400 http.drop.bad_path 'GET /%00 HTTP/1.1\r\nHost: a.test\r\n\r\n'
routed "NONE: absolute-form still routed by its authority, origin-form sent" b "/" "b.test" \
	'GET http://b.test HTTP/1.1\r\nHost: a.test\r\n\r\n'

if [ "$HF_FAIL" -gt 0 ]; then
	hf_admin "$NS" /stats | grep -E '^http\.' | sed 's/^/# /'
	for u in main admin b; do tail -5 "$HF_TMP/$u.jsonl" | cut -c1-300 | sed "s/^/# $u: /"; done
	grep -v '^$' "$HF_TMP/hf.log" | tail -20 | sed 's/^/# hydrofoil: /'
fi
hf_check_stop
echo "# finished in $((SECONDS - T0)) s"
hf_done
