// server.mjs - the browser tests' HTTP server: the same layout and headers as `hearth serve`, plus request logging and fault injection.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' https:; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.wasm': 'application/wasm', '.gguf': 'application/octet-stream' };

// root: the repo. options:
//   isolate (default true): COOP/COEP headers (false: the page is not crossOriginIsolated)
//   wasmDir: folder served at /build/wasm/ (e.g. build/wasm-fake)
//   files: {urlPath: Buffer | string} served from memory, or from that file (models made by the test)
//   faults: {urlPath: {dropAfter: bytes, times: n}} - end the connection after that many body bytes
//   delayMs: {urlPath: ms per 64 KiB chunk} - slow a download so its progress can be watched
export async function startServer(root, options = {}) {
  const { isolate = true, wasmDir = null, files = {}, faults = {}, delayMs = {} } = options;
  const log = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = decodeURIComponent(url.pathname);
    log.push({ method: req.method, path: p, range: req.headers.range || null, t: Date.now() });
    const headers = { 'Content-Security-Policy': CSP, 'Cross-Origin-Resource-Policy': 'same-origin', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' };
    if (isolate) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    if (p === '/') { res.writeHead(302, { ...headers, Location: '/web/app/' }); return res.end(); }
    let body = files[p];
    let file = p;
    if (typeof body === 'string') body = fs.readFileSync(body);
    if (!body) {
      if (p.split('/').some((s) => s.startsWith('.'))) { res.writeHead(400, headers); return res.end('bad path'); }
      file = path.join(root, p);
      if (wasmDir && p.startsWith('/build/wasm/')) file = path.resolve(root, wasmDir, p.slice('/build/wasm/'.length));
      if (p.endsWith('/')) file = path.join(file, 'index.html');
      try { body = fs.readFileSync(file); } catch { res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }); return res.end('not found'); }
    }
    const size = body.length;
    let start = 0, end = size - 1, status = 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    if (m) {
      start = +m[1];
      end = m[2] ? Math.min(+m[2], size - 1) : size - 1;
      if (start >= size) { res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }); return res.end(); }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    if (p === '/web/sw.js') headers['Service-Worker-Allowed'] = '/';
    Object.assign(headers, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream', 'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1, ETag: `"${size}"` });
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();
    const fault = faults[p];
    const dropAt = fault && fault.times > 0 ? start + fault.dropAfter : Infinity;
    if (fault && fault.times > 0) fault.times--;
    const delay = delayMs[p] || 0;
    for (let at = start; at <= end; at += 65536) {
      const stop = Math.min(end + 1, at + 65536);
      if (stop > dropAt) { res.write(body.subarray(at, Math.max(at, dropAt))); res.socket.destroy(); return; }
      if (!res.write(body.subarray(at, stop))) await new Promise((r) => res.once('drain', r));
      if (delay) await new Promise((r) => setTimeout(r, delay));
      if (res.destroyed) return;
    }
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin, log, files, faults,
    requests: (p) => log.filter((r) => r.path === p),
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
