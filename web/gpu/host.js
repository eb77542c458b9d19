// host.js - executes hearth's WebGPU plan blobs (src/webgpu/plan.h) on the standard WebGPU API; same file in Chromium, workers and Node (Dawn).
//
// The C planner decides everything (buffers, weight placement, kernels, dispatches); this module only
// creates what a blob describes and encodes one command buffer per step:
//
//   const dev = await requestGpuDevice(navigator.gpu);          // null: no WebGPU -> use the CPU
//   const host = new GpuHost(dev.device, { onLost });
//   planner.plan(host.facts())  -> model plan bytes  (C)
//   await host.loadPlan(planBytes, { read: (offset, length) => Promise<Uint8Array> });   // weights stream in
//   const reads = await host.run(stepBytes);                    // [{ what, data: Uint8Array }]
//
// Weights go from `read` (a File slice, an OPFS handle, an HTTP range, a Node file) straight into GPU
// buffers with queue.writeBuffer, a chunk at a time; they never pass through the wasm heap.

export const PLAN_MAGIC = 0x4c504748; // "HGPL"
export const PLAN_VERSION = 2;
export const BLOB_MODEL = 1;
export const BLOB_STEP = 2;
export const READ_TOKEN = 0;
export const READ_LOGITS = 1;
export const READ_DATA = 2;

const REC = { SOURCE: 1, KERNEL: 2, BUFFER: 3, UPLOAD_FILE: 4, UPLOAD_DATA: 5, UPLOAD_FILE_PLANAR: 6, WRITE: 16, CLEAR: 17, DISPATCH: 18, COPY: 19, READ: 20 };
const PARAM_SLOT = 256; // bytes of uniform params per dispatch (minUniformBufferOffsetAlignment)
// GPUBufferUsage / GPUMapMode values (fixed by the WebGPU spec), so this file needs no globals.
const U = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128 };
const MAP_READ = 1;
const UPLOAD_CHUNK = 16 << 20;

/** The device was lost (destroyed, driver reset, ...): the caller switches to the CPU backend. */
export class GpuLostError extends Error {
  constructor(message, reason) { super(message); this.name = 'GpuLostError'; this.reason = reason; }
}
/** A blob or kernel was rejected (validation, compilation): a bug, not a reason to fall back silently. */
export class GpuPlanError extends Error {
  constructor(message) { super(message); this.name = 'GpuPlanError'; }
}

// Asks for an adapter and a device with the adapter's own limits for what the planner uses.
// Returns { gpu, adapter, device }, or null when there is no WebGPU or no adapter (no throw).
// In Node, keep `gpu` (the object of the webgpu package's create()) reachable while the device is
// used: once it is garbage collected, Dawn's pending callbacks (mapAsync, createComputePipelineAsync,
// onSubmittedWorkDone) crash or hang.
export async function requestGpuDevice(gpu, { powerPreference = 'high-performance', optionalFeatures = ['subgroups', 'shader-f16', 'timestamp-query'] } = {}) {
  if (!gpu) return null;
  let adapter = null;
  try { adapter = await gpu.requestAdapter({ powerPreference }); } catch { adapter = null; }
  if (!adapter) return null;
  const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupsPerDimension'];
  const requiredLimits = {};
  for (const k of want) if (adapter.limits[k] !== undefined) requiredLimits[k] = adapter.limits[k];
  const requiredFeatures = optionalFeatures.filter((f) => adapter.features.has(f));
  let device = null;
  try { device = await adapter.requestDevice({ requiredLimits, requiredFeatures }); } catch { device = null; }
  if (!device) return null;
  return { gpu, adapter, device };
}

