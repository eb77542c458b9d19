// ssd_pass.wgsl - chunked Mamba-2 prefill, step 3: the state passes from chunk to chunk.
// For each chunk c: SL[c] <- the state at the chunk's start; S <- exp(lam_last) S + (old SL[c]).
// The final S is the layer's state after the prompt. One thread per state element [H][N][P].
struct Params { T: u32, H: u32, P: u32, N: u32, Q: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> DTL: array<f32>;
@group(0) @binding(2) var<storage, read_write> SL: array<f32>;
@group(0) @binding(3) var<storage, read_write> S: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 64u;
    let per = p.H * p.N * p.P;
    if (idx >= per) { return; }
    let h = idx / (p.N * p.P);
    let nc = (p.T + p.Q - 1u) / p.Q;
    var s = S[idx];
    for (var c = 0u; c < nc; c++) {
        let t1 = min(p.T, (c + 1u) * p.Q);
        let decay = exp(DTL[p.T * p.H + (t1 - 1u) * p.H + h]);
        let loc = SL[c * per + idx];
        SL[c * per + idx] = s;
        s = decay * s + loc;
    }
    S[idx] = s;
}
