#!/usr/bin/env bash
# TLS passthrough and tcp routes over terminated TLS, end to end: hydrofoil as an Istio ingress
# gateway on a net_tap in a private namespace; nginx as two TLS upstreams with their own
# certificates (scripts/mkcert.sh, a test CA made now); a python echo server behind a TLS
# server with mode SIMPLE whose VirtualService has a tcp route; curl, openssl s_client and
# python clients.
#
# Checks: two PASSTHROUGH servers on one port 443 (a TLS server with mode PASSTHROUGH, a TLS
# server with no mode) route SNI a.example.com and b.example.com to their own upstream: each
# client sees its upstream's certificate (openssl s_client -servername: subject) and body
# (curl --resolve, verified by the test CA: TLS runs end to end, the gateway holds no key);
# an unknown SNI is reset (tcp_proxy.drop.no_sni_route); a client without SNI (openssl
# s_client -noservername) is reset (tls.passthrough.drop.no_sni); plaintext is reset
# (tls.passthrough.drop.not_tls); a ClientHello trickled one byte per TCP segment is still
# routed, and its handshake completes (its transcript covers the ClientHello: the bytes went
# through unchanged); a client that sends part of a ClientHello and stays silent is reset
# 10 s after its accept (tls.passthrough.drop.hello_timeout) without holding up the others;
# TLS terminated on port 8443 (Gateway protocol TLS, mode SIMPLE) with a tcp route to an echo
# server returns 1 MB byte for byte; a port mixing passthrough and terminated servers is
# refused at load with file, line and field; SIGTERM stops it with status 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
A_PORT=9001	# nginx, certificate a.example.com
B_PORT=9002	# nginx, certificate b.example.com
ECHO_PORT=7000	# echo.py
CERTS=$HF_TMP/certs
ISTIO=$HF_TMP/istio

# ---------------------------------------------------------------- certificates
"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" up-a a.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" up-b -rsa b.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" gw-echo echo.example.net
hf_check "test CA, two upstream certificates and the gateway's made by scripts/mkcert.sh" \
	test -s "$CERTS/up-a/tls.crt" -a -s "$CERTS/up-b/tls.key" -a -s "$CERTS/gw-echo/tls.crt"

# ---------------------------------------------------------------- Istio configuration
mkdir -p "$ISTIO"
cat > "$ISTIO/gateway.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: tls-a, protocol: TLS}
    hosts: ["a.example.com"]
    tls: {mode: PASSTHROUGH}
  - port: {number: 443, name: tls-b, protocol: TLS}
    hosts: ["b.example.com", "c.example.com"]
    tls: {}
  - port: {number: 8443, name: tls-echo, protocol: TLS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: gw-echo}
YAML
cat > "$ISTIO/routes.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: up-a, namespace: default}
spec:
  hosts: [up-a.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: $A_PORT, name: tls, protocol: TLS}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: up-b, namespace: default}
spec:
  hosts: [up-b.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: $B_PORT, name: tls, protocol: TLS}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo, namespace: default}
spec:
  hosts: [echo.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: $ECHO_PORT, name: tcp, protocol: TCP}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: passthrough, namespace: default}
spec:
  hosts: ["*.example.com"]
  gateways: [gw]
  tls:
  - match:
    - port: 443
      sniHosts: [a.example.com]
    route:
    - destination: {host: up-a}
  - match:
    - sniHosts: [b.example.com]
    route:
    - destination: {host: up-b}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp:
  - match: [{port: 8443}]
    route:
    - destination: {host: echo}
YAML

T0=$SECONDS
NS=$(hf_ns_new tlspt) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };"

