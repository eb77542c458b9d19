// hearth.d.ts - TypeScript declarations of the public JavaScript API (web/hearth.js).

export type Device = 'auto' | 'wasm' | 'cpu' | 'webgpu';
export type DType = 'q4_0' | 'q4' | 'q4_k_m' | 'q8_0' | 'q8' | 'f16' | 'bf16' | 'f32' | 'fp16' | 'fp32';

/** Stable error codes: the engine's statuses and the JS side's own. */
export type ErrorCode =
  | 'invalid-arg' | 'io' | 'format' | 'unsupported' | 'nomem' | 'too-large' | 'context-full' | 'template'
  | 'interrupted' | 'backend' | 'http' | 'network' | 'quota' | 'size-mismatch' | 'hash-mismatch' | 'not-gguf'
  | 'storage' | 'aborted' | 'busy' | 'no-model' | 'unsupported-device' | 'bad-request' | 'worker';

export class HearthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string);
  toJSON(): { code: ErrorCode; message: string };
}

/** A GGUF file: URL or (Node) path; a File/Blob; or a URL with the size and hash to verify. */
export type ModelSource = string | URL | Blob | { url: string; sha256?: string; size?: number } | { path: string };

export interface ProgressEvent {
  status: 'progress';
  file: string;
  name: string;
  phase: 'download' | 'verify' | 'copy' | 'init';
  loaded: number;
  total: number | null;
  /** 0..100 */
  progress: number;
  bytesPerSecond?: number;
  secondsLeft?: number | null;
  fromCache?: boolean;
}

export interface ReadyEvent { status: 'ready'; file: string; name: string; model: ModelInfo }

export interface ModelInfo {
  key: string;
  url: string | null;
  arch: string;
  nVocab: number;
  nCtxTrain: number;
  size: number;
  fromCache: boolean;
  /** 'mt' (pthreads, when cross-origin isolated) or 'st' */
  build: 'st' | 'mt';
  threads: number;
  /** Where the model runs; updated (and Engine.onbackend called) when the GPU is lost mid-reply. */
  backend: BackendInfo;
}

/** 'webgpu' with the adapter's name, or 'wasm' with why the GPU is not used (null when the CPU was asked for). */
export interface BackendInfo { device: 'webgpu' | 'wasm'; adapter: string | null; reason?: string | null }

export interface LoadOptions {
  /** 'auto' (default): WebGPU on a hardware adapter, else the CPU; 'webgpu': any adapter (software too), else the CPU; 'wasm'/'cpu'. */
  device?: Device;
  /** Appended to a model name without .gguf: ('models/demo', {dtype: 'q8_0'}) -> models/demo-q8_0.gguf */
  dtype?: DType;
  sha256?: string;
  size?: number;
  n_ctx?: number;
  seed?: number;
  /** Compute threads of the threaded build (default: the machine's cores, at most 8). */
  threads?: number;
  build?: 'auto' | 'st' | 'mt';
  wasmBase?: string;
  workerUrl?: string | URL;
  /** Browsers: 'opfs' (default) or 'cache' (the Cache API). */
  store?: 'opfs' | 'cache';
  /** Node: folder of the model cache (default ~/.cache/hearth or $HEARTH_CACHE_DIR). */
  cacheDir?: string;
  /** Transformers.js style. */
  progress_callback?: (e: ProgressEvent | ReadyEvent) => void;
  /** WebLLM style. */
  initProgressCallback?: (r: { progress: number; timeElapsed: number; text: string }) => void;
}

export interface SamplingOptions {
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  repetition_penalty?: number;
  stop?: string | string[];
  /** Reasoning on/off for templates that support it (default: the template's own). */
  enable_thinking?: boolean;
}

export interface ChatMessage { role: 'system' | 'user' | 'assistant' | 'tool'; content: string }

export interface Streamer { put(text: string): void; end?(): void }

export class TextStreamer implements Streamer {
  constructor(tokenizer: unknown, options?: { callback_function?: (text: string) => void; skip_prompt?: boolean });
  put(text: string): void;
  end(): void;
}

export interface GenerationOptions extends SamplingOptions {
  max_new_tokens?: number;
  /** Greedy unless true (or a temperature is given), as in Transformers.js. */
  do_sample?: boolean;
  streamer?: Streamer | ((text: string) => void);
  /** For a string prompt: false returns only the continuation. */
  return_full_text?: boolean;
}