// Quantised blocks (block bytes = a 2-byte f16 scale + quants; 18: Q4_0, 34: Q8_0), an even number,
// split into the planar layout (src/webgpu/plan.h UPLOAD_FILE_PLANAR): { quants, scales }. Works on
// pairs of blocks, which are whole words: block 0's quants are its words shifted by 2 bytes, block 1's
// are whole words, the two scales share one word.
export function planarBlocks(bytes, block) {
  const src = bytes.byteOffset % 4 ? bytes.slice() : bytes;
  const w = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >> 2);
  const qw = (block - 2) >> 2, pw = block >> 1, pairs = (bytes.byteLength / block) >> 1;
  const q = new Uint32Array(pairs * 2 * qw), s = new Uint32Array(pairs);
  for (let p = 0, i = 0, o = 0; p < pairs; p++, i += pw) {
    for (let k = 0; k < qw; k++) q[o++] = (w[i + k] >>> 16) | (w[i + k + 1] << 16);
    for (let k = 1; k <= qw; k++) q[o++] = w[i + qw + k];
    s[p] = (w[i] & 0xffff) | (w[i + qw] & 0xffff0000);
  }
  return { quants: new Uint8Array(q.buffer), scales: new Uint8Array(s.buffer) };
}

class Reader {
  constructor(bytes) {
    this.u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    this.dv = new DataView(this.u8.buffer, this.u8.byteOffset, this.u8.byteLength);
    this.pos = 0;
  }
  u32() { const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  u64() { const lo = this.u32(); const hi = this.u32(); return hi * 4294967296 + lo; }
  bytes(n) { const b = this.u8.subarray(this.pos, this.pos + n); this.pos += (n + 3) & ~3; return b; }
  str() { return new TextDecoder().decode(this.bytes(this.u32())); }
}

// Splits a blob into records: [{ tag, r: Reader positioned at the payload, end }].
function parseBlob(bytes, wantKind) {
  const rd = new Reader(bytes);
  if (rd.u8.byteLength < 16) throw new GpuPlanError('plan blob is truncated');
  const magic = rd.u32(), version = rd.u32(), kind = rd.u32(), n = rd.u32();
  if (magic !== PLAN_MAGIC) throw new GpuPlanError('not a hearth plan blob');
  if (version !== PLAN_VERSION) throw new GpuPlanError(`plan version ${version}, this host reads ${PLAN_VERSION}`);
  if (wantKind && kind !== wantKind) throw new GpuPlanError(`plan blob of kind ${kind}, expected ${wantKind}`);
  const recs = [];
  for (let i = 0; i < n; i++) {
    if (rd.pos + 8 > rd.u8.byteLength) throw new GpuPlanError('plan record header is truncated');
    const tag = rd.u32(), words = rd.u32();
    const end = rd.pos + 4 * words;
    if (end > rd.u8.byteLength) throw new GpuPlanError('plan record is truncated');
    const r = new Reader(rd.u8.subarray(rd.pos, end));
    recs.push({ tag, r });
    rd.pos = end;
  }
  return recs;
}

function parseConstants(s) {
  const out = {};
  if (!s) return out;
  for (const kv of s.split(',')) {
    const [k, v] = kv.split('=');
    out[k] = Number(v);
  }
  return out;
}

export class GpuHost {
  // onLost(info): called once when the device is lost (info.reason, info.message).
  // gpu: the GPU object the device came from (navigator.gpu, or the webgpu package's), for its WGSL
  // language features; optional.
  constructor(device, { onLost, gpu, adapter } = {}) {
    this.device = device;
    this.gpu = gpu || null;
    this.adapterInfo = (adapter && adapter.info) || device.adapterInfo || null;
    this.buffers = new Map();   // id -> GPUBuffer
    this.sources = new Map();   // id -> GPUShaderModule
    this.sourceText = new Map(); // id -> WGSL text
    this.kernels = new Map();   // id -> GPUComputePipeline
    this.kernelNames = new Map(); // id -> "file(constants)", for profiles
    this.moduleCache = new Map();   // WGSL text -> GPUShaderModule (kept across plans)
    this.pipelineKeys = new Map();  // GPUShaderModule -> small id
    this.pipelineCache = new Map(); // "module|constants" -> Promise<GPUComputePipeline> (kept across plans)
    this.bindGroups = new Map();
    this.staging = [];          // free MAP_READ buffers
    this.params = null;
    this.paramsBytes = 0;
    this.lostInfo = null;
    this.error = null;
    this.stats = { steps: 0, dispatches: 0 };
    // Rejects with GpuLostError once the device is lost. Every wait on the GPU races it: Chromium
    // settles a readback (mapAsync) or a pipeline on a destroyed device only after the work already
    // queued has run (tens of seconds on a software adapter), or never.
    this.lost = device.lost.then((info) => {
      this.lostInfo = info;
      if (onLost) onLost(info);
      throw this.lostError();
    });
    this.lost.catch(() => {});
    device.onuncapturederror = (ev) => { if (!this.error) this.error = ev.error; };
  }

