#!/usr/bin/env bash
# Session resumption by tickets, and the access log line of a failed handshake: hydrofoil as an
# Istio ingress gateway with two workers (HF_WORKERS if more than one), one HTTPS server, its
# session ticket keys rotated every few seconds (tls.ticket_key_rotation_s), an access log.
#
# Checks: openssl s_client -sess_out saves a ticket from a full handshake; 20 new connections
# offering it with -sess_in, each from its own source port (so over both workers: the chance
# that 20 all land on the worker that issued it is 2^-19), are all resumed, in TLS 1.2 and in
# TLS 1.3, and tls.resumed_tls12 / _tls13 count them; after one key rotation the ticket still
# resumes (the previous key opens it), after two it does not (a full handshake); a bootstrap
# with ticket_key_rotation_s = 0 is refused with its line; failed handshakes (an unknown SNI,
# plaintext on the TLS port) are access log lines "- - -" 0 with TLS_error:<reason> and the SNI.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

[ "$(hf_workers)" -gt 1 ] || export HF_WORKERS=2
W=$(hf_workers)
OUR=198.51.100.2
PEER=198.51.100.1
CERTS=$HF_TMP/certs
ISTIO=$HF_TMP/istio
ALOG=$HF_TMP/access.log
PERIOD=6
N=20

"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" && "$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" a-cred a.example.com
hf_check "test CA and a server certificate" test -s "$CERTS/a-cred/tls.crt"
mkdir -p "$ISTIO"
cat > "$ISTIO/gateway.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["a.example.com"]
    tls: {mode: SIMPLE, credentialName: a-cred}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - directResponse: {status: 200, body: {string: "resumed ok"}}
YAML

T0=$SECONDS
NS=$(hf_ns_new tlsres) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
CONFIG="config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };
access_log = \"$ALOG\";"
hf_cfg "$HF_TMP/bad.cfg" hf0 "$OUR/24" "$PEER" "$CONFIG
tls = { ticket_key_rotation_s = 0; };"
out=$("$HF_BIN" -c "$HF_TMP/bad.cfg" --check 2>&1)
hf_check "tls.ticket_key_rotation_s = 0 is refused with its line ('$(tail -1 <<<"$out")')" \
	grep -qE 'bad.cfg:[0-9]+: tls.ticket_key_rotation_s' <<<"$out"
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "$CONFIG
tls = { session_tickets = true; ticket_key_rotation_s = $PERIOD; };"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with $W workers and session tickets reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with $W workers and session tickets reports LIVE"
in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }

# s_client VERSION [ARGS...]: one connection, a request, the server's close; prints
# "Reused" or "New" (and the rest of s_client's session line)
s_client() {
	local v=$1
	shift
	printf 'GET / HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n' |
		in_ns timeout 10 openssl s_client -connect "$OUR:443" -servername a.example.com \
			-CAfile "$CERTS/ca.crt" "-tls1_${v#1.}" -ign_eof "$@" 2>/dev/null |
		grep -E '^(New|Reused), ' | head -1
}

