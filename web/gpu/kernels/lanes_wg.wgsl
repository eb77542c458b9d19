// lanes_wg.wgsl - library: the sum of one value per invocation over a workgroup of 64, through
// workgroup memory; the portable path (no subgroups). Call in uniform control flow. group_sum: the
// same over each aligned group of G lanes (a power of two) of a workgroup of up to 256.
var<workgroup> lane_red: array<f32, 64>;

fn lane_sum(v: f32, li: u32) -> f32 {
    lane_red[li] = v;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (li < s) { lane_red[li] += lane_red[li + s]; }
        workgroupBarrier();
    }
    let r = lane_red[0];
    workgroupBarrier();
    return r;
}

var<workgroup> group_red: array<f32, 256>;

fn group_sum(v: f32, li: u32, G: u32) -> f32 {
    group_red[li] = v;
    workgroupBarrier();
    for (var s = G / 2u; s > 0u; s >>= 1u) {
        if ((li % G) < s) { group_red[li] += group_red[li + s]; }
        workgroupBarrier();
    }
    let r = group_red[li - li % G];
    workgroupBarrier();
    return r;
}
