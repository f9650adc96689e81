#!/usr/bin/env bash
# shellcheck disable=SC2153 # HF_PID is set by hf_start in scripts/lib/netns.sh
# hf-loadgen's TLS client (--tls) against hydrofoil's HTTPS Gateway, two DPDK
# processes over net_memif (as test_loadgen.sh: both --no-huge, hydrofoil the
# memif server, a fresh hydrofoil and socket per run). The upstream is the
# loadgen's own server role.
#
# Checks, per run, that both sides count the same: TLS 1.3 with a new
# connection per request (every request a handshake: the loadgen's handshakes,
# hydrofoil's tls.handshakes_tls13 and its requests all equal, no errors, the
# negotiated suite TLS_AES_128_GCM_SHA256 and group X25519); TLS 1.2 the same on
# a TLS 1.2 port (ECDHE-ECDSA-AES128-GCM-SHA256, tls.handshakes_tls12); keep-alive
# with 64 KB responses (one handshake per connection, every body byte of the
# measured responses decrypted and counted: bytes = responses x 65536);
# --tls-resume through hydrofoil (a skip while hydrofoil issues no tickets); a
# client that offers only TLS 1.2 to the TLS 1.3 port fails its handshakes,
# counted as errors.tls on our side and tls.handshake.bad_version on
# hydrofoil's. Then resumption against a server that issues tickets: the
# loadgen on a net_tap whose kernel side holds nginx (tickets on, its
# default), TLS 1.3 and 1.2: nearly every handshake resumed, and nginx's access
# log ($ssl_session_reused) counts exactly the loadgen's resumed handshakes.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
LG=$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-loadgen
HF_ADDR=198.51.100.2
LG_ADDR=198.51.100.1
EAL=(--no-huge --no-pci --log-level=lib.eal:error -m 512)
CERTS=$HF_TMP/certs
ISTIO=$HF_TMP/istio

[ -x "$LG" ] || { hf_not_ok "hf-loadgen built at $LG"; exit 1; }
"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" && "$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" lg-cert lg.example.com
hf_check "an ECDSA P-256 certificate made by scripts/mkcert.sh" test -s "$CERTS/lg-cert/tls.crt"
mkdir -p "$ISTIO"
cat > "$ISTIO/gw.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-13, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: lg-cert, minProtocolVersion: TLSV1_3}
  - port: {number: 444, name: https-12, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: lg-cert, maxProtocolVersion: TLSV1_2,
          cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: lg, namespace: default}
spec:
  hosts: [lg.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: $LG_ADDR}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route: [{destination: {host: lg, port: {number: 8080}}}]
YAML

NS=$(hf_ns_new lgtls) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
N=0
# run NAME LOADGEN_ARGS...: a fresh hydrofoil, the loadgen against it; sets OUT (its JSON line).
run() {
	local name=$1 sock
	shift
	N=$((N + 1))
	sock=$HF_TMP/memif.$N.sock
	hf_memif_cfg "$HF_TMP/$name.cfg" "$sock" "$HF_ADDR" "" 512 \
		"config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };"
	sed -i 's/^node: .*/node:  { id = "gw-memif"; cluster = "hydrofoil"; labels = [ "istio=ingressgateway" ]; };/' \
		"$HF_TMP/$name.cfg"
	hf_start "$NS" "$HF_TMP/$name.cfg" "$HF_TMP/$name.hf.log"
	for _ in $(seq 200); do
		grep -q "running" "$HF_TMP/$name.hf.log" && break
		kill -0 "$HF_PID" 2>/dev/null || break
		sleep 0.1
	done
	ip netns exec "$NS" timeout 60 "$LG" --port "p0,net_memif0,role=client,socket=$sock,$LG_ADDR/24" \
		--server 8080 --timeout 10000 --json --lcores 0@0,1@0 "$@" -- "${EAL[@]}" \
		> "$HF_TMP/$name.json" 2> "$HF_TMP/$name.lg.log"
	OUT=$(grep '^{' "$HF_TMP/$name.json" | tail -1)
	echo "# $name: $(cut -c1-400 <<<"$OUT")"
	[ -n "$OUT" ] || cat "$HF_TMP/$name.lg.log" "$HF_TMP/$name.hf.log"
}
# finish: hydrofoil's counters are read by the caller first; then it stops (status 0).
finish() {
	hf_check_stop
	kill -KILL "$HF_PID" 2>/dev/null && wait "$HF_PID" 2>/dev/null
	# EAL leaves hydrofoil's runtime directory behind (the loadgen removes its own).
	rm -rf "/var/run/dpdk/hydrofoil-$HF_PID"
}
f() { hf_lg_field "$1" <<<"$OUT"; }
st() { hf_stat "$NS" "$1"; }

