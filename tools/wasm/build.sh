#!/usr/bin/env bash
# build.sh - builds the engine as WebAssembly (SIMD128; single-threaded and pthreads variants) and copies the app's vendor files.
#
#   tools/wasm/build.sh            -> build/wasm/hearth-{st,mt}.{mjs,wasm} (+ hearth-mt.worker.js), build/vendor/
#   tools/wasm/build.sh --fake     -> build/wasm-fake/...: the same shell around tests/e2e/fake/engine.c (browser tests)
#   HEARTH_WASM_OUT=DIR tools/wasm/build.sh   -> the engine into DIR instead of build/wasm (a private build)
#   tools/wasm/build.sh --bench    -> build/wasm-bench/hearth-mt.*: the engine plus tools/bench/wasm_bench.c (tools/bench/browser.mjs)
#
# All wasm flags live here. Needs Debian's emscripten (3.1.6); NODE_PATH is set for its optimiser.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
EMCC=${EMCC:-emcc}
OUT=build/wasm
if [ "${1:-}" = "--fake" ]; then
    OUT=build/wasm-fake
    SRC=(tests/e2e/fake/engine.c src/util.c)
elif [ "${1:-}" = "--bench" ]; then
    OUT=build/wasm-bench
    SRC=(src/*.c tools/bench/wasm_bench.c)
else
    # Engine sources: every src/*.c (each ISA's kernel file compiles to a stub on other targets),
    # and the WebGPU planner with its kernels embedded (web/wasm_gpu.c exports it, web/engine-gpu.js drives it).
    OUT=${HEARTH_WASM_OUT:-build/wasm}
    mkdir -p "$OUT.gen"
    bash tools/gpu/embed_wgsl.sh "$OUT.gen/hg_wgsl.c"
    SRC=(src/*.c src/webgpu/*.c "$OUT.gen/hg_wgsl.c" web/wasm_gpu.c)
fi
SRC+=(web/wasm_api.c)
mkdir -p "$OUT" build/vendor

COMMON=(
    -O3 -msimd128 -std=c11 -D_GNU_SOURCE -DNDEBUG -Iinclude -Isrc
    -sMODULARIZE -sEXPORT_ES6 -sEXPORT_NAME=createHearthModule -sENVIRONMENT=web,worker,node
    -sALLOW_MEMORY_GROWTH -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=1MB
    -sEXPORTED_FUNCTIONS=_malloc,_free -sEXPORTED_RUNTIME_METHODS=wasmMemory,HEAPU8
    -sINCOMING_MODULE_JS_API=wasmBinary,locateFile,print,printErr,mainScriptUrlOrBlob
    -sFILESYSTEM=0 -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0 -sASSERTIONS=0 -sTEXTDECODER=2 -sDYNAMIC_EXECUTION=0
)
# The two variants build side by side.
# Single-threaded: used when the page is not cross-origin isolated (no SharedArrayBuffer).
st=
[ "$OUT" = build/wasm-bench ] || { $EMCC "${COMMON[@]}" "${SRC[@]}" -o "$OUT/hearth-st.mjs" & st=$!; } # the bench needs threads only
# pthreads: a persistent pool sized to the machine (capped at 8), created at start-up.
$EMCC "${COMMON[@]}" -pthread -Wno-pthreads-mem-growth \
    -sPTHREAD_POOL_SIZE='Math.min(8,Math.max(1,(typeof navigator!=="undefined"&&navigator.hardwareConcurrency)||4))' \
    "${SRC[@]}" -o "$OUT/hearth-mt.mjs" &
mt=$!
[ -z "$st" ] || wait $st
wait $mt
[ "$OUT" != build/wasm-bench ] || { ls -l "$OUT"; exit 0; }

# The chat app's third-party modules (pinned npm packages), served from build/vendor/.
cp node_modules/marked/lib/marked.esm.js build/vendor/marked.esm.js
cp node_modules/dompurify/dist/purify.es.mjs build/vendor/purify.es.mjs
ls -l "$OUT" build/vendor
