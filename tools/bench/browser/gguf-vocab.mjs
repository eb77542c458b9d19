// gguf-vocab.mjs - finds the token-type array of a GGUF's placeholder vocabulary ("<tok_i>", from `hearth convert --random-weights`) so the page can mark its tokens user-defined.
//
// wllama 3 takes a prompt only as text (its server task keeps the prompt as a string), and a
// placeholder vocabulary has no merges or byte tokens, so no text tokenizes to its NORMAL tokens.
// Tokens of type USER_DEFINED, though, are matched verbatim in text when special tokens are
// parsed: with every type set to USER_DEFINED, the text "<tok_5><tok_17>..." is exactly the ids
// 5, 17, ... The patch changes only those n_vocab int32 values (same length, so every offset after
// them stands); weights, shapes and the rest of the file are untouched.
import fs from 'node:fs';

export const TOKEN_USER_DEFINED = 4; // llama.cpp's token type for user-defined tokens

const SCALAR = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 }; // GGUF value type -> bytes
const STRING = 8, ARRAY = 9, INT32 = 5;

// Returns {offset, count, placeholder}: the file offset of tokenizer.ggml.token_type's int32
// values, their count, and whether tokenizer.hearth.placeholder is true. Throws if absent.
export function placeholderTokenTypes(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(fs.fstatSync(fd).size, 64 << 20));
    fs.readSync(fd, head, 0, head.length, 0);
    if (head.toString('latin1', 0, 4) !== 'GGUF') throw new Error(`${file} is not a GGUF file`);
    let at = 8;
    const u64 = () => { const v = Number(head.readBigUInt64LE(at)); at += 8; return v; };
    const str = () => { const n = u64(); const s = head.toString('utf8', at, at + n); at += n; return s; };
    const skip = (type, n = 1) => {
      if (type === STRING) for (let i = 0; i < n; i++) str();
      else if (SCALAR[type]) at += SCALAR[type] * n;
      else throw new Error(`unexpected GGUF value type ${type}`);
    };
    u64(); // tensor count
    const nKv = u64();
    let types = null, placeholder = false;
    for (let k = 0; k < nKv; k++) {
      const key = str();
      const type = head.readUInt32LE(at); at += 4;
      if (type === ARRAY) {
        const et = head.readUInt32LE(at); at += 4;
        const n = u64();
        if (key === 'tokenizer.ggml.token_type' && et === INT32) types = { offset: at, count: n };
        if (et === ARRAY) throw new Error('nested GGUF arrays are not expected here');
        skip(et, n);
      } else {
        if (key === 'tokenizer.hearth.placeholder' && type === 7) placeholder = head[at] !== 0;
        skip(type);
      }
    }
    if (!types) throw new Error(`${file} has no tokenizer.ggml.token_type array`);
    return { ...types, placeholder };
  } finally {
    fs.closeSync(fd);
  }
}
