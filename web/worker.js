// worker.js - the module Web Worker that owns the engine: connects postMessage to EngineHost with the browser model store.
import { EngineHost } from './host.js';
import { BrowserStorage } from './storage.js';

const params = new URL(self.location.href).searchParams;
const store = params.get('store') || 'opfs';
const host = new EngineHost((msg) => self.postMessage(msg), new BrowserStorage({ prefer: store }));
self.onmessage = (e) => { host.handle(e.data); };

// Held for this worker's whole life: the page waits on the same lock, which it gets only when
// this worker is gone (terminated by the browser, out of memory, closed). See client.js.
const lock = params.get('lock');
if (lock && self.navigator && navigator.locks) {
  navigator.locks.request(lock, () => { self.postMessage({ type: 'alive' }); return new Promise(() => {}); });
}
