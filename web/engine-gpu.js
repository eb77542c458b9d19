// engine-gpu.js - the WebGPU engine: the C planner (web/wasm_gpu.c) plans, web/gpu/host.js executes, weights stream from storage straight into GPU buffers; falls back to the CPU when the device is lost.
import { HearthError, statusError } from './errors.js';
import { MAX_MODEL_BYTES, checkGguf, mallocLarge } from './engine.js';
import { ProgressMeter } from './download.js';
import { GpuHost, requestGpuDevice } from './gpu/host.js';
import { generateTokens } from './gpu/driver.js';

const enc = new TextEncoder();
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now()) / 1000;

// A readable description of the adapter ("SwiftShader (Google, software)", "NVIDIA ...").
export function adapterLabel(adapter) {
  const i = (adapter && adapter.info) || {};
  const name = i.description || i.device || i.architecture || 'GPU';
  const who = i.vendor ? `${i.vendor}` : '';
  const soft = isSoftware(adapter) ? 'software' : '';
  const extra = [who, soft].filter(Boolean).join(', ');
  return extra ? `${name} (${extra})` : name;
}

export function isSoftware(adapter) {
  return !!(adapter && ((adapter.info && adapter.info.isFallbackAdapter) || adapter.isFallbackAdapter));
}

// Picks the device for a load. device: 'webgpu' (any adapter), 'auto' (a hardware adapter: a
// software one such as SwiftShader is slower than the WebAssembly CPU engine) or 'wasm'/'cpu'.
// Returns {gpu: requestGpuDevice's result | null, reason: why the CPU is used (null when asked for)}.
export async function pickDevice(device, module) {
  if (device === 'wasm' || device === 'cpu') return { gpu: null, reason: null };
  const cpu = (reason) => ({ gpu: null, reason: device === 'webgpu' ? reason : null }); // 'auto' needs no excuse
  if (!module._hwg_new) return cpu('this engine build has no WebGPU planner');
  const nav = typeof navigator !== 'undefined' ? navigator.gpu : null;
  if (!nav) return cpu('this browser has no WebGPU');
  let adapter = null;
  try { adapter = await nav.requestAdapter({ powerPreference: 'high-performance' }); } catch { adapter = null; }
  if (!adapter) return cpu('no WebGPU adapter');
  if (device === 'auto' && isSoftware(adapter)) return cpu(null);
  const gpu = await requestGpuDevice(nav);
  if (!gpu) return cpu('the WebGPU device request failed');
  return { gpu, reason: null };
}

// The same interface as WasmEngine (engine.js) for EngineHost (host.js); next() is async.
export class GpuEngine {
  // cpu: the WasmEngine whose module hosts the planner; gpu: requestGpuDevice's result.
  // onBackend(info): called when the engine falls back to the CPU ({device: 'wasm', reason}).
  constructor(cpu, gpu, { onBackend } = {}) {
    this.cpu = cpu;
    this.M = cpu.M;
    this.build = cpu.build;
    this.nThreads = cpu.nThreads;
    this.g = this.M._hwg_new() >>> 0;
    this.onBackend = onBackend;
    this.adapter = adapterLabel(gpu.adapter);
    this.host = new GpuHost(gpu.device, { gpu: gpu.gpu, adapter: gpu.adapter });
    this.iter = null;
    this.fellBack = null;
    // The device and its host, for tests and devtools (tests/e2e/gpu.mjs destroys the device at
    // chosen steps).
    globalThis.__hearthGpu = { device: gpu.device, adapter: gpu.adapter, host: this.host };
  }

  get backend() {
    return this.fellBack ? { device: 'wasm', adapter: null, reason: this.fellBack } : { device: 'webgpu', adapter: this.adapter };
  }

  check(status) {
    if (status !== 0) throw statusError(status, this.cpu.cstr(this.M._hwg_error(this.g) >>> 0));
  }

