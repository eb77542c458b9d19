// matmul.wgsl - Y = X W^T for many tokens (prefill): 64 output rows x 32 tokens per workgroup,
// K in steps of 32 through workgroup memory, weights dequantised once per tile. Same epilogue
// modes and output addressing as matvec.wgsl.
struct Params {
    n_in: u32, n_out: u32, T: u32, row_bytes: u32,
    x_off: u32, x_stride: u32, y_off: u32, y_stride: u32,
    y_col0: u32, mode: u32, nwg_x: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const TM = 64u; // output rows per tile
const TN = 32u; // tokens per tile
const TK = 32u;
var<workgroup> ws: array<f32, 2112>; // [TM][TK + 1]
var<workgroup> xs: array<f32, 1056>; // [TN][TK + 1]

fn epilogue(idx: u32, v: f32) {
    switch p.mode {
        case 1u: { Y[idx] = Y[idx] + v; }
        case 2u: { let r = max(v, 0.0); Y[idx] = r * r; }
        case 3u: { let g = Y[idx]; Y[idx] = g / (1.0 + exp(-g)) * v; }
        default: { Y[idx] = v; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.x * TM;
    let tok0 = wid.y * TN;
    let tr = li % 16u; // rows tr*4 .. tr*4+3
    let tc = li / 16u; // tokens tc*2, tc*2+1
    var acc: array<f32, 8>;
    let nk = (p.n_in + TK - 1u) / TK;
    for (var kt = 0u; kt < nk; kt++) {
        let k0 = kt * TK;
        // weights: each thread dequantises 8 values of one row
        {
            let lr = li / 4u;
            let q = (li % 4u) * 8u;
            let row = row0 + lr;
            for (var j = 0u; j < 8u; j++) {
                let k = k0 + q + j;
                var v = 0.0;
                if (row < p.n_out && k < p.n_in) { v = w_value(row * p.row_bytes, k); }
                ws[lr * (TK + 1u) + q + j] = v;
            }
        }
        // activations: 32 tokens x 32 values
        for (var j = 0u; j < 4u; j++) {
            let e = li + 256u * j;
            let tt = e / TK;
            let kk = e % TK;
            var v = 0.0;
            if (tok0 + tt < p.T && k0 + kk < p.n_in) { v = X[p.x_off + (tok0 + tt) * p.x_stride + k0 + kk]; }
            xs[tt * (TK + 1u) + kk] = v;
        }
        workgroupBarrier();
        for (var k = 0u; k < TK; k++) {
            let x0 = xs[(tc * 2u) * (TK + 1u) + k];
            let x1 = xs[(tc * 2u + 1u) * (TK + 1u) + k];
            for (var r = 0u; r < 4u; r++) {
                let w = ws[(tr * 4u + r) * (TK + 1u) + k];
                acc[r * 2u] += w * x0;
                acc[r * 2u + 1u] += w * x1;
            }
        }
        workgroupBarrier();
    }
    for (var r = 0u; r < 4u; r++) {
        let row = row0 + tr * 4u + r;
        for (var c = 0u; c < 2u; c++) {
            let t = tok0 + tc * 2u + c;
            if (row < p.n_out && t < p.T) { epilogue(p.y_off + t * p.y_stride + p.y_col0 + row, acc[r * 2u + c]); }
        }
    }
}
