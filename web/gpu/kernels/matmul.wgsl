// matmul.wgsl - Y = X W^T for many tokens (prefill): 32 output rows x 32 tokens per workgroup of 64
// (4 x 4 outputs per invocation), K in steps of 32 (one quant block) through workgroup memory.
// F32/F16/BF16/Q8_0 weights: f32 tiles (Q8_0 dequantised, x in f32). Q4_0 weights: integer codes of
// both sides (x as Q8 blocks from quant_act.wgsl), per block an integer sum scaled by d_w * d_x, as
// the CPU backend computes it. Params, epilogue and output addressing as matvec.wgsl (GGUF or
// planar weights, wq.wgsl).
struct Params {
    n_in: u32, n_out: u32, T: u32, row_bytes: u32,
    x_off: u32, x_stride: u32, y_off: u32, y_stride: u32,
    y_col0: u32, mode: u32, nwg_x: u32, s0: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<u32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const TM = 32u; // output rows per tile
const TN = 32u; // tokens per tile
const TK = 32u;
var<workgroup> ws: array<f32, 1056>; // float weights [TM][TK + 1]
var<workgroup> xs: array<f32, 1056>; // float activations [TN][TK + 1]
var<workgroup> wq: array<u32, 256>;  // weight codes [TM][8]
var<workgroup> wd: array<f32, 32>;
var<workgroup> xq: array<u32, 256>;  // activation codes [TN][8]
var<workgroup> xd: array<f32, 32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.x * TM;
    let tok0 = wid.y * TN;
    let tr = li % 8u; // rows tr*4 .. tr*4+3
    let tc = li / 8u; // tokens tc*4 .. tc*4+3
    let quant = WTYPE == 2u;
    w_s0 = p.s0;
    var acc: array<f32, 16>;
    let nk = (p.n_in + TK - 1u) / TK;
    let lr = li / 2u;  // the weight row this invocation stages
    let half = li % 2u; // ... and which half of its 32 values
    let row = row0 + lr;
    for (var kt = 0u; kt < nk; kt++) {
        let k0 = kt * TK;
        if (quant) {
            var c: array<u32, 4>;
            var d = 0.0;
            if (row < p.n_out) {
                let r = row * p.row_bytes;
                // codes 0..15: low nibbles of the 16 bytes; 16..31: high nibbles
                let b = w_codes_at(r, kt);
                for (var j = 0u; j < 4u; j++) { c[j] = q4_codes(w_u32(b + 4u * j), half == 1u); }
                d = w_block_d(r, kt);
            }
            for (var j = 0u; j < 4u; j++) { wq[lr * 8u + 4u * half + j] = c[j]; }
            if (half == 0u) { wd[lr] = d; }
            for (var e = li; e < TN * 9u; e += 64u) { // 32 tokens x (8 code words + d)
                let tt = e / 9u;
                let k = e % 9u;
                var v = 0u;
                if (tok0 + tt < p.T) { v = X[p.x_off + (tok0 + tt) * p.x_stride + kt * 9u + k]; }
                if (k < 8u) { xq[tt * 8u + k] = v; } else { xd[tt] = bitcast<f32>(v); }
            }
        } else {
            for (var j = 0u; j < 16u; j++) {
                let k = k0 + 16u * half + j;
                var v = 0.0;
                if (row < p.n_out && k < p.n_in) { v = w_value(row * p.row_bytes, k); }
                ws[lr * (TK + 1u) + 16u * half + j] = v;
            }
            for (var j = 0u; j < 16u; j++) {
                let e = li + 64u * j;
                let tt = e / TK;
                let kk = e % TK;
                var v = 0.0;
                if (tok0 + tt < p.T && k0 + kk < p.n_in) { v = bitcast<f32>(X[p.x_off + (tok0 + tt) * p.x_stride + k0 + kk]); }
                xs[tt * (TK + 1u) + kk] = v;
            }
        }
        workgroupBarrier();
        if (quant) {
            for (var r = 0u; r < 4u; r++) {
                let wr = tr * 4u + r;
                for (var c = 0u; c < 4u; c++) {
                    let tt = tc * 4u + c;
                    var s = 0;
                    for (var k = 0u; k < 8u; k++) { s += dot_i8(wq[wr * 8u + k], xq[tt * 8u + k]); }
                    acc[r * 4u + c] += wd[wr] * xd[tt] * f32(s);
                }
            }
        } else {
            for (var k = 0u; k < TK; k++) {
                var xv: array<f32, 4>;
                for (var c = 0u; c < 4u; c++) { xv[c] = xs[(tc * 4u + c) * (TK + 1u) + k]; }
                for (var r = 0u; r < 4u; r++) {
                    let w = ws[(tr * 4u + r) * (TK + 1u) + k];
                    for (var c = 0u; c < 4u; c++) { acc[r * 4u + c] += w * xv[c]; }
                }
            }
        }
        workgroupBarrier();
    }
    for (var r = 0u; r < 4u; r++) {
        let orow = row0 + tr * 4u + r;
        for (var c = 0u; c < 4u; c++) {
            let t = tok0 + tc * 4u + c;
            if (orow < p.n_out && t < p.T) { epilogue(p.y_off + t * p.y_stride + p.y_col0 + orow, acc[r * 4u + c]); }
        }
    }
}
