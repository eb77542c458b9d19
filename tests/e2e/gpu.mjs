// gpu.mjs - the chat app on WebGPU in Chromium (SwiftShader): the same greedy replies as the CPU build on the demo models (q8_0, q4_0), and the GPU device lost before the first step, mid-prefill, mid-decode and between turns: each reply finishes on the CPU, equal to the CPU's, the user is told and the conversation is kept.
import fs from 'node:fs';
import path from 'node:path';
import { WASM_DIR, REPO } from './lib/config.mjs';
import { launch, screenshot, suite, waitState } from './lib/harness.mjs';
import { startServer } from './lib/server.mjs';

const t = suite('e2e-gpu');
// SwiftShader on a small machine takes ~1 s per decode step and tens of seconds for a new device's
// first prefill: one browser with a CPU page and a GPU page, a new device (a reload) only where a
// moment of loss needs one, the CPU reference turns run meanwhile, short greedy replies.
const N = 5; // max_tokens: the step a device is destroyed at (2) leaves 4 tokens to the CPU
const TURNS = ['What is 27 + 15?', 'Reverse the list: 3, 1, 2', 'Name a colour.', 'Count to three.'];
const REPLY_MS = 180000; // a generous bound on one turn (the slowest here: ~35 s); a turn left waiting on a lost device fails here

const engineWorker = (page) => page.workers().find((w) => /\/web\/worker\.js/.test(w.url()));
const state = (page) => page.evaluate(() => document.body.dataset.state);

async function configure(page) {
  await page.click('#open-settings');
  await page.fill('#settings-form input[name=temperature]', '0');
  await page.fill('#settings-form input[name=max_tokens]', String(N));
  await page.setChecked('#settings-form input[name=reasoning]', false);
  await page.click('#settings-save');
  // the dialog's close event applies them a task later: wait until they are saved
  await page.waitForFunction((n) => {
    const s = JSON.parse(localStorage.getItem('hearth.settings') || '{}');
    return s.temperature === 0 && s.max_tokens === n && s.reasoning === false;
  }, N, { timeout: 10000 });
}

// Opens the app at `origin` on `device`; resolves once the model is loaded.
async function openApp(page, origin, device) {
  await page.goto(`${origin}/web/app/?device=${device}`);
  await ready(page, `the app on ${device}`);
  await configure(page);
}

async function ready(page, what) {
  if ((await waitState(page, ['ready', 'error'], REPLY_MS)) !== 'ready') throw new Error(`${what} did not become ready: ${await page.textContent('#error-text')}`);
}

// Loads another model in the open page (the model dialog): {demo: true} or {url}; a new GPU device.
async function loadModel(page, { url } = {}) {
  await page.click('#open-models');
  if (url) {
    await page.fill('#model-url', url);
    await page.click('#pick-url');
  } else await page.click('#pick-demo');
  await ready(page, `the model ${url || 'demo'}`); // the click set the state to 'loading' synchronously
  await newChat(page);
}

// Starts a new chat and waits until the empty conversation is saved (a save still in flight when
// the next turn starts would find the engine busy).
async function newChat(page) {
  await page.click('#new-chat');
  await page.waitForFunction(async () => {
    try {
      const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth')).getDirectoryHandle('sessions');
      return JSON.parse(await (await (await dir.getFileHandle('chat.json')).getFile()).text()).meta.messages.length === 0;
    } catch { return false; }
  }, null, { timeout: 60000, polling: 100 });
}

// Sends a message; resolves with the reply as shown, how it ended and the speed line.
async function ask(page, text) {
  const n = await page.locator('li.assistant').count();
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await page.waitForFunction((n) => document.querySelectorAll('li.assistant').length > n && ['ready', 'error'].includes(document.body.dataset.state), n, { timeout: REPLY_MS });
  return page.evaluate(() => {
    const li = [...document.querySelectorAll('li.assistant')].at(-1);
    const err = document.getElementById('error'), b = document.getElementById('backend');
    return {
      reply: `${li.querySelector('.think-body').textContent}|${li.querySelector('.answer').textContent}`,
      finish: li.dataset.finish, speed: document.getElementById('speed').textContent,
      banner: { shown: !err.hidden, code: err.dataset.code || null, text: document.getElementById('error-text').textContent },
      backend: { device: b.dataset.device, text: b.textContent },
    };
  });
}