# ---------------------------------------------------------------- refused at load
dir=$HF_TMP/bad
mkdir -p "$dir"
cp "$ISTIO/routes.yaml" "$dir/"
sed 's/number: 8443, name: tls-echo/number: 443, name: tls-echo/' "$ISTIO/gateway.yaml" > "$dir/gateway.yaml"
line=$(grep -n 'name: tls-echo' "$dir/gateway.yaml" | cut -d: -f1)
sed "s|$ISTIO|$dir|" "$HF_TMP/hf.cfg" > "$HF_TMP/bad.cfg"
out=$("$HF_BIN" -c "$HF_TMP/bad.cfg" --check 2>&1)
rc=$?
want="gateway.yaml:$line: Gateway default/gw: spec.servers[2].port.protocol: port 443 already has a server of protocol TLS passthrough"
hf_check "a port with passthrough and terminated servers refused at load: exit $rc, '$(tail -1 <<<"$out" | cut -c1-160)'" \
	test "$rc" -eq 2 -a -n "$(grep -F -- "$want" <<<"$out")"

# ---------------------------------------------------------------- start
if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
	hf_not_ok "bootstrap with TLS passthrough servers accepted by --check ($out)"
	exit 1
fi
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with TLS passthrough servers reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with TLS passthrough servers reports LIVE"

mkdir -p "$HF_TMP/nginx"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/nginx/body;
    proxy_temp_path $HF_TMP/nginx/proxy;
    fastcgi_temp_path $HF_TMP/nginx/fastcgi;
    uwsgi_temp_path $HF_TMP/nginx/uwsgi;
    scgi_temp_path $HF_TMP/nginx/scgi;
    default_type text/plain;
    server {
        listen $PEER:$A_PORT ssl;
        ssl_certificate $CERTS/up-a/tls.crt;
        ssl_certificate_key $CERTS/up-a/tls.key;
        location / { return 200 "upstream a\n"; }
    }
    server {
        listen $PEER:$B_PORT ssl;
        ssl_certificate $CERTS/up-b/tls.crt;
        ssl_certificate_key $CERTS/up-b/tls.key;
        location / { return 200 "upstream b\n"; }
    }
}
NGINX
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)
cat > "$HF_TMP/echo.py" <<'PY'
import socket, sys, threading
srv = socket.create_server((sys.argv[1], int(sys.argv[2])), reuse_port=True)
def serve(c):
    with c:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
ip netns exec "$NS" "$HF_PY" "$HF_TMP/echo.py" "$PEER" "$ECHO_PORT" >"$HF_TMP/echo.log" 2>&1 &
HF_PIDS+=($!)
peers_up() {
	local p
	for p in "$A_PORT" "$B_PORT" "$ECHO_PORT"; do
		[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$p")" ] || return 1
	done
}
for _ in $(seq 50); do peers_up && break; sleep 0.1; done
hf_check "upstreams listening: nginx TLS :$A_PORT and :$B_PORT, echo :$ECHO_PORT" peers_up

in_ns() { ip netns exec "$NS" "$@"; }
st() { local v; v=$(hf_stat "$NS" "$1"); echo "${v:-0}"; }
CURL=(curl -sS --noproxy '*' --max-time 20 --cacert "$CERTS/ca.crt")
# subject_of PORT [SNI]: the subject of the certificate the server shows
subject_of() {
	local sni=(-noservername)
	[ -n "${2:-}" ] && sni=(-servername "$2")
	in_ns timeout 10 openssl s_client -connect "$OUR:$1" "${sni[@]}" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/^subject= *//'
}