# ---------------------------------------------------------------- resumption across workers
# A ticket is offered only while it is at most one rotation old (the previous key still opens
# it): once the keys have rotated since it was taken, a fresh one is taken first.
for v in 1.2 1.3; do
	tag=tls1${v#1.}
	first=$(s_client "$v" -sess_out "$HF_TMP/$tag.sess")
	taken=$(st tls.ticket_key_rotations)
	hf_check "TLS $v: a full handshake saves a ticket ('$first')" \
		test -s "$HF_TMP/$tag.sess" -a "${first%%,*}" = New
	before=$(st "tls.resumed_$tag")
	reused=0
	fresh=0
	for _ in $(seq "$N"); do
		if [ "$(st tls.ticket_key_rotations)" -gt "$taken" ]; then
			s_client "$v" -sess_out "$HF_TMP/$tag.sess" >/dev/null
			taken=$(st tls.ticket_key_rotations)
			fresh=$((fresh + 1))
		fi
		[ "$(s_client "$v" -sess_in "$HF_TMP/$tag.sess" | cut -d, -f1)" = Reused ] && reused=$((reused + 1))
	done
	after=$(st "tls.resumed_$tag")
	hf_check "TLS $v: $reused of $N new connections offering it resumed, on $W workers (tls.resumed_$tag ${before:-0} -> $after; $fresh fresh tickets taken after rotations)" \
		test "$reused" -eq "$N" -a "$((after - ${before:-0}))" -eq "$N"
done
echo "# tls.handshakes $(st tls.handshakes), tls.resumed $(st tls.resumed)"

# ---------------------------------------------------------------- key rotation
# at_rotation G: waits until tls.ticket_key_rotations reaches G (at most 3 periods)
at_rotation() {
	for _ in $(seq $((PERIOD * 30))); do
		[ "$(st tls.ticket_key_rotations)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# A ticket taken just after a rotation, offered after the next one and after the one after:
# each offer is judged only when no rotation happened while it ran (else a skip).
r=$(st tls.ticket_key_rotations)
hf_check "the keys rotate every $PERIOD s (tls.ticket_key_rotations $r, then $((r + 1)))" at_rotation $((r + 1))
g=$((r + 1))
for v in 1.2 1.3; do s_client "$v" -sess_out "$HF_TMP/rot$v.sess" >/dev/null; done
ok_gen=$([ "$(st tls.ticket_key_rotations)" -eq "$g" ] && echo yes)
for step in 1 2; do
	if ! at_rotation $((g + step)); then
		hf_not_ok "the keys rotated $step time(s) more within $((PERIOD * 3)) s"
		break
	fi
	for v in 1.2 1.3; do
		got=$(s_client "$v" -sess_in "$HF_TMP/rot$v.sess" | cut -d, -f1)
		now=$(st tls.ticket_key_rotations)
		want=$([ "$step" -eq 1 ] && echo Reused || echo New)
		what="TLS $v: a ticket $step rotation(s) old: $got (want $want)"
		if [ "$ok_gen" != yes ] || [ "$now" -ne $((g + step)) ]; then
			hf_skip "$what: a rotation came while it ran"
		else
			hf_check "$what" test "$got" = "$want"
		fi
	done
done

# ---------------------------------------------------------------- failed handshakes in the access log
in_ns timeout 10 openssl s_client -connect "$OUR:443" -servername nobody.example.com </dev/null >/dev/null 2>&1
in_ns curl -sS --noproxy '*' --max-time 5 "http://$OUR:443/" >/dev/null 2>&1
for _ in $(seq 30); do grep -q plaintext_on_tls_port "$ALOG" 2>/dev/null && break; sleep 0.1; done
line=$(grep -F 'TLS_error:unknown_sni' "$ALOG" | head -1)
hf_check "an unknown SNI is an access log line: '$line'" \
	grep -qE '^\[[0-9T:.-]+Z\] "- - -" 0 - - TLS_error:unknown_sni "-" 0 0 [0-9]+ - "-" "-" "-" "-" "-" - - 198\.51\.100\.2:443 198\.51\.100\.1:[0-9]+ nobody\.example\.com -$' <<<"$line"
line=$(grep -F 'TLS_error:plaintext_on_tls_port' "$ALOG" | head -1)
hf_check "plaintext on the TLS port is one too: '$line'" \
	grep -qE '"- - -" 0 - - TLS_error:plaintext_on_tls_port .* 198\.51\.100\.1:[0-9]+ - -$' <<<"$line"
hf_check "resumed handshakes are not failures: no other TLS_error line ($(grep -c TLS_error "$ALOG") in all)" \
	test "$(grep -c TLS_error "$ALOG")" -eq 2
echo "# $(hf_admin "$NS" /stats | grep -E '^tls\.(handshakes|resumed|ticket)' | tr '\n' ' ')"
hf_check_stop
echo "# $((SECONDS - T0)) s"
hf_done
