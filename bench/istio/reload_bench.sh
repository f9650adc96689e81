#!/usr/bin/env bash
# Hot reload with large route tables: hydrofoil serves an Istio directory with
# N routes (10% regex) in one VirtualService; the file is replaced by one whose
# last route goes elsewhere, and a keep-alive client measures the time from the
# rename to the first answer from the new snapshot (inotify, a 10 ms settle,
# YAML, translation, Hyperscan compilation, publication). Prints a Markdown
# table; figures are measured, never asserted. Needs root and the built daemon.
set -uo pipefail
# shellcheck source=../../scripts/lib/netns.sh
source "$(dirname "$0")/../../scripts/lib/netns.sh"
PY=$HF_ROOT/bench/istio/reload_bench.py

NS=$(hf_ns_new reload) || exit 1
mkdir -p "$HF_TMP/ist" "$HF_TMP/ngx"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/ngx; proxy_temp_path $HF_TMP/ngx; fastcgi_temp_path $HF_TMP/ngx;
    uwsgi_temp_path $HF_TMP/ngx; scgi_temp_path $HF_TMP/ngx;
    server { listen 8081; location / { return 200 "v1\n"; } }
    server { listen 8082; location / { return 200 "v2\n"; } }
}
NGINX
ip netns exec "$NS" nginx -c "$HF_TMP/nginx.conf" -g 'daemon off;' &
HF_PIDS+=($!)
echo "| routes (10% regex) | rename → first answer of the new snapshot | of which load + translate + compile | peak RSS |"
echo "|---:|---:|---:|---:|"
for n in ${HF_RELOAD_ROUTES:-100 1000 10000}; do
	"$PY" gen "$HF_TMP/ist" "$n" v1
	hf_cfg "$HF_TMP/hf.cfg" hf0 198.51.100.2/24 198.51.100.1 "config: { istio_dir = \"$HF_TMP/ist\"; };"
	if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf-$n.log" 198.51.100.1/24; then
		echo "| $n | hydrofoil did not start: $(grep -m1 'config\|error' "$HF_TMP/hf-$n.log") | | |"
		continue
	fi
	out=$(ip netns exec "$NS" timeout 60 "$PY" swap 198.51.100.2 "$HF_TMP/ist" "$n")
	build=$(hf_stat "$NS" control_plane.last_build_us)
	rss=$(awk '/VmHWM/ { print $2 " kB" }' "/proc/$HF_PID/status" 2>/dev/null)
	ms=$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get("reload_ms", d))' "$out")
	printf '| %s | %s ms | %s ms | %s |\n' "$n" "$ms" \
		"$(awk -v u="${build:-0}" 'BEGIN { printf "%.1f", u / 1000 }')" "$rss"
	kill -TERM "$HF_PID"
	wait "$HF_PID" 2>/dev/null
	ip -n "$NS" link del hf0 2>/dev/null
	sleep 0.5
done
