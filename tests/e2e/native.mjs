// native.mjs - the real engine in Chromium against `hearth run` on the same model: same greedy reply, and the same after a reload.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HEARTH_BIN, MODEL, REPO, WASM_DIR } from './lib/config.mjs';
import { launch, suite, waitState } from './lib/harness.mjs';
import { startServer } from './lib/server.mjs';

const t = suite('e2e-native');
const PROMPT = 'What is the capital of France? Answer in one sentence.';
const N = 48;

// Greedy, reasoning off, N tokens at most: the settings both sides use.
async function configure(page) {
  await page.click('#open-settings');
  await page.fill('#settings-form input[name=temperature]', '0');
  await page.fill('#settings-form input[name=max_tokens]', String(N));
  await page.setChecked('#settings-form input[name=reasoning]', false);
  await page.click('#settings-save');
}

async function ask(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await waitState(page, ['generating'], 10000).catch(() => {});
  await waitState(page, ['ready'], 300000);
  return page.evaluate(() => [...document.querySelectorAll('li.assistant')].at(-1).querySelector('.answer').textContent);
}

await t.run(async () => {
  const modelFile = path.resolve(REPO, MODEL);
  if (!t.check(`the model exists: ${MODEL} (set HEARTH_E2E_MODEL to use another)`, fs.existsSync(modelFile))) return;
  if (!t.check(`the wasm engine is built (tools/wasm/build.sh): ${WASM_DIR}`, fs.existsSync(path.join(WASM_DIR, 'hearth-mt.wasm')))) return;
  if (!t.check(`the native binary exists: ${HEARTH_BIN}`, fs.existsSync(HEARTH_BIN))) return;
  const run = (...extra) => execFileSync(HEARTH_BIN, ['run', '-m', modelFile, '-p', PROMPT, '--temp', '0', '-n', String(N), '--no-think', ...extra], { encoding: 'utf8' }).replace(/\n$/, '');
  const nativeText = run();
  const nativeIds = run('--print-ids').trim().split(/\s+/).filter(Boolean);

  // The app opens the demo model's URL: serve the model under test there.
  const url = '/models/demo-q8_0.gguf';
  const srv = await startServer(REPO, { wasmDir: WASM_DIR, files: { [url]: modelFile } });
  t.onCleanup(srv.close);
  const b = await launch(t);
  await b.page.goto(`${srv.origin}/web/app/`);
  await waitState(b.page, ['ready', 'error'], 300000);
  const web = await b.page.evaluate(async ([u, prompt, n]) => {
    const { CreateEngine } = await import('/web/hearth.js');
    const e = await CreateEngine(u);
    const r = await e.chat.completions.create({ messages: [{ role: 'user', content: prompt }], temperature: 0, max_tokens: n, enable_thinking: false });
    e.dispose();
    return { text: r.choices[0].message.content, n: r.usage.completion_tokens };
  }, [url, PROMPT, N]);
  t.check('greedy reply in the browser equals `hearth run`', web.text === nativeText, `\n  web:    ${JSON.stringify(web.text)}\n  native: ${JSON.stringify(nativeText)}`);
  t.check('same number of generated tokens', web.n === nativeIds.length, `${web.n} vs ${nativeIds.length}`);

  // a conversation continued after a reload equals one continued without
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-native-'));
  t.onCleanup(() => fs.rmSync(profile, { recursive: true, force: true }));
  const p1 = await launch(t, { profile });
  await p1.page.goto(`${srv.origin}/web/app/`);
  await waitState(p1.page, ['ready'], 300000);
  await configure(p1.page);
  await ask(p1.page, PROMPT);
  await p1.page.reload();
  await waitState(p1.page, ['ready'], 300000);
  const afterReload = await ask(p1.page, 'And of Germany?');
  const reused = await p1.page.evaluate(() => +[...document.querySelectorAll('li.assistant')].at(-1).dataset.reused);
  await p1.context.close();
  const p2 = await launch(t);
  await p2.page.goto(`${srv.origin}/web/app/`);
  await waitState(p2.page, ['ready'], 300000);
  await configure(p2.page);
  await ask(p2.page, PROMPT);
  const control = await ask(p2.page, 'And of Germany?');
  const controlReused = await p2.page.evaluate(() => +[...document.querySelectorAll('li.assistant')].at(-1).dataset.reused);
  t.check('after reload the greedy continuation is the same as without reload', afterReload === control && afterReload.length > 0, `\n  reload: ${JSON.stringify(afterReload)}\n  direct: ${JSON.stringify(control)}`);
  // How much of turn 1 a template lets turn 2 reuse depends on the template (some rewrite earlier
  // turns); a restored session must reuse exactly as much as one that never left memory.
  t.check('after reload the restored state is reused as much as without reload', reused === controlReused, `${reused} vs ${controlReused}`);
});
