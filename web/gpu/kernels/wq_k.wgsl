// wq_k.wgsl - library: dequantisation of the weight types that kernels read against f32 activations (matvec_k,
// matmul_k, embed_k), selected by WTYPE (GGML type ids): the k-quants Q4_K = 12, Q5_K = 13, Q6_K = 14
// (256-value super-blocks) and Q4_1 = 3, Q5_0 = 6, Q5_1 = 7 (32-value blocks; the k-quant files'
// fallback for rows that are not a multiple of 256). Needs wq.wgsl (byte reads, f16) before it.
// A row is read in parts of 8 values: part u holds values i0..i0+3 and i1..i1+3 (wk_pos(u)), and
// consecutive parts read consecutive 4-byte words of packed codes. Layouts as src/quant_k.c:
//   Q4_K (144 bytes): d f16 @0, dmin f16 @2, scales[12] @4 (6-bit sc/m per 32-value sub-block), qs[128] @16;
//     value 64c + l (l < 32) is the low nibble of qs[32c + l], value 64c + 32 + l the high one.
//   Q5_K (176): as Q4_K with qh[32] @16, qs @48; bit 2c (low) / 2c+1 (high) of qh[l] is bit 4 of the code.
//   Q6_K (210): ql[128] @0, qh[64] @128, int8 scales[16] @192, d f16 @208; value 128h + 32k + l has its
//     low nibble in ql[64h + 32(k & 1) + l] (low for k < 2), bits 4-5 at bit 2k of qh[32h + l], scale
//     sc[8h + 2k + l / 16]; x = d * sc * (code - 32).
//   Q4_1 (20): d, m f16, qs[16]; Q5_0 (22): d, qh u32, qs[16]; Q5_1 (24): d, m, qh, qs[16]. Code j < 16 is
//     the low nibble of qs[j], j >= 16 the high nibble of qs[j - 16], plus bit j of qh as bit 4.
//     x = d * code + m (Q4_1, Q5_1), d * (code - 16) (Q5_0).
// Blocks start on 2-byte boundaries (Q6_K and Q5_0 rows are not multiples of 4): w_u32 reads them.

struct WkPart { lo: vec4<f32>, hi: vec4<f32> }

// Whether WTYPE is one of the 256-value super-block types.
fn wk_super() -> bool { return WTYPE == 12u || WTYPE == 13u || WTYPE == 14u; }

// The 4 bytes of w as floats.
fn wk_bytes(w: u32) -> vec4<f32> {
    return vec4<f32>(f32(w & 0xffu), f32((w >> 8u) & 0xffu), f32((w >> 16u) & 0xffu), f32(w >> 24u));
}

// Bits 0..3 of b moved to bit 4 of bytes 0..3.
fn wk_bit4(b: u32) -> u32 {
    return ((b & 1u) | ((b & 2u) << 7u) | ((b & 4u) << 14u) | ((b & 8u) << 21u)) << 4u;
}

// 6-bit scale (x) and min (y) of sub-block j of a Q4_K/Q5_K super-block whose scales start at byte s.
fn wk_scale_min(s: u32, j: u32) -> vec2<f32> {
    if (j < 4u) { return vec2<f32>(f32(w_u8(s + j) & 63u), f32(w_u8(s + j + 4u) & 63u)); }
    let q = w_u8(s + j + 4u);
    return vec2<f32>(f32((q & 15u) | ((w_u8(s + j - 4u) >> 6u) << 4u)), f32((q >> 4u) | ((w_u8(s + j) >> 6u) << 4u)));
}

// Row positions (i0, i1) of the two runs of 4 values of part u.
fn wk_pos(u: u32) -> vec2<u32> {
    if (wk_super()) {
        let base = (u / 32u) * 256u;
        let j = u % 32u;
        let l0 = 4u * (j % 8u);
        if (WTYPE == 14u) {
            let i0 = base + 128u * (j / 16u) + 32u * ((j / 8u) % 2u) + l0;
            return vec2<u32>(i0, i0 + 64u);
        }
        let i0 = base + 64u * (j / 8u) + l0;
        return vec2<u32>(i0, i0 + 32u);
    }
    let i0 = (u / 4u) * 32u + 4u * (u % 4u);
    return vec2<u32>(i0, i0 + 16u);
}

