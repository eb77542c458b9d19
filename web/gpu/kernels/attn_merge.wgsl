// attn_merge.wgsl - combines attn_split.wgsl's chunks: out = sum_c e^(m_c - M) acc_c / sum_c e^(m_c - M) l_c,
// M the largest chunk max. One workgroup per (query head, token), one invocation per output dim.
struct Params { T: u32, p0: u32, nh: u32, hd: u32, n_chunks: u32, out_off: u32, out_stride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> PART: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

const WG = 64u;
const NEG_MAX: f32 = bitcast<f32>(0xff7fffffu);

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let h = wid.x;
    let t = wid.y;
    let hd = p.hd;
    let nc = (p.p0 + t + 1u + WG - 1u) / WG; // this token's chunks (64 keys each)
    let base = (t * p.nh + h) * p.n_chunks * (hd + 2u);
    var M = NEG_MAX;
    for (var c = 0u; c < nc; c++) { M = max(M, PART[base + c * (hd + 2u)]); }
    var den = 0.0;
    for (var c = 0u; c < nc; c++) {
        let o = base + c * (hd + 2u);
        den += exp(PART[o] - M) * PART[o + 1u];
    }
    for (var d = li; d < hd; d += WG) {
        var num = 0.0;
        for (var c = 0u; c < nc; c++) {
            let o = base + c * (hd + 2u);
            num += exp(PART[o] - M) * PART[o + 2u + d];
        }
        OUT[p.out_off + t * p.out_stride + h * hd + d] = num / den;
    }
}
