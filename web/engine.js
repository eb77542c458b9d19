// engine.js - loads the WebAssembly engine (threaded or single-threaded build, picked at run time) and wraps web/wasm_api.c.
import { HearthError, statusError } from './errors.js';
import { ProgressMeter } from './download.js';

const IS_NODE = typeof process === 'object' && !!(process.versions && process.versions.node) && typeof window === 'undefined' && typeof WorkerGlobalScope === 'undefined';
const enc = new TextEncoder();
const dec = new TextDecoder();

// Facts about where we run, detected once.
export function detectFacts() {
  const isolated = IS_NODE || (typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated);
  const sab = typeof SharedArrayBuffer !== 'undefined';
  return {
    node: IS_NODE,
    crossOriginIsolated: !!isolated,
    threads: isolated && sab,
    hardwareConcurrency: (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || (IS_NODE ? 4 : 1),
    webgpu: typeof navigator !== 'undefined' && !!navigator.gpu,
    simd: true, // both builds require SIMD128
  };
}

// 'mt' when threads are possible and wanted, else 'st'. In Node the single-threaded build is the
// default (threads: n > 1 asks for the pthreads build).
export function pickBuild(facts, { build = 'auto', threads } = {}) {
  if (build === 'st' || build === 'mt') return build;
  if (facts.node) return threads > 1 ? 'mt' : 'st';
  return facts.threads && threads !== 1 ? 'mt' : 'st';
}

async function importModule(base, build) {
  const jsUrl = new URL(`hearth-${build}.mjs`, base);
  const opts = {};
  if (IS_NODE) { // emscripten 3.1.6 ES modules need these in Node (shared/TOOLCHAIN.md)
    const { createRequire } = await import('node:module');
    const { fileURLToPath } = await import('node:url');
    const fs = await import('node:fs');
    globalThis.require ??= createRequire(import.meta.url);
    globalThis.__dirname ??= fileURLToPath(new URL('.', jsUrl));
    opts.wasmBinary = fs.readFileSync(fileURLToPath(new URL(`hearth-${build}.wasm`, base)));
  } else if (build === 'mt') {
    opts.mainScriptUrlOrBlob = jsUrl.href;
  }
  let factory;
  try {
    factory = (await import(jsUrl.href)).default;
  } catch (e) {
    throw new HearthError('worker', `Could not load the engine (${jsUrl.href}): ${e.message || e}`);
  }
  return factory(opts);
}

// Rejects anything that does not start with the GGUF magic, before it is copied anywhere.
export async function checkGguf(reader) {
  const head = reader.size >= 4 ? await reader.read(0, 4) : new Uint8Array(0);
  if (reader.size < 4 || dec.decode(head) !== 'GGUF') {
    throw new HearthError('not-gguf', `This is not a GGUF model file (${reader.size < 4 ? 'it is too short' : 'it does not start with "GGUF"'}).`);
  }
}

// The largest model file the wasm heap can take: 4 GiB of wasm32 memory (-sMAXIMUM_MEMORY in
// tools/wasm/build.sh) less 256 MiB for the engine, its session state and the runtime.
export const MAX_MODEL_BYTES = 4 * 1024 ** 3 - 256 * 1024 ** 2;

// malloc for blocks of up to MAX_MODEL_BYTES. Emscripten 3.1.6's sbrk takes a signed 32-bit
// increment, so on a fresh heap one malloc of >= 2 GiB fails; growing the heap in 1 GiB steps
// first (allocate, free) keeps every increment below 2 GiB. Returns 0 when it does not fit.
export function mallocLarge(M, size) {
  for (let step = 1 << 30; step < size; step += 1 << 30) {
    const q = M._malloc(step) >>> 0;
    if (!q) return 0;
    M._free(q);
  }
  return M._malloc(Math.max(1, size)) >>> 0; // pointers above 2 GiB arrive negative
}

// Default location of the wasm builds: build/wasm/ next to web/.
export const DEFAULT_WASM_BASE = new URL('../build/wasm/', import.meta.url).href;

export class WasmEngine {
  static async create({ wasmBase = DEFAULT_WASM_BASE, build = 'auto', threads } = {}) {
    const facts = detectFacts();
    const which = pickBuild(facts, { build, threads });
    const M = await importModule(wasmBase, which);
    const nThreads = which === 'mt' ? Math.max(1, Math.min(8, threads || facts.hardwareConcurrency)) : 1;
    return new WasmEngine(M, which, nThreads, facts);
  }

  constructor(M, build, nThreads, facts) {
    this.M = M;
    this.build = build;
    this.nThreads = nThreads;
    this.facts = facts;
    this.h = M._hw_new() >>> 0;
    this.stats4 = M._malloc(32) >>> 0;
  }

  // A fresh view of the heap (memory can grow, also from other threads).
  heap() {
    // pthreads: the shared Memory (grown by any thread); single-threaded: HEAPU8, renewed on growth.
    const buf = this.M.wasmMemory ? this.M.wasmMemory.buffer : this.M.HEAPU8.buffer;
    if (this._buf !== buf) { this._buf = buf; this._u8 = new Uint8Array(buf); }
    return this._u8;
  }

  str(ptr, len) { return dec.decode(this.heap().slice(ptr, ptr + len)); }
  cstr(ptr) { const h = this.heap(); let e = ptr; while (h[e]) e++; return this.str(ptr, e - ptr); }

  // Copies bytes into a malloc'ed block; the caller frees (or hands it to C, which frees).
  alloc(bytes) {
    if (bytes.length > MAX_MODEL_BYTES) throw new HearthError('too-large', `${bytes.length} bytes do not fit in WebAssembly memory.`);
    const p = mallocLarge(this.M, bytes.length);
    if (!p) throw new HearthError('nomem', `Out of WebAssembly memory allocating ${bytes.length} bytes.`);
    this.heap().set(bytes, p);
    return p;
  }

  check(status) {
    if (status !== 0) throw statusError(status, this.cstr(this.M._hw_error(this.h) >>> 0));
  }

  // Copies the model from `reader` ({size, read(at, n)}) into the heap and loads it.
  async load(reader, { nCtx = 0, seed = 42, onProgress } = {}) {
    const size = reader.size;
    await checkGguf(reader);
    // _malloc takes a 32-bit size: a larger number would wrap to a small block that the copy below
    // overruns. Refuse what cannot fit before allocating anything.
    if (!Number.isSafeInteger(size) || size > MAX_MODEL_BYTES) {
      throw new HearthError('too-large', `The model (${(size / 1048576).toFixed(0)} MB) is larger than WebAssembly memory can hold (${(MAX_MODEL_BYTES / 1048576).toFixed(0)} MB at most for the file, beside the engine's own memory). Use a smaller or more quantised model, or the native hearth command.`);
    }
    const p = mallocLarge(this.M, size);
    if (!p) throw new HearthError('too-large', `The model (${(size / 1048576).toFixed(0)} MB) does not fit in WebAssembly memory (4 GB at most, and the browser may allow less).`);
    const meter = new ProgressMeter(onProgress, 'copy', size);
    try {
      for (let at = 0; at < size; at += 16 << 20) {
        const chunk = await reader.read(at, Math.min(16 << 20, size - at));
        this.heap().set(chunk, p + at);
        meter.add(chunk.length, at + chunk.length >= size);
      }
    } catch (e) {
      this.M._free(p);
      throw HearthError.from(e);
    }
    onProgress?.({ phase: 'init', loaded: 0, total: null });
    this.check(this.M._hw_load(this.h, p, size, this.nThreads, nCtx, seed >>> 0)); // C owns p now
    return {
      arch: this.cstr(this.M._hw_arch(this.h) >>> 0),
      nVocab: this.M._hw_n_vocab(this.h),
      nCtxTrain: this.M._hw_n_ctx_train(this.h),
      size, build: this.build, threads: this.nThreads,
    };
  }

  // Continues the conversation `messages` (the session reuses what it already holds).
  // o.thinking: true, false or undefined (the template's default).
  chat(messages, o = {}) {
    const parts = [];
    for (const m of messages) parts.push(String(m.role).replaceAll('\0', ''), String(m.content ?? '').replaceAll('\0', ''));
    const p = this.alloc(enc.encode(parts.join('\0') + '\0'));
    const thinking = o.thinking == null ? -1 : o.thinking ? 1 : 0;
    try {
      this.withParams(o, (...g) => this.M._hw_chat_begin(this.h, p, messages.length, thinking, ...g));
    } finally { this.M._free(p); }
    return { reused: this.M._hw_n_reused(this.h), reasoning: this.M._hw_chat_reasoning(this.h) !== 0 };
  }

  // Starts a generation after a raw text prompt, from an empty session.
  begin(prompt, o = {}) {
    const bytes = enc.encode(prompt);
    const p = this.alloc(bytes);
    try {
      this.withParams(o, (...g) => this.M._hw_generate_begin(this.h, p, bytes.length, ...g));
    } finally { this.M._free(p); }
    return { reused: 0 };
  }

  // Calls fn(max_tokens, temperature, top_k, top_p, min_p, repetition_penalty, stops, n_stop).
  withParams(o, fn) {
    const stops = (o.stop || []).map((s) => String(s).replaceAll('\0', '')).filter(Boolean);
    const sp = this.alloc(enc.encode(stops.map((s) => s + '\0').join('')));
    try {
      this.check(fn(o.max_new_tokens ?? 256, o.temperature ?? 0.7, o.top_k ?? 40, o.top_p ?? 0.95, o.min_p ?? 0.05,
        o.repetition_penalty ?? 1.0, sp, stops.length));
    } finally { this.M._free(sp); }
  }

  // One step: {text, token, done}.
  next() {
    this.check(this.M._hw_generate_next(this.h));
    return {
      text: this.str(this.M._hw_piece(this.h) >>> 0, this.M._hw_piece_len(this.h) >>> 0),
      token: this.M._hw_token(this.h),
      done: this.M._hw_done(this.h) !== 0,
    };
  }

  stats() {
    this.M._hw_stats(this.h, this.stats4);
    const d = new Float64Array(this.heap().buffer.slice(this.stats4, this.stats4 + 32));
    return { nPrefill: d[0], nDecode: d[1], prefillSeconds: d[2], decodeSeconds: d[3], nPast: this.M._hw_n_past(this.h) };
  }

  save() {
    this.check(this.M._hw_save(this.h));
    const p = this.M._hw_text(this.h) >>> 0;
    return this.heap().slice(p, p + (this.M._hw_text_len(this.h) >>> 0));
  }

  restore(bytes) {
    const p = this.alloc(bytes);
    try { this.check(this.M._hw_restore(this.h, p, bytes.length)); } finally { this.M._free(p); }
  }

  reset() { this.M._hw_reset(this.h); }
  unload() { this.M._hw_unload(this.h); }
}
