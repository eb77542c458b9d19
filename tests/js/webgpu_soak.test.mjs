// webgpu_soak.test.mjs - one long WebGPU session: greedy generation through the product's loop (web/gpu/driver.js, hg_gen_*) with memory flat after warm-up and every token checked against the CPU.
//
// The nemotron_h_tiny fixture (f32: Mamba-2, attention and relu² MLP blocks, vocab 512) generates
// $HEARTH_GPU_SOAK_TOKENS tokens greedily after golden prompt 2, sampling on the GPU (4 bytes read
// back per token, logits never), in a context that holds them all. Default: 20,000 on a real GPU;
// 100 on SwiftShader, which runs this model at 0.4-2 s a token on the shared 2-core machine
// (20,000 would take hours; docs/RELIABILITY.md §3 has the 20,000-token run on an H100).
// Checked, from the warm-up (a twentieth of the run, at least 50 tokens) to the end:
//   - GPU: the host's buffers (plan, readback, params: count and bytes) and bind groups unchanged;
//   - planner process (the C side) RSS grows <= 1 MiB; node RSS <= 8 MiB, its JS heap after a full
//     GC <= 1 MiB (a leaked step blob, ~7 KB a token, would exceed each of these within 1,000 tokens);
//   - the tokens: the first 16 equal transformers' greedy tokens (golden greedy_2), and all of them,
//     teacher-forced, equal the CPU backend's argmax on the same sequence (cpu_check), except where the
//     CPU's top two logits are within 1e-4 of the row's scale (a legitimate tie; at most 1%).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { GpuHost } from '../../web/gpu/host.js';
import { generateTokens } from '../../web/gpu/driver.js';
import { Planner, SHARED, TMP, makeChecker, openDevice } from './webgpu_common.mjs';
import { readSafetensors } from './safetensors.mjs';

const c = makeChecker('webgpu_soak');
const dir = join(TMP, 'webgpu_soak');
mkdirSync(dir, { recursive: true });
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const MiB = 1 << 20;

const planner = new Planner(dir);
const dev = await openDevice();
const host = new GpuHost(dev.device, dev);
const info = dev.adapter.info || {};
const swiftshader = JSON.stringify([info.vendor, info.architecture, info.device, info.description]).toLowerCase().includes('swiftshader');
const N = Number(process.env.HEARTH_GPU_SOAK_TOKENS ?? (swiftshader ? 100 : 20000));
const WARM = Math.max(50, Math.round(N / 20));
console.log(`adapter: ${info.vendor} ${info.architecture} ${info.description || ''}; ${N} tokens, warm-up ${WARM}`);

const plannerRss = () => Number(readFileSync(`/proc/${planner.proc.pid}/statm`, 'utf8').split(' ')[1]) * 4096;
function sample(n, t0) {
  gc();
  const m = process.memoryUsage();
  return { n, s: (performance.now() - t0) / 1000, rss: m.rss, heap: m.heapUsed, planner: plannerRss(), gpu: host.memoryStats() };
}
const show = (x) => `${String(x.n).padStart(6)} tokens ${x.s.toFixed(1).padStart(7)} s  node RSS ${(x.rss / MiB).toFixed(2)} MiB, heap ${(x.heap / MiB).toFixed(2)} MiB  planner RSS ${(x.planner / MiB).toFixed(2)} MiB  GPU ${x.gpu.buffers + x.gpu.staging + 1} buffers ${((x.gpu.bufferBytes + x.gpu.stagingBytes + x.gpu.paramsBytes) / MiB).toFixed(2)} MiB, ${x.gpu.bindGroups} bind groups`;

