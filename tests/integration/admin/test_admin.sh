#!/usr/bin/env bash
# The admin API's defences on the real daemon: listening outside loopback is
# warned about at start; a cross-site POST /quitquitquit (an Origin header,
# or no x-hydrofoil-admin header) is refused with 403 and the server keeps
# running, while the proper POST stops it cleanly; a /stats filter that
# would backtrack or is too long is refused with 400, and one that glibc's
# regex compiler takes seconds over is answered at once.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
A=http://127.0.0.1:15000
NS=$(hf_ns_new admin) || { hf_not_ok "create namespace"; exit 1; }
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER"
# Every address of the namespace (only this test's): the start must say so.
sed -i 's/admin: { address = "127.0.0.1";/admin: { address = "0.0.0.0";/' "$HF_TMP/hf.cfg"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil reports LIVE on /ready"
	exit 1
fi
hf_check "a non-loopback admin address is warned about at start" \
	grep -q "admin: warning: listening on 0.0.0.0:15000, not a loopback address" "$HF_TMP/hf.log"

# ask ARGS...: curl in the namespace; prints "STATUS SECONDS", the body goes to $HF_TMP/body.
ask() {
	ip netns exec "$NS" curl -s --max-time 30 -o "$HF_TMP/body" -w '%{http_code} %{time_total}' "$@"
}
alive() { kill -0 "$HF_PID" 2>/dev/null && [ "$(hf_admin "$NS" /ready)" = "LIVE" ]; }

# ---- /stats?filter=
read -r code secs < <(ask "$A/stats?filter=%5Ehttp%5C.downstream")
hf_check "filter ^http\\.downstream: 200, only those counters ($(wc -l < "$HF_TMP/body") lines)" \
	bash -c '[ "$1" = 200 ] && [ -s "$2" ] && ! grep -qv "^http\.downstream" "$2"' _ "$code" "$HF_TMP/body"
read -r code secs < <(ask "$A/stats?filter=%28a*%29*%5C1x")
hf_check "filter (a*)*\\1x (a back-reference): 400 in ${secs}s: $(head -c 120 "$HF_TMP/body")" \
	bash -c '[ "$1" = 400 ] && grep -q "Back-references are unsupported" "$2"' _ "$code" "$HF_TMP/body"
read -r code secs < <(ask "$A/stats?filter=%28%3F%21http%29")
hf_check "filter (?!http) (look-around): 400 in ${secs}s" \
	bash -c '[ "$1" = 400 ] && grep -q "is refused" "$2"' _ "$code" "$HF_TMP/body"
read -r code secs < <(ask "$A/stats?filter=$(printf 'a%.0s' $(seq 257))")
hf_check "a 257-byte filter: 400 ($(cat "$HF_TMP/body"))" \
	bash -c '[ "$1" = 400 ] && grep -q "longer than 256 bytes" "$2"' _ "$code" "$HF_TMP/body"
# 28 bytes that glibc's regcomp() needs seconds and a GiB for: Hyperscan compiles them.
read -r code secs < <(ask "$A/stats?filter=%28%28%28a%7B1%2C100%7D%29%7B1%2C100%7D%29%7B1%2C100%7D%29")
hf_check "filter (((a{1,100}){1,100}){1,100}): 200 in ${secs}s, counters with an 'a'" \
	bash -c '[ "$1" = 200 ] && grep -q "^tcp.cx_active:" "$2" && ! grep -q "^[^a]*:" "$2"' _ \
	"$code" "$HF_TMP/body"
hf_check "the server still answers after the filters" alive

# ---- POST /quitquitquit
read -r code _ < <(ask -X POST -H 'Origin: https://evil.example' -H 'x-hydrofoil-admin: 1' \
	-H 'Content-Type: application/x-www-form-urlencoded' -d 'x=1' "$A/quitquitquit")
hf_check "cross-site POST /quitquitquit (Origin: https://evil.example): 403 ($(cat "$HF_TMP/body"))" \
	test "$code" = 403
hf_check "the server keeps running after it" alive
read -r code _ < <(ask -X POST "$A/quitquitquit")
hf_check "POST /quitquitquit without x-hydrofoil-admin: 403" test "$code" = 403
hf_check "the server keeps running after it" alive
read -r code _ < <(ask -X POST -H 'x-hydrofoil-admin: 1' "$A/quitquitquit")
hf_check "POST /quitquitquit with x-hydrofoil-admin: 200 ($(cat "$HF_TMP/body"))" test "$code" = 200
for _ in $(seq 100); do kill -0 "$HF_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$HF_PID" 2>/dev/null; then
	hf_not_ok "hydrofoil stops within 10 s of POST /quitquitquit"
else
	wait "$HF_PID" 2>/dev/null
	rc=$?
	hf_check "hydrofoil stops after POST /quitquitquit with status 0 (got $rc)" test "$rc" -eq 0
fi
hf_done
