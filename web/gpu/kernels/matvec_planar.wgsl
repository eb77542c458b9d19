// matvec_planar.wgsl - y = W x for 1..8 tokens (decode) on planar Q4_0 / Q8_0 weights (wq.wgsl): R rows per workgroup of 64 lanes, 16-byte aligned loads.
// The planar layout (quants of all blocks, then all scales) lets consecutive lanes read
// consecutive 16-byte quant chunks: one coalesced load per lane instead of the 2-byte-misaligned
// word reads of GGUF blocks. A lane loads its piece of x once and uses it for R rows (x is read
// from cache once per R rows, not per row), and NT (tokens) and R are pipeline constants with
// R * NT <= 8, so the loops unroll and the R * NT sums stay in registers. WQ and W bind the same
// weight range (as vec4 quants / as words for the scales); X and XV the same activation range.
// Q4_0: a lane takes a whole block (16 bytes of nibbles) against x as Q8 blocks (quant_act.wgsl),
// an integer sum scaled by d_w * d_x, as the CPU backend and matvec.wgsl compute it.
// Q8_0: a lane takes half a block (16 codes) against f32 x (XV: x_off and x_stride multiples of 4),
// the codes dequantised: sum of d_w * code * x.
// Params, epilogues and output addressing as matvec.wgsl; s0 = byte offset of the scales plane;
// workgroup g computes rows g * R .. g * R + R - 1.
struct Params {
    n_in: u32, n_out: u32, T: u32, row_bytes: u32,
    x_off: u32, x_stride: u32, y_off: u32, y_stride: u32,
    y_col0: u32, mode: u32, nwg_x: u32, s0: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> WQ: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> X: array<u32>;
@group(0) @binding(4) var<storage, read> XV: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;

const LANES = 64u;
override NT: u32 = 1u; // tokens (p.T)
override R: u32 = 1u;  // rows per workgroup; R * NT <= 8

// 4 int8 codes of a word as f32
fn i8x4(w: u32) -> vec4<f32> {
    let v = bitcast<i32>(w);
    return vec4<f32>(f32((v << 24u) >> 24u), f32((v << 16u) >> 24u), f32((v << 8u) >> 24u), f32(v >> 24u));
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = (wid.y * p.nwg_x + wid.x) * R;
    let nb = p.n_in / 32u;
    var acc: array<f32, 8>; // [r * NT + t]
    if (WTYPE == 2u) {
        for (var b = li; b < nb; b += LANES) {
            var q: array<vec4<u32>, 8>;
            var dw: array<f32, 8>;
            for (var r = 0u; r < R; r++) {
                if (row0 + r < p.n_out) {
                    let k = (row0 + r) * nb + b;
                    q[r] = WQ[k];
                    dw[r] = w_f16(p.s0 + 2u * k); // block k's f16 scale (wq.wgsl)
                }
            }
            for (var t = 0u; t < NT; t++) {
                let xb = p.x_off + t * p.x_stride + b * 9u;
                let x0 = vec4<u32>(X[xb], X[xb + 1u], X[xb + 2u], X[xb + 3u]);
                let x1 = vec4<u32>(X[xb + 4u], X[xb + 5u], X[xb + 6u], X[xb + 7u]);
                let dx = bitcast<f32>(X[xb + 8u]);
                for (var r = 0u; r < R; r++) {
                    let w = q[r];
                    let s = dot_i8(q4_codes(w.x, false), x0.x) + dot_i8(q4_codes(w.y, false), x0.y)
                          + dot_i8(q4_codes(w.z, false), x0.z) + dot_i8(q4_codes(w.w, false), x0.w)
                          + dot_i8(q4_codes(w.x, true), x1.x) + dot_i8(q4_codes(w.y, true), x1.y)
                          + dot_i8(q4_codes(w.z, true), x1.z) + dot_i8(q4_codes(w.w, true), x1.w);
                    acc[r * NT + t] += dw[r] * dx * f32(s);
                }
            }
        }
    } else {
        for (var e = li; e < 2u * nb; e += LANES) { // half blocks
            var q: array<vec4<u32>, 8>;
            var dw: array<f32, 8>;
            for (var r = 0u; r < R; r++) {
                if (row0 + r < p.n_out) {
                    let k = (row0 + r) * nb;
                    q[r] = WQ[2u * k + e];
                    dw[r] = w_f16(p.s0 + 2u * (k + (e >> 1u)));
                }
            }
            for (var t = 0u; t < NT; t++) {
                let x4 = (p.x_off + t * p.x_stride) / 4u + 4u * e;
                let xa = XV[x4];
                let xb = XV[x4 + 1u];
                let xc = XV[x4 + 2u];
                let xd = XV[x4 + 3u];
                for (var r = 0u; r < R; r++) {
                    let w = q[r];
                    acc[r * NT + t] += dw[r] * (dot(i8x4(w.x), xa) + dot(i8x4(w.y), xb) + dot(i8x4(w.z), xc) + dot(i8x4(w.w), xd));
                }
            }
        }
    }
    for (var r = 0u; r < R; r++) {
        for (var t = 0u; t < NT; t++) {
            let v = lane_sum(acc[r * NT + t], li); // lanes_wg.wgsl or lanes_sg.wgsl: the row's sum
            if (row0 + r < p.n_out && li == 0u) { epilogue(p.y_off + t * p.y_stride + p.y_col0 + row0 + r, v); }
        }
    }
}