try {
  const fx = 'nemotron_h_tiny';
  const golden = readSafetensors(join(SHARED, 'fixtures', fx, 'golden.safetensors'));
  const prompt = Array.from(golden.tokens_2);
  const gguf = join(TMP, `webgpu-soak-${fx}-f32.gguf`);
  await planner.cmd(`convert ${join(SHARED, 'fixtures', fx)} ${gguf} f32`);
  const nCtx = Math.ceil((prompt.length + N + 1) / 256) * 256;
  const f = host.facts();
  const [, plan] = await planner.cmd(`load ${gguf} ${nCtx} 64 1 8 0 ${f.maxBinding} ${f.maxBuffer} ${f.maxWorkgroups} ${f.subgroupMin} ${f.dot4 ? 1 : 0}`);
  const fh = await open(gguf, 'r');
  await host.loadPlan(planner.blob(plan), { read: async (off, len) => { const b = new Uint8Array(len); const { bytesRead } = await fh.read(b, 0, len, off); return b.subarray(0, bytesRead); } });
  await fh.close();

  await planner.cmd(`gen_begin 1 ${N} 0 0 1 0 1 ${prompt.length} ${prompt.join(' ')}`);
  const tokens = [];
  const marks = [WARM, WARM + (N - WARM) / 4, WARM + (N - WARM) / 2, WARM + 3 * (N - WARM) / 4, N].map(Math.round);
  const at = [];
  let fellBack = false;
  const t0 = performance.now();
  for await (const t of generateTokens(planner, host, { onFallback: (err) => { fellBack = err; } })) {
    tokens.push(t);
    if (tokens.length === marks[at.length]) { at.push(sample(tokens.length, t0)); console.log('# ' + show(at[at.length - 1])); }
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(`# ${tokens.length} tokens in ${secs.toFixed(1)} s = ${(tokens.length / secs).toFixed(1)} tok/s (n_ctx ${nCtx})`);
  c.check(!fellBack, `the GPU was given up: ${fellBack && fellBack.message}`);
  c.check(tokens.length === N && at.length === 5, `generated ${tokens.length} tokens, expected ${N}`);

  if (at.length === 5) {
    const [w, e] = [at[0], at[4]];
    for (const k of ['buffers', 'bufferBytes', 'staging', 'stagingBytes', 'paramsBytes', 'bindGroups'])
      c.check(e.gpu[k] === w.gpu[k], `GPU ${k}: ${w.gpu[k]} at token ${w.n}, ${e.gpu[k]} at ${e.n}`);
    c.check(e.planner - w.planner <= 1 * MiB, `planner RSS grew ${((e.planner - w.planner) / MiB).toFixed(2)} MiB after warm-up`);
    c.check(e.rss - w.rss <= 8 * MiB, `node RSS grew ${((e.rss - w.rss) / MiB).toFixed(2)} MiB after warm-up`);
    c.check(e.heap - w.heap <= 1 * MiB, `node JS heap grew ${((e.heap - w.heap) / MiB).toFixed(2)} MiB after warm-up`);
  }

  const want = Array.from(golden.greedy_2);
  c.check(JSON.stringify(tokens.slice(0, want.length)) === JSON.stringify(want), `first tokens ${tokens.slice(0, want.length)} != transformers' greedy ${want}`);
  const seqFile = join(dir, 'sequence.bin');
  writeFileSync(seqFile, new Uint8Array(Int32Array.from(prompt.concat(tokens)).buffer));
  const [, res] = await planner.cmd(`cpu_check ${seqFile} ${prompt.length}`);
  const b = planner.blob(res);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let agree = 0, ties = 0, wrong = 0;
  for (let k = 0; k < tokens.length; k++) {
    const cpu = dv.getInt32(8 * k, true), gap = dv.getFloat32(8 * k + 4, true);
    if (cpu === tokens[k]) agree++;
    else if (gap <= 1e-4) ties++;
    else if (++wrong <= 5) c.check(false, `token ${k}: the GPU chose ${tokens[k]}, the CPU ${cpu} (top-2 gap ${gap.toExponential(2)} of the row's scale)`);
  }
  c.check(wrong === 0, `${wrong} of ${tokens.length} GPU tokens are not the CPU's argmax`);
  c.check(ties <= tokens.length / 100, `${ties} near-ties of ${tokens.length} (more than 1%: the logits are flat, the check says nothing)`);
  console.log(`# teacher-forced on the CPU: ${agree} of ${tokens.length} tokens equal its argmax, ${ties} near-ties; distinct tokens ${new Set(tokens).size}`);
} catch (err) {
  c.check(false, err.stack);
}
planner.close();
process.exit(c.summary());
