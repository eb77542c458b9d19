// attn_prep.wgsl - attention inputs for T tokens at positions p0..: adds q/k/v biases (qwen2),
// applies per-head RMSNorm to q and k (qwen3), rotates q and k (RoPE, llama/qwen), writes q back
// in place and appends k and v to the caches at rows p0 + t. One workgroup per (head slot, token):
// slots [0, nh) are q heads, [nh, nh + nkv) are kv heads (k, and v copied alongside).
// flags: bit 0 biases, bit 1 q/k norm, bits 2-3 rope (0 none, 1 pairs (2i, 2i+1), 2 neox (i, i+hd/2)).
// RoPE angles come from a table (cos, sin of pos * base^(-2i/hd), made on the CPU exactly as
// src/ops.c hop_rope computes them), so the GPU's sin/cos accuracy does not matter.
struct Params {
    T: u32, p0: u32, nh: u32, nkv: u32, hd: u32, stride: u32, kv_stride: u32, flags: u32,
    bias_off: u32, qn_off: u32, kn_off: u32, eps: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> QKV: array<f32>; // [T][q | k | v]
@group(0) @binding(2) var<storage, read> AUX: array<f32>;       // biases, norm weights
@group(0) @binding(3) var<storage, read> ROPE: array<f32>;      // [pos][hd/2][cos, sin]
@group(0) @binding(4) var<storage, read_write> KC: array<f32>;  // [pos][kv_stride]
@group(0) @binding(5) var<storage, read_write> VC: array<f32>;

const WG = 64u;
var<workgroup> v: array<f32, 512>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let slot = wid.x;
    let t = wid.y;
    let hd = p.hd;
    let qd = p.nh * hd;
    let is_q = slot < p.nh;
    var col = slot * hd; // column of this head in a QKV row
    if (!is_q) { col = qd + (slot - p.nh) * hd; }
    let rb = t * p.stride;
    for (var i = li; i < hd; i += WG) {
        var x = QKV[rb + col + i];
        if ((p.flags & 1u) != 0u) { x += AUX[p.bias_off + col + i]; }
        v[i] = x;
    }
    workgroupBarrier();
    if ((p.flags & 2u) != 0u) {
        var ss = 0.0;
        for (var i = li; i < hd; i += WG) { ss += v[i] * v[i]; }
        red[li] = ss;
        workgroupBarrier();
        for (var s = WG / 2u; s > 0u; s >>= 1u) {
            if (li < s) { red[li] += red[li + s]; }
            workgroupBarrier();
        }
        let r = 1.0 / sqrt(red[0] / f32(hd) + p.eps);
        var wo = p.qn_off;
        if (!is_q) { wo = p.kn_off; }
        for (var i = li; i < hd; i += WG) { v[i] = AUX[wo + i] * (v[i] * r); }
        workgroupBarrier();
    }
    let rope = (p.flags >> 2u) & 3u;
    if (rope != 0u) {
        let half = hd / 2u;
        let tb = (p.p0 + t) * hd; // [pos][half][2]
        for (var i = li; i < half; i += WG) {
            var a = 2u * i;
            var b = 2u * i + 1u;
            if (rope == 2u) { a = i; b = i + half; }
            let c = ROPE[tb + 2u * i];
            let s = ROPE[tb + 2u * i + 1u];
            let x0 = v[a];
            let x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
        workgroupBarrier();
    }
    if (is_q) {
        for (var i = li; i < hd; i += WG) { QKV[rb + col + i] = v[i]; }
    } else {
        let kh = slot - p.nh;
        let cb = (p.p0 + t) * p.kv_stride + kh * hd;
        let vcol = qd + p.kv_stride + kh * hd;
        for (var i = li; i < hd; i += WG) {
            KC[cb + i] = v[i];
            var x = QKV[rb + vcol + i];
            if ((p.flags & 1u) != 0u) { x += AUX[p.bias_off + vcol + i]; }
            VC[cb + i] = x;
        }
    }
}
