// cli.test.mjs - the hearth command end to end: convert, info, logits (prefill/decode/generate), run --print-ids, bad input.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from './safetensors.mjs';

const shared = process.env.HEARTH_SHARED ?? '../shared';
const tmp = process.env.HEARTH_TMP ?? '/tmp';
const hearth = process.env.HEARTH_BIN ?? 'build/hearth';
let passed = 0, failed = 0;
function check(ok, msg) {
  if (ok) passed++;
  else { failed++; console.error('FAIL ' + msg); }
}
const run = (args) => spawnSync(hearth, args, { encoding: 'utf8' });

// max |a-b| / max |ref| per row, worst over rows
function worstRowError(out, ref, rows, V) {
  let worst = 0;
  for (let t = 0; t < rows; t++) {
    let md = 0, mr = 0;
    for (let i = 0; i < V; i++) {
      md = Math.max(md, Math.abs(out[t * V + i] - ref[t * V + i]));
      mr = Math.max(mr, Math.abs(ref[t * V + i]));
    }
    worst = Math.max(worst, md / (mr || 1));
  }
  return worst;
}

mkdirSync(tmp, { recursive: true });
for (const fx of ['nemotron_h_tiny', 'llama_tiny', 'qwen2_tiny', 'qwen3_tiny']) {
  const golden = readSafetensors(join(shared, 'fixtures', fx, 'golden.safetensors'));
  const gguf = join(tmp, `cli-${fx}.gguf`);
  const conv = run(['convert', join(shared, 'fixtures', fx), gguf, '--type', 'f32']);
  check(conv.status === 0, `${fx}: convert exited ${conv.status}: ${conv.stderr}`);

  const info = run(['info', gguf]);
  const arch = fx.replace('_tiny', '');
  check(info.status === 0 && info.stdout.includes(`architecture  ${arch}`), `${fx}: info names the architecture`);
  check(/total\s+\d+ bytes/.test(info.stdout) && info.stdout.includes('type mix'), `${fx}: info shows the total size and type mix`);

  for (const c of [0, 1, 2]) {
    const tokens = Array.from(golden[`tokens_${c}`]);
    const ref = golden[`logits_${c}`];
    const V = ref.length / tokens.length;
    for (const decode of [false, true]) {
      const out = join(tmp, `cli-${fx}-${c}-${decode}.safetensors`);
      const args = ['logits', '-m', gguf, '--tokens', tokens.join(','), '--out', out];
      if (decode) args.push('--decode');
      if (c === 2) args.push('--generate', '16');
      const r = run(args);
      check(r.status === 0, `${fx} logits ${c}: exit ${r.status} ${r.stderr}`);
      if (r.status !== 0) continue;
      const got = readSafetensors(out);
      check(got.logits.shape[0] === tokens.length && got.logits.shape[1] === V, `${fx}: logits shape [T, vocab]`);
      const err = worstRowError(got.logits, ref, tokens.length, V);
      check(err <= 1e-4, `${fx} tokens_${c} ${decode ? 'decode' : 'prefill'}: row error ${err} > 1e-4`);
      if (c === 2) {
        check(JSON.stringify(Array.from(got.generated)) === JSON.stringify(Array.from(golden.greedy_2)),
          `${fx}: --generate 16 gives greedy_2`);
      }
    }
  }
  const r = run(['run', '-m', gguf, '--prompt-tokens', Array.from(golden.tokens_2).join(','), '--print-ids', '-n', '16', '--temp', '0']);
  check(r.status === 0, `${fx} run: exit ${r.status} ${r.stderr}`);
  check(r.stdout.trim() === Array.from(golden.greedy_2).join(' '), `${fx} run --print-ids prints greedy_2: got '${r.stdout.trim()}'`);
}

