#!/usr/bin/env bash
# eval_gpu_machine.sh - scores hearth's f32 / q8_0 / q4_0 conversions of the demo model on the held-out set, on a many-core machine.
#
# The lent GPU machine has 16 cores and no compiler: build a static hearth here first, then run
# this there through the `run` tool with `.gpu/hearth-static` carried:
#   bash tools/demo-model/build_static.sh            # writes .gpu/hearth-static
#   run: bash tools/demo-model/eval_gpu_machine.sh   (carry: .gpu/hearth-static)
# HEARTH_KERNELS=avx2 keeps the kernels this 2-core machine uses, so outputs match `make test` here.
set -euo pipefail
HEARTH=${HEARTH:-.gpu/hearth-static}
OUT=${OUT:-/tmp/demo-eval}
PER_TASK=${PER_TASK:-200}
mkdir -p "$OUT" /tmp/demo-models
export HEARTH_KERNELS=${HEARTH_KERNELS:-avx2}
for t in f32 q8_0 q4_0; do
    "$HEARTH" convert tools/demo-model/checkpoint /tmp/demo-models/demo-$t.gguf --type $t --quiet
    python3 tools/demo-model/eval_hearth.py /tmp/demo-models/demo-$t.gguf "$OUT/hearth-$t.jsonl" \
        --per-task "$PER_TASK" --hearth "$HEARTH"
    python3 tools/demo-model/score.py "$OUT/hearth-$t.heldout.jsonl" "$OUT/hearth-$t.jsonl" --json "$OUT/score-$t.json" | tail -3
done
