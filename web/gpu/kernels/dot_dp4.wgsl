// dot_dp4.wgsl - library: dot product of two words of 4 packed int8 codes with dot4I8Packed (WGSL
// language feature packed_4x8_integer_dot_product; a single instruction where the GPU has one).
fn dot_i8(a: u32, b: u32) -> i32 { return dot4I8Packed(a, b); }
