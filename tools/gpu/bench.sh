#!/usr/bin/env bash
# bench.sh - on the GPU machine, in one go: unpack Node + Dawn + libvulkan (from tools/gpu/prepare.sh), check every WebGPU kernel against the C reference on this GPU, then time a random 4B-shaped q4_0 model.
#
#   bash tools/gpu/bench.sh [--matvec] [--contexts "512 128 2048"] [--sweep "V1 V2 .."] [--sweep-contexts "512"]
#   carried files: see tools/gpu/prepare.sh (results also in $OUT: ops.log, bench.log, matvec.log)
#
# --matvec: first tools/gpu/matvec_bench.mjs (the Q4_0 matrix-vector variants, GB/s per decode shape).
# --sweep: after the contexts, the sweep contexts (512) again once per HEARTH_GPU_Q4 value
# (src/webgpu/hg_ops.c: "planar", "planar:R", "LPR,RW,BPL[,STAGE[,MAX_WG]]"), decode lines only.
#
# Check: tests/js/webgpu_ops.test.mjs (op parity, every weight type, with and without the device's
# subgroups / dot4I8Packed). Time: tools/gpu/bench.mjs on a GGUF with Nemotron-3-Nano-4B's shapes
# and random weights (gpu_plan synth; speed does not depend on the values): read bandwidth, load,
# prefill, decode tok/s (sync and pipelined), dispatches per token, fraction of read bandwidth.
set -uo pipefail
cd "$(dirname "$0")/../.."
MATVEC=0 SWEEP= CONTEXTS="512 128 2048" SWEEP_CONTEXTS=512
while [ $# -gt 0 ]; do
    case $1 in
        --matvec) MATVEC=1 ;;
        --sweep) SWEEP=$2; shift ;;
        --contexts) CONTEXTS=$2; shift ;;
        --sweep-contexts) SWEEP_CONTEXTS=$2; shift ;;
        *) echo "bench.sh: unknown option $1"; exit 2 ;;
    esac
    shift
done
OUT=${OUT:-/tmp/gpu-bench}
mkdir -p "$OUT"
t0=$SECONDS
for f in .gpu/debs/*.deb; do dpkg -x "$f" /; done # libvulkan1 and the GL vendor libraries the NVIDIA driver needs
ldconfig
[ -f .gpu/node.xz.1 ] || { echo "missing .gpu/node.xz.1: carry it in a run just before this one (tools/gpu/prepare.sh)"; exit 1; }
cat .gpu/node.xz.1 .gpu/node.xz.2 | xz -dc > /tmp/node && chmod +x /tmp/node
xz -dc .gpu/gpu_plan.xz > /tmp/gpu_plan && chmod +x /tmp/gpu_plan
mkdir -p node_modules/webgpu/dist/linux-x64
cp .gpu/webgpu/index.js .gpu/webgpu/package.json node_modules/webgpu/
xz -dc .gpu/dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
HELPER=/tmp/gpu_plan
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /'
echo "setup: $((SECONDS - t0)) s"

if [ "$MATVEC" = 1 ]; then
    echo "== Q4_0 matrix-vector variants (tools/gpu/matvec_bench.mjs)"
    timeout 240 /tmp/node tools/gpu/matvec_bench.mjs 2>&1 | tee "$OUT/matvec.log" | grep -v '^check\|^error: XDG'
    echo "matvec rc=${PIPESTATUS[0]} ($((SECONDS - t0)) s)"
fi

echo "== check: op parity on this GPU"
HEARTH_GPU_PLAN=$HELPER HEARTH_TMP=/tmp/hb-ops timeout 90 /tmp/node tests/js/webgpu_ops.test.mjs > "$OUT/ops.log" 2>&1
echo "ops rc=$? ($((SECONDS - t0)) s)"
grep -E '^FAIL' "$OUT/ops.log" | head -20
tail -1 "$OUT/ops.log"

echo "== model: random weights, Nemotron-3-Nano-4B shapes, q4_0 (LM head q8_0)"
$HELPER synth /tmp/nemo4b-q4_0.gguf nemotron-4b q4_0 && ls -l /tmp/nemo4b-q4_0.gguf
echo "synth done ($((SECONDS - t0)) s)"

echo "== time: contexts of 512 (prefill and profile), 128 and 2048 tokens"
for n in $CONTEXTS; do
    HEARTH_TMP=/tmp/hb-bench timeout 150 /tmp/node tools/gpu/bench.mjs $HELPER /tmp/nemo4b-q4_0.gguf \
        --prompt $n --decode 64 --max-batch 256 --runs 3 2>&1 | tee -a "$OUT/bench.log"
done
for v in $SWEEP; do
    for n in $SWEEP_CONTEXTS; do
        echo "== HEARTH_GPU_Q4=$v, context $n"
        HEARTH_GPU_Q4=$v HEARTH_TMP=/tmp/hb-bench timeout 150 /tmp/node tools/gpu/bench.mjs $HELPER /tmp/nemo4b-q4_0.gguf \
            --prompt $n --decode 64 --max-batch 256 --runs 3 2>&1 | tee -a "$OUT/sweep.log" | grep -E '^decode|matvec'
    done
done
echo "total: $((SECONDS - t0)) s"
