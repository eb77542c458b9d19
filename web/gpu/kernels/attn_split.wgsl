// attn_split.wgsl - causal GQA attention for a few queries (decode), split over the keys
// ("flash-decoding"): one workgroup per (query head, chunk of 64 keys, token) scores its keys,
// takes their softmax numerators against the chunk's own max, and sums the values; attn_merge.wgsl
// combines the chunks. Many workgroups read the cache at once, where one per head would wait on it.
// Partial per (token, head, chunk), PART[.. * (hd + 2)]: max m, sum l, then acc[hd].
struct Params {
    T: u32, p0: u32, nh: u32, nkv: u32, hd: u32, q_off: u32, q_stride: u32, kv_stride: u32,
    n_chunks: u32, scale: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> KC: array<vec4<f32>>; // hd and kv_stride are multiples of 4
@group(0) @binding(3) var<storage, read> VC: array<f32>;
@group(0) @binding(4) var<storage, read_write> PART: array<f32>;

const WG = 64u;
const NEG_MAX: f32 = bitcast<f32>(0xff7fffffu); // -FLT_MAX: "minus infinity" that survives fast math
var<workgroup> qs: array<vec4<f32>, 64>;
var<workgroup> sc: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let h = wid.x;
    let c = wid.y;
    let t = wid.z;
    let hd = p.hd;
    let kvh = h / (p.nh / p.nkv);
    let n_keys = p.p0 + t + 1u;
    let j0 = c * WG;
    let ob = ((t * p.nh + h) * p.n_chunks + c) * (hd + 2u);
    if (j0 >= n_keys) { // a chunk past this token's keys: contributes nothing
        if (li == 0u) { PART[ob] = NEG_MAX; PART[ob + 1u] = 0.0; }
        return;
    }
    let qb = p.q_off + t * p.q_stride + h * hd;
    for (var i = li; i < hd / 4u; i += WG) {
        qs[i] = vec4<f32>(Q[qb + 4u * i], Q[qb + 4u * i + 1u], Q[qb + 4u * i + 2u], Q[qb + 4u * i + 3u]);
    }
    workgroupBarrier();
    let j = j0 + li;
    var s = NEG_MAX;
    if (j < n_keys) {
        let kb = (j * p.kv_stride + kvh * hd) / 4u;
        var d = 0.0;
        for (var i = 0u; i < hd / 4u; i++) { d += dot(qs[i], KC[kb + i]); }
        s = d * p.scale;
    }
    sc[li] = s;
    workgroupBarrier();
    let cnt = min(WG, n_keys - j0);
    var m = NEG_MAX;
    for (var k = 0u; k < cnt; k++) { m = max(m, sc[k]); }
    var l = 0.0;
    var acc: array<f32, 4>;
    for (var k = 0u; k < cnt; k++) {
        let pk = exp(sc[k] - m);
        l += pk;
        let vb = (j0 + k) * p.kv_stride + kvh * hd;
        for (var r = 0u; r < 4u; r++) {
            let d = li + r * WG;
            if (d < hd) { acc[r] += pk * VC[vb + d]; }
        }
    }
    if (li == 0u) { PART[ob] = m; PART[ob + 1u] = l; }
    for (var r = 0u; r < 4u; r++) {
        let d = li + r * WG;
        if (d < hd) { PART[ob + 2u + d] = acc[r]; }
    }
}
