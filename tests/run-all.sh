#!/usr/bin/env bash
# run-all.sh -- every test, after `make` has built the programs and the unit-test binaries
# (this is what `make test` runs):
#   1. the C unit tests (cmocka): every build/tests/cu_* binary;
#   2. the integration and browser tests (node:test): tests/integration/, tests/browser/.
# Exits non-zero if anything failed; the last line is "N passed, N failed".
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}

passed=0
failed=0
status=0
work=$(mktemp -d /tmp/shorewatch-run-all.XXXXXX)
trap 'rm -rf "$work"' EXIT

# ---- 1. C unit tests (cmocka)
shopt -s nullglob
units=("$BUILD"/tests/cu_*)
shopt -u nullglob
if [ ${#units[@]} -eq 0 ]; then
	echo "run-all: no unit-test binaries in $BUILD/tests (run 'make test')" >&2
fi
for t in "${units[@]}"; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	echo "== $t"
	out=$work/$(basename "$t").out
	"$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	# cmocka: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# crashed or exited before its summary: count the binary as one failure
		echo "run-all: $t exited with status $rc without a cmocka failure count" >&2
		f=1
	fi
	[ "$rc" -ne 0 ] && status=1
	passed=$((passed + p))
	failed=$((failed + f))
done

# ---- 2. integration and browser tests (node:test), one file at a time
dirs=()
for d in integration browser; do
	[ -d "tests/$d" ] && dirs+=("$d/")
done
if [ ${#dirs[@]} -gt 0 ]; then
	tap=$work/node.tap
	(cd tests && node --test --test-concurrency=1 \
		--test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter=tap --test-reporter-destination="$tap" \
		"${dirs[@]}")
	rc=$?
	p=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
	f=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
	c=$(sed -n 's/^# cancelled \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
	p=${p:-0} f=${f:-0} c=${c:-0}
	f=$((f + c))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "run-all: node --test exited with status $rc without a failure count" >&2
		f=1
	fi
	[ "$rc" -ne 0 ] && status=1
	passed=$((passed + p))
	failed=$((failed + f))
fi

# ---- 3. a short fuzzing run of every decoder (make fuzz runs them longer)
shopt -s nullglob
fuzzers=("$BUILD"/fuzz/fuzz_*)
shopt -u nullglob
for t in "${fuzzers[@]}"; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	n=$(basename "$t")
	corpus=tests/fuzz/corpus/${n#fuzz_}
	mkdir -p "$work/$n"
	[ -d "$corpus" ] || corpus=
	echo "== $n (${FUZZ_SHORT_SECONDS:-15} s)"
	if "$t" -max_total_time="${FUZZ_SHORT_SECONDS:-15}" -rss_limit_mb=1024 \
		-artifact_prefix="$BUILD/fuzz/$n-" "$work/$n" ${corpus:+"$corpus"} >"$work/$n.log" 2>&1; then
		tail -n 1 "$work/$n.log"
		passed=$((passed + 1))
	else
		tail -n 40 "$work/$n.log"
		echo "run-all: $n found a crash, a leak or a timeout (see $BUILD/fuzz/$n-*)" >&2
		failed=$((failed + 1))
		status=1
	fi
done

[ "$failed" -gt 0 ] && status=1
echo
echo "$passed passed, $failed failed"
exit $status
