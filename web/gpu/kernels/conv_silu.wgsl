// conv_silu.wgsl - Mamba-2 depthwise causal conv1d + SiLU over T tokens of raw xBC, with K-1 rows
// of history (state [K-1][C], oldest first) that it advances. One thread per channel.
// Tap K-1 multiplies the current token (src/ops.c hop_conv_silu).
struct Params { T: u32, C: u32, K: u32, src_off: u32, src_stride: u32, out_off: u32, out_stride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> SRC: array<f32>;
@group(0) @binding(2) var<storage, read> CW: array<f32>; // [C][K] taps, then [C] bias
@group(0) @binding(3) var<storage, read_write> STATE: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.C) { return; }
    let bias = CW[p.C * p.K + c];
    if (p.K == 4u) { // the models' kernel size: history and taps in registers, not a local array
        var w0 = STATE[c];
        var w1 = STATE[p.C + c];
        var w2 = STATE[2u * p.C + c];
        let k0 = CW[c * 4u];
        let k1 = CW[c * 4u + 1u];
        let k2 = CW[c * 4u + 2u];
        let k3 = CW[c * 4u + 3u];
        for (var t = 0u; t < p.T; t++) {
            let xt = SRC[p.src_off + t * p.src_stride + c];
            let acc = (((bias + k0 * w0) + k1 * w1) + k2 * w2) + k3 * xt; // the order of the loop below
            OUT[p.out_off + t * p.out_stride + c] = acc / (1.0 + exp(-acc));
            w0 = w1;
            w1 = w2;
            w2 = xt;
        }
        STATE[c] = w0;
        STATE[p.C + c] = w1;
        STATE[2u * p.C + c] = w2;
        return;
    }
    let H = p.K - 1u;
    var win: array<f32, 16>; // the last H raw inputs, oldest first (K <= 17)
    for (var r = 0u; r < H; r++) { win[r] = STATE[r * p.C + c]; }
    for (var t = 0u; t < p.T; t++) {
        let xt = SRC[p.src_off + t * p.src_stride + c];
        var acc = bias;
        for (var k = 0u; k < H; k++) { acc += CW[c * p.K + k] * win[k]; }
        acc += CW[c * p.K + H] * xt;
        OUT[p.out_off + t * p.out_stride + c] = acc / (1.0 + exp(-acc));
        for (var k = 0u; k + 1u < H; k++) { win[k] = win[k + 1u]; }
        if (H > 0u) { win[H - 1u] = xt; }
    }
    for (var r = 0u; r < H; r++) { STATE[r * p.C + c] = win[r]; }
}
