#!/usr/bin/env bash
# xDS warming per resource (state of the world, initial_fetch_timeout_ms = 5000):
# the management server sends a listener on 8080 whose route configuration
# never comes, a cluster "late" whose assignment does not come yet, and routes
# naming "late" and a cluster "ghost" that is never sent.
#
# Checks: the rest serves while those warm (a snapshot with the listener on
# 80 is published before any timeout: warming is per resource, not all or
# nothing); a route to a cluster that does not exist answers 503 with flag NC
# (counted, logged) instead of refusing the snapshot, and so does a route to
# a cluster still warming; after the initial fetch timeout the assignment and
# the route configuration are declared not to exist: the listener on 8080
# serves 404 (NR) and /late 503 UH (a cluster with no endpoint); the
# assignment arriving later is served; SIGTERM stops hydrofoil with 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$(dirname "$0")/xds_lib.sh"

clusters "$(eds_cluster web)" "$(eds_cluster late)" "$(static_cluster web-b 9102)"
endpoints web 9101
routes "$(route_config http.80 '{"name": "late", "match": {"prefix": "/late"}, "route": {"cluster": "late"}},
   {"name": "ghost", "match": {"prefix": "/ghost"}, "route": {"cluster": "ghost"}},')"
listeners "$(http_listener 80)" "$(http_listener 8080)"
xds_setup xdsw 'initial_fetch_timeout_ms = 5000;'

WANT=A
answers() { [ "$(get "http://$OUR/")" = "$WANT" ]; }
hf_check "initial sync: GET / reaches web (A)" wait_for 20 answers
# line PATTERN: the line number of the first log line holding PATTERN (a big number if none)
line() { grep -n -m1 -F "$1" "$LOG" | cut -d: -f1 | grep . || echo 999999; }
hf_check "hydrofoil waits for ClusterLoadAssignment 'late' and RouteConfiguration 'http.8080'" \
	wait_for 5 bash -c 'grep -q "warming: waiting for ClusterLoadAssignment .late." "$1" &&
		grep -q "warming: waiting for RouteConfiguration .http.8080." "$1"' _ "$LOG"
hf_check "routes to 'ghost' (never sent) and 'late' (warming) were compiled as missing, not refused" \
	grep -q "2 clusters named by routes not there" "$LOG"
hf_check "no snapshot was refused" bash -c '! grep -q "do not compile" "$1"' _ "$LOG"

nc0=$(hf_stat "$NS" http.no_cluster)
c=$(code "http://$OUR/ghost")
nc1=$(hf_stat "$NS" http.no_cluster)
hf_check "a route to a cluster that does not exist answers 503 ($c), counted as http.no_cluster ($nc0 → $nc1)" \
	bash -c '[ "$1" = 503 ] && [ "${3:-0}" -gt "${2:-0}" ]' _ "$c" "$nc0" "$nc1"
hf_check "… with response flag NC in the access log" wait_for 5 grep -q '"GET /ghost HTTP/1.1" 503 NC ' "$ALOG"

# ---------------------------------------------------------------- the initial fetch timeout
gone() { grep -q "ClusterLoadAssignment 'late' does not exist: not received within 5000 ms" "$LOG" &&
	grep -q "RouteConfiguration 'http.8080' does not exist: not received within 5000 ms" "$LOG"; }
hf_check "after 5 s, 'late' and 'http.8080' are declared not to exist" wait_for 20 gone
first_served=$(grep -n -m1 -E 'xds: snapshot [0-9]+: [1-9][0-9]* listeners' "$LOG" | cut -d: -f1)
timed_out=$(line "does not exist: not received within")
hf_check "the listener on 80 served before those timeouts (log line ${first_served:-none} < $timed_out): warming is per resource" \
	test "${first_served:-999999}" -lt "$timed_out"
nr() { [ "$(code "http://$OUR:8080/")" = 404 ]; }
hf_check "the listener on 8080 then serves, with no route (404)" wait_for 5 nr
uh() { [ "$(code "http://$OUR/late")" = 503 ] && grep -q '"GET /late HTTP/1.1" 503 UH ' "$ALOG"; }
hf_check "the cluster 'late' then serves with no endpoint (503 UH)" wait_for 5 uh
hf_check "… and GET / still reaches A" answers
endpoints late 9102
late_b() { [ "$(get "http://$OUR/late")" = B ]; }
hf_check "the assignment of 'late' arriving afterwards is served (B)" wait_for 10 late_b

hf_check_stop
hf_done
