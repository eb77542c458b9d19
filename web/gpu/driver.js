// driver.js - the generation loop between the C planner (wasm exports, or the native test helper) and GpuHost, falling back to the CPU when the device is lost.
//
// planner: the C side (src/webgpu/gpu.h, hg_gen_*), async so that it can live in a worker or a process:
//   next()                 -> { kind: 'run', blob, wantsToken, wantsLogits } | { kind: 'token', token } | { kind: 'done' }
//   result(token, logits)  -> the new token id, or -1 for a prompt-only step   (hg_gen_result)
//   lost()                 -> the CPU rebuilds the state; later next() calls compute on the CPU (hg_gen_lost)
// host: a GpuHost, or null when WebGPU is unavailable (every step then fails over at once).
import { GpuLostError, READ_LOGITS, READ_TOKEN } from './host.js';

// Yields token ids as they are produced. onFallback(error) is called once if the GPU is given up.
export async function* generateTokens(planner, host, { onFallback } = {}) {
  let gpu = host;
  for (;;) {
    const a = await planner.next();
    if (a.kind === 'done') return;
    if (a.kind === 'token') { yield a.token; continue; }
    let reads;
    try {
      if (!gpu) throw new GpuLostError('no WebGPU device');
      reads = await gpu.run(a.blob);
    } catch (err) {
      if (!(err instanceof GpuLostError)) throw err;
      gpu = null;
      if (onFallback) onFallback(err);
      await planner.lost();
      continue;
    }
    let token = -1, logits = null;
    for (const r of reads) {
      if (r.what === READ_TOKEN) token = new DataView(r.data.buffer, r.data.byteOffset, 4).getUint32(0, true);
      else if (r.what === READ_LOGITS) logits = new Float32Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.byteLength));
    }
    const t = await planner.result(token, logits);
    if (t >= 0) yield t;
  }
}
