// matvec.wgsl - y = W x for 1..8 tokens (decode): one row per workgroup of 64 lanes (enough
// workgroups to fill a big GPU even for matrices of a few thousand rows; 64 invocations because
// barriers in larger workgroups cost 10-20x more on SwiftShader). The general path: any layout;
// planar Q8_0/Q4_0 weights with aligned activations take matvec_planar.wgsl instead.
// F32/F16/BF16/Q8_0 weights: x is f32 (X holds its bits; Q8_0 dequantised on the fly). Q4_0 weights:
// x comes as Q8 blocks (quant_act.wgsl): per block an integer sum of code products, scaled by
// d_w * d_x, as the CPU backend computes it. Epilogue (mode): 0 store, 1 add into y (residual),
// 2 relu(v)^2 (relu² MLP), 3 silu(y_old) * v (SwiGLU: y holds the gate projection). Row o goes to
// column y_col0 + o (a part of a row-split matrix writes its slice). x_off / x_stride are in words;
// s0: the scales plane of planar weights (wq.wgsl).
struct Params {
    n_in: u32, n_out: u32, T: u32, row_bytes: u32,
    x_off: u32, x_stride: u32, y_off: u32, y_stride: u32,
    y_col0: u32, mode: u32, nwg_x: u32, s0: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<u32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const LANES = 64u;
const MAXT = 8u;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let lane = li;
    let row = wid.y * p.nwg_x + wid.x;
    let valid = row < p.n_out;
    var acc: array<f32, MAXT>;
    w_s0 = p.s0;
    if (valid) {
        let r = row * p.row_bytes;
        if (WTYPE == 2u) {
            let nb = p.n_in / 32u;
            for (var b = lane; b < nb; b += LANES) {
                let dw = w_block_d(r, b);
                for (var t = 0u; t < p.T; t++) {
                    let xb = p.x_off + t * p.x_stride + b * 9u;
                    var c: array<u32, 8>;
                    for (var k = 0u; k < 8u; k++) { c[k] = X[xb + k]; }
                    acc[t] += dw * bitcast<f32>(X[xb + 8u]) * f32(w_block_isum(r, b, &c));
                }
            }
        } else {
            for (var i = lane; i < p.n_in; i += LANES) {
                let w = w_value(r, i);
                for (var t = 0u; t < p.T; t++) { acc[t] += w * bitcast<f32>(X[p.x_off + t * p.x_stride + i]); }
            }
        }
    }
    for (var t = 0u; t < p.T; t++) {
        let v = lane_sum(acc[t], li); // lanes_wg.wgsl or lanes_sg.wgsl: the row's sum
        if (valid && lane == 0u) { epilogue(p.y_off + t * p.y_stride + p.y_col0 + row, v); }
    }
}
