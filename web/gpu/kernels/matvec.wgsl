// matvec.wgsl - y = W x for 1..8 tokens (decode): 8 rows per workgroup, 32 lanes per row, any
// weight type with dequantisation fused in. Epilogue (mode): 0 store, 1 add into y (residual),
// 2 relu(v)^2 (relu² MLP), 3 silu(y_old) * v (SwiGLU: y holds the gate projection).
// Output column of row o: y_col0 + o (a part of a split matrix writes its slice of the row).
struct Params {
    n_in: u32, n_out: u32, T: u32, row_bytes: u32,
    x_off: u32, x_stride: u32, y_off: u32, y_stride: u32,
    y_col0: u32, mode: u32, nwg_x: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const LANES = 32u;
const ROWS = 8u;
const MAXT = 8u;
var<workgroup> red: array<f32, 256>;

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
    let lane = li % LANES;
    let row = (wid.y * p.nwg_x + wid.x) * ROWS + li / LANES;
    let valid = row < p.n_out;
    var acc: array<f32, MAXT>;
    if (valid) {
        let r = row * p.row_bytes;
        if (WTYPE == 8u || WTYPE == 2u) {
            let nb = p.n_in / 32u;
            for (var b = lane; b < nb; b += LANES) {
                var wv: array<f32, 32>;
                w_block(r, b, &wv);
                for (var t = 0u; t < p.T; t++) {
                    let xb = p.x_off + t * p.x_stride + b * 32u;
                    var s = 0.0;
                    for (var k = 0u; k < 32u; k++) { s += wv[k] * X[xb + k]; }
                    acc[t] += s;
                }
            }
        } else {
            for (var i = lane; i < p.n_in; i += LANES) {
                let w = w_value(r, i);
                for (var t = 0u; t < p.T; t++) { acc[t] += w * X[p.x_off + t * p.x_stride + i]; }
            }
        }
    }
    for (var t = 0u; t < p.T; t++) {
        red[li] = acc[t];
        workgroupBarrier();
        for (var s = LANES / 2u; s > 0u; s >>= 1u) {
            if (lane < s) { red[li] += red[li + s]; }
            workgroupBarrier();
        }
        if (valid && lane == 0u) { epilogue(p.y_off + t * p.y_stride + p.y_col0 + row, red[li]); }
        workgroupBarrier();
    }
}
