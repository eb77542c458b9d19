// quant_act.wgsl - activations [T][n] to Q8 blocks (q8.wgsl) for the quantised-weight matmuls: one
// workgroup of 64 per two blocks, one value per invocation. The CPU backend quantises its matmul
// inputs the same way.
struct Params { T: u32, nb: u32, x_off: u32, x_stride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> XQ: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let blk = 2u * (wid.y * nwg.x + wid.x) + li / 32u; // over all T * nb blocks
    let live = blk < p.T * p.nb;
    var v = 0.0;
    if (live) {
        let t = blk / p.nb;
        let b = blk % p.nb;
        v = X[p.x_off + t * p.x_stride + b * 32u + li % 32u];
    }
    q8_store_wg(v, li, blk * 9u, live);
}
