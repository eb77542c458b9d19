// storage.mjs - model storage in Chromium on the engine test double: resume, hashes, bad input, quota, local files, cache manager.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './lib/config.mjs';
import { launch, screenshot, suite, waitState } from './lib/harness.mjs';
import { startServer } from './lib/server.mjs';
import { fakeModelBytes } from './lib/fake-model.mjs';

const t = suite('e2e-storage');
const DEMO = '/models/demo-q8_0.gguf';

// Picks a model by URL in the models dialog; resolves with the app's state and error banner.
async function loadUrl(page, url) {
  await page.click('#open-models');
  await page.fill('#model-url', url);
  await page.click('#pick-url');
  await waitState(page, ['loading'], 5000).catch(() => {});
  const state = await waitState(page, ['ready', 'error'], 60000);
  return page.evaluate((st) => ({ state: st, code: document.getElementById('error').hidden ? null : document.getElementById('error').dataset.code, text: document.getElementById('error-text').textContent, messages: document.querySelectorAll('#messages li').length }), state);
}

await t.run(async () => {
  if (!t.check('engine test double is built (tools/wasm/build.sh --fake)', fs.existsSync(path.join(REPO, 'build/wasm-fake/hearth-st.wasm')))) return;
  const demo = fakeModelBytes(2 << 20, 5);
  const big = fakeModelBytes(8 << 20, 5);
  const bigSha = crypto.createHash('sha256').update(big).digest('hex');
  const truncated = fakeModelBytes(1 << 20).subarray(0, 300000);
  const srv = await startServer(REPO, {
    wasmDir: 'build/wasm-fake',
    files: { [DEMO]: demo, '/models/big.gguf': big, '/models/page.gguf': Buffer.from('<!doctype html><p>Not found</p>'), '/models/trunc.gguf': truncated, '/models/huge.gguf': fakeModelBytes(12 << 20) },
    faults: { '/models/big.gguf': { dropAfter: 3 << 20, times: 1 } },
  });
  t.onCleanup(srv.close);
  const { page, context } = await launch(t);
  await page.goto(`${srv.origin}/web/app/`);
  t.check('the demo model loads', (await waitState(page, ['ready', 'error'], 60000)) === 'ready');
  await page.fill('#input', 'hi');
  await page.press('#input', 'Enter');
  await waitState(page, ['generating'], 5000).catch(() => {});
  await waitState(page, ['ready'], 60000);

  // interrupted download resumes with a Range request, and the bytes are right
  const r = await loadUrl(page, `${srv.origin}/models/big.gguf`);
  t.check('a download cut mid-file completes', r.state === 'ready' && !r.code, JSON.stringify(r));
  const ranges = srv.requests('/models/big.gguf').map((x) => x.range);
  t.check('it resumed with a Range request from where it stopped', ranges.some((x) => x && /^bytes=[1-9]\d*-$/.test(x)), JSON.stringify(ranges));
  const digest = await page.evaluate(async () => {
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth')).getDirectoryHandle('models');
    for await (const [name, h] of dir.entries()) {
      if (name.startsWith('big.gguf') && !name.endsWith('.json')) {
        const buf = await (await h.getFile()).arrayBuffer();
        return [...new Uint8Array(await crypto.subtle.digest('SHA-256', buf))].map((b) => b.toString(16).padStart(2, '0')).join('');
      }
    }
    return null;
  });
  t.check('the resumed file has the right sha256', digest === bigSha, digest);
  const api = await page.evaluate(async ([url, sha]) => { // sha256 verification through the API
    const { CreateEngine } = await import('/web/hearth.js');
    const out = {};
    try { (await CreateEngine(url, { sha256: '0'.repeat(64) })).dispose(); out.bad = 'loaded'; } catch (e) { out.bad = e.code; }
    try { const e = await CreateEngine(url, { sha256: sha }); out.good = e.model.fromCache; e.dispose(); } catch (e) { out.good = e.code + ' ' + e.message; }
    return out;
  }, [`${srv.origin}/models/big.gguf`, bigSha]);
  t.check('a wrong sha256 is refused with hash-mismatch; the right one loads', api.bad === 'hash-mismatch' && api.good === false, JSON.stringify(api));

  // bad input: a visible, specific message, and the conversation is kept
  const kept = await page.evaluate(() => document.querySelectorAll('#messages li').length);
  const cases = [
    ['a 404 URL', '/models/missing.gguf', 'http', /404/],
    ['a file that is not GGUF', '/models/page.gguf', 'not-gguf', /not a GGUF/],
    ['a truncated file', '/models/trunc.gguf', 'format', /truncated/],
  ];
  for (const [what, url, code, re] of cases) {
    const x = await loadUrl(page, `${srv.origin}${url}`);
    t.check(`${what}: message with code ${code}`, x.code === code && re.test(x.text), JSON.stringify(x));
    t.check(`${what}: the conversation is kept and the app still works`, x.messages === kept && x.state === 'ready', JSON.stringify(x));
    if (code === 'http') await screenshot(page, 'error-404');
  }
  const listed = await page.evaluate(async () => { const { listCachedModels } = await import('/web/hearth.js'); return (await listCachedModels()).map((e) => e.key); });
  t.check('broken downloads are not left in the cache', !listed.some((k) => /^(page|trunc|missing)/.test(k)), JSON.stringify(listed));

  // quota: a model larger than the space the browser allows
  const cdp = await context.newCDPSession(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: srv.origin, quotaSize: usage + (4 << 20) });
  const q = await loadUrl(page, `${srv.origin}/models/huge.gguf`);
  t.check('a model larger than the quota: a clear quota message', q.code === 'quota' && /storage space/.test(q.text), JSON.stringify(q));
  t.check('after the quota error the conversation is kept', q.messages === kept && q.state === 'ready');
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: srv.origin });

  // a local file through the picker
  const local = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-local-')), 'local-model.gguf');
  fs.writeFileSync(local, fakeModelBytes(1 << 20, 1));
  await page.click('#open-models');
  await page.setInputFiles('#model-file', local);
  await waitState(page, ['loading'], 5000).catch(() => {});
  t.check('a local file loads', (await waitState(page, ['ready', 'error'], 60000)) === 'ready' && /local-model\.gguf/.test(await page.textContent('#model-name')), await page.textContent('#model-name'));

  // a local file dropped on the page
  await page.evaluate(() => {
    const b = new Uint8Array(1 << 16);
    b.set([71, 71, 85, 70, 3, 0, 0, 0], 0); // "GGUF", version 3
    new DataView(b.buffer).setUint32(8, b.length, true); // the test double's total size
    const dt = new DataTransfer();
    dt.items.add(new File([b], 'dropped.gguf'));
    window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, cancelable: true }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, cancelable: true }));
  });
  await waitState(page, ['loading'], 5000).catch(() => {});
  t.check('a dropped file loads', (await waitState(page, ['ready', 'error'], 60000)) === 'ready' && /dropped\.gguf/.test(await page.textContent('#model-name')), await page.textContent('#model-name'));

  // the cache manager lists the models and deletes one
  await page.click('#open-models');
  await page.waitForSelector('#cache-rows tr[data-key]');
  const rows = await page.$$eval('#cache-rows tr[data-key]', (trs) => trs.map((tr) => tr.textContent));
  t.check('the cache manager lists the cached models', rows.length >= 2 && rows.some((x) => /demo-q8_0/.test(x)) && rows.some((x) => /big\.gguf/.test(x)), JSON.stringify(rows));
  await screenshot(page, 'cache-manager');
  await page.click('#cache-rows tr[data-key^="big.gguf"] button.delete');
  await page.waitForFunction(() => !document.querySelector('#cache-rows tr[data-key^="big.gguf"]'), null, { timeout: 10000 });
  t.check('deleting from the cache manager removes the entry', true);
  await page.keyboard.press('Escape');

  // the Cache API fallback (for browsers without OPFS sync access)
  const fallback = await page.evaluate(async (url) => {
    const { CreateEngine, listCachedModels } = await import('/web/hearth.js');
    const e = await CreateEngine(url, { store: 'cache' });
    const r1 = await e.chat.completions.create({ messages: [{ role: 'user', content: 'x' }], max_tokens: 2 });
    e.dispose();
    const hit = await (await caches.open('hearth-models')).match(url);
    return { ok: r1.choices[0].finish_reason, stored: !!hit, listed: (await listCachedModels()).some((x) => x.store === 'cache') };
  }, `${srv.origin}/models/big.gguf`);
  t.check('the Cache API fallback stores and serves the model', fallback.ok === 'length' && fallback.stored && fallback.listed, JSON.stringify(fallback));

  // without cross-origin isolation: the single-threaded build
  const plain = await startServer(REPO, { wasmDir: 'build/wasm-fake', isolate: false, files: { [DEMO]: demo } });
  t.onCleanup(plain.close);
  const p2 = await launch(t);
  await p2.page.goto(`${plain.origin}/web/app/`);
  const st = await waitState(p2.page, ['ready', 'error'], 60000);
  const name = await p2.page.textContent('#backend');
  t.check('not cross-origin isolated: the single-threaded build runs', st === 'ready' && /1 thread/.test(name) && !(await p2.page.evaluate(() => crossOriginIsolated)), `${st} ${name}`);
});
