// faults.mjs - faults in the browser on the engine test double: the worker killed or crashed mid-reply, storage full while saving, the tab reloaded during a download, offline with a stale cached worker; each recovers with a message and keeps the saved conversation.
//
// Not here: a lost GPU device, which needs the real engine (this file runs on the test double):
// tests/e2e/gpu.mjs destroys the device mid-reply in the app on WebGPU.
// A model larger than the storage quota is tested in storage.mjs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './lib/config.mjs';
import { launch, screenshot, suite, waitState } from './lib/harness.mjs';
import { startServer } from './lib/server.mjs';
import { fakeModelBytes } from './lib/fake-model.mjs';

const t = suite('e2e-faults');
const DEMO = '/models/demo-q8_0.gguf';

async function ask(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await waitState(page, ['generating'], 10000).catch(() => {});
  await waitState(page, ['ready', 'error'], 60000);
  return page.evaluate(() => [...document.querySelectorAll('li.assistant')].at(-1)?.dataset.finish);
}

const messages = (page) => page.evaluate(() => [...document.querySelectorAll('#messages > li')].map((li) => `${li.className.split(' ')[0]}: ${li.textContent.slice(0, 40)}`));
const banner = (page) => page.evaluate(() => ({ shown: !document.getElementById('error').hidden, code: document.getElementById('error').dataset.code || null, text: document.getElementById('error-text').textContent }));

// The conversation as saved in OPFS (hearth/sessions/chat.json): its messages' count, or null.
function savedMessages(page) {
  return page.evaluate(async () => {
    try {
      const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth')).getDirectoryHandle('sessions');
      const saved = JSON.parse(await (await (await dir.getFileHandle('chat.json')).getFile()).text());
      const state = await (await dir.getFileHandle('chat.state')).getFile();
      return { messages: saved.meta.messages.length, stateBytes: state.size };
    } catch (e) { return null; }
  });
}

// The engine's module worker (web/worker.js), as Playwright sees it.
const engineWorker = (page) => page.workers().find((w) => /\/web\/worker\.js/.test(w.url()));

