// compare.mjs - hearth vs llama.cpp (node-llama-cpp 3.21.1) on the same GGUF, same thread count: paired runs, ratio per pair.
//
//   node tools/bench/compare.mjs -m MODEL.gguf [-p 512] [-n 128] [-r 5] [--threads 2] [--hearth build/hearth] [--out F.json]
//                                [--min-idle 0.85] [--max-wait 3600] [--min-util 0] [--pause 10]
//
// Each pair is one hearth run (a `hearth bench -r 1 --json` process: its own load and warm-up,
// then one prefill of p tokens and n greedy decode steps) and one llama.cpp run (model loaded
// once in this process and warmed up; same prompt tokens, batch = p, greedy decode), back to
// back, in alternating order. Other work on a 2-core machine swamps the figures (and hurts
// llama.cpp's decode more than hearth's), so a pair starts only once the machine has been idle
// (>= --min-idle, default 85%, of CPU time over 1 s; waiting up to --max-wait seconds, default
// 3600), and a pair followed by a busy second is discarded and run again (at most 4 x r attempts;
// the count is reported). Each run also records its CPU utilisation per phase (CPU seconds /
// (wall seconds x threads)); --min-util (default 0: off) discards pairs below it. Run it in a
// high-priority scheduler group (tools/bench/run_all.sh does) so that work starting mid-pair
// barely disturbs it. Printed: each engine's median tok/s and the median of the per-pair ratios
// hearth / llama.cpp (> 1 = hearth faster).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { benchTokens, closeLlama, llamaRun, openLlama, parseArgs } from './llamacpp.mjs';

function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
}

export async function waitQuiet(minIdle, maxWaitS) {
  const t0 = Date.now();
  let idle = 0;
  while ((idle = await idleFraction(1000)) < minIdle && Date.now() - t0 < maxWaitS * 1000) { /* wait */ }
  return idle;
}

