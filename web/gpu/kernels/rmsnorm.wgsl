// rmsnorm.wgsl - out = w * x / sqrt(mean(x^2) + eps) for T rows of n values; one workgroup per row.
struct Params { n: u32, T: u32, x_off: u32, x_stride: u32, out_off: u32, out_stride: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> NW: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

const WG = 64u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let t = wid.x;
    let xb = p.x_off + t * p.x_stride;
    var ss = 0.0;
    for (var i = li; i < p.n; i += WG) {
        let v = X[xb + i];
        ss += v * v;
    }
    red[li] = ss;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (li < s) { red[li] += red[li + s]; }
        workgroupBarrier();
    }
    let r = 1.0 / sqrt(red[0] / f32(p.n) + p.eps);
    let ob = p.out_off + t * p.out_stride;
    for (var i = li; i < p.n; i += WG) {
        OUT[ob + i] = NW[i] * (X[xb + i] * r);
    }
}