await t.run(async () => {
  if (!t.check('engine test double is built (tools/wasm/build.sh --fake)', fs.existsSync(path.join(REPO, 'build/wasm-fake/hearth-mt.wasm')))) return;
  const big = fakeModelBytes(8 << 20, 5);
  const bigSha = crypto.createHash('sha256').update(big).digest('hex');
  const srv = await startServer(REPO, {
    wasmDir: 'build/wasm-fake',
    files: { [DEMO]: fakeModelBytes(3 << 20, 40), '/models/big.gguf': big }, // 40 ms a token: replies take a few seconds
    delayMs: { '/models/big.gguf': 40 },                                     // 8 MiB in ~5 s
  });
  t.onCleanup(srv.close);

  // ---- 1. the engine's worker dies mid-reply (killed, or crashed) ----
  let b = await launch(t);
  let page = b.page;
  await page.goto(`${srv.origin}/web/app/`);
  if (!t.check('the app becomes ready', (await waitState(page, ['ready', 'error'], 60000)) === 'ready', await page.textContent('#error-text'))) return;
  await page.click('#open-settings'); // reasoning off: shorter replies
  await page.setChecked('#settings-form input[name=reasoning]', false);
  await page.click('#settings-save');
  t.check('turn 1 completes', (await ask(page, 'Hello there')) === 'stop');
  for (const [how, kill] of [
    ['killed (the worker closes: out of memory, the browser reclaiming it)', (w) => w.evaluate(() => self.close())],
    ['crashed (an uncaught error in the worker)', (w) => w.evaluate(() => { setTimeout(() => { throw new Error('simulated crash'); }, 0); })],
  ]) {
    const before = await messages(page);
    const old = engineWorker(page);
    await page.fill('#input', 'A question that will be cut short');
    await page.press('#input', 'Enter');
    await page.waitForFunction(() => { const li = [...document.querySelectorAll('li.assistant')].at(-1); return document.body.dataset.state === 'generating' && li && li.textContent.split(' ').length > 3; }, null, { timeout: 20000 });
    const t0 = Date.now();
    await kill(old).catch(() => {}); // the evaluation may not return: the worker is gone
    const state = await waitState(page, ['ready', 'error'], 20000).catch(() => 'stuck');
    const e = await banner(page);
    t.check(`worker ${how}: the app recovers (${Date.now() - t0} ms)`, state === 'ready', `${state} ${JSON.stringify(e)}`);
    t.check(`worker ${how}: a clear message`, e.shown && e.code === 'worker' && /stopped unexpectedly/.test(e.text) && /restarted/.test(e.text), JSON.stringify(e));
    t.check(`worker ${how}: the saved conversation is back, the cut message in the input box`,
      JSON.stringify(await messages(page)) === JSON.stringify(before) && (await page.inputValue('#input')) === 'A question that will be cut short', JSON.stringify([before, await messages(page), await page.inputValue('#input')]));
    t.check(`worker ${how}: a new engine worker runs`, engineWorker(page) && engineWorker(page) !== old);
    if (how.startsWith('killed')) await screenshot(page, 'fault-worker-killed');
    await page.press('#input', 'Enter'); // send it again
    await waitState(page, ['generating'], 10000).catch(() => {});
    t.check(`worker ${how}: the next turn works`, (await waitState(page, ['ready', 'error'], 60000)) === 'ready' &&
      (await page.evaluate(() => [...document.querySelectorAll('li.assistant')].at(-1).dataset.finish)) === 'stop' && !(await banner(page)).shown);
  }
  const afterKills = await messages(page);
  await page.reload();
  await waitState(page, ['ready', 'error'], 60000);
  t.check('after the restarts, a reload shows the whole conversation', JSON.stringify(await messages(page)) === JSON.stringify(afterKills), JSON.stringify([afterKills.length, (await messages(page)).length]));

  // ---- 2. storage full while saving the conversation ----
  const saved0 = await savedMessages(page);
  const cdp = await b.context.newCDPSession(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: srv.origin, quotaSize: usage });
  t.check('storage full: the turn itself completes', (await ask(page, 'Saved with no room left')) === 'stop');
  await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: 10000 }).catch(() => {});
  const full = await banner(page);
  t.check('storage full: a clear message that the conversation could not be saved', full.shown && full.code === 'save' && /storage space/i.test(full.text) && /still open/.test(full.text), JSON.stringify(full));
  await screenshot(page, 'fault-storage-full');
  const savedFull = await savedMessages(page);
  t.check('storage full: the previous save is intact (conversation and state)', savedFull && saved0 && savedFull.messages === saved0.messages && savedFull.stateBytes === saved0.stateBytes, JSON.stringify([saved0, savedFull]));
  t.check('storage full: the conversation stays on screen', (await messages(page)).length === afterKills.length + 2, JSON.stringify([afterKills.length, (await messages(page)).length]));
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: srv.origin }); // the user makes room
  t.check('room again: the next turn saves, and the message goes away', (await ask(page, 'Now there is room')) === 'stop' && !(await banner(page)).shown, JSON.stringify(await banner(page)));
  const all = await messages(page);
  await page.reload();
  await waitState(page, ['ready', 'error'], 60000);
  t.check('room again: after reload every turn is there, the unsaved one included', JSON.stringify(await messages(page)) === JSON.stringify(all), JSON.stringify([all.length, (await messages(page)).length]));
  await b.context.close();

  // ---- 3. the tab reloaded during a download ----
  // a) the first visit's model download
  b = await launch(t);
  page = b.page;
  const bigUrl = `${srv.origin}/models/big.gguf`;
  await page.addInitScript((url) => { if (!localStorage.getItem('hearth.model')) localStorage.setItem('hearth.model', JSON.stringify({ kind: 'url', url })); }, bigUrl);
  await page.goto(`${srv.origin}/web/app/`);
  await page.waitForFunction(() => +document.getElementById('loader-bar').value > 0.3 * +document.getElementById('loader-bar').max && document.getElementById('loader').dataset.phase === 'download', null, { timeout: 30000 });
  const n0 = srv.requests('/models/big.gguf').length;
  await page.reload();
  const st = await waitState(page, ['ready', 'error'], 60000);
  const ranges = srv.requests('/models/big.gguf').slice(n0).map((r) => r.range);
  t.check('reload during the first download: the app becomes ready', st === 'ready', `${st} ${await page.textContent('#error-text')}`);
  t.check('reload during the first download: it resumed where it stopped (Range request)', ranges.some((r) => r && /^bytes=[1-9]\d*-$/.test(r)), JSON.stringify(ranges));
  const digest = await page.evaluate(async () => {
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth')).getDirectoryHandle('models');
    for await (const [name, h] of dir.entries()) {
      if (name.startsWith('big.gguf') && !/\.(json|new)$/.test(name)) {
        return [...new Uint8Array(await crypto.subtle.digest('SHA-256', await (await h.getFile()).arrayBuffer()))].map((x) => x.toString(16).padStart(2, '0')).join('');
      }
    }
    return null;
  });
  t.check('reload during the first download: the stored model is byte-exact', digest === bigSha, digest);
  await b.context.close();

  // b) switching models, with a conversation saved
  b = await launch(t);
  page = b.page;
  await page.goto(`${srv.origin}/web/app/`);
  await waitState(page, ['ready', 'error'], 60000);
  await ask(page, 'Keep this conversation');
  const conv = await messages(page);
  await page.click('#open-models');
  await page.fill('#model-url', bigUrl);
  await page.click('#pick-url');
  await page.waitForFunction(() => +document.getElementById('loader-bar').value > 0.3 * +document.getElementById('loader-bar').max && document.getElementById('loader').dataset.phase === 'download', null, { timeout: 30000 });
  const n1 = srv.requests('/models/big.gguf').length;
  await page.reload();
  const st2 = await waitState(page, ['ready', 'error'], 60000);
  t.check('reload while downloading another model: the previous model is back, with the conversation', st2 === 'ready' && JSON.stringify(await messages(page)) === JSON.stringify(conv) && /demo-q8_0/.test(await page.textContent('#model-name')),
    `${st2} ${await page.textContent('#model-name')} ${JSON.stringify(await messages(page))}`);
  await page.click('#open-models');
  await page.waitForSelector('#cache-rows tr[data-key]');
  const rows = await page.$$eval('#cache-rows tr[data-key]', (trs) => trs.map((tr) => tr.textContent));
  t.check('the cache manager shows the partial download', rows.some((r) => /big\.gguf/.test(r)), JSON.stringify(rows));
  await page.fill('#model-url', bigUrl);
  await page.click('#pick-url');
  await waitState(page, ['loading'], 5000).catch(() => {});
  const st3 = await waitState(page, ['ready', 'error'], 60000);
  const ranges2 = srv.requests('/models/big.gguf').slice(n1).map((r) => r.range);
  t.check('picking it again resumes the download and loads it', st3 === 'ready' && /big\.gguf/.test(await page.textContent('#model-name')) && ranges2.some((r) => r && /^bytes=[1-9]\d*-$/.test(r)), `${st3} ${JSON.stringify(ranges2)}`);
  t.check('the conversation is still there', JSON.stringify(await messages(page)) === JSON.stringify(conv));
  await b.context.close();

  // ---- 4. offline, after a page used the API with the Cache API store ----
  // Offline, the service worker answers web/worker.js from its cached copy, last fetched as
  // worker.js?store=cache; the app's worker must still see its own URL (the OPFS store), not the
  // cached copy's (it did: "Could not reach …/demo-q8_0.gguf").
  b = await launch(t);
  page = b.page;
  await page.goto(`${srv.origin}/web/app/`);
  await waitState(page, ['ready', 'error'], 60000);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10000 }).catch(() => {});
  await page.evaluate(async (url) => {
    const { CreateEngine } = await import('/web/hearth.js');
    (await CreateEngine(url, { store: 'cache' })).dispose();
    await caches.delete('hearth-models'); // only the OPFS copy is left
  }, `${srv.origin}${DEMO}`);
  const origin = srv.origin;
  await srv.close();
  await page.goto(`${origin}/web/app/`).catch(() => {});
  t.check('offline after the Cache API store was used: the app opens from OPFS', (await waitState(page, ['ready', 'error'], 60000).catch(() => 'timeout')) === 'ready', await page.textContent('#error-text').catch(() => ''));
});
