// embed_k.wgsl - embedding lookup for the types of wq_k.wgsl (Q4_K, Q5_K, Q6_K, Q4_1, Q5_0, Q5_1): row TOK[t]
// of the token table for T tokens, one invocation per part of 8 values. Params and split tables as embed.wgsl.
struct Params { T: u32, n: u32, row0: u32, rows: u32, row_bytes: u32, tok_off: u32, out_off: u32, out_stride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> TOK: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let u = gid.x;
    let t = gid.y;
    if (u >= p.n / 8u || t >= p.T) { return; }
    let tok = TOK[p.tok_off + t];
    if (tok < p.row0 || tok - p.row0 >= p.rows) { return; }
    let w = wk_part((tok - p.row0) * p.row_bytes, u);
    let at = wk_pos(u);
    let o = p.out_off + t * p.out_stride;
    for (var k = 0u; k < 4u; k++) {
        OUT[o + at.x + k] = w.lo[k];
        OUT[o + at.y + k] = w.hi[k];
    }
}
