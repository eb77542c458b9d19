#!/usr/bin/env bash
# wasm_ops.test.sh - tests/test_ops_simd.c compiled to WebAssembly with SIMD128 and run in node: the wasm kernel table against the plain-C reference.
# Skips (reports nothing) when emcc is missing. The pthreads variant (slower to run on 2 cores) runs with WASM_OPS_THREADS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v emcc >/dev/null || { echo "emcc not found: skipped"; exit 0; }
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
out=${HEARTH_TMP:-build/testtmp}/wasm_ops
mkdir -p "$out"
# the engine's sources as tools/wasm/build.sh picks them (no other ISA's kernels)
mapfile -t src < <(ls src/*.c src/arch/*.c src/cpu/*.c 2>/dev/null | grep -Ev '_(avx2|avx512|neon|sse[0-9]*)\.c$' | sort)
flags=(-O2 -msimd128 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Itests -sALLOW_MEMORY_GROWTH -sEXIT_RUNTIME=1)
# emcc's output is CommonJS; the repository's package.json would make node read it as an ES module
echo '{"type": "commonjs"}' > "$out/package.json"
# rebuilt only when a source is newer than the last build (emcc takes ~10 s here)
stale() { [ ! -f "$1" ] || [ -n "$(find tests/test_ops_simd.c tests/check.h "${src[@]}" src/*.h include/*.h -newer "$1" 2>/dev/null | head -1)" ]; }
stale "$out/ops.js" && emcc "${flags[@]}" tests/test_ops_simd.c "${src[@]}" -o "$out/ops.js"
(cd "$out" && node --no-experimental-fetch ops.js)
if [ "${WASM_OPS_THREADS:-0}" = 1 ]; then
    stale "$out/ops_mt.js" && emcc "${flags[@]}" -pthread -sPTHREAD_POOL_SIZE=6 tests/test_ops_simd.c "${src[@]}" -o "$out/ops_mt.js"
    (cd "$out" && node --no-experimental-fetch ops_mt.js | sed 's/^## ops_simd:/## ops_simd_wasm_threads:/')
fi
