// worker.js - the module Web Worker that owns the engine: connects postMessage to EngineHost with the browser model store.
import { EngineHost } from './host.js';
import { BrowserStorage } from './storage.js';

const store = new URL(self.location.href).searchParams.get('store') || 'opfs';
const host = new EngineHost((msg) => self.postMessage(msg), new BrowserStorage({ prefer: store }));
self.onmessage = (e) => { host.handle(e.data); };