  // Reads the header, the small tensors into the heap, plans, and streams the matrices into GPU
  // buffers. reopen() opens the model's source again (for the CPU fallback's weights).
  async load(reader, { nCtx = 0, seed = 42, onProgress, reopen } = {}) {
    const size = reader.size;
    await checkGguf(reader);
    this.reopen = reopen;
    this.size = size;
    for (let avail = Math.min(size, 1 << 20); ; avail = Math.min(size, avail * 4)) {
      const head = await reader.read(0, avail);
      const p = this.cpu.alloc(head);
      let st;
      try { st = this.M._hwg_header(this.g, p, avail, size); } finally { this.M._free(p); }
      if (st === 0) break;
      if (avail >= size || avail >= 256 << 20) this.check(st);
    }
    const n = this.M._hwg_ranges(this.g);
    if (n < 0) this.check(-n);
    const table = () => new Float64Array(this.cpu.heap().buffer, this.M._hwg_ranges_table(this.g) >>> 0, 3 * n);
    for (let i = 0; i < n; i++) {
      const [off, len, at] = table().slice(3 * i, 3 * i + 3);
      if (len > 0) this.cpu.heap().set(await reader.read(off, len), at);
    }
    const f = this.host.facts();
    this.check(this.M._hwg_open(this.g, this.nThreads, nCtx, seed >>> 0, f.maxBinding, f.maxBuffer, f.maxWorkgroups,
      f.maxStorage, f.subgroupMin > 0 ? 1 : 0, f.subgroupMin, f.dot4 ? 1 : 0));
    const pp = this.M._hwg_plan(this.g) >>> 0;
    const plan = this.cpu.heap().slice(pp, pp + (this.M._hwg_plan_len(this.g) >>> 0));
    onProgress?.({ phase: 'init', loaded: 0, total: null });
    let last = 0;
    const meter = new ProgressMeter(onProgress, 'gpu', size);
    await this.host.loadPlan(plan, {
      read: (off, len) => reader.read(off, len),
      onProgress: (done, total) => { meter.total = total; meter.add(done - last, done >= total); last = done; },
    });
    return {
      arch: this.cpu.cstr(this.M._hwg_arch(this.g) >>> 0),
      nVocab: this.M._hwg_n_vocab(this.g),
      nCtxTrain: this.M._hwg_n_ctx_train(this.g),
      size, build: this.build, threads: this.nThreads, backend: this.backend,
    };
  }

  chat(messages, o = {}) {
    this.endTurn();
    const parts = [];
    for (const m of messages) parts.push(String(m.role).replaceAll('\0', ''), String(m.content ?? '').replaceAll('\0', ''));
    const p = this.cpu.alloc(enc.encode(parts.join('\0') + '\0'));
    const thinking = o.thinking == null ? -1 : o.thinking ? 1 : 0;
    try {
      this.withParams(o, (...g) => this.M._hwg_chat_begin(this.g, p, messages.length, thinking, ...g));
    } finally { this.M._free(p); }
    this.startTurn();
    return { reused: this.M._hwg_n_reused(this.g), reasoning: this.M._hwg_chat_reasoning(this.g) !== 0 };
  }

  begin(prompt, o = {}) {
    this.endTurn();
    const bytes = enc.encode(prompt);
    const p = this.cpu.alloc(bytes);
    try {
      this.withParams(o, (...g) => this.M._hwg_generate_begin(this.g, p, bytes.length, ...g));
    } finally { this.M._free(p); }
    this.startTurn();
    return { reused: 0 };
  }

  withParams(o, fn) { this.cpu.withParams(o, (...g) => { const st = fn(...g); if (st !== 0) this.check(st); return 0; }); }

  startTurn() {
    this.t0 = now();
    this.tFirst = null;
    this.iter = generateTokens(this.planner(), this.fellBack ? null : this.host, { onFallback: (err) => this.fallBack(err) });
  }

  endTurn() {
    if (this.iter) this.iter.return(); // suspended at a yield: no step is in flight
    this.iter = null;
  }

  fallBack(err) {
    this.fellBack = `the GPU device was lost (${err.message || err})`;
    this.onBackend?.(this.backend);
  }

