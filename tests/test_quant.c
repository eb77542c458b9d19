/* test_quant.c - pins the type table, block layouts, reference rounding, error bounds, half floats and ht_dot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "quant.h"

/* ---- deterministic random numbers (splitmix64; the state lives in the caller) ---- */

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float rng_uniform(uint64_t *s) { return (float)((double)(rng_next(s) >> 11) * 0x1p-53 * 2.0 - 1.0); }

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- the table ---- */

static void test_table(void) {
    static const struct {
        uint32_t id;
        const char *name;
        uint32_t bs, ts;
        bool supported;
    } want[] = {
        {HT_F32, "f32", 1, 4, true},       {HT_F16, "f16", 1, 2, true},         {HT_BF16, "bf16", 1, 2, true},
        {HT_Q4_0, "q4_0", 32, 18, true},   {HT_Q4_1, "q4_1", 32, 20, false},    {HT_Q5_0, "q5_0", 32, 22, false},
        {HT_Q5_1, "q5_1", 32, 24, false},  {HT_Q8_0, "q8_0", 32, 34, true},     {HT_Q8_1, "q8_1", 32, 36, false},
        {HT_Q2_K, "q2_K", 256, 84, false}, {HT_Q3_K, "q3_K", 256, 110, false},  {HT_Q4_K, "q4_K", 256, 144, false},
        {HT_Q5_K, "q5_K", 256, 176, false}, {HT_Q6_K, "q6_K", 256, 210, false}, {HT_Q8_K, "q8_K", 256, 292, false},
        {HT_I8, "i8", 1, 1, false},        {HT_I16, "i16", 1, 2, false},        {HT_I32, "i32", 1, 4, false},
        {HT_I64, "i64", 1, 8, false},      {HT_F64, "f64", 1, 8, false},        {20, "iq4_nl", 32, 18, false},
        {23, "iq4_xs", 256, 136, false},   {39, "mxfp4", 32, 17, false},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const ht_type_info *ti = ht_type_get(want[i].id);
        CHECK(ti != NULL, "type %u missing", want[i].id);
        if (!ti) continue;
        CHECK(strcmp(ti->name, want[i].name) == 0, "type %u name %s, want %s", want[i].id, ti->name, want[i].name);
        CHECK(ti->block_size == want[i].bs && ti->type_size == want[i].ts, "%s: block {%u,%u}, want {%u,%u}", ti->name,
              ti->block_size, ti->type_size, want[i].bs, want[i].ts);
        CHECK(ti->supported == want[i].supported, "%s: supported = %d", ti->name, ti->supported);
        CHECK(ht_type_from_name(want[i].name) == (int)want[i].id, "from_name(%s)", want[i].name);
    }
    /* ids GGML never defined or retired, and ids past the end */
    const uint32_t unknown[] = {4, 5, 31, 32, 33, 36, 37, 38, 40, 99, 0xffffffffu};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK(ht_type_get(unknown[i]) == NULL, "id %u should be unknown", unknown[i]);
    }
    /* every known id round-trips through its name */
    for (uint32_t id = 0; id < HT_TYPE_COUNT; id++) {
        const ht_type_info *ti = ht_type_get(id);
        if (ti) CHECK(ht_type_from_name(ti->name) == (int)id, "from_name(%s) != %u", ti->name, id);
    }
    CHECK(ht_type_from_name("Q4_K") == HT_Q4_K && ht_type_from_name("q4_k") == HT_Q4_K, "names are case-insensitive");
    CHECK(ht_type_from_name("q4") == -1 && ht_type_from_name("q4_0x") == -1 && ht_type_from_name("") == -1 &&
              ht_type_from_name(NULL) == -1,
          "bad names give -1");
}

