// matvec_bench.mjs - times variants of the planar Q4_0 matrix-vector kernel (matvec_planar.wgsl, matvec_q4.wgsl) on the 4B model's decode shapes; GB/s of weight bytes, each variant checked against a CPU sum first.
//
//   node tools/gpu/matvec_bench.mjs [--reps N] [--quick] [--only NAME]
//
// Weights: random planar Q4_0 (wq.wgsl WPLANAR: all blocks' 16-byte quants, then all f16 scales),
// several copies cycled so that the weights read are not in L2 (H100: 50 MB) as in a real decode step,
// where every matrix is read once. Activations: random Q8 blocks (quant_act.wgsl: 8 words of int8
// codes + f32 d). The WGSL is assembled as src/webgpu/hg_plan.c does (lanes_sg or lanes_wg, dot_dp4
// or dot_emul, wq, epilogue, then the kernel). Each variant's output for 1 token on every shape (and
// 1..8 tokens on a small shape with a row count no workgroup size divides) is checked against the CPU's
// sums of the integer block dot products scaled by d_w * d_x: the error relative to the sum of the
// terms' magnitudes must stay below 1e-5 (f32 sums in another order). Then N dispatches back to back
// in one compute pass (timestamp queries where offered, else wall clock; median of 5 passes).
// --quick: shapes with 1/64 of the rows and 2 dispatches (SwiftShader: a correctness run).
import { readFileSync } from 'node:fs';
import { requestGpuDevice } from '../../web/gpu/host.js';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const QUICK = args.includes('--quick');
const REPS = Number(opt('--reps', QUICK ? 2 : 200));
const ONLY = opt('--only', null);
const KDIR = new URL('../../web/gpu/kernels/', import.meta.url);
const wgsl = (n) => readFileSync(new URL(`${n}.wgsl`, KDIR), 'utf8');
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

// decode shapes of Nemotron-3-Nano-4B (../shared/models/nemotron-3-nano-4b.config.json), n_in x n_out:
// Mamba in_proj (z, xBC, dt: 2 * 7680 + 2 * 8 * 128 + 96), out_proj, MLP up / down, fused q|k|v, o
const SHAPES = [
  ['ssm_in', 3136, 17504], ['ssm_out', 7680, 3136], ['mlp_up', 3136, 12544], ['mlp_down', 12544, 3136],
  ['attn_qkv', 3136, 7168], ['attn_o', 5120, 3136],
].map(([name, n_in, n_out]) => ({ name, n_in, n_out: QUICK ? Math.ceil(n_out / 64) : n_out }));

