// embed.wgsl - embedding lookup: row TOK[t] of the token table (any weight type) for T tokens.
// A table split into parts (larger than one storage binding) takes one dispatch per part; each
// writes only the tokens whose row lies in [row0, row0 + rows). GGUF or planar layout (wq.wgsl).
struct Params { T: u32, n: u32, row0: u32, rows: u32, row_bytes: u32, tok_off: u32, out_off: u32, out_stride: u32, s0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> TOK: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let t = gid.y;
    w_s0 = p.s0; // planar weights: the scales plane (wq.wgsl)
    if (i >= p.n || t >= p.T) { return; }
    let tok = TOK[p.tok_off + t];
    if (tok < p.row0 || tok - p.row0 >= p.rows) { return; }
    OUT[p.out_off + t * p.out_stride + i] = w_value((tok - p.row0) * p.row_bytes, i);
}
