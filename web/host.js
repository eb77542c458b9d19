// host.js - the engine side of the protocol (protocol.js): owns the engine and the model store; runs in a worker or inline.
import { HearthError } from './errors.js';
import { REQUESTS } from './protocol.js';
import { WasmEngine, checkGguf, detectFacts } from './engine.js';
import { GpuEngine, pickDevice } from './engine-gpu.js';

// Lets the event loop run (so an `interrupt` message is seen) between two engine steps.
function yieldTask() {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => { const ch = new MessageChannel(); ch.port1.onmessage = () => { ch.port1.close(); r(); }; ch.port2.postMessage(0); });
  }
  return new Promise((r) => setTimeout(r, 0));
}

const SAFE_KEY = /^[A-Za-z0-9._-]{1,128}$/;

export class EngineHost {
  // post(msg): delivers a reply to the page. storage: BrowserStorage or NodeStorage.
  // engineFactory(options) -> a WasmEngine (the backend seam: one place picks the engine). A load
  // with options.device 'webgpu' or 'auto' runs the model on a GpuEngine (engine-gpu.js) hosted by
  // that module when pickDevice finds a device; this.engine is whichever engine holds the model.
  constructor(post, storage, engineFactory = (o) => WasmEngine.create(o)) {
    this.post = post;
    this.storage = storage;
    this.engineFactory = engineFactory;
    this.cpu = null;
    this.engine = null;
    this.model = null;
    this.active = new Map(); // id -> {type, abort: AbortController | null, interrupted: bool}
    this.busy = null; // id of the load or generation using the engine
  }

  reply(id, type, body = {}) { this.post({ type, id, ...body }); }

  async handle(msg) {
    const { id, type } = msg || {};
    try {
      if (!REQUESTS.has(type)) throw new HearthError('bad-request', `Unknown request type: ${type}`);
      switch (type) {
        case 'load': return await this.load(msg);
        case 'generate': return await this.generate(msg);
        case 'interrupt': return this.interrupt(msg);
        case 'cache-list': return this.reply(id, type, { entries: await this.storage.list() });
        case 'cache-delete': return this.reply(id, type, { deleted: await this.cacheDelete(msg.key) });
        case 'stats': return this.reply(id, type, { stats: this.engine && this.model ? this.engine.stats() : null, facts: detectFacts(), model: this.model });
        case 'session-save': return await this.sessionSave(msg);
        case 'session-restore': return await this.sessionRestore(msg);
        case 'session-reset': this.needModel(); this.engine.reset(); return this.reply(id, type);
      }
    } catch (e) {
      this.reply(id, 'error', { error: HearthError.from(e).toJSON() });
    } finally {
      this.active.delete(id);
      if (this.busy === id) this.busy = null;
    }
  }

  needModel() {
    if (!this.model) throw new HearthError('no-model', 'No model is loaded.');
  }

  claim(id, type) {
    if (this.busy != null) throw new HearthError('busy', 'The engine is busy with another request; interrupt it first.');
    this.busy = id;
    const entry = { type, abort: type === 'load' ? new AbortController() : null, interrupted: false };
    this.active.set(id, entry);
    return entry;
  }

  async load({ id, source, options = {} }) {
    const entry = this.claim(id, 'load');
    const onProgress = (p) => this.reply(id, 'progress', p);
    if (!this.cpu) this.cpu = this.engine = await this.engineFactory(options);
    const reader = await this.storage.open(source || {}, { onProgress, signal: entry.abort.signal });
    try {
      await this.dropIfBad(reader, () => checkGguf(reader)); // before the current model is let go
      if (reader.fromCache) onProgress({ phase: 'download', loaded: reader.size, total: reader.size, bytesPerSecond: 0, secondsLeft: 0, fromCache: true });
      const previous = this.model ? { source: this.source, options: this.options } : null;
      if (this.model) { this.engine.unload(); this.model = null; }
      try {
        this.engine = await this.pickEngine(options);
        const reopen = () => this.storage.open(source || {}, {});
        const loadOn = (engine) => this.dropIfBad(reader, () => engine.load(reader, { nCtx: options.nCtx || 0, seed: options.seed ?? 42, onProgress, reopen }));
        let info;
        try {
          info = await loadOn(this.engine);
        } catch (e) {
          if (this.engine === this.cpu || ['format', 'not-gguf', 'aborted'].includes(e.code)) throw e;
          this.engine.unload(); // the GPU failed while loading: the CPU engine takes the model
          this.cpuReason = `the GPU failed while loading the model (${e.message || e})`;
          this.engine = this.cpu;
          info = await loadOn(this.engine);
        }
        if (!info.backend) info.backend = { device: 'wasm', adapter: null, reason: this.cpuReason };
        this.model = { ...info, key: reader.key, url: reader.url, fromCache: reader.fromCache };
        this.source = source;
        this.options = options;
      } catch (e) {
        if (previous) await this.reload(previous);
        throw e;
      }
    } finally { reader.close(); }
    this.reply(id, 'ready', { model: this.model });
  }

  // The engine for a load: a GpuEngine when options.device allows WebGPU and a device is granted,
  // else the CPU engine (this.cpuReason says why when WebGPU was asked for and not had).
  async pickEngine(options) {
    const { gpu, reason } = await pickDevice(options.device || 'wasm', this.cpu.M || {});
    this.cpuReason = reason;
    if (!gpu) return this.cpu;
    return new GpuEngine(this.cpu, gpu, { onBackend: (backend) => { this.model.backend = backend; this.post({ type: 'backend', id: this.busy, backend }); } });
  }

