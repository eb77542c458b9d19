// safetensors.mjs - reads F32/I32 tensors from a .safetensors file (test helper).
import { readFileSync } from 'node:fs';

export function readSafetensors(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = info.data_offsets;
    const bytes = buf.subarray(8 + n + b, 8 + n + e);
    const copy = new Uint8Array(bytes).buffer;
    if (info.dtype === 'F32') out[name] = new Float32Array(copy);
    else if (info.dtype === 'I32') out[name] = new Int32Array(copy);
    else continue;
    out[name].shape = info.shape;
  }
  return out;
}
