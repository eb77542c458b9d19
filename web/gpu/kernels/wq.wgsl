// wq.wgsl - library prepended to kernels that read a GGUF weight tensor bound as `W: array<u32>`:
// byte-addressed reads and dequantisation, selected by the WTYPE override (GGML type ids).
// Layouts (src/quant.h): F32 = 0, F16 = 1, BF16 = 30 plain; Q8_0 = 8: {f16 d; i8 q[32]} (34 bytes);
// Q4_0 = 2: {f16 d; u8 qs[16]} (18 bytes), value j < 16 = low nibble of qs[j], j >= 16 = high
// nibble of qs[j - 16], x = d * (nibble - 8). Blocks start on 2-byte boundaries, so every
// multi-byte read is either word aligned or off by exactly 2 bytes. f16 is read with
// unpack2x16float: no shader-f16 needed. All arithmetic is f32.
override WTYPE: u32 = 0u;

fn w_u8(b: u32) -> u32 { return (W[b >> 2u] >> ((b & 3u) * 8u)) & 0xffu; }
fn w_u16(b: u32) -> u32 { return (W[b >> 2u] >> ((b & 2u) * 8u)) & 0xffffu; }
// 4 bytes from an even byte offset
fn w_u32(b: u32) -> u32 {
    let i = b >> 2u;
    if ((b & 2u) == 0u) { return W[i]; }
    return (W[i] >> 16u) | (W[i + 1u] << 16u);
}
fn w_f16(b: u32) -> f32 { return unpack2x16float(w_u16(b)).x; }
fn w_bf16(b: u32) -> f32 { return bitcast<f32>(w_u16(b) << 16u); }
// byte k (0..3) of a word, as a signed 8-bit value
fn w_i8(q: u32, k: u32) -> f32 { return f32(bitcast<i32>(q << (24u - 8u * k)) >> 24u); }

// Value i of the row that starts at byte r.
fn w_value(r: u32, i: u32) -> f32 {
    switch WTYPE {
        case 1u: { return w_f16(r + 2u * i); }
        case 30u: { return w_bf16(r + 2u * i); }
        case 8u: {
            let b = r + (i / 32u) * 34u;
            let j = i % 32u;
            let q = w_u8(b + 2u + j);
            return w_f16(b) * f32(bitcast<i32>(q << 24u) >> 24u);
        }
        case 2u: {
            let b = r + (i / 32u) * 18u;
            let j = i % 32u;
            let q = w_u8(b + 2u + (j % 16u));
            let nib = select(q >> 4u, q & 15u, j < 16u);
            return w_f16(b) * (f32(nib) - 8.0);
        }
        default: { return bitcast<f32>(W[(r >> 2u) + i]); }
    }
}

// The 32 values of quantised block `blk` of the row at byte r (WTYPE 8 or 2).
fn w_block(r: u32, blk: u32, out: ptr<function, array<f32, 32>>) {
    if (WTYPE == 8u) {
        let b = r + blk * 34u;
        let d = w_f16(b);
        for (var k = 0u; k < 8u; k++) {
            let q = w_u32(b + 2u + 4u * k);
            (*out)[4u * k] = d * w_i8(q, 0u);
            (*out)[4u * k + 1u] = d * w_i8(q, 1u);
            (*out)[4u * k + 2u] = d * w_i8(q, 2u);
            (*out)[4u * k + 3u] = d * w_i8(q, 3u);
        }
    } else {
        let b = r + blk * 18u;
        let d = w_f16(b);
        for (var k = 0u; k < 4u; k++) {
            let q = w_u32(b + 2u + 4u * k);
            for (var s = 0u; s < 4u; s++) {
                let byte = (q >> (8u * s)) & 0xffu;
                (*out)[4u * k + s] = d * (f32(byte & 15u) - 8.0);
                (*out)[4u * k + s + 16u] = d * (f32(byte >> 4u) - 8.0);
            }
        }
    }
}