const backend = (page) => page.evaluate(() => ({ device: document.getElementById('backend').dataset.device, text: document.getElementById('backend').textContent }));
const messages = (page) => page.evaluate(() => [...document.querySelectorAll('#messages > li')].map((li) => li.className.split(' ')[0]));

// In the engine's worker: the k-th GPU step from now destroys the device right after it was
// submitted and its readback requested. stall: that readback never settles (as Chromium may leave
// it on a lost device), so only the lost device can end the wait. armed(page) reports what happened.
const armLoss = (page, k, stall = false) => engineWorker(page).evaluate(([k, stall]) => {
  const g = self.__hearthGpu, host = g.host, run = host.run;
  let n = 0;
  g.armed = { fired: false, stalled: 0, outcome: null };
  host.run = function (...args) {
    if (++n !== k) return run.apply(this, args);
    const map = GPUBuffer.prototype.mapAsync;
    if (stall) GPUBuffer.prototype.mapAsync = function () { g.armed.stalled++; return new Promise(() => {}); };
    const p = run.apply(this, args);
    g.armed.fired = true;
    g.device.destroy();
    const done = (outcome) => { g.armed.outcome = outcome; GPUBuffer.prototype.mapAsync = map; };
    p.then(() => done('finished'), (e) => done(e.name));
    return p;
  };
}, [k, stall]);
const armed = (page) => engineWorker(page).evaluate(() => self.__hearthGpu.armed);
const destroyNow = (page) => engineWorker(page).evaluate(() => { self.__hearthGpu.device.destroy(); return true; });

// The checks every fallback shares: same reply as the CPU, a normal end, the banner, the label, a speed.
function checkFallback(what, got, cpu) {
  t.check(`${what}: the reply finishes on the CPU and equals the CPU-only reply`, got.reply === cpu.reply && cpu.reply.length > 1, `\n  after loss: ${JSON.stringify(got.reply)}\n  cpu only:   ${JSON.stringify(cpu.reply)}`);
  t.check(`${what}: the reply ends normally (not as an error)`, got.finish === 'stop' || got.finish === 'length', got.finish);
  t.check(`${what}: the user is told the GPU was lost and the CPU took over`, got.banner.shown && got.banner.code === 'gpu-lost' && /GPU/.test(got.banner.text) && /CPU/.test(got.banner.text), JSON.stringify(got.banner));
  t.check(`${what}: the backend label switches to the CPU and says why`, got.backend.device === 'wasm' && /^CPU/.test(got.backend.text) && /lost/.test(got.backend.text), JSON.stringify(got.backend));
  const m = /prefill ([\d.]+) tok\/s/.exec(got.speed);
  t.check(`${what}: the speed line shows a prefill rate above 0`, m && +m[1] > 0, got.speed);
}

const onGpu = (label) => label.device === 'webgpu' && /^GPU \(WebGPU: .+\)/.test(label.text);