export async function idleFraction(ms) {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  return (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

export function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Measures o.reps pairs of hearth against another engine (named other: 'llama', 'wllama'), back
// to back in alternating order, each started on an idle machine; a pair that other work disturbed
// (idle below o.minIdle before or after, or a run's CPU utilisation below o.minUtil) is discarded
// and run again, at most 4 x o.reps attempts. runPair(otherFirst) runs one pair and returns
// { hearth, other, util: [utilisation of every run], note: text for the log, extra: more fields
// for the pair }; each engine's result has prefill and decode tok/s. Returns { pairs, discarded };
// throws when no pair could be measured.
export async function measurePairs(o, other, runPair) {
  const pairs = [];
  let discarded = 0;
  for (let attempt = 0; pairs.length < o.reps && attempt < 4 * o.reps; attempt++) {
    const r = pairs.length;
    if (attempt) await new Promise((res) => setTimeout(res, o.pause * 1000));
    const idle = await waitQuiet(o.minIdle, o.maxWait);
    const { hearth: he, other: ot, util, note, extra } = await runPair(attempt % 2 === 1);
    const after = await idleFraction(1000);
    const p = { idle_before: idle, idle_after: after, hearth: he, [other]: ot, ...extra, prefill_ratio: he.prefill / ot.prefill, decode_ratio: he.decode / ot.decode };
    const line = `(idle ${(idle * 100).toFixed(0)}% before, ${(after * 100).toFixed(0)}% after; ${note}): ` +
      `prefill hearth ${he.prefill.toFixed(2)} / ${other} ${ot.prefill.toFixed(2)} = ${p.prefill_ratio.toFixed(3)}; ` +
      `decode hearth ${he.decode.toFixed(2)} / ${other} ${ot.decode.toFixed(2)} = ${p.decode_ratio.toFixed(3)}`;
    if (idle < o.minIdle || after < o.minIdle || Math.min(...util) < o.minUtil) {
      discarded++;
      console.error(`discarded ${line}`);
      continue;
    }
    pairs.push(p);
    console.error(`pair ${r + 1}/${o.reps} ${line}`);
  }
  if (!pairs.length) throw new Error('every attempt was disturbed by other work: no pair measured');
  return { pairs, discarded };
}

// The medians over pairs from measurePairs: { prefill: { hearth, [other], ratio }, decode: { ... } }.
export function pairMedians(pairs, other) {
  const m = (phase) => ({ hearth: median(pairs.map((p) => p.hearth[phase])), [other]: median(pairs.map((p) => p[other][phase])),
    ratio: median(pairs.map((p) => p[`${phase}_ratio`])) });
  return { prefill: m('prefill'), decode: m('decode') };
}

function hearthRun(o) {
  const out = execFileSync(o.hearth, ['bench', '-m', o.model, '-p', String(o.nPrompt), '-n', String(o.nGen), '-r', '1',
    '--threads', String(o.threads), '--seed', String(o.seed), '--json'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const j = JSON.parse(out.trim().split('\n').pop());
  return { prefill: j.prefill_tps[0], decode: j.decode_tps[0], load: j.load_s, weights: j.weights ?? 'mmap', kernels: j.kernels, rss: j.peak_rss_mib,
    util: [j.prefill_cpu_util[0], j.decode_cpu_util[0]] };
}

async function main() {
  const o = parseArgs(process.argv.slice(2), { nPrompt: 512, nGen: 128, reps: 5, threads: 2, seed: 1n, hearth: 'build/hearth', minIdle: 0.85, maxWait: 3600, minUtil: 0, pause: 10 });
  const h = await openLlama(o);
  const tokens = benchTokens(o.nPrompt, h.nVocab, o.seed);
  await llamaRun(h, tokens.slice(0, 32), 4); // warm-up
  const runLlama = async () => {
    const x = await llamaRun(h, tokens, o.nGen);
    return { prefill: o.nPrompt / x.prefillS, decode: x.nDecoded / x.decodeS,
      util: [x.prefillCpuS / (x.prefillS * o.threads), x.decodeCpuS / (x.decodeS * o.threads)] };
  };
  const { pairs, discarded } = await measurePairs(o, 'llama', async (llamaFirst) => {
    let he, ll;
    if (!llamaFirst) { he = hearthRun(o); ll = await runLlama(); }
    else { ll = await runLlama(); he = hearthRun(o); }
    const u = (x) => x.util.map((v) => v.toFixed(2)).join('/');
    return { hearth: he, other: ll, util: [...he.util, ...ll.util], note: `cpu utilisation prefill/decode hearth ${u(he)}, llama ${u(ll)}` };
  });
  const res = {
    model: o.model, threads: o.threads, n_prompt: o.nPrompt, n_gen: o.nGen, pairs: pairs.length, discarded,
    hearth_kernels: pairs[0].hearth.kernels, hearth_load_s: median(pairs.map((p) => p.hearth.load)), hearth_weights: pairs[0].hearth.weights, llama_load_s: h.loadS,
    hearth_peak_rss_mib: Math.max(...pairs.map((p) => p.hearth.rss)),
    ...pairMedians(pairs, 'llama'),
    runs: pairs,
  };
  console.log(`model ${o.model}, ${o.threads} threads, prompt ${o.nPrompt}, decode ${o.nGen}, ${pairs.length} pairs, ${discarded} discarded (hearth kernels: ${res.hearth_kernels})`);
  console.log(`           hearth tok/s   llama.cpp tok/s   hearth/llama (median of pair ratios)`);
  console.log(`prefill    ${res.prefill.hearth.toFixed(2).padStart(12)}   ${res.prefill.llama.toFixed(2).padStart(15)}   ${res.prefill.ratio.toFixed(3)}`);
  console.log(`decode     ${res.decode.hearth.toFixed(2).padStart(12)}   ${res.decode.llama.toFixed(2).padStart(15)}   ${res.decode.ratio.toFixed(3)}`);
  console.log(`load       hearth ${res.hearth_load_s.toFixed(3)} s (${res.hearth_weights}), llama.cpp ${res.llama_load_s.toFixed(3)} s; hearth peak RSS ${res.hearth_peak_rss_mib.toFixed(0)} MiB`);
  if (o.out) writeFileSync(o.out, JSON.stringify(res, null, 2) + '\n');
  await closeLlama(h);
}

// tools/bench/browser.mjs imports the idle gating, the pair loop and the medians from here.
if (import.meta.url === `file://${process.argv[1]}`) await main();
