// hearth.js - the public JavaScript API: pipeline('text-generation', ...) and an OpenAI-shaped chat engine, in a worker or inline.
import { HearthError } from './errors.js';
import { openClient, resolveDevice } from './backend.js';
import { ReasoningSplitter, splitReasoning } from './reasoning.js';

export { HearthError };

// Settings shared by every engine created afterwards. wasmBase: folder of hearth-{st,mt}.{mjs,wasm}
// (default: build/wasm/ beside web/); workerUrl: web/worker.js; cacheDir: Node's model cache;
// store: 'opfs' or 'cache' (browsers).
export const env = { wasmBase: null, workerUrl: null, cacheDir: null, store: null };

const DTYPES = new Set(['q4_0', 'q4', 'q4_k_m', 'q8_0', 'q8', 'f16', 'bf16', 'f32', 'fp16', 'fp32']);

// A model is a URL or path of a .gguf file, a Blob/File, or {url, sha256, size}. A name without
// .gguf gets the dtype appended: ('models/demo', {dtype: 'q8_0'}) -> models/demo-q8_0.gguf.
function modelSource(model, dtype) {
  if (model && typeof model === 'object' && typeof model.arrayBuffer === 'function') return { file: model };
  if (model && typeof model === 'object' && (model.url || model.path)) return { ...model };
  if (typeof model !== 'string' && !(model instanceof URL)) throw new HearthError('bad-request', 'model must be a URL, a path, a File or {url, sha256, size}');
  let url = String(model);
  if (dtype != null && !DTYPES.has(String(dtype).toLowerCase())) throw new HearthError('bad-request', `Unknown dtype: ${dtype}`);
  if (!/\.gguf([?#]|$)/i.test(url)) url = `${url}-${(dtype || 'q4_0').toLowerCase()}.gguf`;
  return { url };
}

function clientOptions(o) {
  return { workerUrl: o.workerUrl || env.workerUrl, store: o.store || env.store, cacheDir: o.cacheDir || env.cacheDir };
}

// Maps the sampling options both API shapes accept onto the engine's names.
function genParams(o = {}, { greedyByDefault }) {
  const sample = o.do_sample ?? (o.temperature != null ? o.temperature > 0 : !greedyByDefault);
  return {
    max_new_tokens: o.max_new_tokens ?? o.max_tokens ?? o.max_completion_tokens ?? 256,
    temperature: sample ? (o.temperature ?? 0.7) : 0,
    top_k: o.top_k ?? 40,
    top_p: o.top_p ?? 0.95,
    min_p: o.min_p ?? 0.05,
    repetition_penalty: o.repetition_penalty ?? 1.0,
    stop: o.stop == null ? [] : Array.isArray(o.stop) ? o.stop : [o.stop],
    thinking: o.enable_thinking ?? o.thinking,
  };
}

// Streams text pieces to a callback, like Transformers.js's TextStreamer (pieces, not ids).
export class TextStreamer {
  constructor(tokenizer, { callback_function, skip_prompt = true } = {}) {
    this.callback = callback_function || ((t) => (typeof process === 'object' ? process.stdout.write(t) : console.log(t)));
    this.skip_prompt = skip_prompt;
  }
  put(text) { this.callback(text); }
  end() {}
}

export class Engine {
  constructor(client, device) {
    this.client = client;
    this.device = device;
    this.model = null;
    this.current = null; // id of the generation in flight
    this.onlost = null; // called once if the worker dies (client.js); requests then fail with 'worker'
    this.onbackend = null; // called with model.backend when the engine falls back from the GPU to the CPU mid-reply
    client.onDead = (e) => { this.model = null; this.onlost?.(e); };
    this.chat = { completions: { create: (req) => this.createCompletion(req) } };
  }

  // Loads (downloading and caching if needed) a model; replaces the current one.
  async reload(model, o = {}) {
    const source = modelSource(model, o.dtype);
    if (o.sha256) source.sha256 = o.sha256;
    if (o.size != null) source.size = o.size;
    const t0 = Date.now();
    const file = source.url || source.path || (source.file && source.file.name) || 'model';
    const onEvent = (ev) => {
      const pct = ev.total ? (100 * ev.loaded) / ev.total : 0;
      o.progress_callback?.({ status: 'progress', file, name: file, ...ev, progress: pct });
      o.initProgressCallback?.({ progress: pct / 100, timeElapsed: (Date.now() - t0) / 1000, text: `${ev.phase} ${pct.toFixed(0)}%` });
    };
    const { id, promise } = this.client.start('load', {
      source, options: { nCtx: o.n_ctx ?? o.nCtx, seed: o.seed, threads: o.threads, build: o.build, wasmBase: o.wasmBase || env.wasmBase || undefined, device: o.device ? resolveDevice(o.device) : this.device },
    }, onEvent);
    this.loading = id;
    try {
      const reply = await promise;
      this.model = reply.model;
    } finally { this.loading = null; }
    o.progress_callback?.({ status: 'ready', file, name: file, model: this.model });
    o.initProgressCallback?.({ progress: 1, timeElapsed: (Date.now() - t0) / 1000, text: 'ready' });
    return this.model;
  }

  // Runs one generation, calling onText for each piece (and onStart with the 'start' event);
  // resolves with the 'done' reply.
  generate(body, onText, onStart) {
    const { id, promise } = this.client.start('generate', body, (ev) => {
      if (ev.type === 'token') onText?.(ev.text);
      else if (ev.type === 'start') onStart?.(ev);
      else if (ev.type === 'backend') { if (this.model) this.model.backend = ev.backend; this.onbackend?.(ev.backend); }
    });
    this.current = id;
    return promise.finally(() => { if (this.current === id) this.current = null; });
  }

  // Stops the generation (or download) in flight; the generation ends with finish_reason 'abort'.
  async interrupt() {
    const target = this.current ?? this.loading;
    if (target != null) await this.client.request('interrupt', { target });
  }
  interruptGenerate() { return this.interrupt(); }

  // OpenAI / WebLLM shape. With stream: true, an async iterator of chat.completion.chunk objects
  // whose last chunk carries finish_reason and usage; otherwise one chat.completion. A reasoning
  // model's thinking comes apart from its answer, as `reasoning_content` next to `content` (the
  // field DeepSeek's and vLLM's OpenAI-compatible servers use; reasoning.js).
  createCompletion(req = {}) {
    if (!Array.isArray(req.messages)) throw new HearthError('bad-request', 'messages must be an array');
    const body = { messages: req.messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : (m.content || []).map((p) => p.text || '').join('') })), params: genParams(req, { greedyByDefault: false }) };
    const created = Math.floor(Date.now() / 1000);
    const cid = `chatcmpl-${created}-${Math.random().toString(36).slice(2, 10)}`;
    const modelName = this.model ? this.model.key : null;
    const usageOf = (u) => ({ prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens, extra: { prefill_tokens_per_s: u.prefill_tokens_per_s, decode_tokens_per_s: u.decode_tokens_per_s, reused_tokens: u.reused_tokens } });
    if (!req.stream) {
      let opened = false;
      return this.generate(body, null, (ev) => { opened = ev.reasoning; }).then((d) => {
        const { reasoning, content, hadReasoning } = splitReasoning(d.text, opened);
        const message = { role: 'assistant', content, ...(hadReasoning ? { reasoning_content: reasoning } : {}) };
        return {
          id: cid, object: 'chat.completion', created, model: modelName,
          choices: [{ index: 0, message, finish_reason: d.finishReason, logprobs: null }],
          usage: usageOf(d.usage),
        };
      });
    }
    const queue = [];
    let wake = null, finished = false, failure = null, first = true;
    const push = (x) => { queue.push(x); wake?.(); wake = null; };
    const chunk = (delta, finish_reason = null, usage) => ({
      id: cid, object: 'chat.completion.chunk', created, model: modelName,
      choices: [{ index: 0, delta, finish_reason, logprobs: null }], ...(usage ? { usage } : {}),
    });
    let splitter = new ReasoningSplitter(false);
    const emit = ({ reasoning, content }) => {
      if (!reasoning && !content) return;
      push(chunk({ ...(first ? { role: 'assistant' } : {}), ...(reasoning ? { reasoning_content: reasoning } : {}), ...(content ? { content } : {}) }));
      first = false;
    };
    const done = this.generate(body, (text) => emit(splitter.push(text)), (ev) => { splitter = new ReasoningSplitter(ev.reasoning); })
      .then((d) => { emit(splitter.end()); push(chunk({}, d.finishReason, usageOf(d.usage))); }, (e) => { failure = e; })
      .finally(() => { finished = true; wake?.(); wake = null; });
    const engine = this;
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        for (;;) {
          if (queue.length) return { value: queue.shift(), done: false };
          if (failure) throw failure;
          if (finished) return { value: undefined, done: true };
          await new Promise((r) => { wake = r; });
        }
      },
      async return() { await engine.interrupt(); await done; return { value: undefined, done: true }; },
    };
  }

  async stats() { return this.client.request('stats'); }

  // Saved conversations: the engine's decode state plus any JSON `meta`, under `key`.
  saveSession(key, meta) { return this.client.request('session-save', { key, meta }); }
  async restoreSession(key) { return (await this.client.request('session-restore', { key })).meta; }
  resetSession() { return this.client.request('session-reset'); }

  async listCachedModels() { return (await this.client.request('cache-list')).entries; }
  async deleteCachedModel(key) { return (await this.client.request('cache-delete', { key })).deleted; }

  async unload() { this.client.close(); this.model = null; }
  dispose() { return this.unload(); }
}

