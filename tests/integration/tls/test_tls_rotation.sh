#!/usr/bin/env bash
# Certificate rotation by watching files: hydrofoil as an Istio ingress gateway with two HTTPS
# servers, one whose credentialName folder is laid out as kubelet mounts a Kubernetes secret
# (tls.crt -> ..data/tls.crt, ..data -> ..2026_N: an update is a new ..2026_N folder and an
# atomic rename of ..data), one by serverCertificate / privateKey file paths. The routes are
# directResponse: no upstream is involved.
#
# Checks: the certificate is swapped every second for ~20 s while a Python client handshakes
# continuously (a new connection, a full handshake verified against the test CA, one request
# per connection) and a curl loop does the same: no handshake or request fails, and the
# clients saw many serials; openssl s_client shows the last certificate's serial at the end;
# a keep-alive connection opened before the first swap serves requests through all of them
# (its certificate stays the one it started with); a touch, or the same bytes renamed into
# place, reloads nothing; a certificate written before its key (a pair that does not match) is
# refused, the old pair keeps serving, control_plane.cert_rejected counts it and the log names
# the files; the key written next is what retries, and the new pair is served; a second CA
# added to a MUTUAL credential's ca.crt is trusted without a restart; GET /certs
# lists the certificates served at the end (path, serial, SANs, days) and /stats has their
# expiry gauges.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
CERTS=$HF_TMP/certs
GEN=$HF_TMP/gen
ISTIO=$HF_TMP/istio
SECS=${HF_ROTATE_SECONDS:-20}
N=$((SECS + 2))

# ---------------------------------------------------------------- certificates
"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" || { hf_not_ok "test CA"; exit 1; }
mkdir -p "$GEN"
cp "$CERTS/ca.crt" "$CERTS/ca.key" "$GEN/"	# the same CA signs the certificates to rotate to
for i in $(seq 0 "$N"); do
	"$HF_ROOT/scripts/mkcert.sh" cert "$GEN" "r$i" rot.example.com || break
done
"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" files files.example.net
# MUTUAL: mtls-cred trusts the test CA (its ca.crt); a client certificate from a second CA,
# trusted once that CA is added to ca.crt
"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" mtls-cred mtls.example.com
"$HF_ROOT/scripts/mkcert.sh" ca "$HF_TMP/ca2"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$HF_TMP/client2.key" 2>/dev/null
openssl req -new -key "$HF_TMP/client2.key" -subj "/CN=client2" -out "$HF_TMP/client2.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > "$HF_TMP/client2.ext"
openssl x509 -req -in "$HF_TMP/client2.csr" -CA "$HF_TMP/ca2/ca.crt" -CAkey "$HF_TMP/ca2/ca.key" \
	-CAcreateserial -days 1 -sha256 -extfile "$HF_TMP/client2.ext" -out "$HF_TMP/client2.crt" 2>/dev/null
# the next pair for files.example.net: 30 days (mkcert's last one), for the expiry gauge
mkdir -p "$GEN/files2"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$GEN/files2/tls.key" 2>/dev/null
openssl req -new -key "$GEN/files2/tls.key" -subj "/CN=files.example.net" -out "$GEN/files2/csr" 2>/dev/null
printf 'subjectAltName=DNS:files.example.net\nextendedKeyUsage=serverAuth\n' > "$GEN/files2/ext"
openssl x509 -req -in "$GEN/files2/csr" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" -CAcreateserial \
	-days 30 -sha256 -extfile "$GEN/files2/ext" -out "$GEN/files2/tls.crt" 2>/dev/null
hf_check "test CA, $((N + 1)) certificates to rotate through and two pairs for files.example.net" \
	test -s "$GEN/r$N/tls.crt" -a -s "$GEN/files2/tls.key"
serial_of() { openssl x509 -noout -serial -in "$1" | sed 's/^serial=//'; }

# A secret folder as kubelet makes it: data in a timestamped folder, ..data a link to it, the
# files links through ..data. swap N: the next version, atomically (rename over ..data).
SECRET=$CERTS/rot-cred
mkdir -p "$SECRET"
swap() {
	local new="..v$1" old
	old=$(readlink "$SECRET/..data" 2>/dev/null)
	mkdir "$SECRET/$new"
	cp "$GEN/r$1/tls.crt" "$GEN/r$1/tls.key" "$SECRET/$new/"
	ln -s "$new" "$SECRET/..data_tmp"
	mv -T "$SECRET/..data_tmp" "$SECRET/..data"
	[ -n "$old" ] && rm -rf "${SECRET:?}/$old"
}
swap 0
ln -s ..data/tls.crt "$SECRET/tls.crt"
ln -s ..data/tls.key "$SECRET/tls.key"