static void test_row_bytes(void) {
    uint64_t b = 0;
    CHECK(ht_row_bytes(HT_Q4_0, 64, &b) && b == 36, "q4_0 x64 = %llu", (unsigned long long)b);
    CHECK(ht_row_bytes(HT_Q8_0, 4096, &b) && b == 128 * 34, "q8_0 x4096");
    CHECK(ht_row_bytes(HT_Q4_K, 512, &b) && b == 288, "q4_K x512");
    CHECK(ht_row_bytes(HT_F32, 0, &b) && b == 0, "zero values is zero bytes");
    CHECK(ht_row_bytes(HT_BF16, 3, &b) && b == 6, "bf16 x3");
    CHECK(!ht_row_bytes(HT_Q4_0, 33, &b), "ragged q4_0 rejected");
    CHECK(!ht_row_bytes(HT_Q6_K, 32, &b), "ragged q6_K rejected");
    CHECK(!ht_row_bytes(HT_F32, (uint64_t)1 << 62, &b), "f32 x 2^62 = 2^64 bytes overflows");
    CHECK(ht_row_bytes(HT_F32, ((uint64_t)1 << 62) - 1, &b), "f32 x (2^62-1) fits");
    CHECK(!ht_row_bytes(HT_Q8_0, UINT64_MAX - 31, &b), "q8_0 (2^59 - 1) blocks x 34 bytes overflows");
    CHECK(ht_row_bytes(HT_Q8_0, (uint64_t)1 << 63, &b) && b == ((uint64_t)17 << 59), "q8_0 2^58 blocks fit");
    CHECK(!ht_row_bytes(HT_F64, UINT64_MAX, &b), "f64 x UINT64_MAX overflows");
    CHECK(!ht_row_bytes(99, 32, &b) && !ht_row_bytes(4, 32, &b), "unknown types rejected");
}

/* ---- exact block layouts: expected bytes computed independently (Python, f32 arithmetic) ---- */

static void test_layout_q8_0(void) {
    float x[64];
    for (int j = 0; j < 32; j++) x[j] = (float)j;              /* block 0: 0..31 */
    for (int j = 0; j < 32; j++) x[32 + j] = (j - 16) * 0.5f; /* block 1: -8..7.5 */
    uint8_t out[68];
    ht_quantize(HT_Q8_0, x, out, 64);
    /* d = 31/127 -> f16 0x33d0; q = roundf(j * 127/31) */
    static const int8_t q0[32] = {0,  4,  8,  12, 16, 20, 25,  29,  33,  37,  41,  45,  49,  53,  57,  61,
                                  66, 70, 74, 78, 82, 86, 90, 94, 98, 102, 107, 111, 115, 119, 123, 127};
    /* d = 8/127 -> f16 0x2c08; the -8 end maps to -127 */
    static const int8_t q1[32] = {-127, -119, -111, -103, -95, -87, -79, -71, -64, -56, -48,
                                  -40,  -32,  -24,  -16,  -8,  0,   8,   16,  24,  32,  40,
                                  48,   56,   64,   71,   79,  87,  95,  103, 111, 119};
    CHECK(out[0] == 0xd0 && out[1] == 0x33, "q8_0 block 0 d bytes %02x %02x", out[0], out[1]);
    CHECK(memcmp(out + 2, q0, 32) == 0, "q8_0 block 0 quants");
    CHECK(out[34] == 0x08 && out[35] == 0x2c, "q8_0 block 1 d bytes %02x %02x", out[34], out[35]);
    CHECK(memcmp(out + 36, q1, 32) == 0, "q8_0 block 1 quants");

    /* dequantisation of hand-made blocks: d = 1.0 (0x3c00) and d = -2.0 (0xc000), q = j - 16 */
    uint8_t blk[68];
    blk[0] = 0x00, blk[1] = 0x3c, blk[34] = 0x00, blk[35] = 0xc0;
    for (int j = 0; j < 32; j++) blk[2 + j] = blk[36 + j] = (uint8_t)(int8_t)(j - 16);
    float y[64];
    ht_dequantize(HT_Q8_0, blk, y, 64);
    int bad = 0;
    for (int j = 0; j < 32; j++) bad += y[j] != (float)(j - 16) || y[32 + j] != -2.0f * (float)(j - 16);
    CHECK(bad == 0, "q8_0 dequantise of hand-made blocks (%d wrong)", bad);

    /* an all-zero block: d = 0, id = 0, every q = 0 */
    float z[32] = {0};
    ht_quantize(HT_Q8_0, z, out, 32);
    int nz = 0;
    for (int j = 0; j < 34; j++) nz += out[j] != 0;
    CHECK(nz == 0, "q8_0 of zeros is all zero bytes");
}

