/* test_quant.c - pins the type table, block layouts, reference rounding, error bounds, half floats and ht_dot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "quant.h"
#include "safetensors.h"

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
        {HT_Q4_0, "q4_0", 32, 18, true},   {HT_Q4_1, "q4_1", 32, 20, true},     {HT_Q5_0, "q5_0", 32, 22, true},
        {HT_Q5_1, "q5_1", 32, 24, true},   {HT_Q8_0, "q8_0", 32, 34, true},     {HT_Q8_1, "q8_1", 32, 36, false},
        {HT_Q2_K, "q2_K", 256, 84, false}, {HT_Q3_K, "q3_K", 256, 110, false},  {HT_Q4_K, "q4_K", 256, 144, true},
        {HT_Q5_K, "q5_K", 256, 176, true}, {HT_Q6_K, "q6_K", 256, 210, true},   {HT_Q8_K, "q8_K", 256, 292, false},
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
 * Q5_0: the same with 5 bits: d = max / -16, t in [-16, 16], code min(31, floor(t + 16.5)); up to
 *   1/2 step (1 where t >= 15.5), plus 16 |d - d16|.
 * Q4_1 / Q5_1: d = (max - min)/15 (/31), t = (x - min)/d in [0, 15] (31), code floor(t + 0.5): within
 *   1/2 step, plus 15 (31) |d - d16| and |min - m16| for the two f16 fields.
 * All get 1e-6 * amax of slack for the f32 products x * (1/d) and code * d + m. */
