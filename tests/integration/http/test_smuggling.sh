#!/usr/bin/env bash
# Request smuggling through chunked bodies, against a lenient upstream: hydrofoil over net_tap
# in a private namespace, in front of lenient_upstream.py, which reads chunked bodies as
# RFC 9112 2.2 lets a recipient (a bare LF ends a line) and logs every request it sees.
#
# Each case of smuggle.py is sent with a raw socket through hydrofoil; the "smuggle" cases
# first straight to a second lenient upstream, where the hidden request, /smuggled, must
# appear: proof that the bytes smuggle past such a reader. Through hydrofoil each case must
# end one of two ways: a 400 and a closed connection, or exactly one request at the upstream
# whose body ends where hydrofoil's did (nothing unread after it on that connection). Never a
# request the upstream sees and hydrofoil did not send as one: each request hydrofoil
# forwards carries the X-Forwarded-For it sets, a smuggled one does not. The valid cases
# (extensions, trailers, data that looks like framing) must pass intact, with the request
# after them.
#
# The head cases frame a request by Content-Length for a strict reader and by a
# Transfer-Encoding only a lenient one sees (whitespace or a control byte before a colon,
# obs-fold, a bare LF, a coding that holds "chunked"): each must smuggle straight, and be
# refused by hydrofoil's parser (400, closed, counted under http.drop.bad_request or
# http.drop.smuggling). The hop case's hop-by-hop fields, and those its Connection fields name
# in any case, must not reach the upstream.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
DIR=$HF_ROOT/tests/integration/http
UP=$DIR/lenient_upstream.py
SM=$DIR/smuggle.py

OUR=198.51.100.2
PEER=198.51.100.1
UP_PORT=8090      # lenient_upstream.py behind hydrofoil
DIRECT_PORT=8091  # lenient_upstream.py the cases are sent to straight
UP_LOG=$HF_TMP/upstream.jsonl
DIRECT_LOG=$HF_TMP/direct.jsonl

T0=$SECONDS
NS=$(hf_ns_new smuggle) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "
static_resources: {
  listeners = (
    { name = \"http\"; port = 80; filter = \"http\";
      route_config = { virtual_hosts = ( { name = \"all\"; domains = [ \"*\" ];
          routes = ( { name = \"lenient\"; match = { prefix = \"/\"; }; route = { cluster = \"lenient\"; }; } ); } ); }; }
  );
  clusters = (
    { name = \"lenient\"; connect_timeout_ms = 1000; endpoints = [ \"$PEER:$UP_PORT\" ]; }
  );
};"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with an http listener reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with an http listener reports LIVE"

: > "$UP_LOG"
: > "$DIRECT_LOG"
ip netns exec "$NS" "$HF_PY" "$UP" "$PEER" "$UP_PORT" "$UP_LOG" >"$HF_TMP/up.err" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$UP" "$PEER" "$DIRECT_PORT" "$DIRECT_LOG" >"$HF_TMP/direct.err" 2>&1 &
HF_PIDS+=($!)
listening() {
	[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$UP_PORT")" ] &&
		[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$DIRECT_PORT")" ]
}
for _ in $(seq 50); do listening && break; sleep 0.1; done
hf_check "lenient upstreams listening on :$UP_PORT (behind hydrofoil) and :$DIRECT_PORT (direct)" listening

sm() { ip netns exec "$NS" timeout 30 "$HF_PY" "$SM" "$@" 2>&1; }
st() { hf_stat "$NS" "$1"; }

# ---------------------------------------------------------------- each case
n_smuggle=0
while read -r name kind what; do
	# Straight to a lenient upstream: the case really smuggles past such a reader.
	if [ "$kind" = smuggle ] || [ "$kind" = hsmuggle ]; then
		n_smuggle=$((n_smuggle + 1))
		read -r outcome story < <(sm run "$name" "$PEER" "$DIRECT_PORT" "$DIRECT_LOG" 1 direct)
		hf_check "$name, straight to the lenient upstream: $outcome ($story)" \
			test "$outcome" = smuggled
	fi
	# Through hydrofoil.
	bc0=$(st http.drop.bad_chunk)
	hd0=$(( $(st http.drop.bad_request) + $(st http.drop.smuggling) ))
	read -r outcome story < <(sm run "$name" "$OUR" 80 "$UP_LOG" 3 proxied)
	dbc=$(( $(st http.drop.bad_chunk) - bc0 ))
	dhd=$(( $(st http.drop.bad_request) + $(st http.drop.smuggling) - hd0 ))
	if [ "$kind" = hsmuggle ] || [ "$kind" = hmalformed ]; then
		hf_check "$name ($what) through hydrofoil: $outcome, refused by the head parser +$dhd ($story)" \
			test "$outcome" = refused -a "$dhd" = 1 -a "$dbc" = 0
	elif [ "$kind" = hop ]; then
		hf_check "$name ($what) through hydrofoil: $outcome ($story)" test "$outcome" = clean
	elif [ "$kind" = valid ]; then
		hf_check "$name ($what) through hydrofoil: $outcome, http.drop.bad_chunk +$dbc ($story)" \
			test "$outcome" = intact -a "$dbc" = 0
	else
		hf_check "$name ($what) through hydrofoil: $outcome, http.drop.bad_chunk +$dbc ($story)" \
			bash -c '[ "$1" = one ] || { [ "$1" = refused ] && [ "$2" = 1 ]; }' _ "$outcome" "$dbc"
	fi
done < <(sm list)

# ---------------------------------------------------------------- the whole run
# A smuggled request that reached the upstream after its case was checked still shows here.
read -r verdict story < <(sm audit "$UP_LOG" proxied)
hf_check "over the whole run ($n_smuggle smuggling cases among them), the upstream behind hydrofoil saw no request hydrofoil did not forward: $verdict $story" \
	test "$verdict" = clean -a "$n_smuggle" -ge 5
if [ "$HF_FAIL" -gt 0 ]; then
	hf_admin "$NS" /stats | grep -E '^http\.' | sed 's/^/# /'
	sed 's/^/# upstream: /' "$UP_LOG" | cut -c1-300 | tail -40
	grep -v '^$' "$HF_TMP/hf.log" | tail -20 | sed 's/^/# hydrofoil: /'
fi
hf_check_stop
echo "# finished in $((SECONDS - T0)) s"
hf_done