export interface TextGenerationPipeline {
  (messages: ChatMessage[], options?: GenerationOptions): Promise<Array<{ generated_text: ChatMessage[] }>>;
  (prompt: string, options?: GenerationOptions): Promise<Array<{ generated_text: string }>>;
  readonly engine: Engine;
  readonly task: 'text-generation';
  interrupt(): Promise<void>;
  dispose(): Promise<void>;
}

export function pipeline(task: 'text-generation', model: ModelSource, options?: LoadOptions): Promise<TextGenerationPipeline>;

export type FinishReason = 'stop' | 'length' | 'abort';

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  extra: { prefill_tokens_per_s: number; decode_tokens_per_s: number; reused_tokens: number };
}

export interface ChatCompletionRequest extends SamplingOptions {
  messages: Array<ChatMessage | { role: ChatMessage['role']; content: Array<{ type: 'text'; text: string }> }>;
  stream?: boolean;
  max_tokens?: number;
  max_completion_tokens?: number;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string | null;
  /** A reasoning model's thinking arrives as reasoning_content (without the <think> tags), its answer as content. */
  choices: Array<{ index: 0; delta: { role?: 'assistant'; content?: string; reasoning_content?: string }; finish_reason: FinishReason | null; logprobs: null }>;
  /** On the last chunk only. */
  usage?: CompletionUsage;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string | null;
  /** reasoning_content: present when the reply had a reasoning block (its text, without the tags). */
  choices: Array<{ index: 0; message: { role: 'assistant'; content: string; reasoning_content?: string }; finish_reason: FinishReason; logprobs: null }>;
  usage: CompletionUsage;
}

export interface CacheEntry {
  key: string;
  url: string | null;
  size: number;
  total: number | null;
  complete: boolean;
  savedAt: number | null;
  store: 'opfs' | 'cache' | 'fs';
}

export class Engine {
  readonly device: 'auto' | 'webgpu' | 'wasm';
  readonly model: ModelInfo | null;
  /** Called when the engine falls back from the GPU to the CPU (the device was lost); the reply goes on. */
  onbackend: ((backend: BackendInfo) => void) | null;
  readonly chat: {
    completions: {
      create(request: ChatCompletionRequest & { stream: true }): AsyncIterableIterator<ChatCompletionChunk>;
      create(request: ChatCompletionRequest & { stream?: false }): Promise<ChatCompletion>;
    };
  };
  /** Loads another model (downloading and caching it when needed). */
  reload(model: ModelSource, options?: LoadOptions): Promise<ModelInfo>;
  /** Stops the generation or download in flight; a generation ends with finish_reason 'abort'. */
  interrupt(): Promise<void>;
  interruptGenerate(): Promise<void>;
  stats(): Promise<{ stats: unknown; facts: Record<string, unknown>; model: ModelInfo | null }>;
  /** Saves the conversation's decode state (and any JSON meta) under key, in OPFS or the cache folder. */
  saveSession(key: string, meta?: unknown): Promise<unknown>;
  /** Restores it; resolves with the saved meta, or null when there is none. */
  restoreSession(key: string): Promise<unknown | null>;
  resetSession(): Promise<unknown>;
  listCachedModels(): Promise<CacheEntry[]>;
  deleteCachedModel(key: string): Promise<boolean>;
  unload(): Promise<void>;
  dispose(): Promise<void>;
  /** Called once if the engine's worker dies (terminated, out of memory, crashed): every request
   *  then fails with code 'worker'. Create a new engine to continue; saved sessions are kept. */
  onlost: ((error: HearthError) => void) | null;
}

/** WebLLM-style constructor; with model null the engine starts empty. */
export function CreateEngine(model: ModelSource | null, options?: LoadOptions): Promise<Engine>;

export function listCachedModels(options?: Pick<LoadOptions, 'workerUrl' | 'store' | 'cacheDir'>): Promise<CacheEntry[]>;
export function deleteCachedModel(key: string, options?: Pick<LoadOptions, 'workerUrl' | 'store' | 'cacheDir'>): Promise<boolean>;

export const env: { wasmBase: string | null; workerUrl: string | null; cacheDir: string | null; store: 'opfs' | 'cache' | null };