const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
const gpu = create(['disable-dawn-features=timestamp_quantization']);
globalThis.hearthGpu = gpu; // reachable until exit (web/gpu/host.js requestGpuDevice says why)
const dev = await requestGpuDevice(gpu);
if (!dev) { console.log('no WebGPU adapter'); process.exit(1); }
const { device, adapter } = dev;
const SG = device.features.has('subgroups') ? (adapter.info.subgroupMinSize || 0) : 0;
const DOT4 = !!(gpu.wgslLanguageFeatures && gpu.wgslLanguageFeatures.has('packed_4x8_integer_dot_product'));
const TS = device.features.has('timestamp-query');
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`);
console.log(`subgroups: ${SG || 'no'}, dot4I8Packed: ${DOT4}, timestamps: ${TS}, dispatches per pass: ${REPS}`);

// kernel variants: file, pipeline constants (besides WTYPE, WPLANAR, SG), rows per workgroup, lane sums
const VARIANTS = [
  { name: 'planar R=1 (before)', file: 'matvec_planar', c: { R: 1 }, rows: 1 },
  { name: 'planar R=2', file: 'matvec_planar', c: { R: 2 }, rows: 2 },
];
// matvec_q4.wgsl: LPR lanes x RW rows, BPL blocks per lane; x from global memory, or staged (STAGE)
for (const [lpr, rw, bpl] of [[32, 4, 2], [32, 8, 1], [32, 8, 2], [32, 8, 4], [16, 8, 2], [16, 16, 2], [64, 4, 2]])
  VARIANTS.push({ name: `q4 ${lpr}x${rw} B${bpl}`, file: 'matvec_q4', c: { LPR: lpr, RW: rw, BPL: bpl, STAGE: 0 }, rows: rw });
for (const [lpr, rw, bpl] of [[32, 4, 2], [32, 4, 4], [32, 8, 1], [32, 8, 2], [32, 8, 4], [16, 8, 4], [16, 16, 2], [64, 4, 2]])
  VARIANTS.push({ name: `q4 ${lpr}x${rw} B${bpl} staged`, file: 'matvec_q4', c: { LPR: lpr, RW: rw, BPL: bpl, STAGE: 1 }, rows: rw });
// a grid of at most `cap` workgroups, each taking every cap-th group of rows
for (const [bpl, st, cap] of [[1, 0, 528], [1, 0, 1056], [4, 0, 1056], [1, 0, 2112], [4, 1, 1056]])
  VARIANTS.push({ name: `q4 32x8 B${bpl}${st ? ' staged' : ''} grid<=${cap}`, file: 'matvec_q4', c: { LPR: 32, RW: 8, BPL: bpl, STAGE: st }, rows: 8, cap });
VARIANTS.push({ name: 'q4 32x8 B4 staged no-sg', file: 'matvec_q4', c: { LPR: 32, RW: 8, BPL: 4, STAGE: 1 }, rows: 8, nosg: true });
VARIANTS.push({ name: 'q4 32x8 B2 staged no-sg', file: 'matvec_q4', c: { LPR: 32, RW: 8, BPL: 2, STAGE: 1 }, rows: 8, nosg: true });

// reference: the bench.mjs streaming read (xor of vec4s, grid-stride) over the same weight buffer,
// 1056 workgroups of 256: what one dispatch of that many bytes can read at best here
VARIANTS.unshift({ name: 'stream read (reference)', file: 'stream', c: {}, rows: 0 });
const STREAM = `@group(0) @binding(0) var<uniform> p: array<vec4<u32>, 4>;
@group(0) @binding(1) var<storage, read> A: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> O: array<u32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  var acc = vec4<u32>(0u); let stride = n.x * 256u; let nq = (p[0].x / 32u) * p[0].y; // quants: 1 vec4 per block
  for (var i = g.x; i < nq + nq / 8u; i += stride) { acc ^= A[i]; }
  if (all(acc == vec4<u32>(1u, 2u, 3u, 4u))) { O[0] = acc.x; } }`;
const modules = new Map();
async function pipeline(v, T) {
  if (v.file === 'stream') {
    const module = device.createShaderModule({ code: STREAM });
    return { pl: await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } }), rows: 0, grid: [1056, 1] };
  }
  const sg = SG && !v.nosg;
  const src = [sg ? 'lanes_sg' : 'lanes_wg', DOT4 ? 'dot_dp4' : 'dot_emul', 'wq', 'epilogue', v.file].map(wgsl).join('');
  let module = modules.get(src);
  if (!module) modules.set(src, module = device.createShaderModule({ code: src }));
  const constants = { WTYPE: 2, WPLANAR: 1, NT: T, ...v.c };
  if (v.file === 'matvec_planar' && constants.R * T > 8) constants.R = Math.max(1, 8 >> Math.ceil(Math.log2(T)));
  // xs (allocated with or without STAGE) within 16 KB, as src/webgpu/hg_ops.c picks
  if (v.file === 'matvec_q4') while (constants.BPL > 1 && constants.LPR * constants.BPL * T * 36 > 16384) constants.BPL >>= 1;
  if (sg) constants.SG = SG;
  const rows = v.file === 'matvec_planar' ? constants.R : v.rows;
  return { pl: await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main', constants } }), rows,
    grid: (n_out) => grid(Math.min(Math.ceil(n_out / rows), v.cap || Infinity)) };
}

// ---- data ---------------------------------------------------------------------------------------
let seed = 1;
const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed; };
const f16 = (h) => { const e = (h >> 10) & 31, m = h & 1023, s = h & 0x8000 ? -1 : 1; return s * (e ? 2 ** (e - 15) * (1 + m / 1024) : 2 ** -14 * (m / 1024)); };
// planar Q4_0: quants of nb blocks per row, then scales (f16, positive and negative, 2^-10..2^-5)
function makeWeights(n_in, n_out) {
  const nblk = (n_in / 32) * n_out, q = new Uint32Array(nblk * 4 + nblk / 2);
  for (let i = 0; i < nblk * 4; i++) q[i] = rnd();
  const s16 = new Uint16Array(q.buffer, nblk * 16, nblk);
  for (let k = 0; k < nblk; k++) s16[k] = ((rnd() >>> 31) << 15) | ((5 + (rnd() >>> 16) % 6) << 10) | ((rnd() >>> 8) & 1023);
  return { words: q, s0: nblk * 16, bytes: nblk * 18 };
}
function makeActs(n_in, T) {
  const nb = n_in / 32, x = new Uint32Array(T * nb * 9), f = new Float32Array(x.buffer);
  for (let i = 0; i < x.length; i++) x[i] = i % 9 === 8 ? 0 : rnd();
  for (let i = 8; i < x.length; i += 9) f[i] = 0.01 + (rnd() / 2 ** 32) * 0.1;
  return x;
}
// CPU: per row and token, the sum over blocks of d_w * d_x * (integer dot of codes), and the sum of |terms|
function reference(w, x, n_in, n_out, T) {
  const nb = n_in / 32, xf = new Float32Array(x.buffer), qb = new Uint8Array(w.words.buffer), s16 = new Uint16Array(w.words.buffer, w.s0);
  const xb = new Int8Array(x.buffer), y = new Float64Array(n_out * T), mag = new Float64Array(n_out * T);
  for (let r = 0; r < n_out; r++)
    for (let b = 0; b < nb; b++) {
      const k = r * nb + b, dw = f16(s16[k]);
      for (let t = 0; t < T; t++) {
        const xo = (t * nb + b) * 36;
        let s = 0;
        for (let j = 0; j < 16; j++) { const v = qb[k * 16 + j]; s += ((v & 15) - 8) * xb[xo + j] + ((v >> 4) - 8) * xb[xo + 16 + j]; }
        const term = dw * xf[xo / 4 + 8] * s;
        y[t * n_out + r] += term;
        mag[t * n_out + r] += Math.abs(term);
      }
    }
  return { y, mag };
}

function buffer(data, usage = GPUBufferUsage.STORAGE) {
  const b = device.createBuffer({ size: Math.max(16, (data.byteLength + 15) & ~15), usage: usage | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, data);
  return b;
}
function params(n_in, n_out, T, nwg_x, s0) {
  return buffer(new Uint32Array([n_in, n_out, T, 0, 0, n_in / 32 * 9, 0, n_out, 0, 0, nwg_x, s0, 0, 0, 0, 0]), GPUBufferUsage.UNIFORM);
}
function grid(n) { if (n <= 65535) return [n, 1]; const y = Math.ceil(n / 65535); return [Math.ceil(n / y), y]; }
function bindGroup(pl, file, P, Wb, Xb, Yb) {
  const e = [{ binding: 0, resource: { buffer: P } }, { binding: 1, resource: { buffer: Wb } }, { binding: 2, resource: { buffer: Wb } },
    { binding: 3, resource: { buffer: Xb } }];
  if (file === 'stream') return device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: [e[0], e[1], { binding: 4, resource: { buffer: Yb } }] });
  if (file === 'matvec_planar') e.push({ binding: 4, resource: { buffer: Xb } }, { binding: 5, resource: { buffer: Yb } });
  else e.push({ binding: 4, resource: { buffer: Yb } });
  return device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: e });
}
async function readback(Yb, n) {
  const rb = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(Yb, 0, rb, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(rb.getMappedRange().slice(0));
  rb.destroy();
  return out;
}
// one pass of the variant on (weights, x), its outputs against the CPU; returns the max relative error
async function check(v, w, Wb, x, n_in, n_out, T, ref) {
  const { pl, grid: g, rows } = await pipeline(v, T);
  const [gx, gy] = v.cap ? grid(Math.min(Math.ceil(n_out / rows), 3)) : g(n_out); // capped grids: 3, so that groups repeat
  const P = params(n_in, n_out, T, gx, w.s0), Xb = buffer(x), Yb = buffer(new Float32Array(n_out * T).fill(NaN), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const enc = device.createCommandEncoder(), pass = enc.beginComputePass();
  pass.setPipeline(pl);
  pass.setBindGroup(0, bindGroup(pl, v.file, P, Wb, Xb, Yb));
  pass.dispatchWorkgroups(gx, gy);
  pass.end();
  device.queue.submit([enc.finish()]);
  const y = await readback(Yb, n_out * T);
  P.destroy(), Xb.destroy(), Yb.destroy();
  let err = 0;
  for (let i = 0; i < y.length; i++) {
    const e = Math.abs(y[i] - ref.y[i]) / (ref.mag[i] || 1);
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : Math.max(err, e);
  }
  return err;
}
let failed = 0;
function verdict(v, what, err) {
  if (err > 1e-5) { failed++; console.log(`FAIL ${v.name} ${what}: max rel error ${err}`); }
  return err;
}

// ---- 1..8 tokens on a small shape (rows not a multiple of any workgroup's) --------------------------
{
  const n_in = 3136, n_out = 37, w = makeWeights(n_in, n_out), Wb = buffer(w.words);
  for (const T of [1, 2, 3, 5, 8]) {
    const x = makeActs(n_in, T), ref = reference(w, x, n_in, n_out, T);
    let worst = 0;
    for (const v of VARIANTS) if ((!ONLY || v.name.includes(ONLY)) && v.file !== 'stream') worst = Math.max(worst, verdict(v, `T=${T} ${n_in}x${n_out}`, await check(v, w, Wb, x, n_in, n_out, T, ref)));
    console.log(`check ${n_in}x${n_out} T=${T}: max rel error ${worst.toExponential(2)}`);
  }
  Wb.destroy();
}

// ---- the decode shapes ----------------------------------------------------------------------------
const table = new Map(VARIANTS.map((v) => [v.name, []]));
let warmed = false;
for (const s of SHAPES) {
  const w = makeWeights(s.n_in, s.n_out), x = makeActs(s.n_in, 1), ref = reference(w, x, s.n_in, s.n_out, 1);
  // copies to cycle through: at least 256 MB read before a copy comes round again
  const copies = QUICK ? 1 : Math.max(1, Math.ceil((256 << 20) / w.bytes));
  const Ws = [];
  for (let i = 0; i < copies; i++) Ws.push(buffer(w.words));
  const Xb = buffer(x), Yb = buffer(new Float32Array(s.n_out), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  let worst = 0;
  for (const v of VARIANTS) {
    if (ONLY && !v.name.includes(ONLY)) continue;
    if (v.file !== 'stream') worst = Math.max(worst, verdict(v, `${s.name} ${s.n_in}x${s.n_out}`, await check(v, w, Ws[0], x, s.n_in, s.n_out, 1, ref)));
    const { pl, grid: g } = await pipeline(v, 1);
    const [gx, gy] = typeof g === 'function' ? g(s.n_out) : g;
    const P = params(s.n_in, s.n_out, 1, gx, w.s0);
    const bgs = Ws.map((Wb) => bindGroup(pl, v.file, P, Wb, Xb, Yb));
    const times = [];
    // the first timing of the whole run starts with ~1 s of passes: the GPU's clocks up from idle
    const warm = QUICK || warmed ? 1 : 40;
    warmed = true;
    for (let run = 0; run < warm + (QUICK ? 1 : 5); run++) {
      const qs = TS ? device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
      const qb = TS ? device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : null;
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass(TS ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
      pass.setPipeline(pl);
      for (let i = 0; i < REPS; i++) { pass.setBindGroup(0, bgs[i % copies]); pass.dispatchWorkgroups(gx, gy); }
      pass.end();
      if (TS) enc.resolveQuerySet(qs, 0, 2, qb, 0);
      const t0 = performance.now();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      let ms = performance.now() - t0;
      if (TS) {
        const rb = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
        const e2 = device.createCommandEncoder();
        e2.copyBufferToBuffer(qb, 0, rb, 0, 16);
        device.queue.submit([e2.finish()]);
        await rb.mapAsync(GPUMapMode.READ);
        const t = new BigUint64Array(rb.getMappedRange());
        ms = Number(t[1] - t[0]) / 1e6;
        rb.destroy(), qb.destroy(), qs.destroy();
      }
      if (run >= warm) times.push(ms);
    }
    const us = (median(times) * 1000) / REPS;
    table.get(v.name).push({ gbs: w.bytes / (us * 1e3), us });
    P.destroy();
  }
  console.log(`${s.name} ${s.n_in}x${s.n_out}: ${(w.bytes / 1e6).toFixed(1)} MB, ${copies} copies, max rel error ${worst.toExponential(2)}`);
  Ws.forEach((b) => b.destroy());
  Xb.destroy(), Yb.destroy();
}

// ---- table: GB/s of weight bytes (us per dispatch) ---------------------------------------------------
const totalBytes = SHAPES.map((s) => (s.n_in / 32) * s.n_out * 18);
console.log(`\n| variant | ${SHAPES.map((s) => `${s.name} ${s.n_in}x${s.n_out}`).join(' | ')} | all six |`);
console.log(`|---|${SHAPES.map(() => '---|').join('')}---|`);
for (const [name, r] of table) {
  if (!r.length) continue;
  const sumUs = r.reduce((a, b) => a + b.us, 0), sumB = totalBytes.reduce((a, b) => a + b, 0);
  console.log(`| ${name} | ${r.map((e) => `${e.gbs.toFixed(0)} GB/s (${e.us.toFixed(1)} us)`).join(' | ')} | ${(sumB / (sumUs * 1e3)).toFixed(0)} GB/s |`);
}
if (failed) { console.log(`FAIL: ${failed} checks over the tolerance`); process.exit(1); }
console.log('all variants match the CPU sums');
process.exit(0);
