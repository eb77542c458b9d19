// protocol.js - the closed set of messages between the page (client.js) and the engine host (host.js, in a worker or inline).
//
// Every request carries a numeric `id`; every reply names the `id` it answers. A request ends with
// exactly one terminal reply: `ready` (load), `done` (generate), `error` (any request), or a reply
// of the request's own type (the other requests). `progress`, `start`, `token` and `backend` are non-terminal.
//
// page -> host
//   load            {source: {url, sha256?, size?} | {file: Blob} | {path}, options: {nCtx, seed, threads, build, wasmBase, store,
//                    device: 'auto'|'webgpu'|'wasm'}}
//   generate        {messages?: [{role, content}], prompt?: string, params: {max_new_tokens, temperature, top_k,
//                    top_p, min_p, repetition_penalty, stop, thinking}}
//   interrupt       {target?: id}               stops that request (or every one); replies `interrupt`
//   cache-list      {}                           replies {entries: [{key, url, size, complete, store, savedAt}]}
//   cache-delete    {key}                        replies {deleted: bool}
//   stats           {}                           replies {stats, facts}
//   session-save    {key, meta}                  replies {bytes}
//   session-restore {key}                        replies {meta | null, restored: bool}
//   session-reset   {}                           replies {}
//   watch           {lock} (no id, worker only)  the worker holds that Web Lock for its life (client.js)
// host -> page
//   progress        {phase: 'download'|'verify'|'copy'|'init', loaded, total, bytesPerSecond, secondsLeft, fromCache}
//   ready           {model: {key, arch, nVocab, nCtxTrain, size, fromCache, build, threads, backend: {device, adapter, reason}}}
//   start           {reasoning}               (generate, before the first token) the reply starts inside a <think>
//                                                block the chat template opened
//   token           {text, token}
//   backend         {backend: {device: 'webgpu'|'wasm', adapter, reason}}   (during generate) the engine left the GPU
//   done            {text, finishReason: 'stop'|'length'|'abort', usage}
//   error           {error: {code, message}}
//   alive           (no id) the worker holds the lock named by `watch`

export const REQUESTS = new Set([
  'load', 'generate', 'interrupt', 'cache-list', 'cache-delete', 'stats',
  'session-save', 'session-restore', 'session-reset',
]);
export const EVENTS = new Set(['progress', 'start', 'token', 'backend']);

export function isTerminal(msg, requestType) {
  if (msg.type === 'error' || msg.type === 'ready' || msg.type === 'done') return true;
  return msg.type === requestType;
}