# A ClientHello for SNI a.example.com, written by python's ssl (the client side below finishes
# the handshake): the first bytes go out, then nothing. Runs while the other checks do.
cat > "$HF_TMP/hello.py" <<'PY'
import faulthandler, socket, ssl, sys, time
faulthandler.dump_traceback_later(50, exit=True)	# where it hung, if it does
# hello.py ADDR CA MODE: MODE "trickle" sends the ClientHello one byte per segment and finishes
# the handshake and a GET; "stall" sends 20 bytes and waits for the end.
addr, ca, mode = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="a.example.com")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
s = socket.create_connection((addr, 443), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if mode == "stall":
    s.sendall(hello[:20])
    t0 = time.time()
    try:
        got = s.recv(100)
        print("closed" if got == b"" else "data", round(time.time() - t0, 1))
    except ConnectionResetError:
        print("reset", round(time.time() - t0, 1))
    except socket.timeout:
        print("timeout", round(time.time() - t0, 1))
    sys.exit(0)
for i in range(len(hello)):
    s.send(hello[i:i + 1])
    time.sleep(0.003)
print("sent", len(hello), "bytes one by one", file=sys.stderr)
def pump():
    data = out.read()
    if data:
        s.sendall(data)
while True:
    try:
        obj.do_handshake()
        break
    except ssl.SSLWantReadError:
        pump()
        b = s.recv(65536)
        if not b:
            sys.exit("closed during the handshake")
        inc.write(b)
pump()
print("handshake done", obj.version(), file=sys.stderr)
obj.write(b"GET / HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n")
pump()
body = b""
s.settimeout(10)
while True:
    try:
        chunk = obj.read(65536)
        if not chunk:
            break		# the server's close_notify
        body += chunk
    except ssl.SSLWantReadError:
        try:
            b = s.recv(65536)
        except socket.timeout:
            print("no end of the response after 10 s; got", body, file=sys.stderr)
            break
        if not b:
            break
        inc.write(b)
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
        break
cn = [v for rdn in obj.getpeercert()["subject"] for k, v in rdn if k == "commonName"]
print(len(hello), cn[0], body.split(b"\r\n\r\n", 1)[-1].decode().strip())
PY
in_ns "$HF_PY" "$HF_TMP/hello.py" "$OUR" "$CERTS/ca.crt" stall > "$HF_TMP/stall.out" 2>&1 &
STALL_PID=$!
HF_PIDS+=($STALL_PID)
T_STALL=$SECONDS

# ---------------------------------------------------------------- SNI routes
for pair in "a.example.com|CN = a.example.com" "b.example.com|CN = b.example.com"; do
	name=${pair%%|*} want=${pair#*|}
	subj=$(subject_of 443 "$name")
	hf_check "SNI $name reaches its upstream: certificate '$subj'" grep -qF "$want" <<<"$subj"
done
for name in a b; do
	body=$(in_ns "${CURL[@]}" --resolve "$name.example.com:443:$OUR" "https://$name.example.com/" 2>&1)
	hf_check "curl https://$name.example.com/ through the passthrough port, verified by the test CA: '$body'" \
		test "$body" = "upstream $name"
done
hf_check "tls.passthrough.routed counts them: $(st tls.passthrough.routed)" test "$(st tls.passthrough.routed)" -ge 4

# c.example.com is a server host of port 443, but no tls route has it
before=$(st tcp_proxy.drop.no_sni_route)
subj=$(subject_of 443 c.example.com)
out=$(in_ns "${CURL[@]}" --resolve "c.example.com:443:$OUR" https://c.example.com/ 2>&1)
after=$(st tcp_proxy.drop.no_sni_route)
hf_check "an SNI no tls route has is reset: no certificate, curl '$(tail -1 <<<"$out" | cut -c1-60)' (tcp_proxy.drop.no_sni_route $before -> $after)" \
	test -z "$subj" -a "$after" -eq $((before + 2))
before=$(st tls.passthrough.drop.no_sni)
subj=$(subject_of 443)
after=$(st tls.passthrough.drop.no_sni)
hf_check "a client without SNI (openssl s_client -noservername) is reset: no certificate (tls.passthrough.drop.no_sni $before -> $after)" \
	test -z "$subj" -a "$after" -eq $((before + 1))
before=$(st tls.passthrough.drop.not_tls)
out=$(in_ns curl -sS --noproxy '*' --max-time 10 "http://$OUR:443/" 2>&1)
after=$(st tls.passthrough.drop.not_tls)
hf_check "plaintext HTTP to the passthrough port is reset ('$(tail -1 <<<"$out" | cut -c1-60)'; tls.passthrough.drop.not_tls $before -> $after)" \
	test "$after" -eq $((before + 1))

# ---------------------------------------------------------------- a ClientHello in pieces
before=$(st tls.passthrough.routed)
out=$(in_ns timeout -k 5 60 "$HF_PY" -u "$HF_TMP/hello.py" "$OUR" "$CERTS/ca.crt" trickle 2>"$HF_TMP/trickle.err")
after=$(st tls.passthrough.routed)
[ -s "$HF_TMP/trickle.err" ] && sed 's/^/# trickle: /' "$HF_TMP/trickle.err" | tail -12
read -r hello_len cn body <<<"$out"
hf_check "a ClientHello sent one byte per segment ($hello_len segments) is routed by its SNI, its handshake completes (certificate $cn) and the GET answers '$body'" \
	test "$cn" = a.example.com -a "$body" = "upstream a" -a "$after" -eq $((before + 1))

# ---------------------------------------------------------------- TLS terminated, tcp route
head -c $((1 << 20)) /dev/urandom > "$HF_TMP/1m.bin"
cat > "$HF_TMP/echo_client.py" <<'PY'
import hashlib, select, socket, ssl, sys
# echo_client.py ADDR CA FILE: FILE's bytes to ADDR:8443 over TLS, reading the echo as it comes
addr, ca, path = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection((addr, 8443), timeout=30)
s = ctx.wrap_socket(raw, server_hostname="echo.example.net")
cn = [v for rdn in s.getpeercert()["subject"] for k, v in rdn if k == "commonName"][0]
s.setblocking(False)
got, sent = bytearray(), 0
while len(got) < len(data):
    if not s.pending():
        r, w, _ = select.select([s], [s] if sent < len(data) else [], [], 30)
        if not r and not w:
            break
    try:
        if sent < len(data):
            sent += s.send(data[sent:sent + 16384])
    except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
        pass
    try:
        b = s.recv(65536)
        if not b:
            break
        got += b
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        pass
print(cn, len(got), hashlib.sha256(got).hexdigest(), hashlib.sha256(data).hexdigest())
PY
before=$(st tls.handshakes)
out=$(in_ns timeout 60 "$HF_PY" "$HF_TMP/echo_client.py" "$OUR" "$CERTS/ca.crt" "$HF_TMP/1m.bin" 2>&1)
read -r cn n got want <<<"$out"
hf_check "TLS terminated on :8443 (protocol TLS, mode SIMPLE, certificate $cn) with a tcp route to an echo server: 1 MB back byte for byte (${n:-0} bytes, sha256 ${got:0:12} = ${want:0:12})" \
	test "$cn" = echo.example.net -a "${n:-0}" -eq $((1 << 20)) -a -n "$got" -a "$got" = "$want"
hf_check "one more TLS handshake terminated (tls.handshakes $before -> $(st tls.handshakes))" \
	test "$(st tls.handshakes)" -eq $((before + 1))

# ---------------------------------------------------------------- the silent client
wait "$STALL_PID" 2>/dev/null
stall=$(cat "$HF_TMP/stall.out")
hf_check "a client silent after 20 bytes of its ClientHello did not hold up the $((SECONDS - T_STALL)) s of checks above and was reset at 10 s ('$stall'; tls.passthrough.drop.hello_timeout $(st tls.passthrough.drop.hello_timeout))" \
	test "$(st tls.passthrough.drop.hello_timeout)" -eq 1 -a "${stall%% *}" = reset

# ---------------------------------------------------------------- end
echo "# counters: $(hf_admin "$NS" /stats | grep -E '^(tls\.|tcp_proxy\.)' | tr '\n' ' ')"
hf_check_stop
echo "# $((SECONDS - T0)) s"
hf_done
