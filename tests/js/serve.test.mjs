// serve.test.mjs - `hearth serve`: Range, HEAD, MIME types, isolation and CSP headers, path traversal and symlink escapes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../e2e/lib/suite.mjs';
import { HEARTH_BIN } from '../e2e/lib/config.mjs';

const t = suite('js-serve');

// A raw request, so that ".." reaches the server as written (fetch would normalise it).
function rawGet(port, target) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let data = '';
    s.on('data', (d) => { data += d; });
    s.on('end', () => resolve(+data.split(' ')[1]));
    s.on('error', reject);
  });
}

await t.run(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-serve-'));
  t.onCleanup(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'web/app'), { recursive: true });
  fs.writeFileSync(path.join(root, 'web/app/index.html'), '<!doctype html><title>x</title>');
  fs.writeFileSync(path.join(root, 'web/a.mjs'), 'export {}');
  fs.writeFileSync(path.join(root, 'x.wasm'), Buffer.from([0, 97, 115, 109]));
  const model = Buffer.alloc(100000, 7);
  model.write('GGUF');
  fs.writeFileSync(path.join(root, 'm.gguf'), model);
  fs.writeFileSync(path.join(root, '.secret'), 'no');
  fs.symlinkSync('/etc/passwd', path.join(root, 'escape'));
  fs.symlinkSync(path.join(root, 'm.gguf'), path.join(root, 'inside.gguf'));

  const proc = spawn(HEARTH_BIN, ['serve', '--port', '0', '--root', root, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.onCleanup(() => proc.kill('SIGTERM'));
  let out = '';
  const port = await new Promise((resolve) => {
    proc.stdout.on('data', (d) => { out += d; const m = /127\.0\.0\.1:(\d+)/.exec(out); if (m) resolve(+m[1]); });
    proc.on('exit', () => resolve(0));
    setTimeout(() => resolve(0), 5000);
  });
  if (!t.check(`${HEARTH_BIN} serve starts and prints its address`, port > 0, out || 'no output (is serve wired into cli/main.c?)')) return;
  const base = `http://127.0.0.1:${port}`;

  const r = await fetch(`${base}/m.gguf`);
  const h = r.headers;
  t.check('200 with the whole file', r.status === 200 && (await r.arrayBuffer()).byteLength === model.length);
  t.check('COOP same-origin, COEP require-corp, CORP same-origin', h.get('cross-origin-opener-policy') === 'same-origin' && h.get('cross-origin-embedder-policy') === 'require-corp' && h.get('cross-origin-resource-policy') === 'same-origin');
  const csp = h.get('content-security-policy') || '';
  t.check('a strict CSP: no unsafe-inline, no unsafe-eval', /script-src 'self'/.test(csp) && !/unsafe-inline|'unsafe-eval'/.test(csp), csp);
  t.check('Accept-Ranges: bytes', h.get('accept-ranges') === 'bytes');
  t.check('.gguf is application/octet-stream', h.get('content-type') === 'application/octet-stream');

  const part = await fetch(`${base}/m.gguf`, { headers: { Range: 'bytes=10-19' } });
  const pb = Buffer.from(await part.arrayBuffer());
  t.check('Range: 206 with Content-Range and the right bytes', part.status === 206 && part.headers.get('content-range') === `bytes 10-19/${model.length}` && pb.equals(model.subarray(10, 20)));
  const open = await fetch(`${base}/m.gguf`, { headers: { Range: 'bytes=99990-' } });
  t.check('open-ended Range', open.status === 206 && (await open.arrayBuffer()).byteLength === 10);
  const suffix = await fetch(`${base}/m.gguf`, { headers: { Range: 'bytes=-4' } });
  t.check('suffix Range', suffix.status === 206 && (await suffix.arrayBuffer()).byteLength === 4);
  const past = await fetch(`${base}/m.gguf`, { headers: { Range: 'bytes=100000-' } });
  t.check('Range past the end: 416 with bytes */size', past.status === 416 && past.headers.get('content-range') === `bytes */${model.length}`);
  const head = await fetch(`${base}/m.gguf`, { method: 'HEAD' });
  t.check('HEAD: length, no body', head.status === 200 && head.headers.get('content-length') === String(model.length) && (await head.arrayBuffer()).byteLength === 0);
  t.check('.wasm is application/wasm', (await fetch(`${base}/x.wasm`)).headers.get('content-type') === 'application/wasm');
  t.check('.mjs is text/javascript', /^text\/javascript/.test((await fetch(`${base}/web/a.mjs`)).headers.get('content-type')));
  t.check('a directory serves index.html as text/html', /^text\/html/.test((await fetch(`${base}/web/app/`)).headers.get('content-type')));
  t.check('/ redirects to the app', (await fetch(`${base}/`, { redirect: 'manual' })).headers.get('location') === '/web/app/');
  t.check('POST is refused', (await fetch(`${base}/m.gguf`, { method: 'POST', body: 'x' })).status === 405);

  t.check('".." is rejected', (await rawGet(port, '/web/../m.gguf')) === 400);
  t.check('encoded ".." is rejected', (await rawGet(port, '/%2e%2e/%2e%2e/etc/passwd')) === 400);
  t.check('dotfiles are not served', (await rawGet(port, '/.secret')) === 400);
  t.check('a symlink escaping the root is not served', (await rawGet(port, '/escape')) === 404);
  t.check('a symlink inside the root is served', (await rawGet(port, '/inside.gguf')) === 200);
  t.check('a missing file is 404', (await rawGet(port, '/nope.gguf')) === 404);

  const lan = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
  if (lan) {
    const refused = await new Promise((res) => { const s = net.connect(port, lan.address); s.on('connect', () => { s.destroy(); res(false); }); s.on('error', () => res(true)); });
    t.check(`binds 127.0.0.1 only by default (not ${lan.address})`, refused);
  }
});
