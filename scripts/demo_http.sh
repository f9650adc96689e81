#!/usr/bin/env bash
# The demo: sets the machine up, starts hydrofoil as an HTTP gateway
# (examples/http.cfg) in a private network namespace on a DPDK net_tap, with
# nginx upstreams on the Linux side, and shows it at work: ping answered by its
# own stack, requests routed by virtual host and path, round robin, local
# replies for limits and smuggling, a 10 MB download compared byte for byte, a
# wrk run, the access log and the counters from the admin API.
# Everything it creates is removed when it ends, also on Ctrl-C.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
source scripts/lib/netns.sh

OUR=198.51.100.2
PEER=198.51.100.1
say() { printf '\n== %s\n' "$*"; }

NS=$(hf_ns_new demo) || exit 1

# Upstreams: nginx on the Linux side of the tap, one server per endpoint.
mkdir -p "$HF_TMP/www" "$HF_TMP/nginx"
echo "hello from the web cluster (nginx at $PEER:8080)" > "$HF_TMP/www/index.html"
head -c 10000000 /dev/urandom > "$HF_TMP/www/10MB.bin"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/nginx; proxy_temp_path $HF_TMP/nginx;
    fastcgi_temp_path $HF_TMP/nginx; uwsgi_temp_path $HF_TMP/nginx; scgi_temp_path $HF_TMP/nginx;
    keepalive_requests 100000;
    server { listen $PEER:8080; root $HF_TMP/www; }
    server { listen $PEER:8081; location / { return 200 "api on 8081: \$request_method \$request_uri host=\$host xff=\$http_x_forwarded_for proto=\$http_x_forwarded_proto request-id=\$http_x_request_id\n"; } }
    server { listen $PEER:8082; location / { return 200 "api on 8082: \$request_method \$request_uri host=\$host xff=\$http_x_forwarded_for proto=\$http_x_forwarded_proto request-id=\$http_x_request_id\n"; } }
    server { listen $PEER:9001; location / { return 200 "unused\n"; } }
}
NGINX

CFG=$HF_ROOT/examples/http.cfg
say "bootstrap ($CFG)"
grep -v '^#' "$CFG"
if ! hf_up "$NS" "$CFG" "$HF_TMP/demo.log" "$PEER/24"; then
	echo "hydrofoil did not become ready"
	exit 1
fi
ip netns exec "$NS" nginx -c "$HF_TMP/nginx.conf" -g 'daemon off;' &
HF_PIDS+=($!)
say "hydrofoil is up (namespace $NS, admin 127.0.0.1:15000 inside it)"
grep '^hydrofoil:' "$HF_TMP/demo.log"
echo "GET /ready -> $(hf_admin "$NS" /ready)"

say "ping from the Linux side ($PEER) to hydrofoil's own stack ($OUR)"
ip netns exec "$NS" ping -c 5 -i 0.1 "$OUR" | tail -2
sleep 0.3

c() { ip netns exec "$NS" curl -s --max-time 10 "$@"; }
say "HTTP through hydrofoil: each request, the route it took and what came back"
printf '%-52s %s\n' "request" "answer"
row() { printf '%-52s %s\n' "$1" "$(c -o /dev/null -w '%{http_code} %{size_download}B' "${@:2}")"; }
printf '%-52s %s' "GET / (vhost web, prefix /)" "$(c "http://$OUR/")"; echo
printf '%-52s %s' "GET /users?id=7 Host: api.example.com (vhost api)" "$(c -H 'Host: api.example.com' "http://$OUR/users?id=7")"; echo
printf '%-52s %s' "the same again (round robin to the other endpoint)" "$(c -H 'Host: api.example.com' "http://$OUR/users?id=7")"; echo
printf '%-52s %s' "GET /healthz (exact path route to api)" "$(c "http://$OUR/healthz")"; echo
row "GET /missing.html (nginx answers 404)" "http://$OUR/missing.html"
head -c 2000000 "$HF_TMP/www/10MB.bin" > "$HF_TMP/2MB.bin"
row "POST 2 MB to api (max_request_bytes = 1 MiB)" -H 'Host: api.example.com' --data-binary @"$HF_TMP/2MB.bin" "http://$OUR/upload"
got=$(c "http://$OUR/10MB.bin" | sha256sum | cut -c1-16); want=$(sha256sum < "$HF_TMP/www/10MB.bin" | cut -c1-16)
printf '%-52s %s\n' "GET /10MB.bin, sha256 through us vs the file" "$got vs $want"
printf '%-52s %s\n' "a request line over 8 KiB" "$(c -o /dev/null -w '%{http_code}' "http://$OUR/$(head -c 9000 /dev/zero | tr '\0' a)")"
printf '%-52s %s\n' "a smuggling attempt (Content-Length + chunked)" \
	"$(printf 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' |
		ip netns exec "$NS" timeout 3 socat -t2 - "TCP:$OUR:80" | head -1 | tr -d '\r')"

say "keep-alive load: wrk -t2 -c50 -d5s through hydrofoil to nginx"
ip netns exec "$NS" wrk -t2 -c50 -d5s "http://$OUR/" | grep -E 'Requests/sec|Latency|requests in|Non-2xx|Socket'
echo "upstream connections opened: $(hf_stat "$NS" http.upstream_cx_total), requests sent upstream: $(hf_stat "$NS" http.upstream_rq_total)"

say "access log (Istio's format), the first requests"
grep '^\[' "$HF_TMP/demo.log" | head -9

say "counters (GET /stats, non-zero only)"
stats=$(hf_admin "$NS" /stats)
grep -v ': 0$' <<<"$stats" | grep -E '^(http|tcp|access_log|port\.p0\.mbufs)' 
say "worker cost, from its own TSC counters"
awk -F': ' '{ v[$1] = $2 }
	END {
		if (v["worker.idle_loops"] > 0)
			printf "idle poll loop:            %8.0f cycles/iteration\n", v["worker.idle_cycles"] / v["worker.idle_loops"]
		if (v["worker.stack_packets"] > 0)
			printf "stack, per frame (no I/O): %8.0f cycles/frame\n", v["worker.stack_cycles"] / v["worker.stack_packets"]
		if (v["worker.loops"] - v["worker.idle_loops"] > 0)
			printf "busy iteration (with tap I/O): %4.0f cycles/iteration\n", v["worker.busy_cycles"] / (v["worker.loops"] - v["worker.idle_loops"])
		if (v["http.downstream_rq_total"] > 0)
			printf "stack, per HTTP request:   %8.0f cycles (TCP both sides, parse, route, rewrite; no I/O)\n", v["worker.stack_cycles"] / v["http.downstream_rq_total"]
	}' <<<"$stats"
say "stopping (SIGTERM): hydrofoil prints its final counters and exits 0"
kill -TERM "$HF_PID"
wait "$HF_PID"
echo "exit status $?"
