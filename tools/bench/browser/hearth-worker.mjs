// hearth-worker.mjs - hearth's wasm engine (build/wasm-bench) in a module worker, as the app runs it: load a GGUF Blob, then timed runs (tools/bench/wasm_bench.c).
import { MAX_MODEL_BYTES, WasmEngine, mallocLarge } from '/web/engine.js';

let engine = null, M = null, bench = 0;

async function load({ blob, threads, nCtx }) {
  if (blob.size > MAX_MODEL_BYTES) throw new Error(`the model (${blob.size} bytes) is larger than hearth's wasm32 heap can hold (${MAX_MODEL_BYTES} bytes at most)`);
  engine = await WasmEngine.create({ wasmBase: new URL('/build/wasm-bench/', location.href).href, build: 'mt', threads });
  M = engine.M;
  const t0 = performance.now();
  const p = mallocLarge(M, blob.size); // as the app does (web/engine.js)
  if (!p) throw new Error(`out of wasm memory allocating ${blob.size} bytes for the model`);
  for (let at = 0; at < blob.size; at += 16 << 20) {
    engine.heap().set(new Uint8Array(await blob.slice(at, Math.min(blob.size, at + (16 << 20))).arrayBuffer()), p + at);
  }
  const t1 = performance.now();
  bench = M._hb_open(p, blob.size, engine.nThreads, nCtx) >>> 0; // owns p from here
  if (!bench) throw new Error('out of wasm memory opening the model');
  if (!M._hb_n_vocab(bench)) throw new Error(`hearth cannot load the model: ${engine.cstr(M._hb_error(bench) >>> 0)}`);
  return { nVocab: M._hb_n_vocab(bench), arch: engine.cstr(M._hb_arch(bench) >>> 0), threads: engine.nThreads, build: engine.build,
    copyS: (t1 - t0) / 1000, loadS: (performance.now() - t1) / 1000 };
}

function run({ tokens, nGen }) {
  const tp = M._malloc(4 * tokens.length) >>> 0, out = M._malloc(16) >>> 0, gen = M._malloc(4 * Math.max(1, nGen)) >>> 0;
  try {
    new Int32Array(engine.heap().buffer, tp, tokens.length).set(tokens);
    const st = M._hb_run(bench, tp, tokens.length, nGen, out, gen);
    if (st !== 0) throw new Error(`hearth run failed (status ${st}): ${engine.cstr(M._hb_error(bench) >>> 0)}`);
    const [prefillS, decodeS] = new Float64Array(engine.heap().buffer, out, 2);
    return { prefillS, decodeS, nDecoded: nGen, generated: [...new Int32Array(engine.heap().buffer, gen, nGen)] };
  } finally {
    M._free(tp);
    M._free(out);
    M._free(gen);
  }
}

onmessage = async ({ data }) => {
  try {
    postMessage({ ok: true, value: data.op === 'load' ? await load(data) : run(data) });
  } catch (e) {
    postMessage({ ok: false, error: String(e?.message || e) });
  }
};
