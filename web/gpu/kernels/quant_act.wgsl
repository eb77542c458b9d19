// quant_act.wgsl - activations [T][n] to Q8 blocks (q8.wgsl) for the quantised-weight matmuls:
// one invocation per (token, block). The CPU backend quantises its matmul inputs the same way.
struct Params { T: u32, nb: u32, x_off: u32, x_stride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> XQ: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.T * p.nb) { return; }
    let t = i / p.nb;
    let b = i % p.nb;
    let xb = p.x_off + t * p.x_stride + b * 32u;
    var v: array<f32, 32>;
    for (var j = 0u; j < 32u; j++) { v[j] = X[xb + j]; }
    q8_store(&v, i * 9u);
}
