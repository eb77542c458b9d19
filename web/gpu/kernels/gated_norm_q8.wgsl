// gated_norm_q8.wgsl - the Mamba-2 gated group RMSNorm (gated_norm.wgsl) fused with the Q8
// quantisation of its output for the out-projection (q8.wgsl). Workgroups (group, token, 64 values
// of the group): each sums the group's squares itself, then quantises its two blocks. The group
// size is a multiple of 32, so no block straddles two groups.
struct Params {
    n: u32, G: u32, T: u32, y_off: u32, y_stride: u32, z_off: u32, z_stride: u32,
    out_off: u32, out_stride: u32, eps: f32, q_stride: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> YIN: array<f32>;
@group(0) @binding(2) var<storage, read> Z: array<f32>;
@group(0) @binding(3) var<storage, read> NW: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(5) var<storage, read_write> XQ: array<u32>;

const WG = 64u;
var<workgroup> red: array<f32, WG>;

fn gated(t: u32, i: u32) -> f32 {
    let z = Z[p.z_off + t * p.z_stride + i];
    return YIN[p.y_off + t * p.y_stride + i] * (z / (1.0 + exp(-z)));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let g = wid.x;
    let t = wid.y;
    let gs = p.n / p.G;
    var ss = 0.0;
    var j = li;
    for (; j + 3u * WG < gs; j += 4u * WG) { // four values in flight per invocation
        let a = gated(t, g * gs + j);
        let b = gated(t, g * gs + j + WG);
        let c = gated(t, g * gs + j + 2u * WG);
        let d = gated(t, g * gs + j + 3u * WG);
        ss += (a * a + b * b) + (c * c + d * d);
    }
    for (; j < gs; j += WG) {
        let v = gated(t, g * gs + j);
        ss += v * v;
    }
    red[li] = ss;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (li < s) { red[li] += red[li + s]; }
        workgroupBarrier();
    }
    let r = 1.0 / sqrt(red[0] / f32(gs) + p.eps);
    let i = wid.z * 64u + li; // within the group
    let live = i < gs;
    let k = g * gs + i;
    var v = 0.0;
    if (live) {
        v = NW[k] * (gated(t, k) * r);
        OUT[p.out_off + t * p.out_stride + k] = v;
    }
    q8_store_wg(v, li, t * p.q_stride + (k / 32u) * 9u, live);
}
