// gpu.mjs - the chat app on WebGPU in Chromium (SwiftShader): the same greedy replies as the CPU build on the demo models (q8_0, q4_0), and a GPU device lost mid-reply falls back to the CPU, finishes the same reply, says so and keeps the conversation.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, WASM_DIR } from './lib/config.mjs';
import { launch, screenshot, suite, waitState } from './lib/harness.mjs';
import { startServer } from './lib/server.mjs';

const t = suite('e2e-gpu');
const DEMO = '/models/demo-q8_0.gguf'; // the app's demo URL: each model under test is served there
// Greedy, few tokens: SwiftShader takes seconds per token, and the comparison needs no more.
const N = 8;
const TURNS = ['What is 27 + 15?', 'Reverse the list: 3, 1, 2'];
const LOST_N = 24; // the turn the device is lost in (reasoning on): long enough to be cut mid-reply

async function configure(page, maxTokens, reasoning = false) {
  await page.click('#open-settings');
  await page.fill('#settings-form input[name=temperature]', '0');
  await page.fill('#settings-form input[name=max_tokens]', String(maxTokens));
  await page.setChecked('#settings-form input[name=reasoning]', reasoning);
  await page.click('#settings-save');
}

// The last reply as shown: reasoning block and answer.
const lastAnswer = (page) => page.evaluate(() => [...document.querySelectorAll('li.assistant')].at(-1).querySelector('.think-body').textContent + '|' + [...document.querySelectorAll('li.assistant')].at(-1).querySelector('.answer').textContent);
const backendLabel = (page) => page.evaluate(() => ({ text: document.getElementById('backend').textContent, device: document.getElementById('backend').dataset.device }));
const banner = (page) => page.evaluate(() => ({ shown: !document.getElementById('error').hidden, code: document.getElementById('error').dataset.code || null, text: document.getElementById('error-text').textContent }));
const messages = (page) => page.evaluate(() => [...document.querySelectorAll('#messages > li')].map((li) => li.className.split(' ')[0]));
const engineWorker = (page) => page.workers().find((w) => /\/web\/worker\.js/.test(w.url()));

async function ask(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await waitState(page, ['generating'], 10000).catch(() => {});
  await waitState(page, ['ready', 'error'], 300000);
  return lastAnswer(page);
}

// Opens the app on `device` with a fresh (or the given) profile; returns the page once ready.
async function openApp(srv, device, maxTokens, profile, reasoning = false) {
  const b = await launch(t, { profile });
  await b.page.goto(`${srv.origin}/web/app/?device=${device}`);
  const state = await waitState(b.page, ['ready', 'error'], 300000);
  if (state !== 'ready') throw new Error(`the app did not become ready on ${device}: ${(await banner(b.page)).text}\n${b.logs.join('\n')}`);
  await configure(b.page, maxTokens, reasoning);
  return b;
}

await t.run(async () => {
  if (!t.check(`the wasm engine is built with the GPU planner (tools/wasm/build.sh): ${WASM_DIR}`, fs.existsSync(path.join(WASM_DIR, 'hearth-mt.wasm')))) return;
  for (const name of ['demo-q8_0', 'demo-q4_0']) {
    const srv = await startServer(REPO, { wasmDir: WASM_DIR, files: { [DEMO]: path.join(REPO, 'models', `${name}.gguf`) } });
    t.onCleanup(srv.close);
    const cpu = await openApp(srv, 'wasm', N);
    const gpu = await openApp(srv, 'webgpu', N);
    const cl = await backendLabel(cpu.page), gl = await backendLabel(gpu.page);
    t.check(`${name}: the CPU app says it runs on the CPU`, cl.device === 'wasm' && /^CPU/.test(cl.text), JSON.stringify(cl));
    t.check(`${name}: the WebGPU app says it runs on the GPU and names the adapter`, gl.device === 'webgpu' && /^GPU \(WebGPU: .+\)/.test(gl.text), JSON.stringify(gl));
    const a = await ask(cpu.page, TURNS[0]), b = await ask(gpu.page, TURNS[0]);
    t.check(`${name}: the WebGPU reply equals the CPU reply`, a === b && a.length > 1, `\n  gpu: ${JSON.stringify(b)}\n  cpu: ${JSON.stringify(a)}`);
    await screenshot(gpu.page, `gpu-${name}`);
    await cpu.context.close();
    await gpu.context.close();
  }

  // ---- the GPU device lost mid-reply (q8_0) ----
  const srv = await startServer(REPO, { wasmDir: WASM_DIR, files: { [DEMO]: path.join(REPO, 'models/demo-q8_0.gguf') } });
  t.onCleanup(srv.close);
  const lostQ = TURNS[0];
  const cpu = await openApp(srv, 'wasm', LOST_N, undefined, true);
  const cpuReplies = [await ask(cpu.page, lostQ), await ask(cpu.page, TURNS[1])];
  await cpu.context.close();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-gpu-'));
  t.onCleanup(() => fs.rmSync(profile, { recursive: true, force: true }));
  const gpu = await openApp(srv, 'webgpu', LOST_N, profile, true);
  const page = gpu.page;
  await page.fill('#input', lostQ);
  await page.press('#input', 'Enter');
  // a few pieces in, destroy the worker's GPUDevice (engine-gpu.js keeps it at self.__hearthGpu)
  await page.waitForFunction(() => { const li = [...document.querySelectorAll('li.assistant')].at(-1); return document.body.dataset.state === 'generating' && li && li.textContent.length >= 6; }, null, { timeout: 180000 });
  const cut = await lastAnswer(page);
  const destroyed = await engineWorker(page).evaluate(() => { if (!self.__hearthGpu) return false; self.__hearthGpu.device.destroy(); return true; });
  t.check('lost: the device was destroyed mid-reply', destroyed && cut.length < cpuReplies[0].length, JSON.stringify([destroyed, cut, cpuReplies[0]]));
  await waitState(page, ['ready', 'error'], 300000);
  const reply = await lastAnswer(page);
  t.check('lost: the reply finishes on the CPU and equals the CPU-only reply', reply === cpuReplies[0], `\n  after loss: ${JSON.stringify(reply)}\n  cpu only:   ${JSON.stringify(cpuReplies[0])}`);
  const finish = await page.evaluate(() => [...document.querySelectorAll('li.assistant')].at(-1).dataset.finish);
  t.check('lost: the reply ends normally (not as an error)', finish === 'stop' || finish === 'length', finish);
  const e = await banner(page);
  t.check('lost: the user is told the GPU was lost and the CPU took over', e.shown && e.code === 'gpu-lost' && /GPU/.test(e.text) && /CPU/.test(e.text), JSON.stringify(e));
  const label = await backendLabel(page);
  t.check('lost: the backend label switches to the CPU and says why', label.device === 'wasm' && /^CPU/.test(label.text) && /lost/.test(label.text), JSON.stringify(label));
  await screenshot(page, 'gpu-device-lost');
  t.check('lost: the next turn continues on the CPU, as the CPU-only conversation', (await ask(page, TURNS[1])) === cpuReplies[1]);
  const before = await messages(page);
  await gpu.context.close();
  // the saved conversation survives: a new visit (on the GPU again) shows every turn
  const again = await openApp(srv, 'webgpu', LOST_N, profile);
  t.check('lost: after a reload the saved conversation is all there', JSON.stringify(await messages(again.page)) === JSON.stringify(before) && before.length === 4, JSON.stringify([before, await messages(again.page)]));
});