# ---------------------------------------------------------------- TLS 1.3, a handshake per request
run full13 --client "$HF_ADDR:443" --tls 1.3 --new-conn -c 8 --duration 2 --response-size 100
hs=$(f tls.handshakes_total); total=$(f responses_total); errs=$(f errors_total)
hf_check "TLS 1.3, new connection per request: $hs handshakes, $total responses, $errs errors" \
	test "${hs:-0}" -gt 100 -a "${hs:-0}" = "${total:-x}" -a "${errs:-1}" -eq 0
hf_check "negotiated '$(f tls.negotiated)' (TLSv1.3, AES-128-GCM, X25519)" \
	test "$(f tls.negotiated)" = "TLSv1.3 TLS_AES_128_GCM_SHA256 x25519"
h13=$(st tls.handshakes_tls13); rq=$(st http.downstream_rq_2xx)
hf_check "hydrofoil counted the same: tls.handshakes_tls13 $h13, http.downstream_rq_2xx $rq (loadgen $hs)" \
	test "$h13" = "$hs" -a "$rq" = "$hs"
finish

# ---------------------------------------------------------------- TLS 1.2
run full12 --client "$HF_ADDR:444" --tls 1.2 --new-conn -c 8 --duration 2 --response-size 100
hs=$(f tls.handshakes_total); total=$(f responses_total); errs=$(f errors_total)
hf_check "TLS 1.2, new connection per request: $hs handshakes, $total responses, $errs errors" \
	test "${hs:-0}" -gt 100 -a "${hs:-0}" = "${total:-x}" -a "${errs:-1}" -eq 0
hf_check "negotiated '$(f tls.negotiated)' (TLSv1.2, ECDHE-ECDSA-AES128-GCM-SHA256, X25519)" \
	test "$(f tls.negotiated)" = "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 x25519"
h12=$(st tls.handshakes_tls12)
hf_check "hydrofoil's tls.handshakes_tls12 ($h12) equals the loadgen's handshakes ($hs)" test "$h12" = "$hs"
finish

# ---------------------------------------------------------------- keep-alive, bulk
run bulk --client "$HF_ADDR:443" --tls 1.3 -c 4 --duration 2 --response-size 65536
hs=$(f tls.handshakes_total); total=$(f responses); bytes=$(f tls.body_bytes); errs=$(f errors_total)
hf_check "keep-alive over TLS 1.3: $hs handshakes for $(f responses_total) responses, $errs errors" \
	test "${hs:-0}" -ge 4 -a "${hs:-0}" -le 8 -a "$(f responses_total)" -gt 100 -a "${errs:-1}" -eq 0
hf_check "every measured body byte decrypted and counted: $bytes = $total x 65536" \
	test "${bytes:-0}" -gt 0 -a "${bytes:-0}" = "$((${total:-0} * 65536))"
finish

# ---------------------------------------------------------------- resumption offered
run resume --client "$HF_ADDR:443" --tls 1.3 --tls-resume --new-conn -c 8 --duration 2 --response-size 100
hs=$(f tls.handshakes_total); res=$(f tls.resumed); errs=$(f errors_total)
hf_check "--tls-resume: $hs handshakes, $errs errors" test "${hs:-0}" -gt 100 -a "${errs:-1}" -eq 0
if [ "${res:-0}" -gt 0 ]; then
	hf_ok "--tls-resume: $res of the measured handshakes resumed"
else
	hf_skip "--tls-resume resumed handshakes: hydrofoil issues no tickets and keeps no session cache yet"
fi
finish

