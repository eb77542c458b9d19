// penalty.wgsl - repetition penalty (transformers semantics: once per distinct id in the history,
// logit < 0 ? logit * penalty : logit / penalty). Two dispatches: mode 0 clears the bits of the
// history's ids, mode 1 claims each id's bit with atomicOr, and only the claiming thread applies.
struct Params { n: u32, hist_off: u32, mode: u32, penalty: f32, logits_off: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> HIST: array<u32>;
@group(0) @binding(2) var<storage, read_write> BITS: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> LOGITS: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x >= p.n) { return; }
    let id = HIST[p.hist_off + gid.x];
    let bit = 1u << (id & 31u);
    if (p.mode == 0u) {
        atomicAnd(&BITS[id >> 5u], ~bit);
        return;
    }
    let old = atomicOr(&BITS[id >> 5u], bit);
    if ((old & bit) == 0u) {
        let x = LOGITS[p.logits_off + id];
        LOGITS[p.logits_off + id] = select(x / p.penalty, x * p.penalty, x < 0.0);
    }
}
