// app.mjs - the chat app in Chromium on the engine test double: first visit, streaming, stop, reasoning, reload, second visit, offline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './lib/config.mjs';
import { launch, screenshot, suite, waitState } from './lib/harness.mjs';
import { startServer } from './lib/server.mjs';
import { fakeModelBytes } from './lib/fake-model.mjs';

const t = suite('e2e-app');
const MODEL_PATH = '/models/demo-q8_0.gguf';

// Sends a message through the composer; resolves when the reply is complete.
async function ask(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await waitState(page, ['generating'], 10000).catch(() => {});
  await waitState(page, ['ready'], 60000);
  return page.evaluate(() => {
    const li = [...document.querySelectorAll('li.assistant')].at(-1);
    return { text: li.querySelector('.answer').textContent, finish: li.dataset.finish, count: document.querySelectorAll('#messages li').length };
  });
}

// Turns reasoning on or off through the settings dialog.
async function setReasoning(page, on) {
  await page.click('#open-settings');
  await page.setChecked('#settings-form input[name=reasoning]', on);
  await page.click('#settings-save');
}

await t.run(async () => {
  if (!t.check('engine test double is built (tools/wasm/build.sh --fake)', fs.existsSync(path.join(REPO, 'build/wasm-fake/hearth-mt.wasm')))) return;
  const model = fakeModelBytes(6 << 20, 40); // 6 MiB, 40 ms per token
  const serve = () => startServer(REPO, { wasmDir: 'build/wasm-fake', files: { [MODEL_PATH]: model }, delayMs: { [MODEL_PATH]: 15 } });
  let srv = await serve();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-profile-'));
  t.onCleanup(() => fs.rmSync(profile, { recursive: true, force: true }));

  // ---- first visit ----
  let b = await launch(t, { profile });
  let page = b.page;
  await page.goto(`${srv.origin}/web/app/`);
  const samples = [];
  for (let i = 0; i < 40 && (await page.evaluate(() => document.body.dataset.state)) !== 'ready'; i++) {
    samples.push(await page.evaluate(() => ({ v: +document.getElementById('loader-bar').value, text: document.getElementById('loader-text').textContent, phase: document.getElementById('loader').dataset.phase })));
    if (i === 4) await screenshot(page, 'download-screen');
    await page.waitForTimeout(150);
  }
  const dl = samples.filter((s) => s.phase === 'download' && s.v > 0).map((s) => s.v);
  t.check('first visit shows advancing download progress', dl.length >= 3 && dl.at(-1) > dl[0], JSON.stringify(samples.slice(0, 6)));
  t.check('the progress text shows bytes, speed and time left', samples.some((s) => / of .*MB\/s.* left/.test(s.text)), samples.map((s) => s.text).join(' | '));
  t.check('the app becomes ready', (await waitState(page, ['ready', 'error'], 60000)) === 'ready', await page.textContent('#error-text'));
  const opfs = await page.evaluate(async () => {
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth')).getDirectoryHandle('models');
    const out = [];
    for await (const [name, h] of dir.entries()) out.push([name, (await h.getFile()).size]);
    return out;
  });
  t.check('the model landed in OPFS, whole', opfs.some(([n, s]) => !n.endsWith('.json') && s === model.length), JSON.stringify(opfs));
  t.check('the page is cross-origin isolated and uses the threaded build', await page.evaluate(() => crossOriginIsolated) && /threads/.test(await page.textContent('#backend')), await page.textContent('#backend'));

  // ---- a turn: streaming, first token early, rAF keeps running, reasoning block, sanitised output ----
  await page.evaluate(() => { window.__frames = 0; const tick = () => { window.__frames++; requestAnimationFrame(tick); }; requestAnimationFrame(tick); });
  await page.fill('#input', 'Hello there');
  await page.press('#input', 'Enter');
  const f0 = await page.evaluate(() => window.__frames);
  await page.waitForFunction(() => { const li = document.querySelector('li.assistant'); return li && li.textContent.trim().length > 0; }, null, { timeout: 20000 });
  t.check('the first token shows before the generation ends', (await page.evaluate(() => document.body.dataset.state)) === 'generating');
  await page.waitForTimeout(400);
  const f1 = await page.evaluate(() => window.__frames);
  await waitState(page, ['ready'], 60000);
  t.check('requestAnimationFrame keeps running during generation', f1 - f0 >= 10, `${f1 - f0} frames`);
  const turn = await page.evaluate(() => {
    const li = document.querySelector('li.assistant');
    return { think: !!li.querySelector('details.think:not([hidden])'), open: li.querySelector('details.think').open, reasoning: li.querySelector('.think-body').textContent,
      strong: !!li.querySelector('.answer strong'), script: li.querySelectorAll('script,img,[onerror]').length, text: li.querySelector('.answer').textContent, stats: li.querySelector('.stats').textContent };
  });
  t.check('the reasoning block is shown and folded after the answer', turn.think && !turn.open && /greets me/.test(turn.reasoning), JSON.stringify(turn));
  t.check('Markdown is rendered', turn.strong);
  t.check('model HTML is shown as text, never as elements', turn.script === 0 && turn.text.includes('<script>'), JSON.stringify(turn));
  t.check('tokens/s is shown', /tokens\/s/.test(turn.stats) && /tok\/s/.test(await page.textContent('#speed')), turn.stats);
  await page.click('li.assistant details.think summary');
  await screenshot(page, 'chat-reasoning');

  // a reply cut inside its reasoning (max tokens 3) keeps the reasoning open and says it has no answer
  await page.click('#open-settings');
  const maxTokens = await page.inputValue('#settings-form input[name=max_tokens]');
  await page.fill('#settings-form input[name=max_tokens]', '3');
  await page.click('#settings-save');
  await ask(page, 'Hello there');
  const cut = await page.evaluate(() => {
    const li = [...document.querySelectorAll('li.assistant')].at(-1);
    return { open: li.querySelector('details.think').open, summary: li.querySelector('details.think summary').textContent, answer: li.querySelector('.answer').textContent };
  });
  t.check('a reply cut while reasoning: the reasoning stays open and says so', cut.open && /stopped before an answer/.test(cut.summary) && cut.answer === '', JSON.stringify(cut));
  await page.click('#open-settings');
  await page.fill('#settings-form input[name=max_tokens]', maxTokens);
  await page.click('#settings-save');

  // ---- reload: the conversation and its decode state come back ----
  // (reasoning off: this template drops the "<think>" it adds, so only then is turn 1's state reusable)
  await page.click('#new-chat');
  t.check('New chat empties the conversation', (await page.evaluate(() => document.querySelectorAll('#messages li').length)) === 0);
  await setReasoning(page, false);
  await ask(page, 'Hello there');
  const before = await page.evaluate(() => document.querySelectorAll('#messages li').length);
  await page.reload();
  await waitState(page, ['ready', 'error'], 60000);
  t.check('the conversation survives a reload', (await page.evaluate(() => document.querySelectorAll('#messages li').length)) === before);
  const afterReload = await ask(page, 'Tell me more');
  const reused = await page.evaluate(() => [...document.querySelectorAll('li.assistant')].at(-1).dataset.reused);
  t.check('after reload the turn continues from the restored state', +reused > 0, `reused ${reused}`);
  const c = await launch(t); // the same two turns without a reload, in a fresh profile
  await c.page.goto(`${srv.origin}/web/app/`);
  await waitState(c.page, ['ready'], 60000);
  await setReasoning(c.page, false);
  await ask(c.page, 'Hello there');
  const control = await ask(c.page, 'Tell me more');
  await c.context.close();
  t.check('the reply after reload equals the reply without reload', afterReload.text === control.text && afterReload.finish === 'stop', `${afterReload.text.slice(0, 80)} | ${control.text.slice(0, 80)}`);

  // ---- stop ----
  await page.fill('#input', 'And more');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => { const li = [...document.querySelectorAll('li.assistant')].at(-1); return li && li.textContent.split(' ').length > 4; }, null, { timeout: 20000 });
  const t0 = Date.now();
  await page.click('#stop');
  await waitState(page, ['ready'], 10000);
  const stopped = await page.evaluate(() => [...document.querySelectorAll('li.assistant')].at(-1).dataset.finish);
  t.check('stop ends the reply at once', stopped === 'abort' && Date.now() - t0 < 2000, `${stopped} after ${Date.now() - t0} ms`);
  const inPage = await page.evaluate(async () => { // the API in the page: tokens after interrupt()
    const { CreateEngine } = await import('/web/hearth.js');
    const e = await CreateEngine('/models/demo-q8_0.gguf');
    let n = 0, after = 0, stoppedAt = false, finish = null;
    for await (const ch of await e.chat.completions.create({ messages: [{ role: 'user', content: 'x' }], stream: true })) {
      if (ch.choices[0].finish_reason) finish = ch.choices[0].finish_reason; else if (stoppedAt) after++;
      if (++n === 3) { await e.interrupt(); stoppedAt = true; }
    }
    await e.dispose();
    return { after, finish };
  });
  t.check('interrupt in the browser stops within one token', inPage.finish === 'abort' && inPage.after <= 1, JSON.stringify(inPage));
  await b.context.close();

  // ---- second visit: no model request; then with the server gone ----
  const n0 = srv.requests(MODEL_PATH).length;
  b = await launch(t, { profile });
  page = b.page;
  await page.goto(`${srv.origin}/web/app/`);
  t.check('second visit: ready from the cache', (await waitState(page, ['ready', 'error'], 60000)) === 'ready');
  t.check('second visit: no request for the model file', srv.requests(MODEL_PATH).length === n0, JSON.stringify(srv.requests(MODEL_PATH).slice(n0)));
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10000 }).catch(() => {});
  const origin = srv.origin;
  await srv.close();
  await page.goto(`${origin}/web/app/`).catch(() => {});
  t.check('offline: the app opens from the service worker', (await waitState(page, ['ready', 'error'], 60000).catch(() => 'timeout')) === 'ready', `${await page.textContent('#error-text').catch(() => '')}\n${b.logs.join('\n')}`);
  const offline = await ask(page, 'Are you offline?').catch((e) => ({ text: '', finish: String(e) }));
  t.check('offline: a turn works', offline.finish === 'stop' && offline.text.length > 0, JSON.stringify(offline));
  await b.context.close();
});
