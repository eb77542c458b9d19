// webgpu_browser.test.mjs - web/gpu/host.js unchanged in Chromium, inside a module Web Worker: op-parity cases (one per kernel and weight type) on the browser's WebGPU.
//
// The same cases and bounds as webgpu_ops.test.mjs (made by `gpu_plan ops`), fetched over HTTP by a
// worker that imports /web/gpu/host.js, asks navigator.gpu for a device and runs them; SwiftShader
// here, whatever GPU the browser has elsewhere.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, suite } from '../e2e/lib/harness.mjs';
import { REPO } from '../e2e/lib/config.mjs';
import { startServer } from '../e2e/lib/server.mjs';
import { HELPER, TMP } from './webgpu_common.mjs';

const s = suite('webgpu_browser');

// One case per kernel family and weight type keeps the browser run short (SwiftShader is slow).
function pick(cases) {
  const seen = new Set();
  return cases.filter((c) => {
    const words = c.name.split(' ');
    let key = words[0];
    if (key === 'embed') key += ` ${words[1]}`;
    if (key === 'matmul') key += ` ${words[1]} ${Number((/T=(\d+)/.exec(c.name) || [])[1]) > 8 ? 'tiled' : 'decode'}`;
    for (const v of ['split over keys', 'chunked', 'temp=0 ']) if (c.name.includes(v)) key += ` ${v}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const WORKER = `
import { GpuHost, requestGpuDevice } from '/web/gpu/host.js';
function normErr(a, b) {
  let md = 0, mr = 0;
  for (let i = 0; i < b.length; i++) { const d = Math.abs(a[i] - b[i]); if (!(d <= md)) md = Number.isNaN(d) ? Infinity : d; mr = Math.max(mr, Math.abs(b[i])); }
  return md / (mr > 0 ? mr : 1);
}
function checkQ8(words, vals) {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let b = 0; b < vals.length / 32; b++) {
    u[0] = words[b * 9 + 8];
    const d = f[0];
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(vals[b * 32 + j]));
    if (Math.abs(d - amax / 127) > amax / 127 / 1024 + 1e-30) return 'bad d in block ' + b;
    for (let j = 0; j < 32; j++) {
      const q = ((words[b * 9 + (j >> 2)] >>> (8 * (j & 3))) << 24) >> 24;
      if (Math.abs(q * d - vals[b * 32 + j]) > 0.57 * d + 1e-6 * Math.abs(vals[b * 32 + j])) return 'bad code in block ' + b;
    }
  }
  return null;
}
const bytes = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
onmessage = async ({ data: cases }) => {
  const dev = await requestGpuDevice(navigator.gpu);
  if (!dev) { postMessage({ error: 'no WebGPU adapter in the worker' }); return; }
  const host = new GpuHost(dev.device, dev);
  const results = [];
  for (const cs of cases) {
    try {
      await host.loadPlan(await bytes('/gpu-test/' + cs.id + '.plan'));
      const reads = await host.run(await bytes('/gpu-test/' + cs.id + '.step'));
      const expect = await bytes('/gpu-test/' + cs.id + '.expect');
      let at = 0, ok = true, detail = [];
      cs.outputs.forEach((o, i) => {
        const want = expect.buffer.slice(at, at + 4 * o.n);
        at += 4 * o.n;
        const got = reads[i].data;
        const gb = got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength);
        if (o.type === 'q8') { const bad = checkQ8(new Uint32Array(gb), new Float32Array(want)); if (bad) { ok = false; detail.push(bad); } }
        else if (o.type === 'u32') { const a = new Uint32Array(gb), b = new Uint32Array(want); if (b.some((v, k) => v !== a[k])) { ok = false; detail.push('differs'); } }
        else { const e = normErr(new Float32Array(gb), new Float32Array(want)); detail.push(e.toExponential(1)); if (!(e <= o.tol)) ok = false; }
      });
      results.push({ name: cs.name, ok, detail: detail.join(' ') });
    } catch (err) {
      results.push({ name: cs.name, ok: false, detail: String(err && err.message || err) });
    }
    host.reset();
  }
  postMessage({ results, adapter: dev.adapter.info ? dev.adapter.info.description || dev.adapter.info.vendor : '?' });
};
`;
const PAGE = `
const w = new Worker('/gpu-test/worker.js', { type: 'module' });
w.onmessage = ({ data }) => { window.__result = data; };
w.onerror = (e) => { window.__result = { error: e.message || 'worker error' }; };
fetch('/gpu-test/cases.json').then((r) => r.json()).then((cases) => w.postMessage(cases));
`;

await s.run(async (t) => {
  const dir = join(TMP, 'webgpu_browser');
  mkdirSync(dir, { recursive: true });
  execFileSync(HELPER, ['ops', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const cases = pick(readFileSync(join(dir, 'index.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
  const files = {
    '/gpu-test/index.html': Buffer.from('<!doctype html><meta charset="utf-8"><title>webgpu host</title><script type="module" src="/gpu-test/page.js"></script>'),
    '/gpu-test/page.js': Buffer.from(PAGE),
    '/gpu-test/worker.js': Buffer.from(WORKER),
    '/gpu-test/cases.json': Buffer.from(JSON.stringify(cases)),
  };
  for (const c of cases) for (const ext of ['plan', 'step', 'expect']) files[`/gpu-test/${c.id}.${ext}`] = join(dir, `${c.id}.${ext}`);
  const server = await startServer(REPO, { files });
  t.onCleanup(() => server.close());
  const { page, logs } = await launch(t);
  await page.goto(`${server.origin}/gpu-test/index.html`);
  await page.waitForFunction(() => window.__result, null, { timeout: 200000 });
  const r = await page.evaluate(() => window.__result);
  if (!t.check('the worker got a WebGPU device and ran the cases', !r.error && r.results, r.error || logs.slice(-5).join('\n'))) return;
  console.log(`adapter: ${r.adapter}`);
  for (const x of r.results) t.check(`${x.name}: ${x.detail}`, x.ok);
  t.check(`ran ${cases.length} cases`, r.results.length === cases.length);
});