# ---------------------------------------------------------------- a refused version
run refused --client "$HF_ADDR:443" --tls 1.2 --new-conn -c 2 --duration 1 --response-size 100
tls_err=$(f errors.tls); bad=$(st tls.handshake.bad_version)
hf_check "TLS 1.2 offered to the TLS 1.3 port: no response ($(f responses_total)), $tls_err errors.tls ('$(f tls.first_error)'), hydrofoil tls.handshake.bad_version $bad" \
	test "$(f responses_total)" = 0 -a "${tls_err:-0}" -gt 0 -a "${bad:-0}" -gt 0
finish

# ---------------------------------------------------------------- resumption against nginx
mkdir -p "$HF_TMP/ngx" "$HF_TMP/www"
echo "hello over tls" > "$HF_TMP/www/index.html"
chmod -R a+rX "$HF_TMP"
NGX_ADDR=198.51.100.5
cat > "$HF_TMP/ngx/nginx.conf" <<CFG
user root;
worker_processes 1;
pid $HF_TMP/ngx/nginx.pid;
error_log $HF_TMP/ngx/error.log warn;
events { worker_connections 1024; }
http {
  log_format reuse '\$ssl_protocol \$ssl_session_reused';
  access_log $HF_TMP/ngx/access.log reuse;
  client_body_temp_path $HF_TMP/ngx/cb; proxy_temp_path $HF_TMP/ngx/px;
  fastcgi_temp_path $HF_TMP/ngx/fc; uwsgi_temp_path $HF_TMP/ngx/uw; scgi_temp_path $HF_TMP/ngx/sc;
  server {
    listen $NGX_ADDR:443 ssl;
    ssl_certificate $CERTS/lg-cert/tls.crt;
    ssl_certificate_key $CERTS/lg-cert/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $HF_TMP/www;
  }
}
CFG
NGX_STARTED=0
for v in 1.3 1.2; do
	ip netns exec "$NS" timeout 60 "$LG" --port "p0,net_tap0,iface=lgt0,198.51.100.1/24" \
		--client "$NGX_ADDR:443" --tls "$v" --tls-resume --new-conn -c 4 --duration 2 \
		--warmup 0.5 --timeout 10000 --path /index.html --json --lcores 0@0,1@0 -- "${EAL[@]}" \
		> "$HF_TMP/ngx-$v.json" 2> "$HF_TMP/ngx-$v.log" &
	LGP=$!
	HF_PIDS+=("$LGP")
	# The tap exists once the loadgen has started: its kernel side gets nginx's address,
	# and nginx (bound to that address) starts with the first tap.
	for _ in $(seq 100); do ip -n "$NS" link show lgt0 >/dev/null 2>&1 && break; sleep 0.1; done
	ip -n "$NS" addr add "$NGX_ADDR/24" dev lgt0 2>/dev/null
	ip -n "$NS" link set lgt0 up
	if [ "$NGX_STARTED" = 0 ]; then
		ip -n "$NS" addr add "$NGX_ADDR/32" dev lo	# stays bound when the tap goes
		ip netns exec "$NS" nginx -p "$HF_TMP/ngx" -c "$HF_TMP/ngx/nginx.conf" \
			-g 'daemon off;' > "$HF_TMP/ngx/out.log" 2>&1 &
		HF_PIDS+=($!)
		NGX_STARTED=1
	fi
	wait "$LGP"
	OUT=$(grep '^{' "$HF_TMP/ngx-$v.json" | tail -1)
	echo "# nginx $v: $(grep -o '"tls":{[^}]*}' <<<"$OUT")"
	[ -n "$OUT" ] || cat "$HF_TMP/ngx-$v.log" "$HF_TMP/ngx/error.log"
	hs=$(f tls.handshakes_total); res=$(f tls.resumed_total); errs=$(f errors_total)
	hf_check "--tls $v --tls-resume against nginx: $res of $hs handshakes resumed, $errs errors" \
		test "${hs:-0}" -gt 50 -a "${res:-0}" -ge $((${hs:-0} * 9 / 10)) -a "${errs:-1}" -eq 0
	sleep 0.3	# nginx logs a request as its connection closes
	nres=$(grep -c "^TLSv$v r$" "$HF_TMP/ngx/access.log")
	nall=$(grep -c "^TLSv$v " "$HF_TMP/ngx/access.log")
	hf_check "nginx logged $nres of its $nall TLSv$v requests as resumed, as the loadgen counted ($res of $hs)" \
		test "$nres" = "$res" -a "$nall" = "$hs"
done

hf_done
