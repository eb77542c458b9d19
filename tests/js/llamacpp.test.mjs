// llamacpp.test.mjs - GGUF files written by `hearth convert` (f32, q8_0, q4_k_m, q6_k; fixtures and 256-wide random models) load in llama.cpp (node-llama-cpp), give hearth's greedy tokens and (f32) the reference's argmax everywhere.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getLlama } from 'node-llama-cpp';
import { readSafetensors } from './safetensors.mjs';

const shared = process.env.HEARTH_SHARED ?? '../shared';
const tmp = process.env.HEARTH_TMP ?? '/tmp';
const hearth = process.env.HEARTH_BIN ?? 'build/hearth';
let passed = 0, failed = 0;
function check(ok, msg) {
  if (ok) passed++;
  else { failed++; console.error('FAIL ' + msg); }
}

mkdirSync(tmp, { recursive: true });
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });

// The type mix of a GGUF as `hearth info` prints it ("f32: 9 tensors (0.01 MiB) q4_K: ...").
function typeMix(gguf) {
  const info = execFileSync(hearth, ['info', gguf], { encoding: 'utf8' });
  const line = info.split('\n').find((l) => l.startsWith('type mix'));
  return line ? line.replace(/^type mix\s*/, '').replace(/ \([0-9.]+ MiB\)/g, '') : '?';
}

// Greedy tokens of llama.cpp (single-threaded, CPU) after `prompt`; null when it cannot load the file.
async function llamaGreedy(gguf, prompt, n, label) {
  const theirs = [];
  try {
    const model = await llama.loadModel({ modelPath: gguf });
    const ctx = await model.createContext({ contextSize: 128, batchSize: 64, threads: 1 });
    const seq = ctx.getSequence();
    for await (const tok of seq.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
      theirs.push(tok);
      if (theirs.length === n) break;
    }
    await ctx.dispose();
    await model.dispose();
  } catch (err) {
    check(false, `${label}: llama.cpp could not load hearth's GGUF: ${err.message}`);
    return null;
  }
  return theirs;
}

// Where hearth and llama.cpp may differ: llama.cpp multiplies Q8_0, k-quant (and Q5_0) weights by
// activations rounded to 8-bit (Q8_0 / Q8_K) blocks; hearth multiplies Q8_0 and k-quant weights by
// activations rounded to int16 blocks (src/cpu_kernels.h: issue #2's per-fixture q8_0 top-1 needs
// it: 0.911 -> 0.978 on nemotron_h_tiny) and Q5_0 by f32 ones in its reference path. That moves
// logits by up to ~4% of the row's largest (test_kquant.c simulates it), so on these random models,
// whose top logits are often close, a greedy step can flip between two near-equal tokens. For the
// k-quant files the check is therefore: along llama.cpp's tokens (teacher-forced in hearth), every
// token llama.cpp picked is hearth's argmax, or within NEAR_TIE * max|logit| of it (measured flips:
// gaps of 0.3-0.7%; a wrong block layout gives gaps of the logits' whole spread). Exact equality is
// still counted and printed. f32 files compute the same arithmetic: exact tokens required, and
// llama.cpp's argmax must equal the reference's at every prompt position (llamaTop1). (q8_0 was
// exact too while hearth used 8-bit activations like llama.cpp; with int16 activations llama_tiny
// q8_0 flips once, at step 8, where the reference's top two are 1.43% of max|logit| apart and the
// q8_0 weights alone move that row by 1.55%: which engine lands on which side is a coin toss that
// keeping any one of several matrices at f32 turns. llama.cpp's own q8_0 top-1 against the
// reference, printed below, is 0.933 on nemotron_h_tiny: below the 0.95 hearth is held to.)
const NEAR_TIE = 0.03;

function teacherForced(gguf, prompt, theirs, label) {
  const out = join(tmp, 'interop-forced.safetensors');
  execFileSync(hearth, ['logits', '-m', gguf, '--tokens', [...prompt, ...theirs].join(','), '--out', out]);
  const L = readSafetensors(out).logits, V = L.length / (prompt.length + theirs.length);
  let flips = 0;
  for (let k = 0; k < theirs.length; k++) {
    const row = L.subarray((prompt.length - 1 + k) * V, (prompt.length + k) * V);
    let best = 0, mx = 0;
    for (let i = 0; i < V; i++) {
      if (row[i] > row[best]) best = i;
      mx = Math.max(mx, Math.abs(row[i]));
    }
    if (best === theirs[k]) continue;
    const gap = (row[best] - row[theirs[k]]) / mx;
    flips++;
    console.log(`  step ${k}: llama.cpp ${theirs[k]}, hearth ${best}, gap ${(100 * gap).toFixed(2)}% of max|logit|`);
    check(gap <= NEAR_TIE, `${label}: llama.cpp's token ${theirs[k]} at step ${k} is ${(100 * gap).toFixed(1)}% below hearth's best`);
  }
  return flips;
}

