// matvec_q4.wgsl - y = W x for 1..8 tokens (decode) on planar Q4_0 weights (wq.wgsl): a group of LPR lanes per row, RW rows per workgroup, BPL blocks per lane in flight.
// The weight stream of matvec_planar.wgsl's Q4_0 path laid out for a subgroup per row: each lane
// issues BPL 16-byte quant loads (blocks b, b + LPR, .. of its row: every load of a group is LPR * 16
// contiguous bytes) and their scales before any arithmetic, and a workgroup holds RW rows. x is Q8
// blocks (quant_act.wgsl), read from global memory or, with STAGE, copied per pass into workgroup
// memory first; the block sums are integers (dot_i8) scaled by d_w * d_x, as the CPU backend and
// matvec_planar.wgsl compute them; a group's lanes meet in group_sum (lanes_sg.wgsl: subgroup
// shuffles, or lanes_wg.wgsl: workgroup memory). Which constants hg_ops.c picks, and what the
// variants measured (tools/gpu/matvec_bench.mjs): docs/BENCHMARKS.md.
// Params, epilogues and output addressing as matvec_planar.wgsl (s0 = byte offset of the scales
// plane); workgroup g computes rows g * RW .. g * RW + RW - 1 (row g * RW + i in lanes i * LPR ..),
// then, when the grid has fewer workgroups than that, rows (g + number of workgroups) * RW .. and so on.
struct Params {
    n_in: u32, n_out: u32, T: u32, row_bytes: u32,
    x_off: u32, x_stride: u32, y_off: u32, y_stride: u32,
    y_col0: u32, mode: u32, nwg_x: u32, s0: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> WQ: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> X: array<u32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

override NT: u32 = 1u;   // tokens (p.T), <= 8
override LPR: u32 = 32u; // lanes per row: a power of two, LPR * RW <= 256
override RW: u32 = 8u;   // rows per workgroup
override BPL: u32 = 4u;  // blocks per lane per pass, <= 4
// STAGE: each pass first copies the pass's x blocks (all tokens) into workgroup memory with
// contiguous loads, then the lanes read them there (a lane's 9 words at a stride of 9 words: no bank
// conflicts). Without it every lane reads its 9 words from global memory, each warp-wide load
// touching 9 cache lines. Needs 36 * LPR * BPL * NT bytes of workgroup memory.
override STAGE: bool = false;
override XS: u32 = LPR * BPL * NT * 9u; // words of xs
var<workgroup> xs: array<u32, XS>;

@compute @workgroup_size(LPR * RW)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lane = li % LPR;
    let nb = p.n_in / 32u;
    // fewer workgroups than row groups (a grid sized to the GPU): each takes every nwg-th group
    for (var g = wid.y * p.nwg_x + wid.x; g * RW < p.n_out; g += nwg.x * nwg.y) {
        let row = g * RW + li / LPR;
        let live = row < p.n_out; // rows past the end still take part in the group sums
        var acc = array<f32, 8>(); // [t], zeroed for each group of rows
        let ch = LPR * BPL; // blocks per pass
        for (var b0 = 0u; b0 < nb; b0 += ch) {
            var q: array<vec4<u32>, 4>;
            var dw: array<f32, 4>;
            for (var j = 0u; j < BPL; j++) {
                let b = b0 + j * LPR + lane;
                if (live && b < nb) {
                    let k = row * nb + b;
                    q[j] = WQ[k];
                    dw[j] = w_f16(p.s0 + 2u * k); // block k's f16 scale (wq.wgsl)
                }
            }
            if (STAGE) { // the weight loads above are in flight meanwhile
                workgroupBarrier(); // the previous pass is done with xs
                let nw = min(ch, nb - b0) * 9u;
                for (var t = 0u; t < NT; t++) {
                    let src = p.x_off + t * p.x_stride + b0 * 9u;
                    for (var i = li; i < nw; i += LPR * RW) { xs[t * ch * 9u + i] = X[src + i]; }
                }
                workgroupBarrier();
            }
            for (var j = 0u; j < BPL; j++) {
                let b = b0 + j * LPR + lane;
                if (live && b < nb) {
                    let w = q[j];
                    let c0 = q4_codes(w.x, false);
                    let c1 = q4_codes(w.y, false);
                    let c2 = q4_codes(w.z, false);
                    let c3 = q4_codes(w.w, false);
                    let c4 = q4_codes(w.x, true);
                    let c5 = q4_codes(w.y, true);
                    let c6 = q4_codes(w.z, true);
                    let c7 = q4_codes(w.w, true);
                    for (var t = 0u; t < NT; t++) {
                        var x: array<u32, 9>;
                        if (STAGE) {
                            let o = (t * ch + j * LPR + lane) * 9u;
                            for (var i = 0u; i < 9u; i++) { x[i] = xs[o + i]; }
                        } else {
                            let o = p.x_off + t * p.x_stride + b * 9u;
                            for (var i = 0u; i < 9u; i++) { x[i] = X[o + i]; }
                        }
                        let s = dot_i8(c0, x[0]) + dot_i8(c1, x[1]) + dot_i8(c2, x[2]) + dot_i8(c3, x[3])
                              + dot_i8(c4, x[4]) + dot_i8(c5, x[5]) + dot_i8(c6, x[6]) + dot_i8(c7, x[7]);
                        acc[t] += dw[j] * bitcast<f32>(x[8]) * f32(s);
                    }
                }
            }
        }
        for (var t = 0u; t < NT; t++) {
            let v = group_sum(acc[t], li, LPR);
            if (live && lane == 0u) { epilogue(p.y_off + t * p.y_stride + p.y_col0 + row, v); }
        }
    }
}
