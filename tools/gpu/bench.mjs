// bench.mjs - times the WebGPU backend on whatever GPU Dawn finds: read bandwidth, model load, prefill, decode (tok/s, dispatches, bandwidth fraction).
//
//   node tools/gpu/bench.mjs HELPER MODEL.gguf [--prompt N] [--decode N] [--max-batch N] [--runs N]
//
// HELPER is build/tests/gpu_plan (the C planner); MODEL a GGUF (tools/gpu/bench.sh makes a random one
// with Nemotron-3-Nano-4B's shapes). Decode is measured two ways, both with one command buffer per
// token and the greedy sample read back (4 bytes): "sync" waits for each token before submitting the
// next (what a chat loop does), "pipelined" submits a run of tokens and waits once (the GPU-side
// throughput; the token stays on the GPU between steps). Medians of --runs runs.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { GpuHost, requestGpuDevice } from '../../web/gpu/host.js';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? Number(args[i + 1]) : d; };
const [helper, gguf] = args;
const PROMPT = opt('--prompt', 128), DECODE = opt('--decode', 64), MAXB = opt('--max-batch', 128), RUNS = opt('--runs', 3);
const dir = process.env.HEARTH_TMP ?? '/tmp/hearth-bench';
mkdirSync(dir, { recursive: true });
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const now = () => performance.now();

