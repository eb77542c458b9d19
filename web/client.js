// client.js - the page side of the protocol: request ids, replies routed to their request, errors as HearthError.
import { HearthError } from './errors.js';
import { isTerminal } from './protocol.js';

export class Client {
  // transport: {send(msg), close()}; it calls client.receive(msg) for every reply.
  constructor(transport) {
    this.transport = transport;
    this.nextId = 1;
    this.pending = new Map(); // id -> {type, resolve, reject, onEvent}
    this.closed = false;
  }

  receive(msg) {
    const p = this.pending.get(msg && msg.id);
    if (!p) return;
    if (!isTerminal(msg, p.type)) { p.onEvent?.(msg); return; }
    this.pending.delete(msg.id);
    if (msg.type === 'error') p.reject(HearthError.from(msg.error));
    else p.resolve(msg);
  }

  // Fails every request in flight.
  fail(error) {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  // The engine is gone (its worker was terminated or crashed): every request in flight and every
  // later one fails with `error` (code 'worker'); onDead(error) is told once.
  died(error) {
    if (this.closed || this.dead) return;
    this.dead = error;
    this.fail(error);
    this.onDead?.(error);
  }

  // Sends a request; resolves with its terminal reply. onEvent gets progress/token messages.
  // Returns {id, promise} so the caller can interrupt by id.
  start(type, body = {}, onEvent) {
    if (this.closed) throw new HearthError('worker', 'The engine was disposed.');
    if (this.dead) throw this.dead;
    const id = this.nextId++;
    const promise = new Promise((resolve, reject) => this.pending.set(id, { type, resolve, reject, onEvent }));
    this.transport.send({ ...body, type, id });
    return { id, promise };
  }

  request(type, body, onEvent) { return this.start(type, body, onEvent).promise; }

  close() {
    this.closed = true;
    this.fail(new HearthError('aborted', 'The engine was disposed.'));
    this.transport.close();
  }
}

// The engine in a module Web Worker (browsers). A worker that dies sends nothing, so the worker
// holds a Web Lock named for it (worker.js; the name goes in the first message, not the URL, which
// a service worker may answer from a cached copy) and this side queues for the same lock once the
// worker says it holds it: the lock is granted exactly when the worker is gone. A worker killed
// mid-reply (out of memory, a crash, the browser reclaiming it) thus fails its requests with
// code 'worker' at once instead of leaving them waiting forever.
export function workerTransport(client, workerUrl) {
  const locks = typeof navigator !== 'undefined' && navigator.locks && typeof crypto !== 'undefined' && crypto.randomUUID ? navigator.locks : null;
  const lock = locks ? `hearth-worker-${crypto.randomUUID()}` : null;
  const w = new Worker(workerUrl, { type: 'module' });
  if (lock) w.postMessage({ type: 'watch', lock }); // first message: the worker takes the lock
  let closed = false;
  const lost = (why) => client.died(new HearthError('worker', `The engine stopped unexpectedly (${why}).`));
  w.onmessage = (e) => {
    if (e.data && e.data.type === 'alive' && e.data.id === undefined) {
      locks.request(lock, () => { if (!closed) lost('its worker was terminated: out of memory, or it crashed'); });
      return;
    }
    client.receive(e.data);
  };
  w.onerror = (e) => { e.preventDefault?.(); if (!closed) lost(`its worker failed: ${e.message || 'it could not start'}`); };
  w.onmessageerror = () => { if (!closed) lost('a message from its worker could not be read'); };
  return { send: (m) => w.postMessage(m), close: () => { closed = true; w.terminate(); } };
}

// The engine in this thread (Node): the same host and messages, delivered asynchronously.
export function inlineTransport(client, host) {
  host.post = (m) => queueMicrotask(() => client.receive(m));
  return { send: (m) => { host.handle(m); }, close: () => { host.engine?.unload(); } };
}
