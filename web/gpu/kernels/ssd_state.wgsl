// ssd_state.wgsl - chunked Mamba-2 prefill, step 2: the state each chunk adds on its own,
// SL[c][h][n][p] = sum_j exp(lam_last - lam_j) dt_j x_j[h,p] B_j[g,n], one thread per element.
struct Params { T: u32, H: u32, P: u32, G: u32, N: u32, Q: u32, DI: u32, xc_off: u32, xc_stride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> XC: array<f32>;
@group(0) @binding(2) var<storage, read> DTL: array<f32>;
@group(0) @binding(3) var<storage, read_write> SL: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 64u;
    let nc = (p.T + p.Q - 1u) / p.Q;
    let per = p.H * p.N * p.P;
    if (idx >= nc * per) { return; }
    let c = idx / per;
    let r = idx % per;
    let h = r / (p.N * p.P);
    let n = (r / p.P) % p.N;
    let pp = r % p.P;
    let g = h / (p.H / p.G);
    let t0 = c * p.Q;
    let t1 = min(p.T, t0 + p.Q);
    let lamT = p.T * p.H;
    let last = DTL[lamT + (t1 - 1u) * p.H + h];
    var s = 0.0;
    for (var t = t0; t < t1; t++) {
        let row = p.xc_off + t * p.xc_stride;
        let w = exp(last - DTL[lamT + t * p.H + h]) * DTL[t * p.H + h];
        s += w * XC[row + h * p.P + pp] * XC[row + p.DI + g * p.N + n];
    }
    SL[idx] = s;
}
