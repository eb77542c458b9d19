enable subgroups;
// lanes_sg.wgsl - library: the sum of one value per invocation over a workgroup of 64 with subgroup
// shuffles, used when the device offers 'subgroups'. SG = the adapter's smallest subgroup size (a
// power of two): each subgroup of SG (up to 64) sums with a butterfly, then the partial sums meet
// in workgroup memory. Assumes subgroups cover consecutive, SG-aligned invocation indices (true
// of 1-D workgroups on the drivers seen; the op tests check it). group_sum: the same over each
// aligned group of G lanes (a power of two) of a workgroup of up to 256, for a row per group.
override SG: u32 = 32u;
var<workgroup> lane_red: array<f32, 64>;

fn lane_sum(v: f32, li: u32) -> f32 {
    var s = v;
    for (var o = min(SG, 64u) / 2u; o > 0u; o >>= 1u) { s += subgroupShuffleXor(s, o); }
    if (SG >= 64u) { return s; }
    if ((li % SG) == 0u) { lane_red[li / SG] = s; }
    workgroupBarrier();
    var t = 0.0;
    for (var k = 0u; k < 64u / SG; k++) { t += lane_red[k]; }
    workgroupBarrier();
    return t;
}

var<workgroup> group_red: array<f32, 256>;

fn group_sum(v: f32, li: u32, G: u32) -> f32 {
    var s = v;
    for (var o = min(SG, G) / 2u; o > 0u; o >>= 1u) { s += subgroupShuffleXor(s, o); }
    if (SG >= G) { return s; }
    if ((li % SG) == 0u) { group_red[li / SG] = s; }
    workgroupBarrier();
    var t = 0.0;
    let g0 = (li / G) * (G / SG);
    for (var k = 0u; k < G / SG; k++) { t += group_red[g0 + k]; }
    workgroupBarrier();
    return t;
}
