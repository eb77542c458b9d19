// webgpu_common.mjs - shared by the WebGPU tests: a Dawn device on SwiftShader (or a real GPU), the native planner helper, checks.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { requestGpuDevice } from '../../web/gpu/host.js';

export const BUILD = process.env.BUILD ?? 'build';
export const HELPER = process.env.HEARTH_GPU_PLAN ?? `${BUILD}/tests/gpu_plan`;
export const SHARED = process.env.HEARTH_SHARED ?? '../shared';
export const TMP = process.env.HEARTH_TMP ?? '/tmp';

// On a machine without a GPU, Vulkan is Chromium's SwiftShader (TOOLCHAIN.md).
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
}

// Dawn's GPU object must stay reachable while its devices are used: once it is garbage collected,
// pending callbacks (mapAsync, onSubmittedWorkDone) crash or hang. Kept here for the process's life.
let keepGpu = null;

// Returns { gpu, adapter, device } or throws with the reason (a test without a device fails).
export async function openDevice() {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = keepGpu ?? create([]);
  keepGpu = gpu;
  const dev = await requestGpuDevice(gpu);
  if (!dev) throw new Error('no WebGPU adapter (is chromium installed for SwiftShader, and libvulkan1?)');
  return { gpu, ...dev };
}

export function makeChecker(name) {
  const c = {
    passed: 0, failed: 0,
    check(ok, msg) {
      if (ok) c.passed++;
      else { c.failed++; console.error('FAIL ' + msg); }
      return ok;
    },
    summary() {
      console.log(`## ${name}: ${c.passed} passed, ${c.failed} failed`);
      return c.failed ? 1 : 0;
    },
  };
  return c;
}

// max |a - b| / max |b| (b is the reference); NaN anywhere in a gives Infinity.
export function normErr(a, b) {
  let md = 0, mr = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= md)) md = Number.isNaN(d) ? Infinity : d;
    mr = Math.max(mr, Math.abs(b[i]));
  }
  return md / (mr > 0 ? mr : 1);
}

export function argmax(v, off = 0, n = v.length) {
  let b = 0;
  for (let i = 1; i < n; i++) if (v[off + i] > v[off + b]) b = i;
  return b;
}

// The C planner in a child process (tests/webgpu/gpu_serve.c): one command line in, one answer line
// out; blobs come back as files in `dir`. Also the planner interface of web/gpu/driver.js.
export class Planner {
  constructor(dir) {
    this.dir = dir;
    this.proc = spawn(HELPER, ['serve', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async cmd(line) {
    this.proc.stdin.write(line + '\n');
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`planner exited during: ${line.slice(0, 80)}`);
    if (value.startsWith('err')) throw new Error(`planner: ${value} (for: ${line.slice(0, 80)})`);
    return value.split(' ');
  }
  blob(name) {
    const p = join(this.dir, name);
    const b = readFileSync(p);
    unlinkSync(p);
    return b;
  }
  async next() {
    const a = await this.cmd('gen_next');
    if (a[0] === 'done') return { kind: 'done' };
    if (a[0] === 'token') return { kind: 'token', token: Number(a[1]) };
    this.lastDispatches = Number(a[4]); // the step's compute dispatches
    return { kind: 'run', blob: this.blob(a[1]), wantsToken: a[2] === '1', wantsLogits: a[3] === '1' };
  }
  async result(token, logits) {
    let f = '-';
    if (logits) { f = join(this.dir, 'logits.bin'); writeFileSync(f, new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength)); }
    return Number((await this.cmd(`gen_result ${token} ${f}`))[1]);
  }
  async lost() { await this.cmd('gen_lost'); }
  close() { this.proc.stdin.end('quit\n'); }
}