await t.run(async () => {
  if (!t.check(`the wasm engine is built with the GPU planner (tools/wasm/build.sh): ${WASM_DIR}`, fs.existsSync(path.join(WASM_DIR, 'hearth-mt.wasm')))) return;
  // Two servers, two origins: the CPU page and the GPU page keep separate storage (settings, saved chat).
  const gpuSrv = await startServer(REPO, { wasmDir: WASM_DIR });
  const cpuSrv = await startServer(REPO, { wasmDir: WASM_DIR });
  t.onCleanup(gpuSrv.close);
  t.onCleanup(cpuSrv.close);
  const b = await launch(t);
  const gpu = b.page, cpu = await b.context.newPage();
  await Promise.all([openApp(cpu, cpuSrv.origin, 'wasm'), openApp(gpu, gpuSrv.origin, 'webgpu')]);
  const cl = await backend(cpu), gl = await backend(gpu);
  t.check('the CPU app says it runs on the CPU', cl.device === 'wasm' && /^CPU/.test(cl.text), JSON.stringify(cl));
  t.check('the WebGPU app says it runs on the GPU and names the adapter', onGpu(gl), JSON.stringify(gl));

  // ---- demo-q8_0: the CPU conversation, and its first turn on the GPU meanwhile ----
  const cpuTurns = async (qs) => { const out = []; for (const q of qs) out.push(await ask(cpu, q)); return out; };
  const [ref, first] = await Promise.all([cpuTurns(TURNS), ask(gpu, TURNS[0])]);
  t.check('demo-q8_0: the WebGPU reply equals the CPU reply', first.reply === ref[0].reply && ref[0].reply.length > 1, `\n  gpu: ${JSON.stringify(first.reply)}\n  cpu: ${JSON.stringify(ref[0].reply)}`);
  t.check('demo-q8_0: the reply ran on the GPU', onGpu(first.backend) && !first.banner.shown, JSON.stringify(first));
  await screenshot(gpu, 'gpu-demo-q8_0');

  // mid-decode: the turn's second step is lost while its readback hangs
  await armLoss(gpu, 2, true);
  const mid = await ask(gpu, TURNS[1]);
  const a = await armed(gpu);
  t.check('mid-decode: the step in flight, its readback never settling, fails as a lost device', a.fired && a.stalled > 0 && a.outcome === 'GpuLostError', JSON.stringify(a));
  checkFallback('mid-decode', mid, ref[1]);
  await screenshot(gpu, 'gpu-device-lost');
  const next = await ask(gpu, TURNS[2]);
  t.check('mid-decode: the next turn continues on the CPU, as the CPU-only conversation', next.reply === ref[2].reply && next.backend.device === 'wasm', JSON.stringify([next.reply, ref[2].reply]));

  // before the first step: a reload (a new device) restores the saved conversation; the device is
  // lost before the next turn, which evaluates the whole conversation on the CPU
  const before = await messages(gpu);
  await gpu.reload();
  await ready(gpu, 'the reloaded app');
  t.check('after a reload the saved conversation is all there', JSON.stringify(await messages(gpu)) === JSON.stringify(before) && before.length === 6, JSON.stringify([before, await messages(gpu)]));
  t.check('after a reload the app runs on the GPU again', onGpu(await backend(gpu)), JSON.stringify(await backend(gpu)));
  await destroyNow(gpu);
  checkFallback('before the first step', await ask(gpu, TURNS[3]), await ask(cpu, TURNS[3]));

  // ---- demo-q4_0 (another model, loaded in the same pages after a loss): same reply, then lost between two turns ----
  const q4 = '/models/demo-q4_0.gguf';
  await Promise.all([loadModel(cpu, { url: cpuSrv.origin + q4 }), loadModel(gpu, { url: gpuSrv.origin + q4 })]);
  t.check('demo-q4_0: a model loaded after a loss runs on the GPU', onGpu(await backend(gpu)) && /demo-q4_0/.test(await gpu.textContent('#model-name')), JSON.stringify([await backend(gpu), await gpu.textContent('#model-name')]));
  const [ref4, g4] = await Promise.all([cpuTurns(TURNS.slice(0, 2)), ask(gpu, TURNS[0])]);
  t.check('demo-q4_0: the WebGPU reply equals the CPU reply', g4.reply === ref4[0].reply && ref4[0].reply.length > 1 && onGpu(g4.backend), `\n  gpu: ${JSON.stringify(g4.reply)}\n  cpu: ${JSON.stringify(ref4[0].reply)}`);
  await screenshot(gpu, 'gpu-demo-q4_0');
  await destroyNow(gpu);
  checkFallback('between turns', await ask(gpu, TURNS[1]), ref4[1]);

  // mid-prefill, last (a software GPU goes on with the lost step's work for a while): after another
  // reload (demo-q4_0 again, a new device), the first step (the prompt) is lost in flight
  await gpu.reload();
  await ready(gpu, 'the reloaded app');
  t.check('a reload after a loss runs the model last chosen on the GPU', onGpu(await backend(gpu)) && /demo-q4_0/.test(await gpu.textContent('#model-name')), await gpu.textContent('#model-name'));
  await newChat(gpu);
  await armLoss(gpu, 1);
  const pre = await ask(gpu, TURNS[0]);
  const p = await armed(gpu);
  t.check('mid-prefill: the prompt\'s step, in flight on a new device, fails as a lost device', p.fired && p.outcome === 'GpuLostError', JSON.stringify(p));
  checkFallback('mid-prefill', pre, ref4[0]);

  t.check('every page ends ready', (await state(gpu)) === 'ready' && (await state(cpu)) === 'ready');
});
