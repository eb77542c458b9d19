// errors.js - HearthError: an error with a stable code that survives the trip from C through the worker to the page.

// Engine status codes (hearth_status in include/hearth.h), by value.
export const STATUS_CODES = [
  'ok', 'invalid-arg', 'io', 'format', 'unsupported', 'nomem',
  'too-large', 'context-full', 'template', 'interrupted', 'backend',
];

// Codes raised on the JS side (storage, network, protocol).
export const JS_CODES = [
  'http', 'network', 'quota', 'size-mismatch', 'hash-mismatch', 'not-gguf', 'storage',
  'aborted', 'busy', 'no-model', 'unsupported-device', 'bad-request', 'worker',
];

export class HearthError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'HearthError';
    this.code = code;
  }
  // The form that crosses postMessage: plain {code, message}.
  toJSON() { return { code: this.code, message: this.message }; }
  static from(x) {
    if (x instanceof HearthError) return x;
    if (x && typeof x === 'object' && typeof x.code === 'string' && typeof x.message === 'string' && !(x instanceof Error)) {
      return new HearthError(x.code, x.message);
    }
    if (x && x.name === 'AbortError') return new HearthError('aborted', 'Cancelled.');
    if (x && x.name === 'QuotaExceededError') return new HearthError('quota', 'Not enough storage space for this model. Delete cached models in the cache manager, or use a smaller model.');
    return new HearthError('worker', String(x && x.message || x));
  }
}

export function statusError(status, message) {
  const code = STATUS_CODES[status] || 'backend';
  return new HearthError(code, message || code);
}