function argmaxRow(L, t, V) {
  let best = 0;
  for (let v = 1; v < V; v++) if (L[t * V + v] > L[t * V + best]) best = v;
  return best;
}

// Top-1 of llama.cpp on every position of the fixture's prompts (tokens_0/1/2), against the
// reference's logits, counted like test_fixtures counts hearth's. f32: every position must agree
// (the file holds the reference's weights). q8_0: printed next to hearth's, for the record: on
// these flat random-init logits llama.cpp's 8-bit activations cost it some near-ties.
async function llamaTop1(gguf, golden) {
  const model = await llama.loadModel({ modelPath: gguf });
  let agree = 0, n = 0;
  for (const i of [0, 1, 2]) {
    const toks = Array.from(golden[`tokens_${i}`]), ref = golden[`logits_${i}`], V = ref.length / toks.length;
    const ctx = await model.createContext({ contextSize: 128, batchSize: 64, threads: 1 });
    const res = await ctx.getSequence().controlledEvaluate(toks.map((t) => [t, { generateNext: { probabilities: true } }]));
    for (let t = 0; t < toks.length; t++) {
      const top = res[t]?.next?.probabilities?.keys().next().value;
      agree += top === argmaxRow(ref, t, V);
      n++;
    }
    await ctx.dispose();
  }
  await model.dispose();
  console.log(`  llama.cpp top-1 against the reference: ${agree}/${n} = ${(agree / n).toFixed(3)}`);
  return { agree, n };
}

// Converts (args: a fixture folder, or --random-weights CONFIG), then compares 16 greedy tokens.
async function compare(label, convertArgs, type, prompt) {
  const gguf = join(tmp, `interop-${label}-${type}.gguf`);
  const out = join(tmp, `interop-${label}-${type}.safetensors`);
  execFileSync(hearth, ['convert', ...convertArgs, gguf, '--type', type, '--quiet']);
  execFileSync(hearth, ['logits', '-m', gguf, '--tokens', prompt.join(','), '--out', out, '--generate', '16']);
  const ours = Array.from(readSafetensors(out).generated);
  const theirs = await llamaGreedy(gguf, prompt, 16, `${label} ${type}`);
  if (!theirs) return { gguf, ours };
  const same = JSON.stringify(ours) === JSON.stringify(theirs);
  console.log(`${label} ${type} [${typeMix(gguf)}]: ${same ? 'same greedy tokens' : 'greedy tokens differ'}`);
  console.log(`  hearth ${ours.join(',')}`);
  console.log(`  llama  ${theirs.join(',')}`);
  if (type === 'f32') {
    check(same, `${label} ${type}: greedy tokens differ between hearth and llama.cpp`);
  } else {
    check(theirs.length === 16, `${label} ${type}: llama.cpp gave ${theirs.length} tokens`);
    if (!same) {
      const flips = teacherForced(gguf, prompt, theirs, `${label} ${type}`);
      console.log(`  ${flips} near-tie step(s); at every other step llama.cpp's token is hearth's argmax`);
    }
  }
  return { gguf, ours };
}

// The fixtures: rows of 64 and 160, so q4_k_m and q6_k become llama.cpp's fallback types
// (Q5_0 / Q8_0), which the type mix printed above each comparison shows.
const fixtures = ['nemotron_h_tiny', 'llama_tiny', 'qwen2_tiny', 'qwen3_tiny'];
for (const fx of fixtures) {
  const golden = readSafetensors(join(shared, 'fixtures', fx, 'golden.safetensors'));
  const prompt = Array.from(golden.tokens_2);
  for (const type of ['f32', 'q8_0', 'q4_k_m', 'q6_k']) {
    const { gguf, ours } = await compare(fx, [join(shared, 'fixtures', fx)], type, prompt);
    if (type === 'f32') {
      check(JSON.stringify(ours) === JSON.stringify(Array.from(golden.greedy_2)), `${fx} f32: hearth's greedy tokens differ from greedy_2`);
      const { agree, n } = await llamaTop1(gguf, golden);
      check(agree === n, `${fx} f32: llama.cpp's argmax differs from the reference's at ${n - agree} of ${n} positions`);
    } else if (type === 'q8_0') {
      await llamaTop1(gguf, golden);
    }
  }
}

// Random-weight models whose rows are multiples of 256: real Q4_K / Q6_K blocks through llama.cpp.
const prompt = Array.from({ length: 24 }, (_, i) => (i * 193 + 71) % 512);
for (const cfg of ['llama_k', 'qwen3_k', 'nemotron_h_k']) {
  for (const type of ['q4_k_m', 'q6_k']) {
    await compare(cfg, ['--random-weights', join('tests', 'data', 'kquant', `${cfg}.config.json`), '--seed', '5'], type, prompt);
  }
}
console.log(`## llamacpp: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
