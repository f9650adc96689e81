#!/usr/bin/env bash
# xDS end to end, incremental (delta) ADS: hydrofoil with api_type DELTA_GRPC,
# configured only by tests/xds/server.js over DeltaAggregatedResources, in a
# private namespace in front of two nginx servers ("A" on 9101, "B" on 9102).
#
# Checks: a delta stream with a wildcard Listener subscription carrying the
# node; route configurations subscribed by name; initial sync; each type's
# response ACKed by its nonce; a listener added is sent alone and serves; a
# listener removed comes as removed_resources and its port closes; a cluster
# removed leaves its route answering 503 NC while the rest serves, and comes
# back; an assignment changed is sent alone (the other cluster's is not
# resent); a NACK names the resource and the field, the old routes serving;
# a route configuration the server says does not exist (removed_resources)
# leaves its listener serving 404 instead of waiting; the server killed → the
# configuration keeps serving; restarted → the new stream's first requests
# carry initial_resource_versions equal to what the client was sent, and only
# what changed meanwhile is sent again; SIGTERM stops hydrofoil with 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$(dirname "$0")/xds_lib.sh"

clusters "$(eds_cluster web)" "$(static_cluster web-b 9102)" "$(eds_cluster web2)"
endpoints web 9101
endpoints web2 9102
ROUTE_WEB2='{"name": "two", "match": {"prefix": "/two"}, "route": {"cluster": "web2"}},'
routes "$(route_config http.80 "$ROUTE_WEB2")"
listeners "$(http_listener 80)"
xds_setup xdsd 'api_type = "DELTA_GRPC"; initial_fetch_timeout_ms = 60000;'

# py SCRIPT ARGS...: runs a python check over the server's log (sys.argv[1]) and ARGS
py() { "$HF_PY" -c "$1" "$SLOG" "${@:2}"; }
EVENTS='import json,sys
E=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def of(ev, t=None): return [e for e in E if e["event"]==ev and (t is None or e.get("type")==t)]
'

# ---------------------------------------------------------------- the stream, initial sync
hf_check "hydrofoil opens a delta stream (DeltaAggregatedResources)" \
	wait_for 10 bash -c 'grep -F "\"event\":\"stream_open\"" "$1" | grep -qF "\"delta\":true"' _ "$SLOG"
