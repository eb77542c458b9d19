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

  // Fails every request in flight (the worker died).
  fail(error) {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  // Sends a request; resolves with its terminal reply. onEvent gets progress/token messages.
  // Returns {id, promise} so the caller can interrupt by id.
  start(type, body = {}, onEvent) {
    if (this.closed) throw new HearthError('worker', 'The engine was disposed.');
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

// The engine in a module Web Worker (browsers).
export function workerTransport(client, workerUrl) {
  const w = new Worker(workerUrl, { type: 'module' });
  w.onmessage = (e) => client.receive(e.data);
  w.onerror = (e) => { e.preventDefault?.(); client.fail(new HearthError('worker', `The engine worker failed: ${e.message || 'could not start'}`)); };
  return { send: (m) => w.postMessage(m), close: () => w.terminate() };
}

// The engine in this thread (Node): the same host and messages, delivered asynchronously.
export function inlineTransport(client, host) {
  host.post = (m) => queueMicrotask(() => client.receive(m));
  return { send: (m) => { host.handle(m); }, close: () => { host.engine?.unload(); } };
}