// k-quant files: info names the types of the mix
{
  const gguf = join(tmp, 'cli-llama_k-q4_k_m.gguf');
  const conv = run(['convert', '--random-weights', join('tests', 'data', 'kquant', 'llama_k.config.json'), gguf, '--type', 'q4_k_m', '--quiet']);
  check(conv.status === 0, `llama_k q4_k_m: convert exited ${conv.status}: ${conv.stderr}`);
  const info = run(['info', gguf]);
  check(info.status === 0 && /type mix .*q4_K: 25 tensors.*q6_K: 5 tensors/.test(info.stdout), `llama_k q4_k_m: info shows the k-quant mix: ${info.stdout}`);
}

// a type hearth cannot compute with (a q8_0 output.weight retyped to iq4_nl, id 20, whose blocks
// are smaller, so the file stays well formed): info still shows the table and the mix, marks the
// type, and says why the file cannot run; loading it names the type and the tensor
{
  const src = join(tmp, 'cli-llama_tiny-q8_0.gguf'), dst = join(tmp, 'cli-llama_tiny-iq4_nl.gguf');
  check(run(['convert', join(shared, 'fixtures', 'llama_tiny'), src, '--type', 'q8_0']).status === 0, 'convert llama_tiny q8_0');
  const buf = readFileSync(src);
  const name = Buffer.concat([Buffer.from([13, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('output.weight')]);
  const at = buf.indexOf(name) + name.length + 4 + 2 * 8; /* after n_dims and two dims: the type */
  check(buf.readUInt32LE(at) === 8, 'output.weight is q8_0');
  buf.writeUInt32LE(20, at);
  writeFileSync(dst, buf);
  const info = run(['info', dst]);
  check(info.status === 0 && /output\.weight\s+iq4_nl/.test(info.stdout) && /iq4_nl: 1 tensors .*\[not supported\]/.test(info.stdout),
    `info lists the unsupported type: ${info.stdout}`);
  check(/runs\s+no: .*'output\.weight' has type iq4_nl/.test(info.stdout), 'info says why the file cannot run');
  const r = run(['logits', '-m', dst, '--tokens', '1,2', '--out', join(tmp, 'x.st')]);
  check(r.status !== 0 && /'output\.weight' has type iq4_nl/.test(r.stderr), `loading names the tensor and the type: ${r.stderr}`);
}

// bad input: a clear message and a non-zero exit
const notGguf = join(tmp, 'cli-not-a-model.gguf');
writeFileSync(notGguf, 'this is not a gguf file at all, just text\n');
const cases = [
  [['info', notGguf], /magic|not a GGUF/i],
  [['info', join(tmp, 'does-not-exist.gguf')], /cannot open/],
  [['convert', join(tmp, 'no-such-dir'), join(tmp, 'x.gguf')], /config\.json/],
  [['convert', join(shared, 'fixtures', 'llama_tiny'), join(tmp, 'x.gguf'), '--type', 'q9_9'], /unknown type/],
  [['logits', '-m', notGguf, '--tokens', '1,2', '--out', join(tmp, 'x.st')], /magic|not a GGUF/i],
  [['logits', '-m', join(tmp, 'cli-llama_tiny.gguf'), '--tokens', '1,99999', '--out', join(tmp, 'x.st')], /outside the vocabulary/],
  [['run', '-m', join(tmp, 'cli-llama_tiny.gguf'), '-p', 'hello'], /vocabulary|chat template/],
  [['run', '-m', join(tmp, 'cli-llama_tiny.gguf'), '--prompt-tokens', '1,2,3', '-c', '2'], /context/],
  [['frobnicate'], /unknown command/],
];
for (const [args, pattern] of cases) {
  const r = run(args);
  check(r.status !== 0 && r.status !== null, `hearth ${args.join(' ')}: expected a failing exit, got ${r.status}`);
  check(r.signal === null, `hearth ${args.join(' ')}: killed by ${r.signal}`);
  check(pattern.test(r.stderr), `hearth ${args.join(' ')}: stderr '${r.stderr.trim()}' does not match ${pattern}`);
}
console.log(`## cli: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
