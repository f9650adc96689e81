#!/usr/bin/env bash
# Hot reload with large route tables: hydrofoil serves an Istio directory with
# N routes (10% regex), in one VirtualService or spread over F files; the file
# holding the catch-all is replaced by one whose catch-all goes elsewhere, and
# a keep-alive client measures the time from the rename to the first answer
# from the new snapshot (inotify, the settle delay, reading, YAML, translation,
# Hyperscan compilation, publication), median of HF_RELOAD_REPEAT (5) changes,
# counting the requests that failed meanwhile, and the agent thread's CPU
# time per change (/proc, 10 ms ticks: the machine's other load does not
# count in it). The phases are those of the last change, from the agent's log. Prints a Markdown table; figures are
# measured, never asserted. Needs root and the built daemon.
# HF_RELOAD_CASES: "ROUTES:FILES ..." (default "100:1 1000:1 10000:1 10000:100").
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
echo "| routes (10% regex) | files (changed: 1) | rename → first answer of the new snapshot (median) | agent CPU per change | failed requests | read + parse | translate | compile | peak RSS |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in ${HF_RELOAD_CASES:-100:1 1000:1 10000:1 10000:100}; do
	n=${c%%:*} files=${c##*:}
	rm -rf "$HF_TMP/ist" && mkdir -p "$HF_TMP/ist"
	"$PY" gen "$HF_TMP/ist" "$n" v1 "$files"
	hf_cfg "$HF_TMP/hf.cfg" hf0 198.51.100.2/24 198.51.100.1 "config: { istio_dir = \"$HF_TMP/ist\"; };"
	log=$HF_TMP/hf-$n-$files.log
	if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$log" 198.51.100.1/24; then
		echo "| $n | $files | hydrofoil did not start: $(grep -m1 'config\|error' "$log") | | | | | | |"
		continue
	fi
	out=$(ip netns exec "$NS" timeout 120 "$PY" swap 198.51.100.2 "$HF_TMP/ist" "$n" "$files" \
		"${HF_RELOAD_REPEAT:-5}" "$HF_PID")
	rss=$(awk '/VmHWM/ { print $2 " kB" }' "/proc/$HF_PID/status" 2>/dev/null)
	/usr/bin/python3 - "$out" "$log" "$n" "$files" "$rss" <<'PY'
import json, re, sys
out, log, n, files, rss = sys.argv[1:]
try:
    d = json.loads(out)
except ValueError:
    d = {"error": out or "no output"}
ph = {}
for line in open(log, errors="replace"):
    m = re.search(r"read (\d+) us, parse (\d+) us .* translate (\d+) us, merge \d+ us, compile (\d+) us", line)
    if m:
        ph = dict(zip(("read", "parse", "translate", "compile"), map(int, m.groups())))
ms = lambda us: f"{us / 1000:.1f} ms"
if "error" in d:
    print(f"| {n} | {files} | {d['error']} | | | | | | {rss} |")
else:
    print(f"| {n} | {files} | {d['reload_ms']} ms ({min(d['all_ms'])}–{max(d['all_ms'])}) | "
          f"{d['agent_cpu_ms']} ms | {d['failed']} of {d['requests']} | "
          + (f"{ms(ph['read'] + ph['parse'])} | {ms(ph['translate'])} | {ms(ph['compile'])} | "
             if ph else "| | | ") + f"{rss} |")
PY
	kill -TERM "$HF_PID"
	wait "$HF_PID" 2>/dev/null
	hf_forget_pid "$HF_PID"
	ip -n "$NS" link del hf0 2>/dev/null
	sleep 0.5
done
