// llamacpp.mjs - llama.cpp (node-llama-cpp 3.21.1, CPU build) measured like `hearth bench`: load, prefill tok/s, decode tok/s.
//
//   node tools/bench/llamacpp.mjs -m MODEL.gguf [-p 512] [-n 128] [-r 5] [--threads 2] [--json]
//
// Prefill: the prompt evaluated in one batch (batchSize = prompt length); decode: n greedy steps,
// each one token in and its logits sampled (temperature 0), as hearth bench does. The prompt is
// the same pseudo-random token list hearth bench uses (xorshift64 from --seed).
import { getLlama } from 'node-llama-cpp';

export function benchTokens(nPrompt, nVocab, seed = 1n) {
  const M = (1n << 64n) - 1n;
  let st = (seed * 0x9e3779b97f4a7c15n + 1n) & M;
  const out = [];
  for (let i = 0; i < nPrompt; i++) {
    st ^= (st << 13n) & M;
    st ^= st >> 7n;
    st ^= (st << 17n) & M;
    out.push(Number(st % BigInt(nVocab)));
  }
  return out;
}

export async function openLlama({ model, threads, nPrompt, nGen }) {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error', maxThreads: threads });
  const t0 = performance.now();
  const m = await llama.loadModel({ modelPath: model, gpuLayers: 0 });
  const loadS = (performance.now() - t0) / 1000;
  const ctx = await m.createContext({
    contextSize: nPrompt + nGen + 16,
    batchSize: nPrompt,
    threads,
    sequences: 1,
  });
  const seq = ctx.getSequence();
  const nVocab = m.fileInfo.metadata.tokenizer.ggml.tokens.length;
  return { llama, model: m, ctx, seq, loadS, nVocab, buildType: llama.buildType, cpu: llama.cpuMathCores };
}

const cpuS = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

// One run: fresh history, prefill, then nGen greedy decode steps. Returns seconds, and the CPU
// seconds this process used in each phase (its compute threads plus node's own).
export async function llamaRun(h, tokens, nGen) {
  await h.seq.clearHistory();
  const c0 = cpuS();
  const t0 = performance.now();
  await h.seq.evaluateWithoutGeneratingNewTokens(tokens.slice(0, -1));
  // the last prompt token goes in with the first decode request, as its logits are needed
  let last = tokens[tokens.length - 1];
  const t1 = performance.now();
  let done = 0;
  let tDecode0 = null, cDecode0 = null;
  while (done < nGen + 1) {
    let got = 0;
    for await (const tok of h.seq.evaluate([last], { temperature: 0, yieldEogToken: true })) {
      if (tDecode0 === null) tDecode0 = performance.now(), cDecode0 = cpuS(); // the prompt's last token is prefill
      last = tok;
      got++;
      if (++done >= nGen + 1) break;
    }
    if (got === 0) break; // no progress (should not happen)
  }
  const t2 = performance.now(), c2 = cpuS();
  // prefill = all prompt tokens but the last + the first evaluate (last prompt token + its sample)
  return { prefillS: (tDecode0 - t0) / 1000, decodeS: (t2 - tDecode0) / 1000, nDecoded: done - 1,
    prefillCpuS: cDecode0 - c0, decodeCpuS: c2 - cDecode0 };
}

export async function closeLlama(h) {
  await h.ctx.dispose();
  await h.model.dispose();
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function parseArgs(argv, defaults) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '-m' || a === '--model') o.model = v, i++;
    else if (a === '-p') o.nPrompt = +v, i++;
    else if (a === '-n') o.nGen = +v, i++;
    else if (a === '-r') o.reps = +v, i++;
    else if (a === '--threads' || a === '-t') o.threads = +v, i++;
    else if (a === '--seed') o.seed = BigInt(v), i++;
    else if (a === '--json') o.json = true;
    else if (a === '--hearth') o.hearth = v, i++;
    else if (a === '--out') o.out = v, i++;
    else if (a === '--min-util') o.minUtil = +v, i++;
    else if (a === '--min-idle') o.minIdle = +v, i++;
    else if (a === '--max-wait') o.maxWait = +v, i++;
    else if (a === '--pause') o.pause = +v, i++;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.model) throw new Error('missing -m MODEL');
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2), { nPrompt: 512, nGen: 128, reps: 5, threads: 2, seed: 1n, json: false });
  const h = await openLlama(o);
  const tokens = benchTokens(o.nPrompt, h.nVocab, o.seed);
  await llamaRun(h, tokens.slice(0, 32), 4); // warm-up: touch the weights
  const pre = [], dec = [];
  for (let r = 0; r < o.reps; r++) {
    const x = await llamaRun(h, tokens, o.nGen);
    pre.push(o.nPrompt / x.prefillS);
    dec.push(x.nDecoded / x.decodeS);
    const up = x.prefillCpuS / (x.prefillS * o.threads), ud = x.decodeCpuS / (x.decodeS * o.threads);
    if (!o.json) console.error(`run ${r + 1}/${o.reps}: prefill ${pre.at(-1).toFixed(2)} tok/s, decode ${dec.at(-1).toFixed(2)} tok/s (cpu utilisation ${up.toFixed(2)}, ${ud.toFixed(2)})`);
  }
  const res = {
    engine: 'llama.cpp', model: o.model, threads: o.threads, load_s: h.loadS, n_prompt: o.nPrompt, n_gen: o.nGen,
    runs: o.reps, prefill_tps: pre, decode_tps: dec, prefill_tps_median: median(pre), decode_tps_median: median(dec),
  };
  if (o.json) console.log(JSON.stringify(res));
  else {
    console.log(`llama.cpp  ${o.model}, ${o.threads} threads, load ${h.loadS.toFixed(3)} s`);
    console.log(`prefill    ${res.prefill_tps_median.toFixed(2)} tok/s (median of ${o.reps})`);
    console.log(`decode     ${res.decode_tps_median.toFixed(2)} tok/s (median of ${o.reps})`);
  }
  await closeLlama(h);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
