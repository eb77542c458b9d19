// download.js - streams a URL into a writable "sink" with progress, resuming with HTTP Range after a drop, then verifies it.
//
// A sink is what a store offers (OPFS in storage.js, a file in storage-node.js):
//   size() -> bytes already there          write(bytes, at)          truncate(n)
//   flush()                                read(at, n) -> Uint8Array  available() -> bytes of quota left (or Infinity)
// meta: {url, total, etag} of a previous partial download of the same URL, or null.
import { HearthError } from './errors.js';
import { Sha256 } from './sha256.js';

const RETRIES = 5;

// Reports at most ~8 times a second: loaded, total, bytesPerSecond (smoothed), secondsLeft.
export class ProgressMeter {
  constructor(onProgress, phase, total, loaded = 0) {
    this.onProgress = onProgress || (() => {});
    this.phase = phase;
    this.total = total;
    this.loaded = loaded;
    this.speed = 0;
    this.lastT = Date.now();
    this.lastLoaded = loaded;
    this.lastReport = 0;
  }
  add(n, force = false) {
    this.loaded += n;
    const now = Date.now();
    const dt = (now - this.lastT) / 1000;
    if (dt >= 0.25) {
      const inst = (this.loaded - this.lastLoaded) / dt;
      this.speed = this.speed ? 0.7 * this.speed + 0.3 * inst : inst;
      this.lastT = now;
      this.lastLoaded = this.loaded;
    }
    if (force || now - this.lastReport >= 125) {
      this.lastReport = now;
      const left = this.total && this.speed ? Math.max(0, (this.total - this.loaded) / this.speed) : null;
      this.onProgress({ phase: this.phase, loaded: this.loaded, total: this.total, bytesPerSecond: Math.round(this.speed), secondsLeft: left });
    }
  }
}

function parseContentRange(h) {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(h || '');
  return m ? { start: +m[1], end: +m[2], total: m[3] === '*' ? null : +m[3] } : null;
}

function httpError(resp, url) {
  const what = resp.status === 404 ? 'Model file not found' : 'Model download failed';
  return new HearthError('http', `${what} (HTTP ${resp.status}${resp.statusText ? ' ' + resp.statusText : ''}): ${url}`);
}

function mb(n) { return `${(n / 1048576).toFixed(1)} MB`; }

function quotaError(need, avail) {
  return new HearthError('quota', `Not enough storage space for this model: it needs ${mb(need)} more, and the browser allows ${mb(Math.max(0, avail))} more for this site. Delete cached models in the cache manager, or use a smaller model.`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Downloads `url` into `sink`. Returns {size, etag}. Throws HearthError (http, network, quota,
// size-mismatch, aborted). `onMeta(meta)` is called once the total size is known, so a later
// call can resume.
export async function downloadInto(sink, url, { meta, onMeta, onProgress, signal, fetchImpl = fetch } = {}) {
  let have = meta && meta.url === url ? sink.size() : 0;
  if (have === 0) sink.truncate(0);
  let etag = meta && meta.url === url ? meta.etag : null;
  let total = meta && meta.url === url ? meta.total : null;
  let meter = null;
  for (let attempt = 0; ; attempt++) {
    if (total != null && have === total) break;
    const headers = {};
    if (have > 0) {
      headers.Range = `bytes=${have}-`;
      if (etag) headers['If-Range'] = etag;
    }
    let resp;
    try {
      resp = await fetchImpl(url, { headers, signal, cache: 'no-store' });
    } catch (e) {
      if (signal && signal.aborted) throw new HearthError('aborted', 'Download cancelled.');
      if (attempt < RETRIES && have > 0) { await sleep(250 * (attempt + 1)); continue; }
      throw new HearthError('network', `Could not reach ${url}: ${e.message || e}`);
    }
    if (resp.status === 416 && have > 0) { // our partial file is not a prefix of what is there now
      have = 0; sink.truncate(0); total = null; etag = null;
      continue;
    }
    if (!resp.ok) throw httpError(resp, url);
    if (resp.status === 206) {
      const cr = parseContentRange(resp.headers.get('Content-Range'));
      if (!cr || cr.start !== have) { have = 0; sink.truncate(0); continue; }
      total = cr.total;
    } else { // 200: the whole file, from the start
      if (have > 0) { have = 0; sink.truncate(0); }
      const len = resp.headers.get('Content-Length');
      total = len != null ? +len : null;
    }
    etag = resp.headers.get('ETag') || etag;
    if (total != null) {
      const avail = await sink.available();
      if (total - have > avail) { resp.body && resp.body.cancel().catch(() => {}); throw quotaError(total - have, avail); }
      await onMeta?.({ url, total, etag });
    }
    if (!meter) meter = new ProgressMeter(onProgress, 'download', total, have);
    meter.total = total;
    const reader = resp.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sink.write(value, have);
        have += value.length;
        meter.add(value.length);
      }
    } catch (e) {
      if (signal && signal.aborted) throw new HearthError('aborted', 'Download cancelled.');
      if (e instanceof HearthError || e.name === 'QuotaExceededError') throw e.name === 'QuotaExceededError' ? quotaError(total ? total - have : 0, 0) : e;
      sink.flush();
      if (attempt < RETRIES) { await sleep(250 * (attempt + 1)); continue; } // resume from `have`
      throw new HearthError('network', `The download of ${url} was interrupted (${mb(have)} received): ${e.message || e}`);
    }
    if (total == null) total = have;
    if (have < total) { // the stream ended early without an error
      if (attempt < RETRIES) continue;
      throw new HearthError('size-mismatch', `The download of ${url} stopped at ${have} of ${total} bytes.`);
    }
    break;
  }
  sink.flush();
  meter?.add(0, true);
  if (sink.size() !== total) throw new HearthError('size-mismatch', `Downloaded ${sink.size()} bytes but the server announced ${total}.`);
  return { size: total, etag };
}

// SHA-256 of the sink's first `size` bytes, reading 4 MiB at a time.
export async function hashSink(sink, size, onProgress) {
  const h = new Sha256();
  const meter = new ProgressMeter(onProgress, 'verify', size);
  for (let at = 0; at < size; at += 4 << 20) {
    const chunk = await sink.read(at, Math.min(4 << 20, size - at));
    h.update(chunk);
    meter.add(chunk.length, at + chunk.length >= size);
  }
  return h.hex();
}
