// ssm_step.wgsl - Mamba-2 SSM recurrence, token by token (decode): per token dt = softplus(dt_raw +
// dt_bias), a = exp(dt A), S = a S + dt x B, y = S . C + D x (src/ops.c hop_ssm_scan). Workgroups
// of 64 = 8 channels p of one head x 8 slices of the state size N: each invocation walks every 8th
// row n of its channel's state (GPU layout [H][N][P]), and the 8 partial dot products meet in
// workgroup memory. Many short walks instead of one long one per channel keep the GPU busy.
struct Params {
    H: u32, P: u32, G: u32, N: u32, T: u32,
    xc_off: u32, xc_stride: u32, DI: u32, dt_off: u32, dt_stride: u32, y_off: u32, y_stride: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> XC: array<f32>;   // rows [x (DI) | B (G*N) | C (G*N)]
@group(0) @binding(2) var<storage, read> PROJ: array<f32>; // dt_raw at dt_off + t*dt_stride + h
@group(0) @binding(3) var<storage, read> HV: array<f32>;   // dt_bias [H] | A [H] | D [H]
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;

const PW = 8u; // channels per workgroup
const NQ = 8u; // slices of N
var<workgroup> part: array<f32, 64>;

fn softplus(v: f32) -> f32 {
    if (v > 20.0) { return v; }
    let e = exp(v);
    if (e < 1e-4) { return e * (1.0 - 0.5 * e); }
    return log(1.0 + e);
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let h = wid.y;
    let pp = wid.x * PW + li % PW;
    let nq = li / PW;
    let live = pp < p.P;
    let g = h / (p.H / p.G);
    let A = HV[p.H + h];
    let D = HV[2u * p.H + h];
    for (var t = 0u; t < p.T; t++) {
        let dt = softplus(PROJ[p.dt_off + t * p.dt_stride + h] + HV[h]);
        let a = exp(dt * A);
        let row = p.xc_off + t * p.xc_stride;
        let bb = row + p.DI + g * p.N;
        let cb = row + p.DI + p.G * p.N + g * p.N;
        var xv = 0.0;
        var acc = 0.0;
        if (live) {
            xv = XC[row + h * p.P + pp];
            let dx = dt * xv;
            var n = nq;
            for (; n + 3u * NQ < p.N; n += 4u * NQ) { // four rows: all loads issued before the math
                let i0 = (h * p.N + n) * p.P + pp;
                let i1 = i0 + NQ * p.P;
                let i2 = i1 + NQ * p.P;
                let i3 = i2 + NQ * p.P;
                let s0 = S[i0];
                let s1 = S[i1];
                let s2 = S[i2];
                let s3 = S[i3];
                let b0 = XC[bb + n];
                let b1 = XC[bb + n + NQ];
                let b2 = XC[bb + n + 2u * NQ];
                let b3 = XC[bb + n + 3u * NQ];
                let c0 = XC[cb + n];
                let c1 = XC[cb + n + NQ];
                let c2 = XC[cb + n + 2u * NQ];
                let c3 = XC[cb + n + 3u * NQ];
                let n0 = a * s0 + dx * b0;
                let n1 = a * s1 + dx * b1;
                let n2 = a * s2 + dx * b2;
                let n3 = a * s3 + dx * b3;
                S[i0] = n0;
                S[i1] = n1;
                S[i2] = n2;
                S[i3] = n3;
                acc += n0 * c0;
                acc += n1 * c1;
                acc += n2 * c2;
                acc += n3 * c3;
            }
            for (; n < p.N; n += NQ) {
                let si = (h * p.N + n) * p.P + pp;
                let s = a * S[si] + dt * xv * XC[bb + n];
                S[si] = s;
                acc += s * XC[cb + n];
            }
        }
        part[li] = acc;
        workgroupBarrier();
        if (live && nq == 0u) {
            var y = 0.0;
            for (var k = 0u; k < NQ; k++) { y += part[k * PW + li]; }
            Y[p.y_off + t * p.y_stride + h * p.P + pp] = y + D * xv;
        }
        workgroupBarrier();
    }
}
