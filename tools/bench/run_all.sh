#!/usr/bin/env bash
# run_all.sh - makes the random-weight Nemotron-H benchmark files and runs hearth vs llama.cpp (native) and hearth-wasm vs wllama (Chromium) on each (results in build/bench/results/).
#
#   tools/bench/run_all.sh [REPS=5] [THREADS=2]        AUTOGROUP_NICE=-19 (default) | 0, WHICH=all (default) | native | browser
#
# Files (build/bench/, git-ignored): the 4B shapes (../shared/models/nemotron-3-nano-4b.config.json)
# and the ~0.5B shapes (tools/bench/nemotron-h-0.5b.config.json), each at q4_0 and q8_0 (seed 0).
# Each comparison is tools/bench/compare.mjs (native: $model-$type.{txt,json}) and
# tools/bench/browser.mjs (Chromium: $model-$type.browser.{txt,json}; files over wasm's 4 GiB
# are reported as skipped) with -p 512 -n 128 (see docs/BENCHMARKS.md). On a
# machine shared with other work, each comparison runs in its own scheduler autogroup with nice
# AUTOGROUP_NICE (root only; Linux gives every session an autogroup, so plain `nice` would not
# help against other sessions); compare.mjs starts pairs only on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${1:-5}
THREADS=${2:-2}
NICE=${AUTOGROUP_NICE:--19}
WHICH=${WHICH:-all}
SHARED=${HEARTH_SHARED:-$(cd .. && pwd)/shared}
mkdir -p build/bench/results
make -s build/hearth
[ "$WHICH" = native ] || tools/wasm/build.sh --bench >/dev/null
# Runs a command in its own scheduler autogroup with nice $NICE.
prio() { setsid bash -c 'echo "$0" > /proc/self/autogroup 2>/dev/null || echo "autogroup nice not set" >&2; shift; exec "$@"' "$NICE" _ "$@"; }
declare -A CONFIG=([nemotron-h-0.5b]=tools/bench/nemotron-h-0.5b.config.json [nemotron-h-4b]=$SHARED/models/nemotron-3-nano-4b.config.json)
for model in nemotron-h-0.5b nemotron-h-4b; do
    for type in q4_0 q8_0; do
        f=build/bench/$model-$type.gguf
        [ -f "$f" ] || build/hearth convert --random-weights "${CONFIG[$model]}" "$f" --type "$type" --quiet
        [ "$WHICH" = browser ] || prio node tools/bench/compare.mjs -m "$f" -p 512 -n 128 -r "$REPS" --threads "$THREADS" \
            --out "build/bench/results/$model-$type.json" | tee "build/bench/results/$model-$type.txt"
        [ "$WHICH" = native ] || prio node tools/bench/browser.mjs -m "$f" -p 512 -n 128 -r "$REPS" --threads "$THREADS" \
            --out "build/bench/results/$model-$type.browser.json" | tee "build/bench/results/$model-$type.browser.txt"
    done
done
