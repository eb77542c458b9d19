// webgpu_ops.test.mjs - every WebGPU kernel against the plain-C reference (src/ops.c) on fresh random inputs, through web/gpu/host.js.
//
// The cases (shapes, weight types, tolerances) are made by the native helper `gpu_plan ops`
// (tests/webgpu/gpu_ops.c, where each tolerance is stated and justified): it writes each case's
// plan (inputs), step (the op's dispatches, as the forward pass emits them) and the reference
// outputs. Here each case runs on the device and its outputs are compared.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpuHost } from '../../web/gpu/host.js';
import { HELPER, TMP, makeChecker, normErr, openDevice } from './webgpu_common.mjs';

const c = makeChecker('webgpu_ops');

// Q8 blocks (8 words of int8 codes + f32 d) against the f32 values they quantise: d within one
// f16 step of amax / 127, every code * d within 0.57 d of its value (half a step, plus up to 127
// codes times d's f16 rounding of 2^-11: the bound src/cpu_kernels.h states).
function checkQ8(words, vals) {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let b = 0; b < vals.length / 32; b++) {
    u[0] = words[b * 9 + 8];
    const d = f[0];
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(vals[b * 32 + j]));
    const want = amax / 127;
    if (Math.abs(d - want) > want / 1024 + 1e-30) return `block ${b}: d ${d} for amax/127 = ${want}`;
    for (let j = 0; j < 32; j++) {
      const q = ((words[b * 9 + (j >> 2)] >>> (8 * (j & 3))) << 24) >> 24;
      if (Math.abs(q * d - vals[b * 32 + j]) > 0.57 * d + 1e-6 * Math.abs(vals[b * 32 + j]))
        return `block ${b} code ${j}: ${q} * ${d} for ${vals[b * 32 + j]}`;
    }
  }
  return null;
}
const dir = join(TMP, 'webgpu_ops');
mkdirSync(dir, { recursive: true });
const only = process.argv[2];
const dev = await openDevice();
const { device } = dev;
const host = new GpuHost(device, dev);
// the weight kernels run again in the device's optional variants (subgroups, dot4I8Packed)
const f = host.facts();
execFileSync(HELPER, ['ops', dir, String(f.subgroupMin), f.dot4 ? '1' : '0'], { stdio: ['ignore', 'inherit', 'inherit'] });
const cases = readFileSync(join(dir, 'index.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
for (const cs of cases) {
  if (only && !cs.name.includes(only)) continue;
  const t0 = Date.now();
  let reads;
  try {
    await host.loadPlan(readFileSync(join(dir, `${cs.id}.plan`)));
    reads = await host.run(readFileSync(join(dir, `${cs.id}.step`)));
  } catch (err) {
    c.check(false, `${cs.name}: ${err.message}`);
    host.reset();
    continue;
  }
  const expect = readFileSync(join(dir, `${cs.id}.expect`));
  let at = 0;
  const errs = [];
  cs.outputs.forEach((o, i) => {
    const bytes = expect.buffer.slice(expect.byteOffset + at, expect.byteOffset + at + 4 * o.n);
    at += 4 * o.n;
    const got = reads[i]?.data;
    const size = o.type === 'q8' ? (o.n / 32) * 36 : 4 * o.n;
    if (!c.check(got && got.byteLength === size, `${cs.name}: output ${i} has ${got?.byteLength} bytes, expected ${size}`)) return;
    const gb = got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength);
    if (o.type === 'q8') {
      const bad = checkQ8(new Uint32Array(gb), new Float32Array(bytes));
      c.check(!bad, `${cs.name}: output ${i}: ${bad}`);
      errs.push(bad ? 'bad q8' : 'q8 ok');
    } else if (o.type === 'u32') {
      const a = new Uint32Array(gb), b = new Uint32Array(bytes);
      const bad = b.findIndex((v, k) => v !== a[k]);
      c.check(bad < 0, `${cs.name}: output ${i} differs at ${bad}: ${a[bad]} vs ${b[bad]}`);
      errs.push(bad < 0 ? 'exact' : 'differs');
    } else {
      const e = normErr(new Float32Array(gb), new Float32Array(bytes));
      c.check(e <= o.tol, `${cs.name}: output ${i} normalised error ${e.toExponential(2)} > ${o.tol}`);
      errs.push(e.toExponential(1));
    }
  });
  console.log(`${cs.name}: ${cs.dispatches} dispatches, error ${errs.join(' ')} (${Date.now() - t0} ms)`);
  host.reset();
}
host.destroy();
device.destroy();
process.exit(c.summary());
