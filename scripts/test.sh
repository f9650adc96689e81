#!/usr/bin/env bash
# Sets the machine up (scripts/setup.sh), builds, and runs every test:
#   1. cmocka unit tests (build/tests/unit/**/test_*), counted per test case
#   2. fuzz targets (tests/fuzz/fuzz_*.c, clang libFuzzer with ASan/UBSan), each
#      for HF_FUZZ_SECONDS (60); one test each: no crash, no leak, no overread
#   3. integration tests (tests/integration/**/test_*.sh): real peers in private
#      network namespaces, counted per "ok"/"not ok"/"skip" line; then the TCP and
#      HTTP ones again with two workers (HF_WORKERS=2: RSS, steering, per-worker state)
# A test that does not run what it names is a skip, never a pass: integration tests
# print "skip - WHAT: why" (hf_skip), cmocka reports "[  SKIPPED ] N test(s)".
# Ends with one line "N passed, N failed, N skipped"; exits 1 when anything failed.
# Usage: scripts/test.sh [unit|fuzz|integration] [NAME-FILTER]
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${HF_BUILD_DIR:-build}
export HF_SOURCE_ROOT=$ROOT
WHICH=${1:-all}
FILTER=${2:-}

if ! scripts/setup.sh; then
	echo "setup or build failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

pass=0
fail=0
skip=0
# Integration tests run a second time with two workers (paths under tests/integration).
MULTI_WORKER_TESTS="tcp/test_tcp.sh http/test_http.sh"

sum_of() { awk '{ s += $1 } END { print s + 0 }'; }

run_unit() {
	local bin out rc p f s
	while IFS= read -r bin; do
		[ -n "$FILTER" ] && [[ "$bin" != *"$FILTER"* ]] && continue
		out=$(timeout 300 "$bin" 2>&1)
		rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | sum_of)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | sum_of)
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' <<<"$out" | sum_of)
		# A crash or a non-zero exit with no failure reported is a failure too.
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
		pass=$((pass + p))
		fail=$((fail + f))
		skip=$((skip + s))
		if [ "$f" -gt 0 ]; then
			echo "FAIL unit ${bin#"$BUILD"/}: $p passed, $f failed, $s skipped (exit $rc)"
			sed 's/^/    /' <<<"$out" | tail -60
		else
			echo "ok   unit ${bin#"$BUILD"/}: $p passed$([ "$s" -eq 0 ] || echo ", $s skipped")"
		fi
	done < <(find "$BUILD/tests/unit" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort)
}

run_fuzz() {
	local src name bin out flags seeds
	mkdir -p "$BUILD/fuzz"
	for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		[ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && continue
		bin=$BUILD/fuzz/$name
		# A target with an open finding says so on a " * known-finding: WHAT" line: it is
		# reported as skipped (not run, never counted as passed) until the finding is fixed.
		known=$(sed -n 's|^ \* known-finding: ||p' "$src" | head -1)
		if [ -n "$known" ]; then
			echo "skip fuzz $name: known finding, not run: $known"
			skip=$((skip + 1))
			continue
		fi
		# A target names the sources it fuzzes on a " * fuzzes: FILES" line of its header
		# (globs allowed), and the flags and libraries it needs besides on optional
		# " * fuzz-flags: ..." lines, which the shell expands: $(pkg-config ...) works there,
		# and $BUILD/.../lib*.a supplies, uninstrumented, code the target does not fuzz.
		flags=$(eval "echo $(sed -n 's|^ \* fuzz-flags: ||p' "$src" | tr '\n' ' ')")
		# shellcheck disable=SC2046,SC2086
		if ! out=$(clang -g -O1 -march=native -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
			-I"$ROOT" "$src" $(sed -n 's|^ \* fuzzes: ||p' "$src") $flags -o "$bin" 2>&1); then
			echo "FAIL fuzz $name: does not build"
			echo "$out" | tail -20
			fail=$((fail + 1))
			continue
		fi
		mkdir -p "$BUILD/fuzz/$name.corpus"
		# New finds go to the first directory; tests/fuzz/corpus/NAME holds the seeds.
		seeds=()
		[ -d "$ROOT/tests/fuzz/corpus/$name" ] && seeds=("$ROOT/tests/fuzz/corpus/$name")
		if out=$("$bin" -max_total_time="${HF_FUZZ_SECONDS:-60}" -max_len=8192 \
			"$BUILD/fuzz/$name.corpus" "${seeds[@]}" 2>&1); then
			echo "ok   fuzz $name: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' <<<"$out")"
			pass=$((pass + 1))
		else
			echo "FAIL fuzz $name"
			echo "$out" | tail -40
			fail=$((fail + 1))
		fi
	done
}

# run_one TEST [WORKERS]: one integration test (with HF_WORKERS=WORKERS when given), counted.
run_one() {
	local t=$1 workers=${2:-} out rc p f s
	echo "---- ${t#"$ROOT"/}${workers:+ (workers = $workers)}"
	if [ -n "$workers" ]; then
		out=$(HF_WORKERS=$workers timeout 1200 "$t" 2>&1)
	else
		out=$(timeout 1200 "$t" 2>&1)
	fi
	rc=$?
	sed 's/^/    /' <<<"$out"
	p=$(grep -c '^ok - ' <<<"$out")
	f=$(grep -c '^not ok - ' <<<"$out")
	s=$(grep -c '^skip - ' <<<"$out")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { f=1; echo "    not ok - exited $rc"; }
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
}

run_integration() {
	local t
	while IFS= read -r t; do
		# The filter matches below tests/integration, never the checkout's own path.
		[ -n "$FILTER" ] && [[ "${t#"$ROOT"/tests/integration/}" != *"$FILTER"* ]] && continue
		run_one "$t"
	done < <(find "$ROOT/tests/integration" -type f -name 'test_*.sh' -perm -u+x | sort)
	for t in $MULTI_WORKER_TESTS; do
		[ -n "$FILTER" ] && [[ "$t" != *"$FILTER"* ]] && continue
		t=$ROOT/tests/integration/$t
		run_one "$t" 2
	done
}

case "$WHICH" in
all) run_unit; run_fuzz; run_integration ;;
unit) run_unit ;;
fuzz) run_fuzz ;;
integration) run_integration ;;
*) echo "usage: scripts/test.sh [all|unit|fuzz|integration] [NAME-FILTER]" >&2; exit 2 ;;
esac

echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