static void test_layout_q4_0(void) {
    float x[96];
    for (int j = 0; j < 32; j++) x[j] = (float)j;                    /* max +31: d = -3.875 */
    for (int j = 0; j < 32; j++) x[32 + j] = -(float)(j - 10) * 0.25f; /* max -5.25: d = +0.65625 */
    for (int j = 0; j < 31; j++) x[64 + j] = (float)(j - 16);         /* -16 first, +16 last: */
    x[95] = 16.0f; /* first largest magnitude wins (max = -16, d = 2), and +16 clamps to code 15 */
    uint8_t out[54];
    ht_quantize(HT_Q4_0, x, out, 96);
    static const uint8_t want[54] = {
        0xc0, 0xc3, 0x48, 0x48, 0x37, 0x37, 0x37, 0x37, 0x26, 0x26, 0x26, 0x26, 0x15, 0x15, 0x15, 0x15, 0x04, 0x04,
        0x40, 0x39, 0x6c, 0x5b, 0x5b, 0x5b, 0x4a, 0x4a, 0x3a, 0x39, 0x39, 0x28, 0x28, 0x28, 0x17, 0x17, 0x06, 0x06,
        0x00, 0x40, 0x80, 0x91, 0x91, 0xa2, 0xa2, 0xb3, 0xb3, 0xc4, 0xc4, 0xd5, 0xd5, 0xe6, 0xe6, 0xf7, 0xf7, 0xf8,
    };
    for (int i = 0; i < 54; i++) CHECK(out[i] == want[i], "q4_0 byte %d = 0x%02x, want 0x%02x", i, out[i], want[i]);

    /* dequantisation: d = 1.0, qs[j] = j | (15 - j) << 4 -> value j is j - 8, value j+16 is 7 - j */
    uint8_t blk[18] = {0x00, 0x3c};
    for (int j = 0; j < 16; j++) blk[2 + j] = (uint8_t)(j | ((15 - j) << 4));
    float y[32];
    ht_dequantize(HT_Q4_0, blk, y, 32);
    int bad = 0;
    for (int j = 0; j < 16; j++) bad += y[j] != (float)(j - 8) || y[16 + j] != (float)(7 - j);
    CHECK(bad == 0, "q4_0 dequantise: low nibble = value j, high nibble = value j+16 (%d wrong)", bad);
}

/* ---- round-trip error bounds on random data ----
 * Q8_0: d = amax/127 and q = round(x/d), so |x - d*q| <= d/2 = amax/254. d is stored as f16
 *   (d16), which adds |d - d16| * |q| <= 127 |d - d16| (at most 127 * d * 2^-11 ~ 0.06 d).
 * Q4_0: t = x/d lies in [-8, 8] and the code is min(15, floor(t + 8.5)), so |t - (code-8)| <= 1/2
 *   except where t >= 7.5 (the end opposite the max, clamped to +7): there up to 1. Times |d|,
 *   plus 8 |d - d16| for the f16 scale.
 * Both get 1e-6 * amax of slack for the f32 product x * (1/d). */
static void block_bounds(uint32_t type, const float *x, int j, float *bound) {
    float amax = 0, max = 0;
    for (int i = 0; i < 32; i++) {
        if (amax < fabsf(x[i])) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    }
    float slack = 1e-6f * amax;
    if (type == HT_Q8_0) {
        float d = amax / 127.0f, d16 = hu_f16_to_f32(hu_f32_to_f16(d));
        *bound = d / 2 + 127 * fabsf(d - d16) + slack;
    } else {
        float d = max / -8.0f, d16 = hu_f16_to_f32(hu_f32_to_f16(d));
        float id = d != 0 ? 1.0f / d : 0.0f;
        bool clamped = x[j] * id + 8.5f >= 16.0f;
        *bound = (clamped ? 1.0f : 0.5f) * fabsf(d) + 8 * fabsf(d - d16) + slack;
    }
}

