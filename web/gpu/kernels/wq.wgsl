// wq.wgsl - library prepended to kernels that read a GGUF weight tensor bound as `W: array<u32>`:
// byte-addressed reads and dequantisation, selected by the WTYPE override (GGML type ids).
// Needs dot_i8 (dot_emul.wgsl or dot_dp4.wgsl) in the same module.
// Layouts (src/quant.h): F32 = 0, F16 = 1, BF16 = 30 plain; Q8_0 = 8: {f16 d; i8 q[32]} (34 bytes);
// Q4_0 = 2: {f16 d; u8 qs[16]} (18 bytes), value j < 16 = low nibble of qs[j], j >= 16 = high
// nibble of qs[j - 16], x = d * (nibble - 8). Blocks start on 2-byte boundaries, so every
// multi-byte read is either word aligned or off by exactly 2 bytes. f16 is decoded with
// integer ops (no shader-f16 needed). All arithmetic is f32.
// WPLANAR (Q8_0/Q4_0 whose row length is an even number of blocks, repacked by the host at load,
// plan.h UPLOAD_FILE_PLANAR): the quants of all blocks of the part first (block k of the part at byte
// k * QB, QB = 32 or 16), then their f16 scales (at w_s0 + 2 k); every read is then word aligned.
// Functions still take r = the row's byte offset in GGUF layout (row * row_bytes).
override WTYPE: u32 = 0u;
override WPLANAR: bool = false;
var<private> w_s0: u32 = 0u; // WPLANAR: byte offset of the scales plane (the kernel sets it)

fn w_qb() -> u32 { return select(16u, 32u, WTYPE == 8u); } // quant bytes per block
// Byte offset of the quants / the f16 scale of block blk of the row at byte r.
fn w_codes_at(r: u32, blk: u32) -> u32 {
    if (WPLANAR) { return (r / (w_qb() + 2u) + blk) * w_qb(); }
    return r + blk * (w_qb() + 2u) + 2u;
}
fn w_scale_at(r: u32, blk: u32) -> u32 {
    if (WPLANAR) { return w_s0 + 2u * (r / (w_qb() + 2u) + blk); }
    return r + blk * (w_qb() + 2u);
}

fn w_u8(b: u32) -> u32 { return (W[b >> 2u] >> ((b & 3u) * 8u)) & 0xffu; }
fn w_u16(b: u32) -> u32 { return (W[b >> 2u] >> ((b & 2u) * 8u)) & 0xffffu; }
// 4 bytes from an even byte offset
fn w_u32(b: u32) -> u32 {
    let i = b >> 2u;
    if ((b & 2u) == 0u) { return W[i]; }
    return (W[i] >> 16u) | (W[i + 1u] << 16u);
}
// IEEE half to f32 by hand: unpack2x16float may flush f16 subnormals to zero (SwiftShader does),
// and small Q8_0 scales (amax < 2^-14 * 127) are subnormal.
fn f16_to_f32(h: u32) -> f32 {
    let s = (h & 0x8000u) << 16u;
    let e = (h >> 10u) & 0x1fu;
    let m = h & 0x3ffu;
    if (e == 0u) { return bitcast<f32>(bitcast<u32>(f32(m) * (1.0 / 16777216.0)) | s); }
    if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
    return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}
fn w_f16(b: u32) -> f32 { return f16_to_f32(w_u16(b)); }
fn w_bf16(b: u32) -> f32 { return bitcast<f32>(w_u16(b) << 16u); }

// 4 Q4_0 nibbles (the low ones, or the high ones when hi) of a word, minus 8, as 4 packed int8
// codes: nib ^ 8 is (nib - 8) mod 16; bytes whose bit 3 is then set are negative and get 0xf0.
fn q4_codes(w: u32, hi: bool) -> u32 {
    var n = w & 0x0f0f0f0fu;
    if (hi) { n = (w >> 4u) & 0x0f0f0f0fu; }
    let t = n ^ 0x08080808u;
    return t | ((t & 0x08080808u) * 0x1eu);
}

// Integer dot product of weight block `blk` of the row at byte r with a Q8 activation block whose
// 8 code words are XQ-words c[0..7] (passed in); the caller scales by d_w * d_x. WTYPE 8 or 2.
fn w_block_isum(r: u32, blk: u32, c: ptr<function, array<u32, 8>>) -> i32 {
    var s = 0;
    let b = w_codes_at(r, blk);
    if (WTYPE == 8u) {
        for (var k = 0u; k < 8u; k++) { s += dot_i8(w_u32(b + 4u * k), (*c)[k]); }
    } else {
        for (var k = 0u; k < 4u; k++) {
            let q = w_u32(b + 4u * k);
            s += dot_i8(q4_codes(q, false), (*c)[k]) + dot_i8(q4_codes(q, true), (*c)[k + 4u]);
        }
    }
    return s;
}

// Scale d of block `blk` of the row at byte r (quantised types).
fn w_block_d(r: u32, blk: u32) -> f32 { return w_f16(w_scale_at(r, blk)); }

// Value i of the row that starts at byte r.
fn w_value(r: u32, i: u32) -> f32 {
    switch WTYPE {
        case 1u: { return w_f16(r + 2u * i); }
        case 30u: { return w_bf16(r + 2u * i); }
        case 8u: {
            let q = w_u8(w_codes_at(r, i / 32u) + i % 32u);
            return w_block_d(r, i / 32u) * f32(bitcast<i32>(q << 24u) >> 24u);
        }
        case 2u: {
            let j = i % 32u;
            let q = w_u8(w_codes_at(r, i / 32u) + j % 16u);
            let nib = select(q >> 4u, q & 15u, j < 16u);
            return w_block_d(r, i / 32u) * (f32(nib) - 8.0);
        }
        default: { return bitcast<f32>(W[(r >> 2u) + i]); }
    }
}