  get isLost() { return this.lostInfo !== null; }

  // What this host holds on the GPU now (between steps): plan buffers, idle readback buffers, the
  // params buffer (counts and bytes), and cached bind groups. The soak test checks these stay flat.
  memoryStats() {
    const sum = (bufs) => bufs.reduce((n, b) => n + b.size, 0);
    return { buffers: this.buffers.size, bufferBytes: sum([...this.buffers.values()]), staging: this.staging.length,
      stagingBytes: sum(this.staging), paramsBytes: this.params ? this.paramsBytes : 0, bindGroups: this.bindGroups.size };
  }

  // The device facts the planner needs (hg_device in src/webgpu/hg.h).
  facts() {
    const l = this.device.limits;
    return {
      maxBinding: l.maxStorageBufferBindingSize,
      maxBuffer: l.maxBufferSize,
      maxWorkgroups: l.maxComputeWorkgroupsPerDimension,
      maxStorage: l.maxStorageBuffersPerShaderStage,
      subgroups: this.device.features.has('subgroups'),
      // smallest subgroup size (0 when unknown or no subgroups: the planner then uses no subgroup ops)
      subgroupMin: this.device.features.has('subgroups') && this.adapterInfo ? (this.adapterInfo.subgroupMinSize || 0) : 0,
      dot4: !!(this.gpu && this.gpu.wgslLanguageFeatures && this.gpu.wgslLanguageFeatures.has('packed_4x8_integer_dot_product')),
      shaderF16: this.device.features.has('shader-f16'),
    };
  }

