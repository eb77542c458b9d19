enable subgroups;
// lanes_sg.wgsl - library: sums over the 32 lanes of a row with subgroup shuffles, used when the
// device offers 'subgroups'. SG = the adapter's smallest subgroup size (a power of two): subgroups
// of >= 32 need no barrier at all; smaller ones (SwiftShader: 4) combine through workgroup memory.
// Assumes subgroups cover consecutive, SG-aligned invocation indices (true of 1-D workgroups on
// the drivers seen; the op tests check it).
override SG: u32 = 32u;
var<workgroup> lane_red: array<f32, 64>;

fn lane_sum(v: f32, li: u32) -> f32 {
    var s = v;
    for (var o = min(SG, 32u) / 2u; o > 0u; o >>= 1u) { s += subgroupShuffleXor(s, o); }
    if (SG >= 32u) { return s; }
    lane_red[li] = s;
    workgroupBarrier();
    var t = 0.0;
    if ((li % 32u) == 0u) {
        for (var k = 0u; k < 32u; k += SG) { t += lane_red[li + k]; }
    }
    workgroupBarrier();
    return t; // the row's sum in its lane 0
}
