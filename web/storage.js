// storage.js - the browser model cache: OPFS (streamed, resumable, verified) with the Cache API as fallback; local files; session blobs.
//
// Runs in the engine's worker (OPFS sync access handles exist only there). Layout in OPFS:
//   hearth/models/<key>        the GGUF bytes (partial while downloading)
//   hearth/models/<key>.json   {url, total, etag, complete, sha256, savedAt}
//   hearth/sessions/<name>     saved session state and its meta
import { HearthError } from './errors.js';
import { downloadInto, hashSink, ProgressMeter } from './download.js';

const CACHE_MODELS = 'hearth-models';
const CACHE_SESSIONS = 'hearth-sessions';

// Stable cache key of a URL: its file name (sanitised) and a hash of the whole URL.
export function modelKey(url) {
  let h = 0x811c9dc5;
  for (let i = 0; i < url.length; i++) h = Math.imul(h ^ url.charCodeAt(i), 16777619) >>> 0;
  const base = (url.split(/[?#]/)[0].split('/').pop() || 'model').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  return `${base}-${h.toString(16).padStart(8, '0')}`;
}

async function available() {
  if (!navigator.storage || !navigator.storage.estimate) return Infinity;
  const { quota = Infinity, usage = 0 } = await navigator.storage.estimate();
  return quota - usage;
}

// A sink over an OPFS sync access handle (see download.js).
class OpfsSink {
  constructor(handle) { this.h = handle; }
  size() { return this.h.getSize(); }
  write(bytes, at) { this.h.write(bytes, { at }); }
  truncate(n) { this.h.truncate(n); }
  flush() { this.h.flush(); }
  read(at, n) { const b = new Uint8Array(n); this.h.read(b, { at }); return b; }
  available() { return available(); }
}

function blobReader(blob, key, extra) {
  return {
    key, size: blob.size, ...extra,
    async read(at, n) { return new Uint8Array(await blob.slice(at, at + n).arrayBuffer()); },
    close() {},
  };
}

function opfsSupported() {
  return typeof navigator !== 'undefined' && navigator.storage && typeof navigator.storage.getDirectory === 'function' &&
    typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
}

export class BrowserStorage {
  // prefer: 'opfs' (default; falls back to the Cache API where OPFS is missing) or 'cache'.
  constructor({ prefer = 'opfs' } = {}) {
    this.store = prefer === 'cache' || !opfsSupported() ? 'cache' : 'opfs';
  }

  async dir(name) {
    const root = await navigator.storage.getDirectory();
    const top = await root.getDirectoryHandle('hearth', { create: true });
    return top.getDirectoryHandle(name, { create: true });
  }

  async readJson(dir, name) {
    try {
      const f = await (await dir.getFileHandle(name)).getFile();
      return JSON.parse(await f.text());
    } catch { return null; }
  }

  async writeJson(dir, name, value) {
    await this.writeBytes(dir, name, new TextEncoder().encode(JSON.stringify(value)));
  }

  // Replaces `name` whole or not at all: the bytes go to "<name>.new", which then moves over the
  // old file. Storage running out mid-write (QuotaExceededError) leaves the previous version.
  async writeBytes(dir, name, bytes) {
    const tmpName = `${name}.new`;
    const fh = await dir.getFileHandle(tmpName, { create: true });
    const h = await fh.createSyncAccessHandle();
    try {
      h.truncate(0);
      h.write(bytes, { at: 0 });
      h.flush();
    } catch (e) {
      h.close();
      await dir.removeEntry(tmpName).catch(() => {});
      throw HearthError.from(e);
    }
    h.close();
    if (typeof fh.move === 'function') {
      try { await fh.move(name); return; } catch (e) {
        await dir.removeEntry(tmpName).catch(() => {});
        throw HearthError.from(e);
      }
    }
    // No move() (older browsers): copy over the old file; a failure here can still cut it short.
    const g = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
    try {
      g.truncate(0);
      g.write(bytes, { at: 0 });
      g.flush();
    } catch (e) {
      throw HearthError.from(e);
    } finally { g.close(); await dir.removeEntry(tmpName).catch(() => {}); }
  }

  // Opens a model for reading: {url, sha256?, size?} (downloaded once, then cached) or {file: Blob}.
  // Returns a reader {key, size, fromCache, read(at, n) -> Promise<Uint8Array>, close()}.
  async open(source, { onProgress, signal } = {}) {
    if (source.file) return blobReader(source.file, `file:${source.file.name || 'local'}`, { fromCache: false, url: null });
    if (!source.url) throw new HearthError('bad-request', 'A model source needs a url or a file.');
    const url = new URL(source.url, self.location.href).href;
    const opts = { ...source, url, onProgress, signal };
    return this.store === 'opfs' ? this.openOpfs(opts) : this.openCache(opts);
  }

  async openOpfs({ url, sha256, size, onProgress, signal }) {
    const key = modelKey(url);
    const dir = await this.dir('models');
    const metaName = `${key}.json`;
    let meta = await this.readJson(dir, metaName);
    const fh = await dir.getFileHandle(key, { create: true });
    let fromCache = !!(meta && meta.complete && meta.url === url && (await fh.getFile()).size === meta.total);
    if (fromCache && sha256 && meta.sha256 !== sha256.toLowerCase()) { // never checked against this hash
      const file = await fh.getFile();
      const digest = await hashSink(blobReader(file, key, {}), file.size, onProgress);
      if (digest === sha256.toLowerCase()) await this.writeJson(dir, metaName, { ...meta, sha256: digest });
      else fromCache = false; // download again, and verify that
    }
    if (!fromCache) {
      const handle = await fh.createSyncAccessHandle();
      const sink = new OpfsSink(handle);
      try {
        if (meta && meta.complete) meta = null; // stale or different: start over
        const got = await downloadInto(sink, url, {
          meta, signal, onProgress,
          onMeta: (m) => this.writeJson(dir, metaName, { ...m, complete: false }),
        });
        if (size != null && got.size !== size) {
          throw new HearthError('size-mismatch', `The model file has ${got.size} bytes, expected ${size}.`);
        }
        let digest = null;
        if (sha256) {
          digest = await hashSink(sink, got.size, onProgress);
          if (digest !== sha256.toLowerCase()) {
            sink.truncate(0);
            throw new HearthError('hash-mismatch', `The downloaded model is corrupt: its SHA-256 is ${digest}, expected ${sha256}. It was deleted; try again.`);
          }
        }
        meta = { url, total: got.size, etag: got.etag, complete: true, sha256: digest, savedAt: Date.now() };
      } catch (e) {
        const empty = handle.getSize() === 0;
        handle.close();
        if (empty) { // nothing worth resuming: leave no entry behind
          for (const name of [key, metaName]) await dir.removeEntry(name).catch(() => {});
        }
        throw HearthError.from(e);
      }
      handle.close();
      await this.writeJson(dir, metaName, meta);
    }
    const file = await fh.getFile();
    return blobReader(file, key, { fromCache, url });
  }

  // The Cache API fallback: no resume, the whole response is stored at once.
  async openCache({ url, sha256, size, onProgress, signal }) {
    const cache = await caches.open(CACHE_MODELS);
    const key = modelKey(url);
    let resp = await cache.match(url);
    const fromCache = !!resp;
    if (!resp) {
      let net;
      try { net = await fetch(url, { signal, cache: 'no-store' }); } catch (e) {
        if (signal && signal.aborted) throw new HearthError('aborted', 'Download cancelled.');
        throw new HearthError('network', `Could not reach ${url}: ${e.message || e}`);
      }
      if (!net.ok) throw new HearthError('http', `${net.status === 404 ? 'Model file not found' : 'Model download failed'} (HTTP ${net.status}): ${url}`);
      const total = +(net.headers.get('Content-Length') || 0) || null;
      if (total && total > await available()) throw new HearthError('quota', `Not enough storage space for this model (${(total / 1048576).toFixed(1)} MB). Delete cached models in the cache manager, or use a smaller model.`);
      const meter = new ProgressMeter(onProgress, 'download', total);
      const counted = net.body.pipeThrough(new TransformStream({ transform(chunk, c) { meter.add(chunk.length); c.enqueue(chunk); } }));
      const headers = { 'Content-Type': 'application/octet-stream', 'X-Hearth-Saved': String(Date.now()), 'X-Hearth-Key': key };
      try {
        await cache.put(url, new Response(counted, { headers }));
      } catch (e) { throw HearthError.from(e); }
      meter.add(0, true);
      resp = await cache.match(url);
    }
    const blob = await resp.blob();
    if (size != null && blob.size !== size) throw new HearthError('size-mismatch', `The model file has ${blob.size} bytes, expected ${size}.`);
    if (sha256 && !fromCache) {
      const reader = blobReader(blob, key, {});
      const digest = await hashSink(reader, blob.size, onProgress);
      if (digest !== sha256.toLowerCase()) {
        await cache.delete(url);
        throw new HearthError('hash-mismatch', `The downloaded model is corrupt: its SHA-256 is ${digest}, expected ${sha256}. It was deleted; try again.`);
      }
    }
    return blobReader(blob, key, { fromCache, url });
  }

  // Every cached model, complete or partial, in either store.
  async list() {
    const out = [];
    if (opfsSupported()) {
      const dir = await this.dir('models');
      for await (const [name, h] of dir.entries()) {
        if (h.kind !== 'file' || name.endsWith('.json') || name.endsWith('.new')) continue;
        const meta = (await this.readJson(dir, `${name}.json`)) || {};
        const size = (await h.getFile()).size;
        out.push({ key: name, url: meta.url || null, size, total: meta.total ?? null, complete: !!meta.complete, savedAt: meta.savedAt || null, store: 'opfs' });
      }
    }
    if (typeof caches !== 'undefined') {
      const cache = await caches.open(CACHE_MODELS);
      for (const req of await cache.keys()) {
        const r = await cache.match(req);
        const size = +(r.headers.get('Content-Length') || 0) || (await r.blob()).size;
        out.push({ key: r.headers.get('X-Hearth-Key') || modelKey(req.url), url: req.url, size, total: size, complete: true, savedAt: +r.headers.get('X-Hearth-Saved') || null, store: 'cache' });
      }
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async delete(key) {
    let deleted = false;
    if (opfsSupported()) {
      const dir = await this.dir('models');
      for (const name of [key, `${key}.json`]) {
        try { await dir.removeEntry(name); deleted = true; } catch (e) {
          if (e.name !== 'NotFoundError') throw new HearthError('storage', `Could not delete ${name}: ${e.message}`);
        }
      }
    }
    if (typeof caches !== 'undefined') {
      const cache = await caches.open(CACHE_MODELS);
      for (const req of await cache.keys()) {
        const r = await cache.match(req);
        if ((r.headers.get('X-Hearth-Key') || modelKey(req.url)) === key) deleted = (await cache.delete(req)) || deleted;
      }
    }
    return deleted;
  }

  // Small named blobs (saved sessions). getBlob returns null when absent.
  async putBlob(name, bytes) {
    if (this.store === 'opfs') return this.writeBytes(await this.dir('sessions'), name, bytes);
    const cache = await caches.open(CACHE_SESSIONS);
    await cache.put(new URL(`hearth-session/${encodeURIComponent(name)}`, self.location.href), new Response(bytes));
  }

  async getBlob(name) {
    if (this.store === 'opfs') {
      try {
        const f = await (await (await this.dir('sessions')).getFileHandle(name)).getFile();
        return new Uint8Array(await f.arrayBuffer());
      } catch { return null; }
    }
    const r = await (await caches.open(CACHE_SESSIONS)).match(new URL(`hearth-session/${encodeURIComponent(name)}`, self.location.href));
    return r ? new Uint8Array(await r.arrayBuffer()) : null;
  }
}