WANT=A
answers() { [ "$(get "$@" "http://$OUR/")" = "$WANT" ]; }
hf_check "initial sync: GET / reaches the EDS endpoint (A)" wait_for 15 answers
hf_check "the first Listener request subscribes by wildcard (no names), the stream's first carries the node" \
	py "$EVENTS"'
r=of("request","Listener")[0]
n=of("request")[0]["node"]
sys.exit(not (r["delta"] and r["subscribe"]==[] and r["initial"]=={} and
              n["id"]=="router~198.51.100.2~gw-0.istio-system~istio-system.svc.cluster.local"))'
hf_check "route configurations are subscribed by name (http.80)" \
	py "$EVENTS"'sys.exit(not any("http.80" in r["subscribe"] for r in of("request","RouteConfiguration")))'
# acked TYPE: the last response of TYPE was ACKed by its nonce
acked() { py "$EVENTS"'
s=of("send",sys.argv[2])
sys.exit(not (s and any(a["nonce"]==s[-1]["nonce"] and not a.get("stale") for a in of("ack",sys.argv[2]))))' "$1"; }
for t in Cluster ClusterLoadAssignment Listener RouteConfiguration; do
	hf_check "the server saw the ACK of its last $t response (by nonce)" wait_for 5 acked "$t"
done
hf_check "no NACK so far" bash -c '! grep -qF "\"event\":\"nack\"" "$1"' _ "$SLOG"
two=$(get "http://$OUR/two")
hf_check "a route to the second EDS cluster: /two → web2 → B ($two)" test "$two" = B

# last_send TYPE KEY: that field of the last response of TYPE
last_send() { py "$EVENTS"'import json
print(json.dumps(of("send",sys.argv[2])[-1][sys.argv[3]], sort_keys=True))' "$1" "$2"; }

# ---------------------------------------------------------------- a listener added, removed
listeners "$(http_listener 80)" "$(tcp_listener 9000 web-b)"
tcp_b() { [ "$(get "http://$OUR:9000/")" = B ]; }
hf_check "a tcp_proxy listener added on 9000 serves (B)" wait_for 10 tcp_b
sent=$(last_send Listener resources)
hf_check "… and the server sent it alone ($sent), not the listener on 80 again" test "$sent" = '["tcp_9000"]'
listeners "$(http_listener 80)"
closed_9000() { [ "$(code "http://$OUR:9000/")" = 000 ]; }
hf_check "the listener removed: port 9000 no longer answers" wait_for 10 closed_9000
removed=$(last_send Listener removed)
hf_check "… it came as removed_resources ($removed)" test "$removed" = '["tcp_9000"]'
WANT=A
hf_check "… and port 80 still serves (A)" answers

# ---------------------------------------------------------------- a cluster removed: 503 NC
nc0=$(hf_stat "$NS" http.no_cluster)
clusters "$(eds_cluster web)" "$(eds_cluster web2)"
canary() { [ "$(code -H 'x-canary: yes' "http://$OUR/")" = "$1" ]; }
hf_check "cluster web-b removed: its route answers 503" wait_for 10 canary 503
removed=$(last_send Cluster removed)
hf_check "… the removal came as removed_resources ($removed)" test "$removed" = '["web-b"]'
nc1=$(hf_stat "$NS" http.no_cluster)
hf_check "… counted as http.no_cluster ($nc0 → $nc1)" test "${nc1:-0}" -gt "${nc0:-0}"
hf_check "… logged with response flag NC" wait_for 5 grep -q '" 503 NC ' "$ALOG"
hf_check "… while the other routes serve (GET / → A)" answers
clusters "$(eds_cluster web)" "$(static_cluster web-b 9102)" "$(eds_cluster web2)"
canary_b() { [ "$(get -H 'x-canary: yes' "http://$OUR/")" = B ]; }
hf_check "cluster web-b sent again: its route reaches B" wait_for 10 canary_b

# ---------------------------------------------------------------- an assignment changed
endpoints web 9102
WANT=B
# first_served: polls GET / until it answers $WANT; prints the wall clock (ms) it did
first_served() {
	for _ in $(seq 1000); do
		[ "$(get "http://$OUR/")" = "$WANT" ] && { date +%s%3N; return 0; }
		sleep 0.01
	done
	return 1
}
t_served=$(first_served)
hf_check "an assignment changed: GET / moves to B" test -n "$t_served"
t_sent=$(ev send | grep -F '"type":"ClusterLoadAssignment"' | tail -1 | field t)
echo "# measured: the server's send of the assignment to the first request served on it: $((t_served - t_sent)) ms (curl polling every ~10 ms)"
sent=$(last_send ClusterLoadAssignment resources)
hf_check "… the server sent only web's assignment ($sent), not web2's" test "$sent" = '["web"]'

# ---------------------------------------------------------------- NACK
routes "$(route_config http.80 "$ROUTE_WEB2"'{"name": "bad", "match": {"prefix": "/old"}, "route": {"cluster_header": "x-cluster"}},')"
nacked() { ev nack | grep -F '"type":"RouteConfiguration"' | has "http.80"; }
hf_check "an unsupported route action is NACKed" wait_for 10 nacked
err=$(ev nack | tail -1 | field error)
hf_check "the NACK's error_detail names the resource and the field ($err)" \
	bash -c '[[ "$1" == *"http.80"* && "$1" == *"routes[1]"* && "$1" == *cluster_header* ]]' _ "$err"
hf_check "the NACK answers the response's nonce" \
	test "$(ev nack | tail -1 | field nonce)" = "$(last_send RouteConfiguration nonce | tr -d '"')"
hf_check "after the NACK the old routes serve (/old → B, the bad route not taken)" \
	test "$(get "http://$OUR/old")" = B
routes "$(route_config http.80 "$ROUTE_WEB2")"

# ---------------------------------------------------------------- does not exist
listeners "$(http_listener 80)" "$(http_listener 8080)"
nr_8080() { [ "$(code "http://$OUR:8080/")" = 404 ]; }
hf_check "a listener whose route configuration does not exist serves 404 (NR)" wait_for 10 nr_8080
removed=$(py "$EVENTS"'import json
print(json.dumps([s["removed"] for s in of("send","RouteConfiguration") if s["removed"]][-1:]))')
hf_check "… the server said so in removed_resources ($removed)" test "$removed" = '[["http.8080"]]'
grep -q "RouteConfiguration 'http.8080' does not exist" "$LOG"
hf_check "… and hydrofoil logs that it does not exist" test $? = 0
routes "$(route_config http.80 "$ROUTE_WEB2")" "$(route_config http.8080)"
served_8080() { [ "$(get "http://$OUR:8080/")" = B ]; }
hf_check "once http.8080 exists the listener on 8080 serves (B)" wait_for 10 served_8080

# ---------------------------------------------------------------- server away, restart
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
hf_check "hydrofoil notices the server is gone" wait_for 10 grep -q "stream closed" "$LOG"
WANT=B
hf_check "with the server away the last configuration keeps serving (B)" answers
endpoints web 9101
mark=$(wc -l < "$SLOG")
if start_server; then hf_ok "the xDS server restarts"; else hf_not_ok "the xDS server restarts"; fi
reopened() { tail -n +"$((mark + 1))" "$SLOG" | has '"event":"stream_open"'; }
hf_check "hydrofoil reconnects (backoff with jitter)" wait_for 20 reopened
WANT=A
hf_check "resync: the change made while away is served (A)" wait_for 15 answers
# SPLIT: the events before the restart (B) and after it (A), by the log's line
SPLIT='import json,sys
L=open(sys.argv[1]).read().splitlines(); mark=int(sys.argv[2])
ev=lambda ls: [json.loads(l) for l in ls if l.startswith("{")]
B=ev(L[:mark]); A=ev(L[mark:])
'
for t in Listener Cluster ClusterLoadAssignment RouteConfiguration; do
	hf_check "the new stream's first $t request carries initial_resource_versions = the versions held" \
		"$HF_PY" -c "$SPLIT"'
t=sys.argv[3]
held={}
for s in B:
    if s["event"]=="send" and s["type"]==t:
        held.update(s["versions"])
        for n in s["removed"]: held.pop(n, None)
first=[r for r in A if r["event"]=="request" and r["type"]==t][0]
print("#", t, "held", held, "sent", first["initial"])
sys.exit(not (held and first["initial"]==held))' "$SLOG" "$mark" "$t"
done
resent=$("$HF_PY" -c "$SPLIT"'
print(json.dumps(sorted(n for s in A if s["event"]=="send" for n in s["resources"])))' "$SLOG" "$mark")
hf_check "after the restart the server sent only what changed ($resent)" test "$resent" = '["web"]'

hf_check_stop
hf_done
