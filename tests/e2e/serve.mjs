// serve.mjs - the chat app served by `hearth serve` in Chromium: isolation (threads), CSP without violations, service worker scope.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HEARTH_BIN, REPO } from './lib/config.mjs';
import { launch, suite, waitState } from './lib/harness.mjs';
import { fakeModelBytes } from './lib/fake-model.mjs';

const t = suite('e2e-serve');

await t.run(async () => {
  if (!t.check('engine test double is built (tools/wasm/build.sh --fake)', fs.existsSync(path.join(REPO, 'build/wasm-fake/hearth-mt.wasm')))) return;
  // The repo layout with the test double as build/wasm (copies: serve refuses symlinks that leave its root).
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-serve-root-'));
  t.onCleanup(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.cpSync(path.join(REPO, 'web'), path.join(root, 'web'), { recursive: true });
  fs.cpSync(path.join(REPO, 'build/wasm-fake'), path.join(root, 'build/wasm'), { recursive: true });
  fs.cpSync(path.join(REPO, 'build/vendor'), path.join(root, 'build/vendor'), { recursive: true });
  fs.mkdirSync(path.join(root, 'models'));
  fs.writeFileSync(path.join(root, 'models/demo-q8_0.gguf'), fakeModelBytes(2 << 20, 5));

  const proc = spawn(HEARTH_BIN, ['serve', '--port', '0', '--root', root, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.onCleanup(() => proc.kill('SIGTERM'));
  let out = '';
  const origin = await new Promise((resolve) => {
    proc.stdout.on('data', (d) => { out += d; const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out); if (m) resolve(m[1]); });
    proc.on('exit', () => resolve(null));
    setTimeout(() => resolve(null), 5000);
  });
  if (!t.check(`${HEARTH_BIN} serve starts`, origin, out || 'no output (is serve wired into cli/main.c?)')) return;

  const { page, logs } = await launch(t);
  await page.goto(`${origin}/`);
  t.check('/ leads to the app, which loads the model', (await waitState(page, ['ready', 'error'], 60000)) === 'ready', await page.textContent('#error-text'));
  t.check('cross-origin isolated: the threaded build runs', await page.evaluate(() => crossOriginIsolated) && /threads/.test(await page.textContent('#backend')), await page.textContent('#backend'));
  await page.fill('#input', 'hi');
  await page.press('#input', 'Enter');
  await waitState(page, ['generating'], 5000).catch(() => {});
  t.check('a turn completes', (await waitState(page, ['ready'], 60000)) === 'ready' && (await page.evaluate(() => document.querySelector('li.assistant').dataset.finish)) === 'stop');
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  t.check('the service worker controls the whole site', scope === `${origin}/`, scope);
  const csp = logs.filter((l) => /Content Security Policy/.test(l));
  t.check('no Content-Security-Policy violations', csp.length === 0, csp.join('\n'));
});
