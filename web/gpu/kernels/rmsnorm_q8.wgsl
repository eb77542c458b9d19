// rmsnorm_q8.wgsl - RMSNorm fused with the Q8 quantisation of its output (the input of the next
// quantised matmuls): out = w * x / sqrt(mean(x^2) + eps) as f32, and its Q8 blocks (q8.wgsl).
// One workgroup per row; n a multiple of 32.
struct Params {
    n: u32, T: u32, x_off: u32, x_stride: u32, out_off: u32, out_stride: u32, eps: f32, q_stride: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> NW: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(4) var<storage, read_write> XQ: array<u32>;

const WG = 64u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let t = wid.x;
    let xb = p.x_off + t * p.x_stride;
    var ss = 0.0;
    for (var i = li; i < p.n; i += WG) {
        let v = X[xb + i];
        ss += v * v;
    }
    red[li] = ss;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (li < s) { red[li] += red[li + s]; }
        workgroupBarrier();
    }
    let r = 1.0 / sqrt(red[0] / f32(p.n) + p.eps);
    let ob = p.out_off + t * p.out_stride;
    for (var b = li; b < p.n / 32u; b += WG) {
        var v: array<f32, 32>;
        for (var j = 0u; j < 32u; j++) {
            let i = b * 32u + j;
            v[j] = NW[i] * (X[xb + i] * r);
            OUT[ob + i] = v[j];
        }
        q8_store(&v, t * p.q_stride + b * 9u);
    }
}
