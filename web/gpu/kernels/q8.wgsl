// q8.wgsl - library: activations to Q8 blocks with the CPU backend's rounding (src/cpu_generic.c
// quantize_q8, llama.cpp's Q8_0): per 32 values d = amax / 127, q = round-half-away(x * (1/d)),
// d kept as the nearest f16 (ties to even). Every step is exact, so GPU and CPU get the same codes.
// Block layout (XQ, array<u32>): 8 words of packed int8 codes (code j in byte j % 4 of word j / 4),
// then d as f32 bits. Kernels that include it declare `XQ: array<u32>` (read_write) and run in
// workgroups of 64 (two blocks at a time, one value per invocation).

// f32 (>= 0, finite) rounded to the nearest f16 value (ties to even), as src/util.c hu_f32_to_f16.
fn f16_round(f: f32) -> f32 {
    let a = bitcast<u32>(f);
    if (a >= 0x477ff000u) { return 65504.0; }
    if (a < 0x38800000u) { // f16 subnormal: a multiple of 2^-24
        let r = f * 16777216.0;
        var m = u32(r);
        let frac = r - f32(m);
        if (frac > 0.5 || (frac == 0.5 && (m & 1u) == 1u)) { m += 1u; }
        return f32(m) * (1.0 / 16777216.0);
    }
    let mant = a & 0x7fffffu;
    var h = (((a >> 23u) - 112u) << 10u) | (mant >> 13u);
    let rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u)) { h += 1u; }
    return bitcast<f32>((((h >> 10u) + 112u) << 23u) | ((h & 0x3ffu) << 13u));
}

// a / b correctly rounded (to nearest, ties to even) for positive normal a, b, by integer long
// division: WGSL's f32 division may be off by ulps (Vulkan allows 2.5), and one ulp in d or 1/d
// moves codes that sit on a .5 boundary, which the CPU backend would round the other way.
fn div_rn(a: f32, b: f32) -> f32 {
    let ua = bitcast<u32>(a);
    let ub = bitcast<u32>(b);
    let ma = (ua & 0x7fffffu) | 0x800000u;
    let mb = (ub & 0x7fffffu) | 0x800000u;
    var e = i32((ua >> 23u) & 0xffu) - i32((ub >> 23u) & 0xffu); // a/b = (ma/mb) 2^e
    // q = floor(ma * 2^24 / mb), in [2^23, 2^25), 8 bits at a time
    var q = ma / mb;
    var r = ma - q * mb;
    for (var i = 0u; i < 3u; i++) {
        r = r << 8u;
        let d = r / mb;
        q = (q << 8u) | d;
        r = r - d * mb;
    }
    var sticky = r != 0u;
    var half: bool;      // the dropped part is exactly one half
    var above: bool;     // ... more than one half
    if (q >= 0x1000000u) { // 25 bits: drop the last one
        half = (q & 1u) == 1u && !sticky;
        above = (q & 1u) == 1u && sticky;
        q = q >> 1u;
        e += 127;
    } else {
        half = 2u * r == mb;
        above = 2u * r > mb;
        e += 126;
    }
    if (above || (half && (q & 1u) == 1u)) { q += 1u; }
    if (q >= 0x1000000u) { q = q >> 1u; e += 1; }
    if (e <= 0) { return 0.0; }
    return bitcast<f32>((u32(e) << 23u) | (q & 0x7fffffu));
}

// C's roundf: half away from zero (WGSL's round() is half to even).
fn round_away(v: f32) -> f32 {
    let t = trunc(v);
    if (abs(v - t) == 0.5) { return t + sign(v); }
    return round(v);
}

var<workgroup> q8_amax: array<f32, 64>;
var<workgroup> q8_code: array<u32, 64>;

// The 64 invocations of a workgroup quantise two blocks together: invocation li holds value li % 32
// of block li / 32 (v; 0 when not live) and o, the word offset of its block in XQ. All 64 must
// call it (uniform control flow); a block whose invocations are inactive is not written.
fn q8_store_wg(v: f32, li: u32, o: u32, live: bool) {
    q8_amax[li] = select(0.0, abs(v), live);
    workgroupBarrier();
    for (var s = 16u; s > 0u; s >>= 1u) {
        if ((li % 32u) < s) { q8_amax[li] = max(q8_amax[li], q8_amax[li + s]); }
        workgroupBarrier();
    }
    let amax = q8_amax[li & 32u];
    var dd = 0.0;
    var id = 0.0;
    if (amax >= 1.17549435e-38) { // normal: exact division (a subnormal amax quantises to 0s)
        dd = div_rn(amax, 127.0);
        id = div_rn(1.0, dd);
    }
    let r = round_away(v * id);
    var c = 0;
    if (r >= -128.0 && r <= 127.0) { c = i32(r); }
    q8_code[li] = bitcast<u32>(c) & 0xffu;
    workgroupBarrier();
    let k = li % 32u;
    if (live && k < 8u) {
        let b = (li & 32u) + 4u * k;
        XQ[o + k] = q8_code[b] | (q8_code[b + 1u] << 8u) | (q8_code[b + 2u] << 16u) | (q8_code[b + 3u] << 24u);
    }
    if (live && k == 8u) { XQ[o + 8u] = bitcast<u32>(f16_round(dd)); }
    workgroupBarrier();
}