static void test_round_trip(void) {
    enum { N = 32 * 256 };
    uint64_t seed = 42;
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    uint8_t *q = malloc(N * 4);
    /* blocks of different scales, some with one outlier, one all zero, one constant */
    for (int b = 0; b < N / 32; b++) {
        float scale = powf(10.0f, (float)(b % 7) - 3.0f);
        for (int j = 0; j < 32; j++) x[b * 32 + j] = rng_uniform(&seed) * scale;
        if (b % 5 == 1) x[b * 32 + (b % 32)] = 40 * scale;
        if (b % 5 == 2) x[b * 32 + (b % 32)] = -40 * scale;
    }
    for (int j = 0; j < 32; j++) x[32 * 3 + j] = 0.0f;
    for (int j = 0; j < 32; j++) x[32 * 4 + j] = -0.75f;

    const uint32_t qtypes[] = {HT_Q8_0, HT_Q4_0};
    for (int t = 0; t < 2; t++) {
        ht_quantize(qtypes[t], x, q, N);
        ht_dequantize(qtypes[t], q, y, N);
        int bad = 0, first = -1;
        float worst = 0;
        for (int i = 0; i < N; i++) {
            float bound;
            block_bounds(qtypes[t], x + (i / 32) * 32, i % 32, &bound);
            float err = fabsf(x[i] - y[i]);
            if (!(err <= bound)) {
                if (first < 0) first = i;
                bad++;
            }
            if (bound > 0 && err / bound > worst) worst = err / bound;
        }
        CHECK(bad == 0, "%s round trip: %d values past the bound, first at %d (x %g, y %g)", ht_type_get(qtypes[t])->name,
              bad, first, first >= 0 ? x[first] : 0.0, first >= 0 ? y[first] : 0.0);
        CHECK(worst > 0.3f, "%s: worst error/bound %.3f - the bound should be nearly tight", ht_type_get(qtypes[t])->name,
              worst);
    }
    /* the constant block is exact in q8_0 (q = +-127 and d16 * 127 rounds back) within the f16 scale */
    ht_quantize(HT_Q8_0, x + 32 * 4, q, 32);
    ht_dequantize(HT_Q8_0, q, y, 32);
    CHECK(fabsf(y[0] + 0.75f) <= 0.75f * 0x1p-10f, "q8_0 constant block: %g", y[0]);

    /* F32 is exact; F16 and BF16 within half an ulp: relative 2^-11 and 2^-8 in their normal range,
     * and for f16 at most half the subnormal spacing (2^-25) below it */
    for (int i = 0; i < N; i++) x[i] = rng_uniform(&seed) * powf(2.0f, (float)(i % 24) - 8.0f);
    ht_quantize(HT_F32, x, q, N);
    ht_dequantize(HT_F32, q, y, N);
    CHECK(memcmp(x, y, N * sizeof(float)) == 0, "f32 round trip is exact");
    const struct {
        uint32_t type;
        float rel, abs;
    } half[] = {{HT_F16, 0x1p-11f, 0x1p-25f}, {HT_BF16, 0x1p-8f, 0.0f}};
    for (int t = 0; t < 2; t++) {
        ht_quantize(half[t].type, x, q, N);
        ht_dequantize(half[t].type, q, y, N);
        int bad = 0;
        for (int i = 0; i < N; i++) bad += !(fabsf(x[i] - y[i]) <= fmaxf(half[t].rel * fabsf(x[i]), half[t].abs));
        CHECK(bad == 0, "%s round trip: %d values off by more than %g relative", ht_type_get(half[t].type)->name, bad,
              half[t].rel);
        uint16_t h;
        ht_quantize(half[t].type, x, &h, 1);
        uint16_t direct = half[t].type == HT_F16 ? hu_f32_to_f16(x[0]) : hu_f32_to_bf16(x[0]);
        CHECK(h == direct, "%s quantise is hu_f32_to_*", ht_type_get(half[t].type)->name);
    }
    /* non-finite input must not be undefined behaviour: code 0, as the reference gives on x86 */
    for (int j = 0; j < 32; j++) x[j] = (float)j;
    x[5] = NAN;
    ht_quantize(HT_Q8_0, x, q, 32);
    CHECK(q[2 + 5] == 0 && q[2 + 31] == 127, "q8_0 NaN value -> code 0");
    ht_quantize(HT_Q4_0, x, q, 32);
    CHECK((q[2 + 5] & 0x0f) == 0, "q4_0 NaN value -> code 0");
    free(x);
    free(y);
    free(q);
}

/* ---- half floats (util.c), the conversions every F16/BF16 tensor and block scale goes through ---- */