static void block_bounds(uint32_t type, const float *x, int j, float *bound) {
    float amax = 0, max = 0, lo = x[0], hi = x[0];
    for (int i = 0; i < 32; i++) {
        if (amax < fabsf(x[i])) {
            amax = fabsf(x[i]);
            max = x[i];
        }
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    float slack = 1e-6f * amax;
    if (type == HT_Q8_0) {
        float d = amax / 127.0f, d16 = hu_f16_to_f32(hu_f32_to_f16(d));
        *bound = d / 2 + 127 * fabsf(d - d16) + slack;
    } else if (type == HT_Q4_0 || type == HT_Q5_0) {
        const float half = type == HT_Q4_0 ? 8.0f : 16.0f; /* codes -half .. half-1 */
        float d = max / -half, d16 = hu_f16_to_f32(hu_f32_to_f16(d));
        float id = d != 0 ? 1.0f / d : 0.0f;
        bool clamped = x[j] * id + half + 0.5f >= 2 * half;
        *bound = (clamped ? 1.0f : 0.5f) * fabsf(d) + half * fabsf(d - d16) + slack;
    } else { /* Q4_1, Q5_1 */
        const float top = type == HT_Q4_1 ? 15.0f : 31.0f;
        float d = (hi - lo) / top, d16 = hu_f16_to_f32(hu_f32_to_f16(d)), m16 = hu_f16_to_f32(hu_f32_to_f16(lo));
        *bound = 0.5f * d + top * fabsf(d - d16) + fabsf(lo - m16) + slack;
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

    const uint32_t qtypes[] = {HT_Q8_0, HT_Q4_0, HT_Q5_0, HT_Q4_1, HT_Q5_1};
    for (int t = 0; t < 5; t++) {
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
    /* the k-quants: no crash and no undefined behaviour (UBSan) on NaN and inf, finite elsewhere */
    float *big = malloc(256 * sizeof(float));
    for (int j = 0; j < 256; j++) big[j] = (float)(j % 17) - 8.0f;
    big[3] = NAN, big[40] = INFINITY, big[200] = -INFINITY;
    const uint32_t ktypes[] = {HT_Q4_K, HT_Q5_K, HT_Q6_K, HT_Q4_1, HT_Q5_0, HT_Q5_1};
    for (int t = 0; t < 6; t++) {
        ht_quantize(ktypes[t], big, q, 256);
        ht_dequantize(ktypes[t], q, y, 256);
    }
    free(big);
    free(x);
    free(y);
    free(q);
}

/* ---- hand-made blocks of the other types, decoded by the formulas of quant.h ---- */

static void put_f16(uint8_t *p, float v) {
    uint16_t h = hu_f32_to_f16(v);
    p[0] = (uint8_t)h, p[1] = (uint8_t)(h >> 8);
}

static void test_layout_legacy(void) {
    /* Q5_0: d = 0.5, qs[j] = j | (15-j) << 4, qh = 0x0f0fa5c3 (bit j = fifth bit of value j) */
    uint8_t b0[22];
    put_f16(b0, 0.5f);
    const uint32_t qh = 0x0f0fa5c3u;
    for (int k = 0; k < 4; k++) b0[2 + k] = (uint8_t)(qh >> (8 * k));
    for (int j = 0; j < 16; j++) b0[6 + j] = (uint8_t)(j | ((15 - j) << 4));
    float y[32];
    ht_dequantize(HT_Q5_0, b0, y, 32);
    int bad = 0;
    for (int j = 0; j < 32; j++) {
        int nib = j < 16 ? j : 15 - (j - 16);
        bad += y[j] != 0.5f * (float)((nib | (int)((qh >> j) & 1) << 4) - 16);
    }
    CHECK(bad == 0, "q5_0 hand-made block: %d values wrong", bad);
    /* Q5_1: d = 0.25, m = -3, same qh and nibbles */
    uint8_t b1[24];
    put_f16(b1, 0.25f);
    put_f16(b1 + 2, -3.0f);
    memcpy(b1 + 4, b0 + 2, 20);
    ht_dequantize(HT_Q5_1, b1, y, 32);
    bad = 0;
    for (int j = 0; j < 32; j++) {
        int nib = j < 16 ? j : 15 - (j - 16);
        bad += y[j] != 0.25f * (float)(nib | (int)((qh >> j) & 1) << 4) - 3.0f;
    }
    CHECK(bad == 0, "q5_1 hand-made block: %d values wrong", bad);
    /* Q4_1: d = 2, m = 1 */
    uint8_t b2[20];
    put_f16(b2, 2.0f);
    put_f16(b2 + 2, 1.0f);
    memcpy(b2 + 4, b0 + 6, 16);
    ht_dequantize(HT_Q4_1, b2, y, 32);
    bad = 0;
    for (int j = 0; j < 32; j++) bad += y[j] != 2.0f * (float)(j < 16 ? j : 31 - j) + 1.0f;
    CHECK(bad == 0, "q4_1 hand-made block: %d values wrong", bad);
}

/* Q4_K/Q5_K: 6-bit scales sc[8] and mins m[8] packed into 12 bytes as quant_k.c describes. */
static void pack_k_scales(uint8_t *s, const int *sc, const int *m) {
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        s[j + 8] = (uint8_t)((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
    }
}

static void test_layout_k(void) {
    static const int sc[8] = {1, 2, 3, 4, 33, 40, 50, 63}, m[8] = {0, 5, 10, 15, 20, 45, 60, 63};
    uint8_t b[210];
    float y[256];
    /* Q4_K: d = 1, dmin = 0.5; qs[32c + l] = (l%16) | (15 - l%16) << 4 */
    put_f16(b, 1.0f);
    put_f16(b + 2, 0.5f);
    pack_k_scales(b + 4, sc, m);
    for (int i = 0; i < 128; i++) b[16 + i] = (uint8_t)((i % 16) | ((15 - i % 16) << 4));
    ht_dequantize(HT_Q4_K, b, y, 256);
    int bad = 0;
    for (int v = 0; v < 256; v++) {
        const int c = v / 64, l = v % 32, hi = (v % 64) >= 32, sub = 2 * c + hi;
        const int q = hi ? 15 - l % 16 : l % 16;
        bad += y[v] != (float)sc[sub] * (float)q - 0.5f * (float)m[sub];
    }
    CHECK(bad == 0, "q4_K hand-made block: %d values wrong", bad);
    /* Q5_K: the same with qh[l] = 37 l mod 256 (bit 2c / 2c+1 adds 16) */
    put_f16(b, 1.0f);
    put_f16(b + 2, 0.5f);
    pack_k_scales(b + 4, sc, m);
    for (int l = 0; l < 32; l++) b[16 + l] = (uint8_t)(37 * l);
    for (int i = 0; i < 128; i++) b[48 + i] = (uint8_t)((i % 16) | ((15 - i % 16) << 4));
    ht_dequantize(HT_Q5_K, b, y, 256);
    bad = 0;
    for (int v = 0; v < 256; v++) {
        const int c = v / 64, l = v % 32, hi = (v % 64) >= 32, sub = 2 * c + hi;
        const int q = (hi ? 15 - l % 16 : l % 16) | ((((37 * l) & 0xff) >> (2 * c + hi)) & 1) << 4;
        bad += y[v] != (float)sc[sub] * (float)q - 0.5f * (float)m[sub];
    }
    CHECK(bad == 0, "q5_K hand-made block: %d values wrong", bad);
    /* Q6_K: d = 0.25, scales[i] = 3i - 20 (negative ones too); ql[i] = 7i + 3, qh[i] = 13i + 5 */
    for (int i = 0; i < 128; i++) b[i] = (uint8_t)(7 * i + 3);
    for (int i = 0; i < 64; i++) b[128 + i] = (uint8_t)(13 * i + 5);
    for (int i = 0; i < 16; i++) b[192 + i] = (uint8_t)(int8_t)(3 * i - 20);
    put_f16(b + 208, 0.25f);
    ht_dequantize(HT_Q6_K, b, y, 256);
    bad = 0;
    for (int v = 0; v < 256; v++) {
        /* quant.h's Q6_K order: half h = v/128; k = (v%128)/32; l = v%32 */
        const int h = v / 128, k = (v % 128) / 32, l = v % 32;
        const uint8_t lq = b[64 * h + l + 32 * (k & 1)], hq = b[128 + 32 * h + l];
        const int q = ((k < 2 ? lq & 15 : lq >> 4) | ((hq >> (2 * k)) & 3) << 4) - 32;
        bad += y[v] != 0.25f * (float)(int8_t)b[192 + v / 16] * (float)q;
    }
    CHECK(bad == 0, "q6_K hand-made block: %d values wrong", bad);
}

/* ---- k-quant round trips ----
 * The k-quants search their scales (least squares over a grid of candidates), then store the
 * sub-block scales in 6 bits (Q4_K/Q5_K, with 6-bit mins) or 8 bits (Q6_K) against one f16
 * super-block scale, so a value's error is not a closed formula. Measured on Gaussian rows at
 * scales 1e-3..1e3, uniform and heavy-tailed (cubed Gaussian) rows, and the fixtures' weights:
 * with step = a sub-block's range / levels (Q4_K/Q5_K: (max(x) - min(x, 0)) / 15 or 31 over 32
 * values; Q6_K: max|x| / 32 over 16 values) and f16 = the error the f16 rounding of d (and dmin)
 * can add (63 * 15 / 31 half-ulps of d plus 63 of dmin; Q6_K 128 * 32 half-ulps of d):
 *   - every value: |err| <= K_sb * (the largest step of its super-block) + f16
 *     (measured worst 0.77 q4_K, 0.83 q5_K, 0.71 q6_K; bounds 0.95, 1.0, 0.85);
 *   - in the Gaussian, uniform and fixture rows also |err| <= K_sub * (its own sub-block's
 *     step) + f16 (measured 0.85, 1.29, 0.78; bounds 1.05, 1.55, 0.95). Heavy tails break this
 *     one by design: a quiet sub-block next to a loud one gets a coarse 6-bit scale.
 *   - rms(err) / rms(x) on unit Gaussian rows and on the fixtures' weights (measured 0.0713,
 *     0.0362, 0.0177; bounds 0.075, 0.038, 0.0185), below each type's 32-block sibling (q4_0
 *     0.086, q4_1 0.078; q5_0 0.043, q5_1 0.038; q8_0 0.0053 is the only better one). */
typedef struct {
    uint32_t type;
    int sub, levels;
    bool asym;
    float k_sb, k_sub, rms;
    uint32_t sibling; /* the block-32 type it must beat on rms */
} kq_case;

static const kq_case k_cases[] = {
    {HT_Q4_K, 32, 15, true, 0.95f, 1.05f, 0.075f, HT_Q4_1},
    {HT_Q5_K, 32, 31, true, 1.0f, 1.55f, 0.038f, HT_Q5_1},
    {HT_Q6_K, 16, 32, false, 0.85f, 0.95f, 0.0185f, HT_Q5_1},
};

static float half_ulp(float v) { return fmaxf(fabsf(v) * 0x1p-11f, 0x1p-25f); }

/* Checks the bounds above on n values (a multiple of 256); sub_ok: also the per-sub-block one.
 * Returns rms(err)/rms(x); *worst_sb / *worst_sub get the largest ratios seen. */
static double k_round_trip(const kq_case *kc, const float *x, int64_t n, bool sub_ok, const char *what, float *worst_sb,
                           float *worst_sub) {
    const ht_type_info *ti = ht_type_get(kc->type);
    uint8_t *q = malloc((size_t)(n / 256) * ti->type_size);
    float *y = malloc(sizeof(float) * (size_t)n);
    ht_quantize(kc->type, x, q, n);
    ht_dequantize(kc->type, q, y, n);
    int bad_sb = 0, bad_sub = 0;
    double se = 0, sx = 0;
    for (int64_t b = 0; b < n / 256; b++) {
        const float *xb = x + 256 * b, *yb = y + 256 * b;
        const uint8_t *qb = q + b * ti->type_size;
        float f16;
        if (kc->asym) {
            const float d = hu_f16_to_f32((uint16_t)(qb[0] | qb[1] << 8)), dm = hu_f16_to_f32((uint16_t)(qb[2] | qb[3] << 8));
            f16 = 63.0f * (float)kc->levels * half_ulp(d) + 63.0f * half_ulp(dm);
        } else {
            f16 = 128.0f * 32.0f * half_ulp(hu_f16_to_f32((uint16_t)(qb[208] | qb[209] << 8)));
        }
        float step[16], step_sb = 0;
        for (int s = 0; s < 256 / kc->sub; s++) {
            float lo = 0, hi = -INFINITY, amax = 0;
            for (int i = 0; i < kc->sub; i++) {
                const float v = xb[s * kc->sub + i];
                lo = fminf(lo, v);
                hi = fmaxf(hi, v);
                amax = fmaxf(amax, fabsf(v));
            }
            step[s] = kc->asym ? (hi - lo) / (float)kc->levels : amax / (float)kc->levels;
            step_sb = fmaxf(step_sb, step[s]);
        }
        for (int i = 0; i < 256; i++) {
            const float err = fabsf(xb[i] - yb[i]), st = step[i / kc->sub];
            se += (double)err * err;
            sx += (double)xb[i] * xb[i];
            bad_sb += !(err <= kc->k_sb * step_sb + f16);
            if (step_sb > 0) *worst_sb = fmaxf(*worst_sb, (err - f16) / step_sb);
            if (sub_ok) {
                bad_sub += !(err <= kc->k_sub * st + f16);
                if (st > 0) *worst_sub = fmaxf(*worst_sub, (err - f16) / st);
            }
        }
    }
    CHECK(bad_sb == 0, "%s %s: %d values past %.2f x the super-block step", what, ti->name, bad_sb, kc->k_sb);
    CHECK(bad_sub == 0, "%s %s: %d values past %.2f x their sub-block step", what, ti->name, bad_sub, kc->k_sub);
    free(q);
    free(y);
    return sx > 0 ? sqrt(se / sx) : 0;
}

/* rms(err)/rms(x) of any quantised type on n values. */
static double rms_rel(uint32_t type, const float *x, int64_t n) {
    uint64_t bytes;
    ht_row_bytes(type, (uint64_t)n, &bytes);
    uint8_t *q = malloc(bytes);
    float *y = malloc(sizeof(float) * (size_t)n);
    ht_quantize(type, x, q, n);
    ht_dequantize(type, q, y, n);
    double se = 0, sx = 0;
    for (int64_t i = 0; i < n; i++) se += (double)(x[i] - y[i]) * (x[i] - y[i]), sx += (double)x[i] * x[i];
    free(q);
    free(y);
    return sqrt(se / sx);
}

static float rng_normal(uint64_t *s) {
    double u = ((double)(rng_next(s) >> 11) + 0.5) * 0x1p-53, v = (double)(rng_next(s) >> 11) * 0x1p-53;
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

/* The 2-D weights of a fixture, flattened and cut to a multiple of 256; NULL when unreadable. */
static float *fixture_weights(const char *name, int64_t *n) {
    const char *shared = getenv("HEARTH_SHARED");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fixtures/%s", shared ? shared : "../shared", name);
    st_set *st = NULL;
    hearth_err e = {0};
    if (st_open(dir, &st, &e) != HEARTH_OK) {
        CHECK(false, "%s: %s", name, e.msg);
        return NULL;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < st->n_tensors; i++)
        if (st->tensors[i].n_dims == 2) total += st->tensors[i].n_elems;
    float *x = malloc(sizeof(float) * total), *p = x;
    for (size_t i = 0; i < st->n_tensors; i++) {
        if (st->tensors[i].n_dims != 2) continue;
        st_to_f32(&st->tensors[i], p);
        p += st->tensors[i].n_elems;
    }
    st_free(st);
    *n = (int64_t)(total / 256 * 256);
    return x;
}

static void test_round_trip_k(void) {
    enum { N = 256 * 420 };
    float *x = malloc(N * sizeof(float));
    uint64_t seed = 2024;
    for (size_t c = 0; c < sizeof k_cases / sizeof k_cases[0]; c++) {
        const kq_case *kc = &k_cases[c];
        const char *name = ht_type_get(kc->type)->name;
        float wsb = 0, wsub = 0;
        /* Gaussian at scales 1e-3 .. 1e3 per super-block, with zero, constant and one-sided blocks */
        for (int i = 0; i < N; i++) x[i] = rng_normal(&seed) * powf(10.0f, (float)((i / 256) % 7) - 3.0f);
        for (int i = 256 * 7; i < 256 * 8; i++) x[i] = 0;
        for (int i = 256 * 8; i < 256 * 9; i++) x[i] = -0.375f;
        for (int i = 256 * 9; i < 256 * 10; i++) x[i] = fabsf(x[i]) + 0.25f;
        k_round_trip(kc, x, N, true, "gaussian", &wsb, &wsub);
        for (int i = 0; i < N; i++) x[i] = rng_uniform(&seed);
        k_round_trip(kc, x, N, true, "uniform", &wsb, &wsub);
        for (int i = 0; i < N; i++) {
            const float g = rng_normal(&seed);
            x[i] = g * g * g;
        }
        k_round_trip(kc, x, N, false, "heavy-tailed", &wsb, &wsub);
        for (int i = 0; i < N; i++) x[i] = rng_normal(&seed);
        const double rms = k_round_trip(kc, x, N, true, "unit gaussian", &wsb, &wsub), sib = rms_rel(kc->sibling, x, N);
        CHECK(rms <= kc->rms, "%s: rms error %.4f of the values' rms > %.4f", name, rms, kc->rms);
        CHECK(rms < sib, "%s: rms error %.4f not below %s's %.4f", name, rms, ht_type_get(kc->sibling)->name, sib);
        printf("%s: unit gaussian rms err %.4f (%s %.4f)", name, rms, ht_type_get(kc->sibling)->name, sib);
        const char *fixtures[] = {"nemotron_h_tiny", "llama_tiny", "qwen2_tiny", "qwen3_tiny"};
        for (int f = 0; f < 4; f++) {
            int64_t n = 0;
            float *w = fixture_weights(fixtures[f], &n);
            if (!w) continue;
            const double r = k_round_trip(kc, w, n, true, fixtures[f], &wsb, &wsub);
            CHECK(r <= kc->rms, "%s %s: rms error %.4f > %.4f", fixtures[f], name, r, kc->rms);
            if (f == 0) printf(", %s %.4f", fixtures[f], r);
            free(w);
        }
        printf("; worst err/step: super-block %.3f, sub-block %.3f\n", wsb, wsub);
    }
    free(x);
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
    const uint32_t types[] = {HT_F32, HT_F16, HT_BF16, HT_Q8_0, HT_Q4_0, HT_Q4_1, HT_Q5_0, HT_Q5_1, HT_Q4_K, HT_Q5_K, HT_Q6_K};
    const int64_t sizes[] = {32, 64, 256, 288, 1024, 4096 + 32, 4096};
    uint64_t seed = 7;
    enum { MAXN = 4096 + 32 };
    float *w = malloc(MAXN * sizeof(float)), *x = malloc(MAXN * sizeof(float)), *wd = malloc(MAXN * sizeof(float));
    uint8_t *row = malloc(MAXN * 4);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int64_t n = sizes[s];
            if (n % ht_type_get(types[t])->block_size) continue; /* k-quants: multiples of 256 only */
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
    CHECK(isnan(ht_dot(HT_Q3_K, row, x, 256)), "unsupported type -> NaN");
    CHECK(isnan(ht_dot(HT_Q8_0, row, x, 33)), "ragged n -> NaN");
    CHECK(isnan(ht_dot(HT_Q4_K, row, x, 288)), "ragged k-quant n -> NaN");
    ht_dequantize(HT_Q2_K, row, wd, 256);
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
    test_layout_legacy();
    test_layout_k();
    test_round_trip();
    test_round_trip_k();
    test_f16();
    test_dot();
    return check_summary("test_quant");
}
