// worker.js - the module Web Worker that owns the engine: connects postMessage to EngineHost with the browser model store.
import { EngineHost } from './host.js';
import { BrowserStorage } from './storage.js';

const store = new URL(self.location.href).searchParams.get('store') || 'opfs';
const host = new EngineHost((msg) => self.postMessage(msg), new BrowserStorage({ prefer: store }));
self.onmessage = (e) => {
  const m = e.data;
  // {type: 'watch', lock} (no id): hold that Web Lock for this worker's whole life; the page waits on
  // it and gets it only when this worker is gone (terminated, out of memory, closed). See client.js.
  if (m && m.type === 'watch' && m.id === undefined) {
    if (typeof m.lock === 'string' && self.navigator && navigator.locks) {
      navigator.locks.request(m.lock, () => { self.postMessage({ type: 'alive' }); return new Promise(() => {}); });
    }
    return;
  }
  host.handle(m);
};