static void test_f16(void) {
    CHECK(hu_f32_to_f16(0.0f) == 0x0000 && hu_f32_to_f16(-0.0f) == 0x8000, "signed zeros");
    CHECK(hu_f32_to_f16(1.0f) == 0x3c00 && hu_f32_to_f16(-2.0f) == 0xc000, "1 and -2");
    /* subnormals: value = m * 2^-24 */
    CHECK(hu_f32_to_f16(0x1p-24f) == 0x0001, "smallest subnormal");
    CHECK(hu_f32_to_f16(-0x1p-24f) == 0x8001, "negative smallest subnormal");
    CHECK(hu_f32_to_f16(0x1p-25f) == 0x0000, "2^-25 is a tie: rounds to even 0");
    CHECK(hu_f32_to_f16(nextafterf(0x1p-25f, 1.0f)) == 0x0001, "just above 2^-25 rounds up");
    CHECK(hu_f32_to_f16(0x1.8p-24f) == 0x0002, "1.5 * 2^-24 is a tie: rounds to even 2");
    CHECK(hu_f32_to_f16(0x1.4p-23f) == 0x0002, "2.5 * 2^-24 is a tie: rounds to even 2");
    CHECK(hu_f32_to_f16(1023.0f * 0x1p-24f) == 0x03ff, "largest subnormal");
    CHECK(hu_f32_to_f16(1023.5f * 0x1p-24f) == 0x0400, "tie between largest subnormal and smallest normal -> even");
    CHECK(hu_f32_to_f16(0x1p-14f) == 0x0400, "smallest normal");
    CHECK(hu_f32_to_f16(0x1p-30f) == 0x0000, "underflow to zero");
    /* normal ties and overflow */
    CHECK(hu_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00, "1 + half ulp: tie to even (down)");
    CHECK(hu_f32_to_f16(1.0f + 0x3p-11f) == 0x3c02, "1 + 1.5 ulp: tie to even (up)");
    CHECK(hu_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f) == 0x3c01, "just above the tie rounds up");
    CHECK(hu_f32_to_f16(65504.0f) == 0x7bff, "largest half");
    CHECK(hu_f32_to_f16(65519.0f) == 0x7bff, "below the overflow tie");
    CHECK(hu_f32_to_f16(65520.0f) == 0x7c00, "the overflow tie rounds to even = inf");
    CHECK(hu_f32_to_f16(1e10f) == 0x7c00 && hu_f32_to_f16(-1e10f) == 0xfc00, "overflow to +-inf");
    CHECK(hu_f32_to_f16(INFINITY) == 0x7c00 && hu_f32_to_f16(-INFINITY) == 0xfc00, "inf");
    uint16_t hn = hu_f32_to_f16(NAN);
    CHECK((hn & 0x7c00) == 0x7c00 && (hn & 0x03ff) != 0, "nan stays nan (0x%04x)", hn);
    CHECK(hu_f16_to_f32(0x0001) == 0x1p-24f && hu_f16_to_f32(0x8001) == -0x1p-24f, "subnormal to f32");
    CHECK(hu_f16_to_f32(0x03ff) == 1023.0f * 0x1p-24f, "largest subnormal to f32");
    CHECK(isinf(hu_f16_to_f32(0x7c00)) && hu_f16_to_f32(0xfc00) < 0, "inf to f32");
    CHECK(isnan(hu_f16_to_f32(0x7e00)) && isnan(hu_f16_to_f32(0x7c01)), "nan to f32");
    CHECK(f32_bits(hu_f16_to_f32(0x8000)) == 0x80000000u, "-0 to f32");
    /* every half survives f16 -> f32 -> f16 (nan as some nan) */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = hu_f16_to_f32((uint16_t)h);
        uint16_t back = hu_f32_to_f16(f);
        bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        bad += is_nan ? !(isnan(f) && (back & 0x7c00) == 0x7c00 && (back & 0x3ff)) : back != h;
    }
    CHECK(bad == 0, "f16 round trip over all 65536 values: %d wrong", bad);

    /* bfloat16 */
    CHECK(hu_f32_to_bf16(1.0f) == 0x3f80, "bf16 1");
    CHECK(hu_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80, "bf16 tie to even (down)");
    CHECK(hu_f32_to_bf16(1.0f + 0x3p-8f) == 0x3f82, "bf16 tie to even (up)");
    CHECK(hu_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81, "bf16 above the tie");
    CHECK(hu_f32_to_bf16(INFINITY) == 0x7f80 && hu_f32_to_bf16(-INFINITY) == 0xff80, "bf16 inf");
    CHECK(hu_f32_to_bf16(bits_f32(0x7f7fffffu)) == 0x7f80, "FLT_MAX rounds to bf16 inf");
    uint16_t bn = hu_f32_to_bf16(bits_f32(0x7f800001u)); /* a nan whose payload is only in the low bits */
    CHECK((bn & 0x7f80) == 0x7f80 && (bn & 0x7f), "bf16 nan stays nan (0x%04x)", bn);
    CHECK(hu_f32_to_bf16(0x1p-133f) == 0x0001, "bf16 subnormal");
    bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = hu_bf16_to_f32((uint16_t)h);
        bool is_nan = (h & 0x7f80) == 0x7f80 && (h & 0x7f);
        bad += is_nan ? !isnan(f) : hu_f32_to_bf16(f) != h;
    }
    CHECK(bad == 0, "bf16 round trip over all 65536 values: %d wrong", bad);
}