// The 8 values of part u of the row that starts at byte r.
fn wk_part(r: u32, u: u32) -> WkPart {
    var o: WkPart;
    switch WTYPE {
        case 12u, 13u: {
            let j = u % 32u;
            let c = j / 8u;
            let sb = 144u + 32u * (WTYPE - 12u); // super-block bytes: 144 or 176
            let b = r + (u / 32u) * sb;
            let d = w_f16(b);
            let dmin = w_f16(b + 2u);
            let s0 = wk_scale_min(b + 4u, 2u * c);
            let s1 = wk_scale_min(b + 4u, 2u * c + 1u);
            var lo = 0u;
            var hi = 0u;
            var q = 0u;
            if (WTYPE == 13u) {
                let h = w_u32(b + 16u + 4u * (j % 8u)) >> (2u * c);
                lo = (h & 0x01010101u) << 4u;
                hi = ((h >> 1u) & 0x01010101u) << 4u;
                q = w_u32(b + 48u + 4u * j);
            } else {
                q = w_u32(b + 16u + 4u * j);
            }
            lo |= q & 0x0f0f0f0fu;
            hi |= (q >> 4u) & 0x0f0f0f0fu;
            o.lo = (d * s0.x) * wk_bytes(lo) - dmin * s0.y;
            o.hi = (d * s1.x) * wk_bytes(hi) - dmin * s1.y;
        }
        case 14u: {
            let j = u % 32u;
            let b = r + (u / 32u) * 210u;
            let h = j / 16u;
            let k = (j / 8u) % 2u; // the low nibbles are k, the high ones k + 2
            let l0 = 4u * (j % 8u);
            let ql = w_u32(b + 64u * h + 32u * k + l0);
            let qh = w_u32(b + 128u + 32u * h + l0);
            let d = w_f16(b + 208u);
            let sc = b + 192u + 8u * h + 2u * k + l0 / 16u;
            let s0 = f32(bitcast<i32>(w_u8(sc) << 24u) >> 24u);
            let s1 = f32(bitcast<i32>(w_u8(sc + 4u) << 24u) >> 24u);
            let lo = (ql & 0x0f0f0f0fu) | (((qh >> (2u * k)) & 0x03030303u) << 4u);
            let hi = ((ql >> 4u) & 0x0f0f0f0fu) | (((qh >> (2u * k + 4u)) & 0x03030303u) << 4u);
            o.lo = (d * s0) * (wk_bytes(lo) - 32.0);
            o.hi = (d * s1) * (wk_bytes(hi) - 32.0);
        }
        default: { // Q4_1, Q5_0, Q5_1: part u % 4 of block u / 4
            let p = u % 4u;
            var sb = 20u; // Q4_1
            var qs = 4u;
            if (WTYPE == 6u) { sb = 22u; qs = 6u; }
            if (WTYPE == 7u) { sb = 24u; qs = 8u; }
            let b = r + (u / 4u) * sb;
            let d = w_f16(b);
            let q = w_u32(b + qs + 4u * p);
            var lo = q & 0x0f0f0f0fu;
            var hi = (q >> 4u) & 0x0f0f0f0fu;
            if (WTYPE != 3u) {
                let qh = w_u32(b + qs - 4u);
                lo |= wk_bit4(qh >> (4u * p));
                hi |= wk_bit4(qh >> (16u + 4u * p));
            }
            if (WTYPE == 6u) {
                o.lo = (wk_bytes(lo) - 16.0) * d;
                o.hi = (wk_bytes(hi) - 16.0) * d;
            } else {
                let m = w_f16(b + 2u);
                o.lo = wk_bytes(lo) * d + m;
                o.hi = wk_bytes(hi) * d + m;
            }
        }
    }
    return o;
}
