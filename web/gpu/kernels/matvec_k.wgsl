// matvec_k.wgsl - y = W x for 1..8 tokens (decode) with weights that are dequantised in the kernel against f32
// activations (wq_k.wgsl: Q4_K, Q5_K, Q6_K, Q4_1, Q5_0, Q5_1): one row per workgroup of 64 lanes, lane k
// reading parts k, k + 64, ... of 8 values (consecutive lanes read consecutive words of codes). Params,
// epilogues (0 store, 1 add, 2 relu², 3 SwiGLU) and output addressing as matvec.wgsl; X holds f32.
struct Params {
    n_in: u32, n_out: u32, T: u32, row_bytes: u32,
    x_off: u32, x_stride: u32, y_off: u32, y_stride: u32,
    y_col0: u32, mode: u32, nwg_x: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const LANES = 64u;
const MAXT = 8u;

fn x4(i: u32) -> vec4<f32> { return vec4<f32>(X[i], X[i + 1u], X[i + 2u], X[i + 3u]); }

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let row = wid.y * p.nwg_x + wid.x;
    let valid = row < p.n_out;
    var acc: array<f32, MAXT>;
    if (valid) {
        let r = row * p.row_bytes;
        for (var u = li; u < p.n_in / 8u; u += LANES) {
            let w = wk_part(r, u);
            let at = wk_pos(u);
            for (var t = 0u; t < p.T; t++) {
                let xb = p.x_off + t * p.x_stride;
                acc[t] += dot(w.lo, x4(xb + at.x)) + dot(w.hi, x4(xb + at.y));
            }
        }
    }
    for (var t = 0u; t < p.T; t++) {
        let v = lane_sum(acc[t], li); // lanes_wg.wgsl or lanes_sg.wgsl: the row's sum
        if (valid && li == 0u) { epilogue(p.y_off + t * p.y_stride + p.y_col0 + row, v); }
    }
}
