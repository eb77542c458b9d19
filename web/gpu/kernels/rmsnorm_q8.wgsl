// rmsnorm_q8.wgsl - RMSNorm fused with the Q8 quantisation of its output (the input of the next
// quantised matmuls): out = w * x / sqrt(mean(x^2) + eps) as f32, and its Q8 blocks (q8.wgsl).
// Workgroups (row, pair of blocks): each sums the row's squares itself (cheap, and many workgroups
// keep the GPU busy), then normalises and quantises its 64 values. n a multiple of 32; x_off and
// x_stride multiples of 4.
struct Params {
    n: u32, T: u32, x_off: u32, x_stride: u32, out_off: u32, out_stride: u32, eps: f32, q_stride: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>; // offsets and strides are multiples of 4
@group(0) @binding(2) var<storage, read> NW: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(4) var<storage, read_write> XQ: array<u32>;

const WG = 64u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let t = wid.x;
    let xb = p.x_off + t * p.x_stride;
    let xb4 = xb / 4u;
    var ss = 0.0;
    let n4 = p.n / 4u;
    var j = li;
    for (; j + 3u * WG < n4; j += 4u * WG) { // 16-byte loads, four in flight per invocation
        let a = X[xb4 + j];
        let b = X[xb4 + j + WG];
        let c = X[xb4 + j + 2u * WG];
        let d = X[xb4 + j + 3u * WG];
        ss += (dot(a, a) + dot(b, b)) + (dot(c, c) + dot(d, d));
    }
    for (; j < n4; j += WG) {
        let v = X[xb4 + j];
        ss += dot(v, v);
    }
    red[li] = ss;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (li < s) { red[li] += red[li + s]; }
        workgroupBarrier();
    }
    let r = 1.0 / sqrt(red[0] / f32(p.n) + p.eps);
    let i = wid.y * 64u + li;
    let live = i < p.n;
    var v = 0.0;
    if (live) {
        v = NW[i] * (X[(xb + i) / 4u][(xb + i) % 4u] * r);
        OUT[p.out_off + t * p.out_stride + i] = v;
    }
    q8_store_wg(v, li, t * p.q_stride + (i / 32u) * 9u, live);
}