mkdir -p "$ISTIO"
cat > "$ISTIO/gateway.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["rot.example.com"]
    tls: {mode: SIMPLE, credentialName: rot-cred}
  - port: {number: 443, name: https-files, protocol: HTTPS}
    hosts: ["files.example.net"]
    tls:
      mode: SIMPLE
      serverCertificate: $CERTS/files/tls.crt
      privateKey: $CERTS/files/tls.key
  - port: {number: 8443, name: https-mtls, protocol: HTTPS}
    hosts: ["mtls.example.com"]
    tls: {mode: MUTUAL, credentialName: mtls-cred}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - directResponse: {status: 200, body: {string: "rotated ok"}}
YAML

T0=$SECONDS
NS=$(hf_ns_new tlsrot) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with a rotating credential reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with a rotating credential reports LIVE"
in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }
# served NAME: the serial of the certificate the server shows for SNI NAME
served() {
	in_ns timeout 10 openssl s_client -connect "$OUR:443" -servername "$1" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}
# wait_stat NAME VALUE: until counter NAME reaches VALUE (at most 10 s); prints what it is
wait_stat() {
	local v
	for _ in $(seq 100); do
		v=$(st "$1")
		[ "${v:-0}" -ge "$2" ] && break
		sleep 0.1
	done
	echo "${v:-0}"
}

hf_check "control_plane.watched_files counts the certificate and key files read ($(st control_plane.watched_files))" \
	test "$(st control_plane.watched_files)" -ge 4
s0=$(served rot.example.com)
hf_check "the first certificate is served (serial $s0)" test "$s0" = "$(serial_of "$GEN/r0/tls.crt")"

