// browser.mjs - hearth's WebAssembly build vs wllama (npm @wllama/wllama 3.13.0) on the same GGUF in the same headless Chromium, same threads: paired runs, ratio per pair.
//
//   node tools/bench/browser.mjs -m MODEL.gguf [-p 512] [-n 128] [-r 5] [--threads 2] [--out F.json]
//                                [--min-idle 0.85] [--max-wait 3600] [--min-util 0] [--pause 10]
//
// Needs build/wasm-bench (tools/wasm/build.sh --bench: the engine plus tools/bench/wasm_bench.c)
// and Debian's Chromium (tests/e2e/lib/config.mjs, HEARTH_CHROMIUM). One Chromium, one page
// (browser/page.html) served cross-origin isolated (browser/serve.mjs) so both engines run their
// pthreads builds with --threads threads. The page fetches the model once as a Blob and both
// engines load it into their own wasm memory (4 GiB at most each: a larger file is reported and
// skipped): hearth in a module worker (browser/hearth-worker.mjs), wllama in its own worker, CPU
// only. Each engine loads once and warms up (32 prompt tokens, 4 decode steps); then each pair is
// one hearth run and one wllama run, back to back, in alternating order, on the same prompt token
// ids (benchTokens from llamacpp.mjs; token ids, so neither tokenizer matters):
// - hearth (wasm_bench.c, timed inside wasm as cli/bench.c does): prefill = the p tokens in one
//   call with the last token's logits; decode = n greedy steps of one token each;
// - wllama (createCompletion with `prompt` as a token array, no prompt cache, greedy, n + 1 tokens,
//   EOS ignored; llama-server's own timings): prefill = prompt_ms (the p tokens in one batch of p,
//   up to the first sampled token), decode = predicted_ms over the n steps after that token.
// The idle gating, discards and medians are compare.mjs's (imported): a pair starts only on an
// idle machine and is re-run if the second after it was busy. CPU utilisation per run is the CPU
// time of the whole Chromium process tree over the run's wall time x threads (page and workers
// included, so slightly above the engine's own). Printed: each engine's median tok/s and the
// median of the per-pair ratios hearth-wasm / wllama (> 1 = hearth faster).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { MAX_MODEL_BYTES } from '../../web/engine.js';
import { CHROMIUM, REPO } from '../../tests/e2e/lib/config.mjs';
import { placeholderTokenTypes, TOKEN_USER_DEFINED } from './browser/gguf-vocab.mjs';
import { serveBench } from './browser/serve.mjs';
import { measurePairs, pairMedians } from './compare.mjs';
import { benchTokens, parseArgs } from './llamacpp.mjs';

const TICK = 100; // USER_HZ: /proc/<pid>/stat times are in 1/100 s on Linux

// CPU seconds used so far by every process descended from this one (the Chromium tree).
function browserCpuSeconds() {
  const kids = new Map();
  let total = 0;
  const stats = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      stats.push({ pid: +d, ppid: +f[1], cpu: (+f[11] + +f[12]) / TICK });
    } catch { /* exited */ }
  }
  for (const p of stats) { if (!kids.has(p.ppid)) kids.set(p.ppid, []); kids.get(p.ppid).push(p); }
  const stack = [...(kids.get(process.pid) || [])];
  while (stack.length) { const p = stack.pop(); total += p.cpu; stack.push(...(kids.get(p.pid) || [])); }
  return total;
}

// Runs fn() (one engine run in the page); returns tok/s and the browser's CPU utilisation.
async function timedRun(fn, o) {
  const c0 = browserCpuSeconds(), t0 = performance.now();
  const x = await fn();
  const wall = (performance.now() - t0) / 1000, cpu = browserCpuSeconds() - c0;
  return { prefill: o.nPrompt / x.prefillS, decode: x.nDecoded / x.decodeS, util: cpu / (wall * o.threads), generated: x.generated };
}