  // Runs fn; when it finds the downloaded file malformed, the cached copy is deleted so that the
  // next attempt downloads it again.
  async dropIfBad(reader, fn) {
    try {
      return await fn();
    } catch (e) {
      if (reader.url && (e.code === 'format' || e.code === 'not-gguf')) {
        reader.close();
        await this.storage.delete(reader.key).catch(() => {});
      }
      throw e;
    }
  }

  // Puts the previous model back after a failed load (it is cached, so this reads no network).
  async reload({ source, options }) {
    const reader = await this.storage.open(source, {});
    this.engine = this.cpu;
    try {
      const info = await this.engine.load(reader, { nCtx: options.nCtx || 0, seed: options.seed ?? 42 });
      this.model = { ...info, key: reader.key, url: reader.url, fromCache: reader.fromCache };
    } catch { this.model = null; } finally { reader.close(); }
  }

  async generate({ id, messages, prompt, params = {} }) {
    this.needModel();
    const entry = this.claim(id, 'generate');
    if (messages && (!Array.isArray(messages) || !messages.length)) throw new HearthError('bad-request', 'messages must be a non-empty array');
    const { reused, reasoning = false } = messages ? this.engine.chat(messages, params) : this.engine.begin(String(prompt ?? ''), params);
    this.reply(id, 'start', { reasoning });
    let text = '', finishReason = 'length', n = 0;
    for (;;) {
      if (entry.interrupted) { finishReason = 'abort'; break; }
      const step = await this.engine.next();
      if (step.text) {
        text += step.text;
        this.reply(id, 'token', { text: step.text, token: step.token });
      }
      if (step.token >= 0) n++;
      if (step.done) { finishReason = n >= (params.max_new_tokens ?? 256) ? 'length' : 'stop'; break; }
      await yieldTask();
    }
    const s = this.engine.stats();
    const usage = {
      prompt_tokens: s.nPrefill + reused, completion_tokens: s.nDecode, total_tokens: s.nPrefill + reused + s.nDecode,
      reused_tokens: reused,
      prefill_tokens_per_s: s.prefillSeconds > 0 ? s.nPrefill / s.prefillSeconds : 0,
      decode_tokens_per_s: s.decodeSeconds > 0 ? s.nDecode / s.decodeSeconds : 0,
      prefill_seconds: s.prefillSeconds, decode_seconds: s.decodeSeconds,
    };
    this.reply(id, 'done', { text, finishReason, usage });
  }

  interrupt({ id, target }) {
    for (const [rid, entry] of this.active) {
      if (target != null && rid !== target) continue;
      entry.interrupted = true;
      entry.abort?.abort();
    }
    this.reply(id, 'interrupt');
  }

  async cacheDelete(key) {
    if (typeof key !== 'string' || !SAFE_KEY.test(key)) throw new HearthError('bad-request', `Bad cache key: ${key}`);
    if (this.model && this.model.key === key && this.busy != null) throw new HearthError('busy', 'That model is in use.');
    return this.storage.delete(key);
  }

  async sessionSave({ id, key, meta = null }) {
    this.needModel();
    if (!SAFE_KEY.test(key || '')) throw new HearthError('bad-request', `Bad session key: ${key}`);
    if (this.busy != null) throw new HearthError('busy', 'The engine is busy; save after the generation ends.');
    const bytes = this.engine.save(); // null: the engine keeps no state blob (GPU): the conversation only
    // The conversation (meta) first: if the state then fails to fit, the older state still matches a
    // prefix of it and the next turn prefills only the difference. Each blob is replaced whole or
    // not at all (storage.putBlob).
    try {
      await this.storage.putBlob(`${key}.json`, new TextEncoder().encode(JSON.stringify({ model: this.model.key, meta })));
      if (bytes) await this.storage.putBlob(`${key}.state`, bytes);
    } catch (e) {
      const err = HearthError.from(e);
      if (err.code === 'quota') throw new HearthError('quota', 'Not enough storage space to save the conversation. Delete cached models in the cache manager to make room.');
      throw err;
    }
    this.reply(id, 'session-save', { bytes: bytes ? bytes.length : 0 });
  }

  async sessionRestore({ id, key }) {
    this.needModel();
    if (!SAFE_KEY.test(key || '')) throw new HearthError('bad-request', `Bad session key: ${key}`);
    const info = await this.storage.getBlob(`${key}.json`);
    const state = await this.storage.getBlob(`${key}.state`);
    let saved = null;
    try { saved = info && JSON.parse(new TextDecoder().decode(info)); } catch { saved = null; }
    if (!saved || typeof saved !== 'object') return this.reply(id, 'session-restore', { meta: null });
    if (!state) { // the conversation without its state (never written, or lost): recomputed on the next turn
      this.engine.reset();
      return this.reply(id, 'session-restore', { meta: saved.meta, restored: false });
    }
    // The decode state only fits the model that made it; with another model the conversation
    // (meta) still comes back and its next turn is evaluated from the start.
    let restored = saved.model === this.model.key;
    if (restored) {
      try { restored = this.engine.restore(state) !== false; } catch { // damaged or cut short: keep the conversation, recompute its state
        this.engine.reset();
        restored = false;
      }
    } else this.engine.reset();
    this.reply(id, 'session-restore', { meta: saved.meta, restored });
  }
}
