#!/usr/bin/env bash
# scripts/demo_xds.sh (the README's second demo) runs through and shows what it
# claims: every xDS type SYNCED; requests routed by what the server sent; the
# reviews shift taken under wrk load with no error; the fault on /details
# aborting some requests (503 FI); the NACK naming the field while the old
# routes serve; the configuration serving with the server gone; the versions
# resent on the new stream; exit status 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
out=$HF_TMP/demo.out
HF_NO_SETUP=1 timeout 300 "$HF_ROOT/scripts/demo_xds.sh" > "$out" 2>&1
rc=$?
has() { grep -qE -- "$1" "$out"; }
hf_check "the demo exits 0 ($rc)" test "$rc" = 0
hf_check "proxy-status: CDS, LDS, EDS and RDS SYNCED" \
	has 'SYNCED \([0-9a-f]+\) +SYNCED \([0-9a-f]+\) +SYNCED \([0-9a-f]+\) +SYNCED \([0-9a-f]+\)$'
hf_check "GET /productpage and /details/1 answered by their servers" \
	bash -c 'grep -q "GET /productpage  *-> 200 productpage v1" "$1" && grep -q "GET /details/1  *-> 200 details v1" "$1"' _ "$out"
hf_check "… /reviews/1 by reviews v1 with the route's response header" has 'GET /reviews/1 +-> 200 reviews v1 /reviews/1, x-served-by: hydrofoil-xds'
hf_check "… /ratings/1 (no route) 404" has 'GET /ratings/1 +-> 404'
after=$(grep -m1 "after, 100 requests" "$out")
hf_check "after the shift both v1 and v3 answer, nothing else ($after)" \
	bash -c '[[ "$1" =~ v1\ ([0-9]+)\ +v3\ ([0-9]+)\ +other\ 0 ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] && [ "${BASH_REMATCH[2]}" -gt 0 ]' _ "$after"
hf_check "wrk across the change: no non-2xx, no socket error" has 'wrk non-2xx: 0; socket errors: none'
hf_check "the fault on /details answers some requests 503, flag FI in the access log" \
	bash -c 'grep -qE "40 x GET /details/0: .*[0-9]+ x 503" "$1" && grep -q "503 FI fault_filter_abort" "$1"' _ "$out"
hf_check "the NACK names the field" has "NACK RDS: .*request_headers_to_add\[0\]\.header: '%DOWNSTREAM_REMOTE_ADDRESS%'"
hf_check "… the old routes serve meanwhile" has 'GET /reviews/2 +-> 200 reviews'
hf_check "with the server killed the configuration serves" \
	bash -c 'sed -n "/control plane goes away/,/comes back/p" "$1" | grep -q "GET /productpage  *-> 200 productpage v1"' _ "$out"
hf_check "the new stream's first requests carry the versions held (4 types)" \
	test "$(grep -cE "the new stream's first request of .* carried version [0-9a-f]{12}$" "$out")" = 4
[ "$HF_FAIL" -eq 0 ] || sed 's/^/# /' "$out"
hf_done
