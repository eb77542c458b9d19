// sha256.test.mjs - web/sha256.js against Node's crypto on lengths around the block edges, fed in uneven chunks.
import crypto from 'node:crypto';
import { suite } from '../e2e/lib/suite.mjs';
import { Sha256, sha256Hex } from '../../web/sha256.js';

const t = suite('js-sha256');
await t.run(async () => {
  t.check('empty input', sha256Hex(new Uint8Array(0)) === 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.check('"abc"', sha256Hex(new TextEncoder().encode('abc')) === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  let bad = [];
  for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 65537]) {
    const b = crypto.randomBytes(n);
    const h = new Sha256();
    for (let at = 0; at < n; at += 1 + (at % 37)) h.update(b.subarray(at, Math.min(n, at + 1 + (at % 37))));
    if (h.hex() !== crypto.createHash('sha256').update(b).digest('hex')) bad.push(n);
  }
  t.check('chunked input of 13 lengths matches node:crypto', bad.length === 0, `bad lengths: ${bad}`);
});