// WebLLM-style constructor: CreateEngine(model, {device, dtype, progress_callback | initProgressCallback, ...}).
// With model null the engine starts empty; load one later with engine.reload(model, options).
export async function CreateEngine(model, options = {}) {
  const device = resolveDevice(options.device);
  const engine = new Engine(await openClient(clientOptions(options)), device);
  if (model == null) return engine;
  try {
    await engine.reload(model, options);
  } catch (e) {
    engine.dispose();
    throw e;
  }
  return engine;
}

// Transformers.js shape. The returned function takes messages (or a prompt string) and options
// {max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, do_sample, streamer}.
// Like Transformers.js it decodes greedily unless do_sample or a temperature is given.
export async function pipeline(task, model, options = {}) {
  if (task !== 'text-generation') throw new HearthError('bad-request', `Unsupported task: ${task}`);
  const engine = await CreateEngine(model, options);
  const generator = async (input, o = {}) => {
    const params = genParams(o, { greedyByDefault: true });
    const streamer = typeof o.streamer === 'function' ? { put: o.streamer, end() {} } : o.streamer;
    const isChat = Array.isArray(input);
    const body = isChat ? { messages: input, params } : { prompt: String(input), params };
    const d = await engine.generate(body, (t) => streamer?.put(t));
    streamer?.end?.();
    if (isChat) return [{ generated_text: [...input, { role: 'assistant', content: d.text }] }];
    return [{ generated_text: o.return_full_text === false ? d.text : String(input) + d.text }];
  };
  generator.engine = engine;
  generator.task = task;
  generator.dispose = () => engine.dispose();
  generator.interrupt = () => engine.interrupt();
  return generator;
}

async function withClient(options, fn) {
  const client = await openClient(clientOptions(options));
  try { return await fn(client); } finally { client.close(); }
}

export function listCachedModels(options = {}) {
  return withClient(options, async (c) => (await c.request('cache-list')).entries);
}

export function deleteCachedModel(key, options = {}) {
  return withClient(options, async (c) => (await c.request('cache-delete', { key })).deleted);
}
