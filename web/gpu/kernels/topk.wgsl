// topk.wgsl - the K best (value, id) pairs of each chunk of 1024 candidates, sorted best first:
// higher value first, then lower id (NaN counts as -inf). Input: logits (mode 0: ids are the
// indices) or pairs from a previous round (mode 1: [value bits, id]). Output: [chunk][K] pairs.
// K = 1 is a plain reduction (greedy); larger K sorts the chunk (bitonic) in workgroup memory.
override K: u32 = 1u;
struct Params { n: u32, mode: u32, in_off: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> IN: array<u32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;

const WG = 64u;
const PER = 16u; // elements per invocation
const CH = 1024u;
const NEG_MAX: f32 = bitcast<f32>(0xff7fffffu); // -FLT_MAX: "minus infinity" that survives fast math
var<workgroup> kv: array<f32, CH>;
var<workgroup> ki: array<u32, CH>;

fn before(va: f32, ia: u32, vb: f32, ib: u32) -> bool { return va > vb || (va == vb && ia < ib); }

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let base = wid.x * CH;
    for (var r = 0u; r < PER; r++) {
        let e = li + r * WG;
        let g = base + e;
        var v = NEG_MAX;
        var id = 0xffffffffu;
        if (g < p.n) {
            if (p.mode == 0u) {
                v = bitcast<f32>(IN[p.in_off + g]);
                id = g;
            } else {
                v = bitcast<f32>(IN[p.in_off + 2u * g]);
                id = IN[p.in_off + 2u * g + 1u];
            }
            if (v != v) { v = NEG_MAX; } // NaN
            v = max(v, NEG_MAX);           // -inf ranks with the padding, by id
        }
        kv[e] = v;
        ki[e] = id;
    }
    workgroupBarrier();
    if (K == 1u) {
        for (var s = CH / 2u; s > 0u; s >>= 1u) {
            for (var r = 0u; r < PER; r++) {
                let e = li + r * WG;
                if (e < s && before(kv[e + s], ki[e + s], kv[e], ki[e])) {
                    kv[e] = kv[e + s];
                    ki[e] = ki[e + s];
                }
            }
            workgroupBarrier();
        }
    } else {
        for (var k = 2u; k <= CH; k <<= 1u) {
            for (var j = k >> 1u; j > 0u; j >>= 1u) {
                for (var r = 0u; r < PER; r++) {
                    let e = li + r * WG;
                    let o = e ^ j;
                    if (o > e) {
                        let first = (e & k) == 0u; // this run is sorted best first
                        let ob = before(kv[o], ki[o], kv[e], ki[e]);
                        if (ob == first) {
                            let tv = kv[e]; kv[e] = kv[o]; kv[o] = tv;
                            let ti = ki[e]; ki[e] = ki[o]; ki[o] = ti;
                        }
                    }
                }
                workgroupBarrier();
            }
        }
    }
    for (var e = li; e < K; e += WG) {
        OUT[2u * (wid.x * K + e)] = bitcast<u32>(kv[e]);
        OUT[2u * (wid.x * K + e) + 1u] = ki[e];
    }
}
