// ssd_prep.wgsl - chunked Mamba-2 prefill, step 1: per token and head, dt = softplus(dt_raw + dt_bias)
// and the in-chunk inclusive cumulative sum lam = sum dt*A. One thread per (chunk, head).
// Output DTL: dt [T][H], then lam [T][H].
struct Params { T: u32, H: u32, Q: u32, dt_off: u32, dt_stride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> PROJ: array<f32>;
@group(0) @binding(2) var<storage, read> HV: array<f32>; // dt_bias [H] | A [H] | D [H]
@group(0) @binding(3) var<storage, read_write> DTL: array<f32>;

fn softplus(v: f32) -> f32 {
    if (v > 20.0) { return v; }
    let e = exp(v);
    if (e < 1e-4) { return e * (1.0 - 0.5 * e); }
    return log(1.0 + e);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let nc = (p.T + p.Q - 1u) / p.Q;
    if (gid.x >= nc * p.H) { return; }
    let c = gid.x / p.H;
    let h = gid.x % p.H;
    let A = HV[p.H + h];
    var acc = 0.0;
    let end = min(p.T, (c + 1u) * p.Q);
    for (var t = c * p.Q; t < end; t++) {
        let dt = softplus(PROJ[p.dt_off + t * p.dt_stride + h] + HV[h]);
        acc += dt * A;
        DTL[t * p.H + h] = dt;
        DTL[p.T * p.H + t * p.H + h] = acc;
    }
}
