#!/bin/bash
# Runs on the GPU machine from the repository root. train.py packs what comes back into $OUT
# (at most 8 files): the safetensors shards, train_log.txt, eval.json, and demo-model.tar.gz with
# everything else (config, tokenizer, index, held-out set, outputs). It packs once right after
# saving the weights and again after the evaluation, so a run cut short still returns a model.
# usage: bash tools/demo-model/run_gpu.sh [train.py options...]
set -u
OUT=${OUT:-/tmp/demo-model-out}
CK=/tmp/demo-model-ckpt
rm -rf "$CK"; mkdir -p "$CK" "$OUT"
PYTHONUNBUFFERED=1 python3 tools/demo-model/train.py --out "$CK" --pack "$OUT" "$@"
rc=$?
cp "$CK"/train_log.txt "$OUT"/ 2>/dev/null
ls -la "$OUT"
exit $rc