# ---------------------------------------------------------------- clients
cat > "$HF_TMP/hammer.py" <<'PY'
# hammer ADDR NAME CAFILE SECONDS: a new connection and a full handshake (no session reuse)
# per request, until SECONDS pass; prints "ok failed distinct_serials" and the first errors.
import socket, ssl, sys, time
addr, name, ca, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
ok = failed = 0
serials, errors = set(), []
end = time.time() + secs
while time.time() < end:
    try:
        with socket.create_connection((addr, 443), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as s:
                serials.add(s.getpeercert()["serialNumber"])
                s.sendall(b"GET / HTTP/1.1\r\nHost: " + name.encode() + b"\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    data += d
        if data.startswith(b"HTTP/1.1 200") and data.endswith(b"rotated ok"):
            ok += 1
        else:
            failed += 1
            errors.append(repr(data[:60]))
    except Exception as e:  # noqa: BLE001 - every failure is what is counted
        failed += 1
        errors.append(repr(e)[:120])
print(ok, failed, len(serials), " | ".join(errors[:3]))
PY
cat > "$HF_TMP/keeper.py" <<'PY'
# keeper ADDR NAME CAFILE SECONDS: one keep-alive connection, a request every 0.25 s until
# SECONDS pass; prints "ok failed serial".
import socket, ssl, sys, time
addr, name, ca, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
ok = failed = 0
s = ctx.wrap_socket(socket.create_connection((addr, 443), timeout=10), server_hostname=name)
serial = s.getpeercert()["serialNumber"]
print("open", serial, flush=True)
end = time.time() + secs
buf = b""
while time.time() < end:
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: " + name.encode() + b"\r\n\r\n")
        while b"rotated ok" not in buf:
            d = s.recv(4096)
            if not d:
                raise ConnectionError("closed by the server")
            buf += d
        ok += buf.startswith(b"HTTP/1.1 200")
        failed += not buf.startswith(b"HTTP/1.1 200")
        buf = b""
    except Exception as e:  # noqa: BLE001
        failed += 1
        print("error", repr(e), flush=True)
        break
    time.sleep(0.25)
print(ok, failed, s.getpeercert()["serialNumber"])
PY
in_ns "$HF_PY" "$HF_TMP/keeper.py" "$OUR" rot.example.com "$CERTS/ca.crt" $((SECS + 4)) > "$HF_TMP/keeper.out" 2>&1 &
KEEPER=$!
HF_PIDS+=($KEEPER)
for _ in $(seq 50); do grep -q '^open' "$HF_TMP/keeper.out" && break; sleep 0.1; done
hf_check "a keep-alive connection is open before the rotation ($(head -1 "$HF_TMP/keeper.out"))" \
	grep -q "^open" "$HF_TMP/keeper.out"
in_ns "$HF_PY" "$HF_TMP/hammer.py" "$OUR" rot.example.com "$CERTS/ca.crt" $((SECS + 1)) > "$HF_TMP/hammer.out" 2>&1 &
HAMMER=$!
HF_PIDS+=($HAMMER)
# curl: a new process, connection and full handshake per request (no session cache across them)
in_ns bash -c 'end=$((SECONDS + $1)); ok=0; bad=0
	while [ $SECONDS -lt $end ]; do
		if [ "$(curl -sS --noproxy "*" --max-time 10 --cacert "$2" --resolve "rot.example.com:443:$3" \
			https://rot.example.com/ 2>&1)" = "rotated ok" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	done; echo "$ok $bad"' _ $((SECS + 1)) "$CERTS/ca.crt" "$OUR" > "$HF_TMP/curl.out" 2>&1 &
CURLS=$!
HF_PIDS+=($CURLS)

# ---------------------------------------------------------------- rotate every second
changes0=$(st control_plane.cert_changes)
hs0=$(st tls.handshakes)
for i in $(seq 1 "$SECS"); do
	sleep 1
	swap "$i"
done
changes=$(wait_stat control_plane.cert_changes $((${changes0:-0} + SECS)))
wait "$HAMMER"
wait "$CURLS"
read -r h_ok h_bad h_serials h_err < "$HF_TMP/hammer.out"
read -r c_ok c_bad < "$HF_TMP/curl.out"
hs=$(( $(st tls.handshakes) - ${hs0:-0} ))
echo "# $SECS swaps in $SECS s: control_plane.cert_changes ${changes0:-0} -> $changes; $hs handshakes; python: $h_ok ok, $h_bad failed, $h_serials serials; curl: $c_ok ok, $c_bad failed"
hf_check "the swaps of ..data were seen as changes (control_plane.cert_changes +$((changes - ${changes0:-0})) for $SECS swaps; two a settle apart count once)" \
	test "$((changes - ${changes0:-0}))" -ge "$((SECS / 2))"
hf_check "no handshake or request failed while the certificate rotated: python $h_ok ok / ${h_bad:-?} failed${h_err:+ ($h_err)}, curl $c_ok ok / ${c_bad:-?} failed" \
	test "${h_bad:-1}" -eq 0 -a "${c_bad:-1}" -eq 0 -a "${h_ok:-0}" -gt "$SECS" -a "${c_ok:-0}" -gt 0
# (a certificate replaced before the reload that serves it is done is never seen: not counted)
hf_check "new handshakes got the new certificates: the Python client saw $h_serials serials over $SECS swaps (last build $(st control_plane.last_build_us) us)" \
	test "${h_serials:-0}" -ge 2
s1=$(served rot.example.com)
hf_check "openssl s_client: the last certificate is served (serial $s1, was $s0)" \
	test "$s1" = "$(serial_of "$GEN/r$SECS/tls.crt")" -a "$s1" != "$s0"
wait "$KEEPER"
read -r k_ok k_bad k_serial <<<"$(tail -1 "$HF_TMP/keeper.out")"
hf_check "the keep-alive connection opened before the rotation served $k_ok requests through it, none failed, on its first certificate ($k_serial)" \
	test "${k_bad:-1}" -eq 0 -a "${k_ok:-0}" -gt "$SECS" -a "$k_serial" = "$(serial_of "$GEN/r0/tls.crt" | tr a-f A-F)"

# ---------------------------------------------------------------- no change, no reload
reloads0=$(st control_plane.config_reloads)
changes0=$(st control_plane.cert_changes)
touch "$CERTS/files/tls.crt"
sleep 0.5
# the same bytes under a new inode, renamed into place (a rewrite in place may be read half done)
cp "$CERTS/files/tls.key" "$CERTS/files/.tls.key.new" && mv "$CERTS/files/.tls.key.new" "$CERTS/files/tls.key"
sleep 1
hf_check "a touch and the same bytes renamed into place reload nothing (control_plane.config_reloads $reloads0 -> $(st control_plane.config_reloads), cert_changes $changes0 -> $(st control_plane.cert_changes))" \
	test "$(st control_plane.config_reloads)" = "$reloads0" -a "$(st control_plane.cert_changes)" = "$changes0"

# ---------------------------------------------------------------- half-written pair
f0=$(served files.example.net)
rej0=$(st control_plane.cert_rejected)
cp "$GEN/files2/tls.crt" "$CERTS/files/tls.crt"		# the certificate now, the key later
rej=$(wait_stat control_plane.cert_rejected $((${rej0:-0} + 1)))
sleep 0.5
f1=$(served files.example.net)
hf_check "a new certificate with the old key is refused (control_plane.cert_rejected ${rej0:-0} -> $rej), the old pair keeps serving ($f1)" \
	test "$rej" -eq $((${rej0:-0} + 1)) -a "$f1" = "$f0"
hf_check "the refusal is logged with the files' paths: '$(grep -F 'keeps serving' "$HF_TMP/hf.log" | tail -1 | cut -c1-160)'" \
	grep -qF "$CERTS/files/tls.crt, $CERTS/files/tls.key: the private key does not match the certificate" "$HF_TMP/hf.log"
n_ok=$(in_ns curl -sS --noproxy '*' --max-time 10 --cacert "$CERTS/ca.crt" --resolve "files.example.net:443:$OUR" \
	https://files.example.net/ 2>&1)
hf_check "handshakes still succeed meanwhile: '$n_ok'" test "$n_ok" = "rotated ok"
reloads0=$(st control_plane.config_reloads)
cp "$GEN/files2/tls.key" "$CERTS/files/tls.key"
wait_stat control_plane.config_reloads $((reloads0 + 1)) >/dev/null
f2=$(served files.example.net)
hf_check "the key written next retries: the new pair is served (serial $f2)" \
	test "$f2" = "$(serial_of "$GEN/files2/tls.crt")"

# ---------------------------------------------------------------- a MUTUAL server's CA bundle
mtls() {
	in_ns curl -sS --noproxy '*' --max-time 10 --cacert "$CERTS/ca.crt" --cert "$HF_TMP/client2.crt" \
		--key "$HF_TMP/client2.key" --resolve "mtls.example.com:8443:$OUR" https://mtls.example.com:8443/ 2>&1
}
out=$(mtls)
hf_check "MUTUAL: a client certificate from another CA is refused ('$(tail -1 <<<"$out" | cut -c1-70)')" \
	test "$out" != "rotated ok"
reloads0=$(st control_plane.config_reloads)
cat "$CERTS/ca.crt" "$HF_TMP/ca2/ca.crt" > "$CERTS/mtls-cred/.ca.crt.new"
mv "$CERTS/mtls-cred/.ca.crt.new" "$CERTS/mtls-cred/ca.crt"
wait_stat control_plane.config_reloads $((reloads0 + 1)) >/dev/null
out=$(mtls)
hf_check "the other CA added to the credential's ca.crt: the same client is served ('$out')" \
	test "$out" = "rotated ok"

# ---------------------------------------------------------------- /certs, expiry gauges
hf_admin "$NS" /certs > "$HF_TMP/certs.json"
got=$("$HF_PY" - "$HF_TMP/certs.json" "$SECRET/tls.crt" "$CERTS/files/tls.crt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for path in sys.argv[2:]:
    c = [e for x in d["certificates"] for e in x["cert_chain"] if e["path"] == path]
    if len(c) != 1:
        out.append("missing")
        continue
    c = c[0]
    out.append("%s %s %s %s %s" % (c["serial_number"].upper(), ",".join(v for s in c["subject_alt_names"] for v in s.values()),
                                   c["days_until_expiration"], c["valid_from"][-1], c["expiration_time"][-1]))
print("|".join(out))
PY
)
want="$(serial_of "$GEN/r$SECS/tls.crt") rot.example.com 0 Z Z|$(serial_of "$GEN/files2/tls.crt") files.example.net 29 Z Z"
hf_check "GET /certs shows both certificates served now, by path, serial, SAN and days left ('$got')" \
	test "$got" = "$want"
ca=$("$HF_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(c["path"] for x in d["certificates"] for c in x["ca_cert"]))' "$HF_TMP/certs.json" 2>&1)
hf_check "and the MUTUAL server's CA as ca_cert ($ca)" test "$ca" = "$CERTS/mtls-cred/ca.crt"
hf_check "expiry gauges: tls.cert_expiry_days.files.tls.crt $(st tls.cert_expiry_days.files.tls.crt) (30-day certificate), .rot-cred.tls.crt $(st tls.cert_expiry_days.rot-cred.tls.crt), server.days_until_first_cert_expiring $(st server.days_until_first_cert_expiring)" \
	test "$(st tls.cert_expiry_days.files.tls.crt)" = 29 -a "$(st tls.cert_expiry_days.rot-cred.tls.crt)" = 0 \
	-a "$(st server.days_until_first_cert_expiring)" = 0

# ---------------------------------------------------------------- end
echo "# $(hf_admin "$NS" /stats | grep -E '^(control_plane\.(cert|watched|config_re)|tls\.(handshakes|contexts|handshake\.))' | tr '\n' ' ')"
hf_check_stop
echo "# $((SECONDS - T0)) s"
hf_done
