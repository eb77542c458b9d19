// sample.wgsl - draws the next token from K candidates sorted best first (topk.wgsl), with
// transformers' chain as src/sampler.c runs it: temperature, (top-k: the candidates), top-p,
// min-p, then one draw with the uniform u (from the session's RNG, in params) walking the kept
// tokens in id order. temperature <= 0 or K = 1: the best candidate (greedy). Writes the id to
// TOK[tok_off] (the next step's input) and HIST[hist_pos] (for the repetition penalty). One
// workgroup of 64; K <= 256 (4 candidates per invocation).
override K: u32 = 1u;
struct Params { temp: f32, top_p: f32, min_p: f32, u: f32, tok_off: u32, hist_pos: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> CAND: array<u32>;
@group(0) @binding(2) var<storage, read_write> TOK: array<u32>;
@group(0) @binding(3) var<storage, read_write> HIST: array<u32>;

const WG = 64u;
const PER = 4u;
const NEG_MAX: f32 = bitcast<f32>(0xff7fffffu); // -FLT_MAX: "minus infinity" that survives fast math
var<workgroup> w: array<f32, 256>;
var<workgroup> ids: array<u32, 256>;
var<workgroup> n_kept: u32;
var<workgroup> pick: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
    if (p.temp <= 0.0 || K == 1u) {
        if (li == 0u) { TOK[p.tok_off] = CAND[1]; HIST[p.hist_pos] = CAND[1]; }
        return;
    }
    let mx = bitcast<f32>(CAND[0]) / p.temp;
    for (var r = 0u; r < PER; r++) {
        let i = li + WG * r;
        var wi = 0.0;
        var id = 0xffffffffu;
        if (i < K) {
            let v = bitcast<f32>(CAND[2u * i]);
            id = CAND[2u * i + 1u];
            if (v > NEG_MAX && id != 0xffffffffu) { wi = exp(v / p.temp - mx); }
        }
        w[i] = wi;
        ids[i] = id;
    }
    if (li == 0u) { atomicStore(&pick, 0xffffffffu); }
    workgroupBarrier();
    if (li == 0u) {
        // top-p: keep the shortest best-first prefix whose mass reaches top_p of the total
        var total = 0.0;
        for (var i = 0u; i < K; i++) { total += w[i]; }
        var cnt = 0u;
        if (p.top_p < 1.0) {
            var need = max(p.top_p, 0.0) * total;
            for (var i = 0u; i < K; i++) {
                if (w[i] <= 0.0) { break; }
                if (cnt == 0u || need > 0.0) { cnt++; need -= w[i]; } else { break; }
            }
        } else {
            for (var i = 0u; i < K; i++) { if (w[i] > 0.0) { cnt = i + 1u; } }
        }
        n_kept = max(cnt, 1u);
    }
    workgroupBarrier();
    // min-p (the best always stays)
    var mine: array<f32, 4>;
    for (var r = 0u; r < PER; r++) {
        let i = li + WG * r;
        mine[r] = 0.0;
        if (i < n_kept && (i == 0u || w[i] >= p.min_p)) { mine[r] = w[i]; }
    }
    workgroupBarrier();
    for (var r = 0u; r < PER; r++) { w[li + WG * r] = mine[r]; }
    workgroupBarrier();
    // the draw: walk the kept tokens in id order; each candidate knows the mass below its id
    var total = 0.0;
    for (var j = 0u; j < K; j++) { total += w[j]; }
    let goal = p.u * total;
    for (var r = 0u; r < PER; r++) {
        let i = li + WG * r;
        if (i >= K || mine[r] <= 0.0) { continue; }
        var below = 0.0;
        for (var j = 0u; j < K; j++) { if (ids[j] < ids[i]) { below += w[j]; } }
        if (goal >= below && goal < below + mine[r]) { atomicMin(&pick, ids[i]); }
    }
    workgroupBarrier();
    if (li == 0u) {
        var tok = atomicLoad(&pick);
        if (tok == 0xffffffffu) { // u landed past the rounded total: the last kept id
            tok = 0u;
            for (var j = 0u; j < K; j++) { if (w[j] > 0.0) { tok = max(tok, ids[j]); } }
        }
        TOK[p.tok_off] = tok;
        HIST[p.hist_pos] = tok;
    }
}
