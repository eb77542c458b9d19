// epilogue.wgsl - library: how a matrix product stores its result (p.mode: store, add to Y, relu², SwiGLU gate); needs the kernel's `p` and `Y`.
fn epilogue(idx: u32, v: f32) {
    switch p.mode {
        case 1u: { Y[idx] = Y[idx] + v; }
        case 2u: { let r = max(v, 0.0); Y[idx] = r * r; }
        case 3u: { let g = Y[idx]; Y[idx] = g / (1.0 + exp(-g)) * v; }
        default: { Y[idx] = v; }
    }
}
