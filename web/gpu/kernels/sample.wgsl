// sample.wgsl - draws the next token from K candidates sorted best first (topk.wgsl), with
// transformers' chain as src/sampler.c runs it: temperature, (top-k: the candidates), top-p,
// min-p, then one draw with the uniform u (from the session's RNG, in params) walking the kept
// tokens in id order. temperature <= 0: the best candidate (greedy). Writes the id to TOK[tok_off]
// (the next step's input) and HIST[hist_pos] (for the repetition penalty). One workgroup.
override K: u32 = 1u;
struct Params { temp: f32, top_p: f32, min_p: f32, u: f32, tok_off: u32, hist_pos: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> CAND: array<u32>;
@group(0) @binding(2) var<storage, read_write> TOK: array<u32>;
@group(0) @binding(3) var<storage, read_write> HIST: array<u32>;

const WG = 256u;
const NEG_MAX: f32 = bitcast<f32>(0xff7fffffu); // -FLT_MAX: "minus infinity" that survives fast math
var<workgroup> w: array<f32, WG>;
var<workgroup> ids: array<u32, WG>;
var<workgroup> n_kept: u32;
var<workgroup> pick: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
    let best = CAND[1];
    if (p.temp <= 0.0 || K == 1u) {
        if (li == 0u) { TOK[p.tok_off] = best; HIST[p.hist_pos] = best; }
        return;
    }
    let mx = bitcast<f32>(CAND[0]) / p.temp;
    if (li < K) {
        let v = bitcast<f32>(CAND[2u * li]);
        let x = v / p.temp;
        ids[li] = CAND[2u * li + 1u];
        w[li] = select(0.0, exp(x - mx), v > NEG_MAX && ids[li] != 0xffffffffu);
    } else if (li < WG) {
        w[li] = 0.0;
        ids[li] = 0xffffffffu;
    }
    if (li == 0u) { atomicStore(&pick, 0xffffffffu); }
    workgroupBarrier();
    if (li == 0u) {
        // top-p: keep the shortest best-first prefix whose mass reaches top_p of the total
        var total = 0.0;
        for (var i = 0u; i < K; i++) { total += w[i]; }
        var need = 0.0;
        if (p.top_p < 1.0) { need = max(p.top_p, 0.0) * total; }
        var cnt = 0u;
        if (p.top_p < 1.0) {
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
    // min-p (the best always stays), then the draw in id order
    var mine = 0.0;
    if (li < n_kept && (li == 0u || w[li] >= p.min_p)) { mine = w[li]; }
    workgroupBarrier();
    w[li] = mine;
    workgroupBarrier();
    var below = 0.0;
    var total = 0.0;
    for (var j = 0u; j < K; j++) {
        total += w[j];
        if (ids[j] < ids[li]) { below += w[j]; }
    }
    let goal = p.u * total;
    if (mine > 0.0 && goal >= below && goal < below + mine) { atomicMin(&pick, ids[li]); }
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
