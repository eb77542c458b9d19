// lanes_wg.wgsl - library: sums over the 32 lanes of a row (invocations 32k..32k+31 of a workgroup
// of 64) through workgroup memory; the portable path (no subgroups). Call in uniform control flow.
var<workgroup> lane_red: array<f32, 64>;

fn lane_sum(v: f32, li: u32) -> f32 {
    lane_red[li] = v;
    workgroupBarrier();
    for (var s = 16u; s > 0u; s >>= 1u) {
        if ((li % 32u) < s) { lane_red[li] += lane_red[li + s]; }
        workgroupBarrier();
    }
    let r = lane_red[li];
    workgroupBarrier();
    return r; // the row's sum in its lane 0
}
