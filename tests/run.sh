#!/usr/bin/env bash
# run.sh - runs every test (C test binaries, shell tests, node tests) and prints "N passed, N failed" last.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export HEARTH_SHARED=${HEARTH_SHARED:-$(cd .. && pwd)/shared}
export HEARTH_BIN=${HEARTH_BIN:-$BUILD/hearth}
export HEARTH_TMP=${HEARTH_TMP:-$BUILD/testtmp}
export HEARTH_SOAK_THREADS=${HEARTH_SOAK_THREADS:-2}
mkdir -p "$HEARTH_TMP"
passed=0; failed=0
only=${1:-}

# Runs one test command; adds up its "## name: N passed, M failed" lines. A test that exits
# non-zero without reporting a failure counts as one failure (a crash, a missing file...).
run_one() {
    local name=$1; shift
    [ -n "$only" ] && [[ "$name" != *"$only"* ]] && return
    local log="$HEARTH_TMP/$name.log"
    local t0=$SECONDS
    "$@" > "$log" 2>&1
    local rc=$?
    local p f
    p=$(sed -n 's/^## .*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^## .*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "  $name exited with $rc without reporting a failure"; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        echo "FAIL $name ($p passed, $f failed, $((SECONDS - t0))s) - log: $log"
        grep -E '^(FAIL|not ok|#)|rror' "$log" | head -20 | sed 's/^/    /'
    else
        echo "ok   $name ($p checks, $((SECONDS - t0))s)"
    fi
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for t in "$BUILD"/asan/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "asan-$(basename "$t")" "$t"
done
for t in tests/*.test.sh; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t" .test.sh)" bash "$t"
done
for t in tests/js/*.test.mjs; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t" .test.mjs)" node "$t"
done
for t in tests/e2e/*.mjs; do
    [ -f "$t" ] || continue
    run_one "e2e-$(basename "$t" .mjs)" node "$t"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
