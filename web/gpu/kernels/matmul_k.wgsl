// matmul_k.wgsl - Y = X W^T for many tokens (prefill) with weights dequantised in the kernel against f32
// activations (wq_k.wgsl types): 32 output rows x 32 tokens per workgroup of 64 (4 x 4 outputs per
// invocation). K advances 4 parts (32 values) per tile; a tile's 32 slots hold those parts' values in
// part order, and the activations are staged at the same slots (wk_pos), so the tile's values need not
// be contiguous in the row (they are not for Q4_K/Q5_K/Q6_K). Params, epilogues and output addressing
// as matvec.wgsl; X holds f32.
struct Params {
    n_in: u32, n_out: u32, T: u32, row_bytes: u32,
    x_off: u32, x_stride: u32, y_off: u32, y_stride: u32,
    y_col0: u32, mode: u32, nwg_x: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const TM = 32u; // output rows per tile
const TN = 32u; // tokens per tile
const TK = 32u; // slots (values) per step of K: 4 parts
const TKP = 33u; // padded row of the tiles
var<workgroup> ws: array<f32, 1056>; // dequantised weights [TM][TKP]
var<workgroup> xs: array<f32, 1056>; // activations at the same slots [TN][TKP]

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.x * TM;
    let tok0 = wid.y * TN;
    let tr = li % 8u; // rows tr*4 .. tr*4+3
    let tc = li / 8u; // tokens tc*4 .. tc*4+3
    var acc: array<f32, 16>;
    let nk = p.n_in / TK;
    let lr = li / 2u;  // the weight row this invocation stages
    let half = li % 2u; // ... and which 2 of the tile's 4 parts
    let row = row0 + lr;
    for (var kt = 0u; kt < nk; kt++) {
        for (var e = 0u; e < 2u; e++) {
            let q = 2u * half + e;
            var w: WkPart;
            if (row < p.n_out) { w = wk_part(row * p.row_bytes, 4u * kt + q); }
            for (var m = 0u; m < 4u; m++) {
                ws[lr * TKP + 8u * q + m] = w.lo[m];
                ws[lr * TKP + 8u * q + 4u + m] = w.hi[m];
            }
        }
        for (var j = 0u; j < 16u; j++) {
            let e = li + 64u * j;
            let tt = e / TK;
            let s = e % TK;
            var v = 0.0;
            if (tok0 + tt < p.T) {
                let at = wk_pos(4u * kt + s / 8u);
                let i = select(at.y, at.x, s % 8u < 4u) + s % 4u;
                v = X[p.x_off + (tok0 + tt) * p.x_stride + i];
            }
            xs[tt * TKP + s] = v;
        }
        workgroupBarrier();
        for (var k = 0u; k < TK; k++) {
            var xv: array<f32, 4>;
            for (var c = 0u; c < 4u; c++) { xv[c] = xs[(tc * 4u + c) * TKP + k]; }
            for (var r = 0u; r < 4u; r++) {
                let wv = ws[(tr * 4u + r) * TKP + k];
                for (var c = 0u; c < 4u; c++) { acc[r * 4u + c] += wv * xv[c]; }
            }
        }
        workgroupBarrier();
    }
    for (var r = 0u; r < 4u; r++) {
        let orow = row0 + tr * 4u + r;
        for (var c = 0u; c < 4u; c++) {
            let t = tok0 + tc * 4u + c;
            if (orow < p.n_out && t < p.T) { epilogue(p.y_off + t * p.y_stride + p.y_col0 + orow, acc[r * 4u + c]); }
        }
    }
}
