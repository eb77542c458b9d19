// llamacpp.test.mjs - GGUF files written by `hearth convert` load in llama.cpp (node-llama-cpp) and give hearth's greedy tokens.
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
const fixtures = ['nemotron_h_tiny', 'llama_tiny', 'qwen2_tiny', 'qwen3_tiny'];
for (const fx of fixtures) {
  const golden = readSafetensors(join(shared, 'fixtures', fx, 'golden.safetensors'));
  const prompt = Array.from(golden.tokens_2);
  for (const type of ['f32', 'q8_0']) {
    const gguf = join(tmp, `interop-${fx}-${type}.gguf`);
    const out = join(tmp, `interop-${fx}-${type}.safetensors`);
    execFileSync(hearth, ['convert', join(shared, 'fixtures', fx), gguf, '--type', type, '--quiet']);
    execFileSync(hearth, ['logits', '-m', gguf, '--tokens', prompt.join(','), '--out', out, '--generate', '16']);
    const ours = Array.from(readSafetensors(out).generated);
    let theirs = [];
    try {
      const model = await llama.loadModel({ modelPath: gguf });
      const ctx = await model.createContext({ contextSize: 128, batchSize: 64, threads: 1 });
      const seq = ctx.getSequence();
      for await (const tok of seq.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
        theirs.push(tok);
        if (theirs.length === 16) break;
      }
      await ctx.dispose();
      await model.dispose();
    } catch (err) {
      check(false, `${fx} ${type}: llama.cpp could not load hearth's GGUF: ${err.message}`);
      continue;
    }
    console.log(`${fx} ${type}: hearth ${ours.join(',')}`);
    console.log(`${fx} ${type}: llama  ${theirs.join(',')}`);
    check(JSON.stringify(ours) === JSON.stringify(theirs), `${fx} ${type}: greedy tokens differ between hearth and llama.cpp`);
    if (type === 'f32') {
      check(JSON.stringify(ours) === JSON.stringify(Array.from(golden.greedy_2)), `${fx} f32: hearth's greedy tokens differ from greedy_2`);
    }
  }
}
console.log(`## llamacpp: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
