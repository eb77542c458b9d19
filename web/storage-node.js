// storage-node.js - the model store for Node: local paths as they are, URLs downloaded once into a cache folder (resumable).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HearthError } from './errors.js';
import { downloadInto, hashSink } from './download.js';
import { modelKey } from './storage.js';

class FileSink {
  constructor(fd) { this.fd = fd; }
  size() { return fs.fstatSync(this.fd).size; }
  write(bytes, at) { fs.writeSync(this.fd, bytes, 0, bytes.length, at); }
  truncate(n) { fs.ftruncateSync(this.fd, n); }
  flush() { fs.fsyncSync(this.fd); }
  read(at, n) { const b = new Uint8Array(n); fs.readSync(this.fd, b, 0, n, at); return b; }
  available() { return Infinity; }
}

function fileReader(file, key, extra) {
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
  return {
    key, size, ...extra,
    async read(at, n) { const b = new Uint8Array(n); fs.readSync(fd, b, 0, n, at); return b; },
    close() { if (this.open) { this.open = false; fs.closeSync(fd); } },
    open: true,
  };
}

function readJson(file) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return null; }
}

export class NodeStorage {
  constructor({ cacheDir } = {}) {
    this.root = cacheDir || process.env.HEARTH_CACHE_DIR || path.join(os.homedir(), '.cache', 'hearth');
  }

  dir(name) {
    const d = path.join(this.root, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  }

  // {path} or {url: 'file:...'} is read in place; {url: 'http...'} is downloaded into the cache first.
  async open(source, { onProgress, signal } = {}) {
    let file = source.path || null;
    if (!file && source.url && /^file:/.test(source.url)) file = fileURLToPath(source.url);
    if (!file && source.url && !/^https?:/.test(source.url)) file = source.url; // a plain path
    if (file) {
      if (!fs.existsSync(file)) throw new HearthError('io', `No such model file: ${file}`);
      return fileReader(file, `file:${path.basename(file)}`, { fromCache: false, url: null });
    }
    if (source.file) {
      const bytes = new Uint8Array(await source.file.arrayBuffer());
      return { key: 'file:blob', size: bytes.length, fromCache: false, url: null, async read(at, n) { return bytes.subarray(at, at + n); }, close() {} };
    }
    const url = source.url;
    const key = modelKey(url);
    const dir = this.dir('models');
    const data = path.join(dir, key), metaFile = `${data}.json`;
    let meta = readJson(metaFile);
    let fromCache = !!(meta && meta.complete && meta.url === url && fs.existsSync(data) && fs.statSync(data).size === meta.total);
    if (fromCache && source.sha256 && meta.sha256 !== source.sha256.toLowerCase()) { // never checked against this hash
      const r = fileReader(data, key, {});
      const digest = await hashSink(r, r.size, onProgress);
      r.close();
      if (digest === source.sha256.toLowerCase()) fs.writeFileSync(metaFile, JSON.stringify({ ...meta, sha256: digest }));
      else fromCache = false;
    }
    if (!fromCache) {
      if (meta && meta.complete) meta = null;
      const fd = fs.openSync(data, fs.existsSync(data) ? 'r+' : 'w+');
      const sink = new FileSink(fd);
      try {
        const got = await downloadInto(sink, url, { meta, signal, onProgress, onMeta: (m) => fs.writeFileSync(metaFile, JSON.stringify({ ...m, complete: false })) });
        if (source.size != null && got.size !== source.size) throw new HearthError('size-mismatch', `The model file has ${got.size} bytes, expected ${source.size}.`);
        let digest = null;
        if (source.sha256) {
          digest = await hashSink(sink, got.size, onProgress);
          if (digest !== source.sha256.toLowerCase()) {
            sink.truncate(0);
            throw new HearthError('hash-mismatch', `The downloaded model is corrupt: its SHA-256 is ${digest}, expected ${source.sha256}.`);
          }
        }
        fs.writeFileSync(metaFile, JSON.stringify({ url, total: got.size, etag: got.etag, complete: true, sha256: digest, savedAt: Date.now() }));
      } finally { fs.closeSync(fd); }
    }
    return fileReader(data, key, { fromCache, url });
  }

  async list() {
    const dir = this.dir('models');
    return fs.readdirSync(dir).filter((n) => !n.endsWith('.json')).sort().map((name) => {
      const meta = readJson(path.join(dir, `${name}.json`)) || {};
      return { key: name, url: meta.url || null, size: fs.statSync(path.join(dir, name)).size, total: meta.total ?? null, complete: !!meta.complete, savedAt: meta.savedAt || null, store: 'fs' };
    });
  }

  async delete(key) {
    if (!/^[A-Za-z0-9._-]+$/.test(key)) throw new HearthError('bad-request', `Bad cache key: ${key}`);
    const dir = this.dir('models');
    let deleted = false;
    for (const f of [key, `${key}.json`]) {
      try { fs.unlinkSync(path.join(dir, f)); deleted = true; } catch {}
    }
    return deleted;
  }

  async putBlob(name, bytes) {
    fs.writeFileSync(path.join(this.dir('sessions'), encodeURIComponent(name)), bytes);
  }

  async getBlob(name) {
    try { return new Uint8Array(fs.readFileSync(path.join(this.dir('sessions'), encodeURIComponent(name)))); } catch { return null; }
  }
}