/* ---- ht_dot against dequantise-then-dot (in double) ----
 * Tolerance 1e-5 relative to sum |w_i x_i|: the reference sums in f32 in chunks of 256, so its
 * error is a few hundred ulps of that sum at worst and far less on random data. */
static void test_dot(void) {
    const uint32_t types[] = {HT_F32, HT_F16, HT_BF16, HT_Q8_0, HT_Q4_0};
    const int64_t sizes[] = {32, 64, 256, 288, 1024, 4096 + 32};
    uint64_t seed = 7;
    enum { MAXN = 4096 + 32 };
    float *w = malloc(MAXN * sizeof(float)), *x = malloc(MAXN * sizeof(float)), *wd = malloc(MAXN * sizeof(float));
    uint8_t *row = malloc(MAXN * 4);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int64_t n = sizes[s];
            for (int64_t i = 0; i < n; i++) {
                w[i] = rng_uniform(&seed);
                x[i] = rng_uniform(&seed) * 3.0f;
            }
            ht_quantize(types[t], w, row, n);
            ht_dequantize(types[t], row, wd, n);
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < n; i++) {
                ref += (double)wd[i] * x[i];
                mag += fabs((double)wd[i] * x[i]);
            }
            float got = ht_dot(types[t], row, x, n);
            CHECK(fabs(got - ref) <= 1e-5 * mag, "ht_dot %s n=%lld: %.9g vs %.9g (|err|/mag %.3g)",
                  ht_type_get(types[t])->name, (long long)n, got, ref, fabs(got - ref) / mag);
        }
    }
    /* plain types work at any n, including ones that are not a multiple of the 256 chunk */
    for (int64_t n = 1; n < 600; n += 37) {
        for (int64_t i = 0; i < n; i++) w[i] = rng_uniform(&seed), x[i] = rng_uniform(&seed);
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; i++) ref += (double)w[i] * x[i], mag += fabs((double)w[i] * x[i]);
        float got = ht_dot(HT_F32, w, x, n);
        CHECK(fabs(got - ref) <= 1e-5 * mag + 1e-30, "ht_dot f32 n=%lld", (long long)n);
    }
    CHECK(ht_dot(HT_F32, w, x, 0) == 0.0f, "empty dot is 0");
    /* unsupported or ragged: NaN rather than garbage */
    CHECK(isnan(ht_dot(HT_Q4_K, row, x, 256)), "unsupported type -> NaN");
    CHECK(isnan(ht_dot(HT_Q8_0, row, x, 33)), "ragged n -> NaN");
    ht_dequantize(HT_Q6_K, row, wd, 256);
    CHECK(isnan(wd[0]) && isnan(wd[255]), "unsupported dequantise -> NaN");
    free(w);
    free(x);
    free(wd);
    free(row);
}

int main(void) {
    test_table();
    test_row_bytes();
    test_layout_q8_0();
    test_layout_q4_0();
    test_round_trip();
    test_f16();
    test_dot();
    return check_summary("test_quant");
}