  // The planner as web/gpu/driver.js calls it.
  planner() {
    const M = this.M, g = this.g;
    return {
      next: async () => {
        const k = M._hwg_next(g);
        if (k < 0) this.check(-k);
        if (k === 2) return { kind: 'done' };
        if (k === 1) return { kind: 'token', token: M._hwg_act_token(g) };
        const p = M._hwg_blob(g) >>> 0;
        return { kind: 'run', blob: this.cpu.heap().slice(p, p + (M._hwg_blob_len(g) >>> 0)), wantsToken: !!M._hwg_wants_token(g), wantsLogits: !!M._hwg_wants_logits(g) };
      },
      result: async (token, logits) => {
        let p = 0;
        if (logits) p = this.cpu.alloc(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
        try {
          const t = M._hwg_result(g, token, p);
          if (t < -1) this.check(-2 - t);
          return t;
        } finally { if (p) M._free(p); }
      },
      lost: async () => {
        if (M._hwg_needs_cpu_weights(g)) await this.loadCpuWeights();
        // Lost before the turn's first token: its prefill is timed on the CPU, which replays what
        // the GPU had been fed and then evaluates the rest (not the wait for the lost device or
        // the reading of the weights).
        if (this.tFirst == null) this.t0 = now();
        this.check(M._hwg_lost(g));
      },
    };
  }

  // The CPU fallback's weights: the whole file into the wasm heap, read again from its source.
  async loadCpuWeights() {
    if (!this.reopen) throw new HearthError('backend', 'The GPU was lost and the model cannot be read again for the CPU.');
    if (this.size > MAX_MODEL_BYTES) throw new HearthError('too-large', `The GPU was lost and the model (${(this.size / 1048576).toFixed(0)} MB) is larger than the CPU engine's memory can hold.`);
    const reader = await this.reopen();
    try {
      const p = mallocLarge(this.M, this.size);
      if (!p) throw new HearthError('too-large', 'The GPU was lost and the model does not fit in WebAssembly memory for the CPU.');
      try {
        for (let at = 0; at < this.size; at += 16 << 20) this.cpu.heap().set(await reader.read(at, Math.min(16 << 20, this.size - at)), p + at);
      } catch (e) { this.M._free(p); throw HearthError.from(e); }
      this.check(this.M._hwg_cpu_weights(this.g, p, this.size, this.nThreads)); // C owns p now
    } finally { reader.close?.(); }
  }

  // One token of the turn: {text, token, done}.
  async next() {
    const M = this.M, g = this.g;
    const r = await this.iter.next();
    if (r.done) {
      this.check(M._hwg_finish(g));
    } else {
      if (this.tFirst == null) this.tFirst = now();
      this.check(M._hwg_token(g, r.value));
    }
    const done = M._hwg_done(g) !== 0;
    if (done) this.endTurn();
    this.tEnd = now();
    return { text: this.cpu.str(M._hwg_piece(g) >>> 0, M._hwg_piece_len(g) >>> 0), token: r.done ? -1 : r.value, done };
  }

  stats() {
    const tFirst = this.tFirst ?? this.tEnd ?? this.t0;
    return {
      nPrefill: this.M._hwg_n_prompt(this.g), nDecode: this.M._hwg_n_generated(this.g),
      prefillSeconds: Math.max(0, tFirst - this.t0), decodeSeconds: Math.max(0, (this.tEnd ?? tFirst) - tFirst),
      nPast: this.M._hwg_n_past(this.g), backend: this.backend,
    };
  }

  // The decode state lives on the GPU: a save keeps the conversation only (null: no state blob);
  // the next turn after a restore evaluates it again (host.js).
  save() { return null; }
  restore() { this.reset(); return false; }
  reset() { this.endTurn(); this.M._hwg_reset(this.g); }
  unload() {
    this.endTurn();
    this.M._hwg_unload(this.g);
    try { this.host.device.destroy(); } catch {}
  }
}