  // After a failure: if the device turns out to be lost (device.lost settles a moment after
  // destroy() or a driver reset), the failure is a GpuLostError; otherwise the original error.
  async failure(err) {
    if (err instanceof GpuLostError) return err;
    if (!this.lostInfo) await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 100))]);
    if (this.lostInfo) return this.lostError();
    return err;
  }

  lostError() { return new GpuLostError(`WebGPU device lost: ${this.lostInfo.message || this.lostInfo.reason}`, this.lostInfo.reason); }

  checkLost() {
    if (this.lostInfo) throw this.lostError();
  }

  // p, or a GpuLostError as soon as the device is lost.
  untilLost(p) { return Promise.race([p, this.lost]); }

  // Creates what SOURCE / KERNEL / BUFFER records describe; pushes error-scope promises to await.
  define(rec, pending) {
    const { tag, r } = rec;
    if (tag === REC.SOURCE) {
      const id = r.u32();
      const code = r.str();
      let module = this.moduleCache.get(code);
      if (!module) {
        this.device.pushErrorScope('validation');
        module = this.device.createShaderModule({ code, label: `source ${id}` });
        pending.push(this.device.popErrorScope().then((err) => {
          if (!err) return;
          this.moduleCache.delete(code);
          throw new GpuPlanError(`WGSL source ${id} does not compile: ${err.message}`);
        }));
        this.moduleCache.set(code, module);
      }
      this.sources.set(id, module);
      this.sourceText.set(id, code);
    } else if (tag === REC.KERNEL) {
      const id = r.u32(), src = r.u32(), consts = r.str();
      const module = this.sources.get(src);
      if (!module) throw new GpuPlanError(`kernel ${id} uses unknown source ${src}`);
      const files = [...(this.sourceText.get(src) || '').matchAll(/\/\/ (\w+)\.wgsl - /g)];
      this.kernelNames.set(id, `${files.length ? files[files.length - 1][1] : `source ${src}`}${consts ? `(${consts})` : ''}`);
      // Compiled off the main thread; cached by WGSL text and constants across plans.
      const key = this.pipelineKeys.get(module) ?? this.pipelineKeys.set(module, this.pipelineKeys.size).get(module);
      let made = this.pipelineCache.get(`${key}|${consts}`);
      if (!made) {
        made = this.device.createComputePipelineAsync({
          layout: 'auto', label: `kernel ${id}`,
          compute: { module, entryPoint: 'main', constants: parseConstants(consts) },
        }).catch((err) => {
          this.pipelineCache.delete(`${key}|${consts}`);
          throw new GpuPlanError(`kernel ${id} (source ${src}, ${consts}) failed: ${err.message}`);
        });
        this.pipelineCache.set(`${key}|${consts}`, made);
      }
      this.kernels.delete(id);
      pending.push(made.then((pl) => { this.kernels.set(id, pl); }));
    } else if (tag === REC.BUFFER) {
      const id = r.u32(); r.u32();
      const size = r.u64();
      const label = r.str();
      const old = this.buffers.get(id);
      if (old) old.destroy();
      this.buffers.set(id, this.device.createBuffer({ size, label, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST }));
    } else {
      return false;
    }
    return true;
  }

  buffer(id) {
    const b = this.buffers.get(id);
    if (!b) throw new GpuPlanError(`unknown buffer ${id}`);
    return b;
  }

  // Executes a model plan: creates buffers and pipelines, streams weights from source.read(offset, length).
  // onProgress(doneBytes, totalBytes) is called as file bytes arrive.
  async loadPlan(bytes, options = {}) {
    try {
      return await this.loadPlanInner(bytes, options);
    } catch (err) {
      throw await this.failure(err);
    }
  }

  async loadPlanInner(bytes, { read, onProgress } = {}) {
    this.checkLost();
    const recs = parseBlob(bytes, BLOB_MODEL);
    const pending = [];
    const files = [];
    for (const rec of recs) {
      if (this.define(rec, pending)) continue;
      const { tag, r } = rec;
      if (tag === REC.UPLOAD_DATA) {
        const id = r.u32(); r.u32();
        const off = r.u64(), n = r.u32();
        this.writePadded(this.buffer(id), off, r.bytes(n));
      } else if (tag === REC.UPLOAD_FILE) {
        const id = r.u32(); r.u32();
        files.push({ id, off: r.u64(), fileOff: r.u64(), n: r.u64(), block: 0 });
      } else if (tag === REC.UPLOAD_FILE_PLANAR) {
        const id = r.u32(), block = r.u32();
        const off = r.u64(), sOff = r.u64(), fileOff = r.u64(), nBlocks = r.u64();
        if (!block || nBlocks % 2 || off % 4 || sOff % 4 || fileOff % 4) throw new GpuPlanError('bad planar upload record');
        files.push({ id, off, sOff, fileOff, n: nBlocks * block, block });
      } else {
        throw new GpuPlanError(`record ${tag} does not belong in a model plan`);
      }
    }
    if (files.length) {
      if (!read) throw new GpuPlanError('the plan streams weights from the model file but no reader was given');
      files.sort((a, b) => a.fileOff - b.fileOff);
      const total = files.reduce((s, f) => s + f.n, 0);
      let done = 0, sinceSync = 0;
      for (const f of files) {
        const buf = this.buffer(f.id);
        // planar: chunks of whole pairs of blocks, each split into its quants and scales
        const step = f.block ? Math.floor(UPLOAD_CHUNK / (2 * f.block)) * 2 * f.block : UPLOAD_CHUNK;
        for (let at = 0; at < f.n; at += step) {
          const len = Math.min(step, f.n - at);
          const chunk = await read(f.fileOff + at, len);
          if (!chunk || chunk.byteLength < len) throw new GpuPlanError(`model file read at ${f.fileOff + at} returned too few bytes`);
          this.checkLost();
          if (f.block) {
            const { quants, scales } = planarBlocks(chunk.subarray(0, len), f.block);
            const k0 = at / f.block;
            this.writePadded(buf, f.off + k0 * (f.block - 2), quants);
            this.writePadded(buf, f.sOff + 2 * k0, scales);
          } else {
            this.writePadded(buf, f.off + at, chunk.subarray(0, len));
          }
          done += len;
          sinceSync += len;
          if (sinceSync >= 256 << 20) { await this.untilLost(this.device.queue.onSubmittedWorkDone()); sinceSync = 0; }
          if (onProgress) onProgress(done, total);
        }
      }
    }
    await this.untilLost(Promise.all(pending));
    await this.untilLost(this.device.queue.onSubmittedWorkDone());
    this.checkErrors();
  }

  // queue.writeBuffer needs sizes that are multiples of 4: pad the tail with zeros.
  writePadded(buf, off, data) {
    const n4 = data.byteLength & ~3;
    if (n4) this.device.queue.writeBuffer(buf, off, data.buffer, data.byteOffset, n4);
    if (n4 !== data.byteLength) {
      const tail = new Uint8Array(4);
      tail.set(data.subarray(n4));
      this.device.queue.writeBuffer(buf, off + n4, tail.buffer, 0, 4);
    }
  }

  checkErrors() {
    this.checkLost();
    if (this.error) {
      const e = this.error;
      this.error = null;
      throw new GpuPlanError(`WebGPU error: ${e.message}`);
    }
  }

  ensureParams(bytes) {
    if (this.params && this.paramsBytes >= bytes) return;
    if (this.params) this.params.destroy();
    this.paramsBytes = Math.max(bytes, 2 * this.paramsBytes, 64 * PARAM_SLOT);
    this.params = this.device.createBuffer({ size: this.paramsBytes, label: 'params', usage: U.UNIFORM | U.COPY_DST });
    this.bindGroups.clear();
  }

  bindGroup(pipeline, kernel, slot, binds) {
    let key = `${kernel}:${slot}`;
    for (const b of binds) key += `:${b.id}/${b.off}/${b.size}`;
    let bg = this.bindGroups.get(key);
    if (!bg) {
      const entries = [{ binding: 0, resource: { buffer: this.params, offset: slot * PARAM_SLOT, size: PARAM_SLOT } }];
      binds.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: this.buffer(b.id), offset: b.off, size: b.size } }));
      bg = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      if (this.bindGroups.size > 20000) this.bindGroups.clear();
      this.bindGroups.set(key, bg);
    }
    return bg;
  }

  takeStaging(size) {
    const i = this.staging.findIndex((b) => b.size >= size && b.size <= 4 * size + 4096);
    if (i >= 0) return this.staging.splice(i, 1)[0];
    return this.device.createBuffer({ size: Math.max(16, (size + 15) & ~15), label: 'readback', usage: U.MAP_READ | U.COPY_DST });
  }

  // Runs one step blob as one command buffer; resolves to its READ results in order. Rejects with
  // GpuLostError when the device is (or becomes) lost, GpuPlanError for a bad blob or kernel.
  // profile: time every dispatch with timestamp queries (device feature 'timestamp-query'; each
  // dispatch then gets its own pass); the result array gets .profile = [{ name, ns }].
  async run(bytes, { profile = false } = {}) {
    try {
      return await this.runStep(bytes, profile);
    } catch (err) {
      throw await this.failure(err);
    }
  }

  async runStep(bytes, profile = false) {
    this.checkLost();
    const recs = parseBlob(bytes, BLOB_STEP);
    const pending = [];
    for (const rec of recs) this.define(rec, pending);
    if (pending.length) await this.untilLost(Promise.all(pending));
    // params of every dispatch, one 256-byte slot each
    const dispatches = recs.filter((x) => x.tag === REC.DISPATCH).length;
    this.ensureParams(Math.max(1, dispatches) * PARAM_SLOT);
    const params = new Uint32Array(Math.max(1, dispatches) * PARAM_SLOT / 4);
    const enc = this.device.createCommandEncoder();
    let pass = null;
    let bound = null; // the pipeline last set on the pass
    const endPass = () => { if (pass) { pass.end(); pass = null; bound = null; } };
    let qs = null;
    const names = [];
    if (profile) {
      if (!this.device.features.has('timestamp-query')) throw new GpuPlanError('profiling needs the timestamp-query feature');
      qs = this.device.createQuerySet({ type: 'timestamp', count: 2 * Math.max(1, dispatches) });
    }
    const reads = [];
    let slot = 0;
    for (const { tag, r } of recs) {
      switch (tag) {
        case REC.SOURCE: case REC.KERNEL: case REC.BUFFER: break;
        case REC.WRITE: {
          const id = r.u32(); r.u32();
          const off = r.u64(), n = r.u32();
          this.writePadded(this.buffer(id), off, r.bytes(n));
          break;
        }
        case REC.CLEAR: {
          const id = r.u32(); r.u32();
          const off = r.u64(), size = r.u64();
          endPass();
          enc.clearBuffer(this.buffer(id), off, size);
          break;
        }
        case REC.COPY: {
          const src = r.u32(), dst = r.u32();
          const so = r.u64(), dOff = r.u64(), size = r.u64();
          endPass();
          enc.copyBufferToBuffer(this.buffer(src), so, this.buffer(dst), dOff, size);
          break;
        }
        case REC.DISPATCH: {
          const kernel = r.u32(), wx = r.u32(), wy = r.u32(), wz = r.u32(), np = r.u32(), nb = r.u32();
          for (let i = 0; i < np; i++) params[slot * (PARAM_SLOT / 4) + i] = r.u32();
          const binds = [];
          for (let i = 0; i < nb; i++) { const id = r.u32(); r.u32(); binds.push({ id, off: r.u64(), size: r.u64() }); }
          const pipeline = this.kernels.get(kernel);
          if (!pipeline) throw new GpuPlanError(`unknown kernel ${kernel}`);
          if (profile) {
            endPass();
            pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * slot, endOfPassWriteIndex: 2 * slot + 1 } });
            names.push(this.kernelNames.get(kernel) || `kernel ${kernel}`);
          }
          if (!pass) pass = enc.beginComputePass();
          if (bound !== pipeline) { pass.setPipeline(pipeline); bound = pipeline; }
          pass.setBindGroup(0, this.bindGroup(pipeline, kernel, slot, binds));
          pass.dispatchWorkgroups(wx, wy, wz);
          slot++;
          break;
        }
        case REC.READ: {
          const id = r.u32(), what = r.u32();
          const off = r.u64(), size = r.u64();
          endPass();
          const st = this.takeStaging(size);
          enc.copyBufferToBuffer(this.buffer(id), off, st, 0, (size + 3) & ~3);
          reads.push({ what, size, st });
          break;
        }
        default: throw new GpuPlanError(`unknown record ${tag} in a step`);
      }
    }
    endPass();
    let times = null;
    if (profile && slot) {
      const rb = this.device.createBuffer({ size: 16 * slot, usage: 512 | U.COPY_SRC }); // QUERY_RESOLVE
      times = this.device.createBuffer({ size: 16 * slot, usage: U.MAP_READ | U.COPY_DST });
      enc.resolveQuerySet(qs, 0, 2 * slot, rb, 0);
      enc.copyBufferToBuffer(rb, 0, times, 0, 16 * slot);
    }
    if (slot) this.device.queue.writeBuffer(this.params, 0, params.buffer, 0, slot * PARAM_SLOT);
    this.device.queue.submit([enc.finish()]);
    this.stats.steps++;
    this.stats.dispatches += slot;
    const out = [];
    if (times) {
      await this.untilLost(times.mapAsync(MAP_READ));
      const t = new BigInt64Array(times.getMappedRange());
      out.profile = names.map((name, i) => ({ name, ns: Number(t[2 * i + 1] - t[2 * i]) }));
      times.unmap();
      times.destroy();
      qs.destroy();
    }
    if (!reads.length) {
      await this.untilLost(this.device.queue.onSubmittedWorkDone());
      this.checkErrors();
      return out;
    }
    for (const rd of reads) {
      await this.untilLost(rd.st.mapAsync(MAP_READ, 0, (rd.size + 3) & ~3));
      out.push({ what: rd.what, data: new Uint8Array(rd.st.getMappedRange(0, (rd.size + 3) & ~3).slice(0, rd.size)) });
      rd.st.unmap();
      this.staging.push(rd.st);
    }
    this.checkErrors();
    return out;
  }

  // Frees every buffer and forgets the plan's ids, so that a new plan (whose ids start over) can be
  // loaded; compiled pipelines stay cached by their WGSL text and constants.
  reset() {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
    this.bindGroups.clear();
    this.kernels.clear();
    this.kernelNames.clear();
    this.sources.clear();
    this.sourceText.clear();
  }

  destroy() {
    this.reset();
    for (const b of this.staging) b.destroy();
    this.staging = [];
    if (this.params) this.params.destroy();
    this.params = null;
  }
}
