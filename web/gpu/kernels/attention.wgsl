// attention.wgsl - causal GQA attention for T queries at positions p0.. against the KV cache:
// one workgroup per (query head, token), keys in tiles of 64 with an online softmax; each thread
// owns up to 4 of the head's output dims. Scores in f32 (they overflow f16).
struct Params {
    T: u32, p0: u32, nh: u32, nkv: u32, hd: u32, q_off: u32, q_stride: u32, kv_stride: u32,
    out_off: u32, out_stride: u32, scale: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> KC: array<f32>;
@group(0) @binding(3) var<storage, read> VC: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;

const WG = 64u;
const NEG_MAX: f32 = bitcast<f32>(0xff7fffffu); // -FLT_MAX: "minus infinity" that survives fast math
var<workgroup> qs: array<f32, 256>;
var<workgroup> sc: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let h = wid.x;
    let t = wid.y;
    let hd = p.hd;
    let kvh = h / (p.nh / p.nkv);
    let qb = p.q_off + t * p.q_stride + h * hd;
    for (var i = li; i < hd; i += WG) { qs[i] = Q[qb + i]; }
    workgroupBarrier();
    let n_keys = p.p0 + t + 1u;
    var m = NEG_MAX;
    var l = 0.0;
    var acc: array<f32, 4>;
    for (var j0 = 0u; j0 < n_keys; j0 += WG) {
        let j = j0 + li;
        var s = NEG_MAX;
        if (j < n_keys) {
            let kb = j * p.kv_stride + kvh * hd;
            var d = 0.0;
            for (var i = 0u; i < hd; i++) { d += qs[i] * KC[kb + i]; }
            s = d * p.scale;
        }
        sc[li] = s;
        workgroupBarrier();
        let cnt = min(WG, n_keys - j0);
        var mt = m;
        for (var k = 0u; k < cnt; k++) { mt = max(mt, sc[k]); }
        let corr = exp(m - mt);
        l *= corr;
        for (var r = 0u; r < 4u; r++) { acc[r] *= corr; }
        for (var k = 0u; k < cnt; k++) {
            let pk = exp(sc[k] - mt);
            l += pk;
            let vb = (j0 + k) * p.kv_stride + kvh * hd;
            for (var r = 0u; r < 4u; r++) {
                let d = li + r * WG;
                if (d < hd) { acc[r] += pk * VC[vb + d]; }
            }
        }
        m = mt;
        workgroupBarrier();
    }
    let ob = p.out_off + t * p.out_stride + h * hd;
    for (var r = 0u; r < 4u; r++) {
        let d = li + r * WG;
        if (d < hd) { OUT[ob + d] = acc[r] / l; }
    }
}