const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
// timestamps at full resolution (Dawn quantises them by default, as browsers do)
const gpu = create(['disable-dawn-features=timestamp_quantization']);
const dev = await requestGpuDevice(gpu);
if (!dev) { console.log('no WebGPU adapter'); process.exit(1); }
const { device, adapter } = dev;
const host = new GpuHost(device, dev);
const facts = host.facts();
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`);
console.log(`features: ${[...device.features].join(' ')}`);
console.log(`facts: ${JSON.stringify(facts)}`);

// ---- read bandwidth: a streaming kernel over (up to) 1 GiB -------------------------------------
async function readBandwidth(bytes) {
  const code = `@group(0) @binding(0) var<storage, read> A: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> O: array<u32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  var acc = vec4<u32>(0u); let stride = n.x * 256u;
  for (var i = g.x; i < arrayLength(&A); i += stride) { acc ^= A[i]; }
  if (all(acc == vec4<u32>(1u, 2u, 3u, 4u))) { O[0] = acc.x; } }`;
  const pl = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  device.pushErrorScope('out-of-memory');
  const a = device.createBuffer({ size: bytes, usage: 128 });
  if (await device.popErrorScope()) { a.destroy(); return 0; }
  const o = device.createBuffer({ size: 256, usage: 128 });
  const bg = device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: a } }, { binding: 1, resource: { buffer: o } }] });
  const times = [];
  for (let r = 0; r < 6; r++) {
    const t0 = now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pl);
    pass.setBindGroup(0, bg);
    for (let k = 0; k < 4; k++) pass.dispatchWorkgroups(4096);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (r) times.push((now() - t0) / 4);
  }
  a.destroy();
  o.destroy();
  return bytes / (median(times) / 1000);
}
let bw = 0, probe = Math.min(1 << 30, facts.maxBinding & ~0xffff, facts.maxBuffer);
for (;;) {
  bw = await readBandwidth(probe);
  if (bw || probe < 1 << 24) break;
  probe = Math.floor(probe / 4);
}
console.log(`read bandwidth: ${(bw / 1e12).toFixed(2)} TB/s (streaming kernel over ${probe >> 20} MiB, median)`);

// ---- the planner --------------------------------------------------------------------------------
const proc = spawn(helper, ['serve', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
async function cmd(line) {
  proc.stdin.write(line + '\n');
  const { value } = await lines.next();
  if (!value || value.startsWith('err')) throw new Error(`planner: ${value} (for ${line.slice(0, 60)})`);
  return value.split(' ');
}
function blob(name) { const p = `${dir}/${name}`; const b = readFileSync(p); unlinkSync(p); return b; }

let t0 = now();
const [, planName, planBytes, bytesPerToken] = await cmd(`load ${gguf} ${PROMPT + 4 * DECODE + 64} ${MAXB} 1 64 0 ${facts.maxBinding} ${facts.maxBuffer} ${facts.maxWorkgroups} ${facts.subgroupMin} ${facts.dot4 ? 1 : 0}`);
const tPlan = now() - t0;
const fh = await open(gguf, 'r');
let loaded = 0;
t0 = now();
await host.loadPlan(blob(planName), {
  read: async (off, len) => { const b = new Uint8Array(len); const { bytesRead } = await fh.read(b, 0, len, off); loaded += bytesRead; return b.subarray(0, bytesRead); },
});
const tLoad = now() - t0;
await fh.close();
console.log(`plan: ${(tPlan).toFixed(0)} ms, ${planBytes} bytes; weights streamed into GPU buffers: ${(loaded / 1e9).toFixed(2)} GB in ${(tLoad / 1000).toFixed(2)} s (pipelines included)`);
console.log(`bytes a decode step reads at least: ${(Number(bytesPerToken) / 1e9).toFixed(3)} GB`);

const V = 500; // token ids drawn below this (any id works with random weights)
const prompt = Array.from({ length: PROMPT }, (_, i) => (i * 7919) % V);

async function prefill(tokens) {
  const blobs = [];
  for (let at = 0; at < tokens.length; at += MAXB) {
    const part = tokens.slice(at, at + MAXB);
    const [, name, disp] = await cmd(`step none ${at} ${at === 0 ? 1 : 0} ${part.length} ${part.join(' ')}`);
    blobs.push({ b: blob(name), disp: Number(disp) });
  }
  const t = now();
  for (const { b } of blobs) await host.run(b);
  return { ms: now() - t, disp: blobs.reduce((s, x) => s + x.disp, 0) };
}

// warm-up: every pipeline compiled, caches touched
await prefill(prompt.slice(0, Math.min(16, PROMPT)));
await prefill(prompt);
const pre = [];
let prefDisp = 0;
for (let r = 0; r < RUNS; r++) { const p = await prefill(prompt); pre.push(p.ms); prefDisp = p.disp; }
const preMs = median(pre);
console.log(`prefill ${PROMPT} tokens (steps of ${MAXB}): ${preMs.toFixed(1)} ms = ${(PROMPT / preMs * 1000).toFixed(0)} tok/s, ${prefDisp} dispatches`);

// decode: blobs for positions PROMPT.. (the token stays on the GPU between steps)
const [, ...rest] = await cmd(`decode_blobs ${PROMPT} ${4 * DECODE} 42`);
const decDisp = Number(rest.pop());
const blobs = rest.map(blob);
const sync = [], piped = [];
for (let r = 0; r < RUNS; r++) {
  await prefill(prompt); // the same state before each run
  let t = now();
  for (let k = 0; k < DECODE; k++) await host.run(blobs[k]);
  sync.push((now() - t) / DECODE);
  t = now();
  await Promise.all(blobs.slice(DECODE, 2 * DECODE).map((b) => host.run(b)));
  piped.push((now() - t) / DECODE);
}
const syncMs = median(sync), pipedMs = median(piped);
const frac = (ms) => (Number(bytesPerToken) / (ms / 1000) / bw * 100).toFixed(1);
console.log(`decode (sync, one token at a time): ${syncMs.toFixed(3)} ms/token = ${(1000 / syncMs).toFixed(1)} tok/s, ${frac(syncMs)}% of read bandwidth`);
console.log(`decode (pipelined): ${pipedMs.toFixed(3)} ms/token = ${(1000 / pipedMs).toFixed(1)} tok/s, ${frac(pipedMs)}% of read bandwidth`);
console.log(`dispatches per decode token: ${decDisp}`);

// where a step's GPU time goes: every dispatch timed in its own pass (adds a little per dispatch)
async function profile(label, b, total) {
  if (!device.features.has('timestamp-query')) return;
  const r = await host.run(b, { profile: true });
  const by = new Map();
  let sum = 0;
  for (const { name, ns } of r.profile) {
    const e = by.get(name) || { n: 0, ns: 0 };
    e.n++;
    e.ns += ns;
    by.set(name, e);
    sum += ns;
  }
  console.log(`profile of one ${label} step: GPU time ${(sum / 1e3).toFixed(0)} us in ${r.profile.length} dispatches (wall ${total.toFixed(0)} us per step)`);
  for (const [name, e] of [...by].sort((a, b2) => b2[1].ns - a[1].ns))
    console.log(`  ${name.padEnd(34)} ${String(e.n).padStart(4)} x  ${(e.ns / 1e3).toFixed(1).padStart(8)} us  ${(e.ns / sum * 100).toFixed(1).padStart(5)}%`);
}
await prefill(prompt);
await profile('decode', blobs[0], syncMs * 1000);
const [, pname] = await cmd(`step none 0 1 ${Math.min(MAXB, PROMPT)} ${prompt.slice(0, MAXB).join(' ')}`);
await profile(`prefill (${Math.min(MAXB, PROMPT)} tokens)`, blob(pname), preMs * 1000 * Math.min(MAXB, PROMPT) / PROMPT);
console.log(JSON.stringify({ bw_tbs: bw / 1e12, load_s: tLoad / 1000, prefill_tok_s: PROMPT / preMs * 1000, decode_sync_tok_s: 1000 / syncMs,
  decode_piped_tok_s: 1000 / pipedMs, dispatches_per_token: decDisp, bytes_per_token: Number(bytesPerToken) }));
proc.stdin.end('quit\n');
process.exit(0);
