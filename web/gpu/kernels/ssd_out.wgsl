// ssd_out.wgsl - chunked Mamba-2 prefill, step 4: outputs. One workgroup per (chunk, head, 64
// channels): the chunk's weights W[i][j] = (C_i . B_j) exp(lam_i - lam_j) dt_j (j <= i) are built
// in workgroup memory, then y_i[p] = sum_j W[i][j] x_j[p] + exp(lam_i) (S_start[:, p] . C_i) + D x_i[p].
struct Params {
    T: u32, H: u32, P: u32, G: u32, N: u32, Q: u32, DI: u32,
    xc_off: u32, xc_stride: u32, y_off: u32, y_stride: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> XC: array<f32>;
@group(0) @binding(2) var<storage, read> DTL: array<f32>;
@group(0) @binding(3) var<storage, read> SL: array<f32>;  // state at each chunk's start
@group(0) @binding(4) var<storage, read> HV: array<f32>;  // dt_bias | A | D
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;

const QMAX = 64u;
var<workgroup> wm: array<f32, 4096>; // [QMAX][QMAX]
var<workgroup> lam: array<f32, QMAX>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let c = wid.z;
    let h = wid.y;
    let pp = wid.x * 64u + li;
    let g = h / (p.H / p.G);
    let t0 = c * p.Q;
    let L = min(p.T, t0 + p.Q) - t0;
    let lamT = p.T * p.H;
    if (li < L) { lam[li] = DTL[lamT + (t0 + li) * p.H + h]; }
    workgroupBarrier();
    for (var e = li; e < L * L; e += 64u) {
        let i = e / L;
        let j = e % L;
        var v = 0.0;
        if (j <= i) {
            let ci = p.xc_off + (t0 + i) * p.xc_stride + p.DI + p.G * p.N + g * p.N;
            let bj = p.xc_off + (t0 + j) * p.xc_stride + p.DI + g * p.N;
            var cb = 0.0;
            for (var n = 0u; n < p.N; n++) { cb += XC[ci + n] * XC[bj + n]; }
            v = cb * exp(lam[i] - lam[j]) * DTL[(t0 + j) * p.H + h];
        }
        wm[i * QMAX + j] = v;
    }
    workgroupBarrier();
    if (pp >= p.P) { return; }
    let D = HV[2u * p.H + h];
    let sbase = (c * p.H + h) * p.N * p.P + pp;
    for (var i = 0u; i < L; i++) {
        var intra = 0.0;
        for (var j = 0u; j <= i; j++) { intra += wm[i * QMAX + j] * XC[p.xc_off + (t0 + j) * p.xc_stride + h * p.P + pp]; }
        let ci = p.xc_off + (t0 + i) * p.xc_stride + p.DI + p.G * p.N + g * p.N;
        var carry = 0.0;
        for (var n = 0u; n < p.N; n++) { carry += SL[sbase + n * p.P] * XC[ci + n]; }
        let xi = XC[p.xc_off + (t0 + i) * p.xc_stride + h * p.P + pp];
        Y[p.y_off + (t0 + i) * p.y_stride + h * p.P + pp] = intra + exp(lam[i]) * carry + D * xi;
    }
}
