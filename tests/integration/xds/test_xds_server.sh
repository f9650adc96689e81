#!/usr/bin/env bash
# The tests' xDS management server (tests/xds/server.js) checked against a
# production xDS client before Hydrofoil is pointed at it: @grpc/grpc-js-xds
# subscribes through it (LDS, RDS, CDS, EDS), ACKs each type with the version
# sent, makes a gRPC call to the endpoint EDS gave, and NACKs an invalid
# cluster load assignment pushed on a file change (tests/xds/validate.js).
# Loopback only; no namespace needed.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

if [ ! -d "$HF_ROOT/tests/xds/node_modules/@grpc/grpc-js-xds" ] || ! command -v node >/dev/null; then
	hf_not_ok "tests/xds/node_modules is installed (scripts/setup.sh runs npm ci)"
	exit 1
fi
out=$(timeout 60 node "$HF_ROOT/tests/xds/validate.js" 2>"$HF_TMP/validate.err")
rc=$?
printf '%s\n' "$out"
HF_PASS=$((HF_PASS + $(grep -c '^ok - ' <<<"$out")))
HF_FAIL=$((HF_FAIL + $(grep -c '^not ok - ' <<<"$out")))
if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' <<<"$out"; then
	hf_not_ok "validate.js exits 0 (status $rc: $(tail -3 "$HF_TMP/validate.err"))"
fi
hf_done
