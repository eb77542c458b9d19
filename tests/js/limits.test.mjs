// limits.test.mjs - sizes the wasm heap cannot hold are refused with 'too-large' before anything is allocated or read.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from '../e2e/lib/suite.mjs';
import { REPO } from '../e2e/lib/config.mjs';
import { MAX_MODEL_BYTES, WasmEngine, mallocLarge } from '../../web/engine.js';

const t = suite('js-limits');
const FAKE_WASM = path.join(REPO, 'build/wasm-fake');

// A reader that claims `size` bytes: "GGUF" then zeros; counts the bytes asked for.
function claimedReader(size) {
  const r = { size, asked: 0, async read(at, n) { r.asked += n; const b = new Uint8Array(n); if (at === 0) b.set([71, 71, 85, 70].slice(0, n)); return b; } };
  return r;
}

await t.run(async () => {
  if (!t.check('engine test double is built (tools/wasm/build.sh --fake)', fs.existsSync(path.join(FAKE_WASM, 'hearth-st.wasm')))) return;
  const engine = await WasmEngine.create({ wasmBase: new URL(`file://${FAKE_WASM}/`).href, build: 'st' });
  const heap0 = engine.heap().length;
  // 4 GiB + 1 MiB wrapped to a 1 MiB malloc before the check; 2^53 + 2 is not even a safe integer.
  for (const size of [2 ** 32 + (1 << 20), 5 * 2 ** 30, MAX_MODEL_BYTES + 1, 2 ** 53 + 2]) {
    const r = claimedReader(size);
    const t0 = Date.now();
    let err = null;
    try { await engine.load(r); } catch (e) { err = e; }
    t.check(`a ${(size / 2 ** 30).toFixed(2)} GiB model: too-large`, err && err.code === 'too-large' && /larger than WebAssembly memory/.test(err.message), err && `${err.code}: ${err.message}`);
    t.check(`a ${(size / 2 ** 30).toFixed(2)} GiB model: refused before reading it (${r.asked} bytes read, ${Date.now() - t0} ms)`, r.asked <= 4);
  }
  t.check('the heap did not grow', engine.heap().length === heap0, `${heap0} -> ${engine.heap().length}`);
  let err = null;
  try { engine.alloc({ length: 2 ** 32 + 8 }); } catch (e) { err = e; }
  t.check('a state blob past 4 GiB is refused too', err && err.code === 'too-large', String(err));
  // and a model that fits still loads afterwards (the engine is intact)
  const { fakeModelBytes } = await import('../e2e/lib/fake-model.mjs');
  const bytes = fakeModelBytes(1 << 20, 0);
  const info = await engine.load({ size: bytes.length, async read(at, n) { return bytes.subarray(at, at + n); } }).catch((e) => e);
  t.check('a model that fits loads afterwards', info && info.arch === 'fake', String(info && (info.message || info.arch)));
  // A block past 2 GiB (the 4B q4_0 file is 2.4 GB): one malloc of it fails on Emscripten 3.1.6
  // (sbrk's increment is a signed 32-bit number); mallocLarge grows the heap in steps first.
  const big = 2.25 * 2 ** 30;
  const p = mallocLarge(engine.M, big);
  t.check('a 2.25 GiB block is allocated', p > 0 && p + big <= engine.heap().length, `p=${p}, heap ${engine.heap().length}`);
  if (p) { engine.heap()[p + big - 1] = 7; t.check('its last byte is writable', engine.heap()[p + big - 1] === 7); engine.M._free(p); }
});
