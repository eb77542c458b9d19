// serve.mjs - the browser benchmark's HTTP server: a few repo folders and one model file, cross-origin isolated (COOP/COEP) so both engines get threads.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.gguf': 'application/octet-stream' };
// Only these repo folders are served (no CSP: wllama starts its worker from a blob: URL, which the
// chat app's policy forbids; this page runs nothing but the two engines).
const ALLOWED = ['/tools/bench/browser/', '/web/', '/build/wasm-bench/', '/node_modules/@wllama/wllama/esm/'];

// Serves `repo` and `model` at /model.gguf on 127.0.0.1; returns {origin, close()}.
export async function serveBench(repo, model) {
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
    const file = p === '/model.gguf' ? model : ALLOWED.some((a) => p.startsWith(a)) && !p.split('/').includes('..') ? path.join(repo, p) : null;
    let size = -1;
    try { size = file ? fs.statSync(file).size : -1; } catch { /* missing */ }
    if (size < 0) { res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }); return res.end('not found'); }
    res.writeHead(200, { ...headers, 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream', 'Content-Length': size });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}
