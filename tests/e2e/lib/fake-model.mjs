// fake-model.mjs - writes model files for tests/e2e/fake/engine.c (the engine test double): header, then filler bytes.
import fs from 'node:fs';
import crypto from 'node:crypto';

// "GGUF" | u32 version | u64 total size | u32 ms per token | deterministic filler. Returns its sha256.
export function fakeModelBytes(size, msPerToken = 0) {
  const b = Buffer.alloc(size);
  for (let i = 20; i < size; i++) b[i] = (i * 2654435761) >>> 24;
  b.write('GGUF', 0, 'latin1');
  b.writeUInt32LE(3, 4);
  b.writeBigUInt64LE(BigInt(size), 8);
  b.writeUInt32LE(msPerToken, 16);
  return b;
}

export function writeFakeModel(file, size, msPerToken = 0) {
  const b = fakeModelBytes(size, msPerToken);
  fs.writeFileSync(file, b);
  return crypto.createHash('sha256').update(b).digest('hex');
}
