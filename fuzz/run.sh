#!/usr/bin/env bash
# run.sh - replays fuzz/regress/<target>/ and fuzzes each target for a while; prints "## fuzz: N passed, M failed".
#
# usage: fuzz/run.sh [--time SECONDS] [--brief] [TARGET...]     (from the repo root, after make fuzz-build)
#   --time S   seconds of fuzzing per target (default 60)
#   --brief    the make-test mode: a throwaway corpus (seeds and regress stay untouched)
# Without --brief, each target's corpus grows in build/fuzz/corpus/<target>/ from run to run.
# A crash leaves its input in build/fuzz/crashes/; copy it to fuzz/regress/<target>/ with the fix.
# A NAME.seedref file in fuzz/regress/<target>/ holds the name of a generated seed to replay (for a
# finding whose input is a whole model file, too large to commit).
# Every run appends "date target seconds executions crashes" to build/fuzz/stats.tsv.
set -u
cd "$(dirname "$0")/.."
DIR=build/fuzz
time=60; brief=0; targets=()
while [ $# -gt 0 ]; do
    case $1 in
        --time) time=$2; shift 2 ;;
        --brief) brief=1; shift ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -eq 0 ] && targets=(gguf model safetensors json tokenizer tokenizer_json chat state)
export HEARTH_ROOT=$PWD
mkdir -p "$DIR/crashes" "$DIR/logs"
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# Seeds: generated from the fixtures once (fuzz/seeds.mjs), and saved states of the tiny model.
if [ ! -f "$DIR/seeds/.done" ] || [ fuzz/seeds.mjs -nt "$DIR/seeds/.done" ]; then
    rm -rf "$DIR/seeds"
    if node fuzz/seeds.mjs "$DIR/seeds" > "$DIR/logs/seeds.log" 2>&1; then touch "$DIR/seeds/.done"; else
        bad "seeds: node fuzz/seeds.mjs failed (log: $DIR/logs/seeds.log)"; cat "$DIR/logs/seeds.log"
    fi
fi
if [ -x "$DIR/fuzz_state" ] && [ ! -d "$DIR/seeds/state" ]; then
    HEARTH_FUZZ_STATE_SEEDS="$DIR/seeds/state" "$DIR/fuzz_state" -runs=0 > "$DIR/logs/state-seeds.log" 2>&1 || true
fi

for t in "${targets[@]}"; do
    bin=$DIR/fuzz_$t
    if [ ! -x "$bin" ]; then bad "fuzz_$t: $bin is not built (make fuzz-build)"; continue; fi
    log=$DIR/logs/$t.log
    # 1. every committed regression input, once
    # (a NAME.seedref file names a generated seed, for findings too large to commit)
    reg=()
    for f in fuzz/regress/$t/*; do
        [ -e "$f" ] || continue
        if [[ $f == *.seedref ]]; then reg+=("$DIR/seeds/$t/$(head -1 "$f")"); else reg+=("$f"); fi
    done
    if [ ${#reg[@]} -gt 0 ]; then
        if "$bin" -rss_limit_mb=2048 "${reg[@]}" > "$log.regress" 2>&1; then ok "fuzz_$t: ${#reg[@]} regression inputs replay cleanly"
        else bad "fuzz_$t: a regression input fails again (log: $log.regress)"; grep -E "ERROR|runtime error|invariant" "$log.regress" | head -5; fi
    fi
    # 2. fuzzing from the seeds (and the regression inputs)
    if [ $brief -eq 1 ]; then corpus=$(mktemp -d); else corpus=$DIR/corpus/$t; mkdir -p "$corpus"; fi
    d=$t; [ "$t" = model ] && d=gguf; [ "$t" = tokenizer_json ] && d=json   # same input language
    dict=(); [ -f "fuzz/dict/$d.dict" ] && dict=(-dict="fuzz/dict/$d.dict")
    extra=(); [ -d "fuzz/regress/$t" ] && extra=(fuzz/regress/$t)
    seeds=(); [ -d "$DIR/seeds/$t" ] && seeds=("$DIR/seeds/$t")
    t0=$SECONDS
    "$bin" -max_total_time="$time" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$DIR/crashes/$t-" "$corpus" "${seeds[@]}" "${extra[@]}" > "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=0; [ $rc -ne 0 ] && crashes=1
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$((SECONDS - t0))" "${execs:-0}" "$crashes" >> "$DIR/stats.tsv"
    if [ $rc -eq 0 ]; then ok "fuzz_$t: ${execs:-?} executions in $((SECONDS - t0)) s, no crash"
    else bad "fuzz_$t: crashed after ${execs:-?} executions (log: $log)"; grep -E "ERROR|runtime error|invariant|SUMMARY|artifact" "$log" | head -8; fi
    [ $brief -eq 1 ] && rm -rf "$corpus"
done
echo "## fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