// How many greedy tokens the two engines agree on before they first differ (a check that both
// saw the same prompt; random weights make later rounding differences likely).
function agreeing(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

async function main() {
  const o = parseArgs(process.argv.slice(2), { nPrompt: 512, nGen: 128, reps: 5, threads: 2, seed: 1n, minIdle: 0.85, maxWait: 3600, minUtil: 0, pause: 10 });
  const model = path.resolve(o.model);
  const size = fs.statSync(model).size;
  if (size > MAX_MODEL_BYTES) {
    // hearth's wasm32 heap and wllama's memory64 build (-sMAXIMUM_MEMORY=4096MB) both stop at 4 GiB.
    const left = (4 * 2 ** 30 - size) / 2 ** 20;
    const why = `${o.model} is ${(size / 2 ** 30).toFixed(2)} GiB: too large for WebAssembly memory, which stops at 4 GiB in both engines. ` +
      `hearth refuses files over ${(MAX_MODEL_BYTES / 2 ** 30).toFixed(2)} GiB (the rest is its own memory); wllama, whose build also caps memory at 4096 MB, would have ${Math.max(0, left).toFixed(0)} MiB left ` +
      `for its runtime, KV cache and compute buffers (not attempted). No browser comparison for this file: skipped.`;
    console.log(`skipped: ${why}`);
    if (o.out) fs.writeFileSync(o.out, JSON.stringify({ model: o.model, skipped: why }, null, 2) + '\n');
    return;
  }
  const types = placeholderTokenTypes(model);
  if (!types.placeholder) throw new Error(`${o.model} has a real vocabulary; this comparison needs the placeholder one of \`hearth convert --random-weights\` (see browser/gguf-vocab.mjs)`);
  if (!fs.existsSync(path.join(REPO, 'build/wasm-bench/hearth-mt.wasm'))) throw new Error('build/wasm-bench is missing: run tools/wasm/build.sh --bench');
  const srv = await serveBench(REPO, model);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-bench-browser-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true,
    args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const logs = [];
  context.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  context.on('weberror', (e) => logs.push(`[pageerror] ${e.error()}`));
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(`${srv.origin}/tools/bench/browser/page.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
    if (!await page.evaluate(() => window.bench.crossOriginIsolated())) throw new Error('the page is not cross-origin isolated: no threads');
    await page.evaluate(([at, n, ud]) => window.bench.fetchModel(at, n, ud), [types.offset, types.count, TOKEN_USER_DEFINED]);
    const nCtx = o.nPrompt + o.nGen + 16;
    const he = await page.evaluate(([t, c]) => window.bench.loadHearth(t, c), [o.threads, nCtx]);
    const wl = await page.evaluate(([t, c, b]) => window.bench.loadWllama(t, c, b), [o.threads, nCtx, o.nPrompt]);
    if (he.threads !== o.threads || wl.threads !== o.threads) throw new Error(`threads: hearth ${he.threads}, wllama ${wl.threads} (multithread ${wl.multithread}); want ${o.threads}`);
    if (he.nVocab !== wl.nVocab) throw new Error(`vocabulary sizes differ: hearth ${he.nVocab}, wllama ${wl.nVocab}`);
    const tokens = benchTokens(o.nPrompt, he.nVocab, o.seed);
    const runHearth = (tk, n) => page.evaluate(([a, b]) => window.bench.runHearth(a, b), [tk, n]);
    const runWllama = (tk, n) => page.evaluate(([a, b]) => window.bench.runWllama(a, b), [tk, n]);
    await runHearth(tokens.slice(0, 32), 4); // warm-up
    await runWllama(tokens.slice(0, 32), 4);

    const { pairs, discarded } = await measurePairs(o, 'wllama', async (wllamaFirst) => {
      let h, w;
      if (!wllamaFirst) { h = await timedRun(() => runHearth(tokens, o.nGen), o); w = await timedRun(() => runWllama(tokens, o.nGen), o); }
      else { w = await timedRun(() => runWllama(tokens, o.nGen), o); h = await timedRun(() => runHearth(tokens, o.nGen), o); }
      const agree = agreeing(h.generated, w.generated);
      delete h.generated, delete w.generated;
      return { hearth: h, other: w, util: [h.util, w.util], extra: { greedy_tokens_agreeing: agree },
        note: `browser cpu utilisation hearth ${h.util.toFixed(2)}, wllama ${w.util.toFixed(2)}; first ${agree}/${o.nGen} greedy tokens agree` };
    });
    const res = {
      model: o.model, threads: o.threads, n_prompt: o.nPrompt, n_gen: o.nGen, pairs: pairs.length, discarded,
      chromium: context.browser()?.version() ?? null, hearth_load: he, wllama_load: wl,
      ...pairMedians(pairs, 'wllama'),
      runs: pairs,
    };
    console.log(`model ${o.model} (${he.arch}), Chromium, ${o.threads} threads, prompt ${o.nPrompt}, decode ${o.nGen}, ${pairs.length} pairs, ${discarded} discarded`);
    console.log(`           hearth-wasm tok/s   wllama tok/s   hearth-wasm/wllama (median of pair ratios)`);
    console.log(`prefill    ${res.prefill.hearth.toFixed(2).padStart(17)}   ${res.prefill.wllama.toFixed(2).padStart(12)}   ${res.prefill.ratio.toFixed(3)}`);
    console.log(`decode     ${res.decode.hearth.toFixed(2).padStart(17)}   ${res.decode.wllama.toFixed(2).padStart(12)}   ${res.decode.ratio.toFixed(3)}`);
    console.log(`load       hearth copy ${he.copyS.toFixed(3)} s + load ${he.loadS.toFixed(3)} s; wllama ${wl.loadS.toFixed(3)} s (from the same Blob)`);
    if (o.out) fs.writeFileSync(o.out, JSON.stringify(res, null, 2) + '\n');
  } catch (e) {
    if (logs.length) console.error(logs.slice(-20).join('\n'));
    throw e;
  } finally {
    await context.close().catch(() => {});
    await srv.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

await main();
