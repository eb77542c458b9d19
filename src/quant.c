/* quant.c - the GGML type table and the plain-C reference (de)quantisation and dot product every fast kernel is tested against. */
#include "quant.h"

#include <ctype.h>
#include <float.h>
#include <math.h>

#include "quant_k.h"

/* Row converters. n is a multiple of the type's block size; src/dst hold n values. */
typedef void (*to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*from_float_fn)(const float *src, void *dst, int64_t n);

typedef struct {
    ht_type_info info;      /* info.supported is true exactly when to_float is set */
    to_float_fn to_float;   /* dequantise; NULL when hearth cannot read the type yet */
    from_float_fn from_float; /* quantise with llama.cpp's reference rounding; NULL when not offered */
} type_entry;

/* ---- plain types ---- */

static void f32_to_float(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * sizeof(float)); }
static void f32_from_float(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * sizeof(float)); }

static void f16_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) dst[i] = hu_f16_to_f32(hq_load_u16(p + 2 * i));
}
static void f16_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n; i++) hq_store_u16(p + 2 * i, hu_f32_to_f16(src[i]));
}

static void bf16_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) dst[i] = hu_bf16_to_f32(hq_load_u16(p + 2 * i));
}
static void bf16_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n; i++) hq_store_u16(p + 2 * i, hu_f32_to_bf16(src[i]));
}

/* ---- Q8_0: 32 values = { f16 d; int8 q[32]; } (34 bytes), x = d * q ---- */

enum { Q8_0_BYTES = 2 + HT_QK8_0 };

static void q8_0_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += HT_QK8_0, b += Q8_0_BYTES, dst += HT_QK8_0) {
        float d = hu_f16_to_f32(hq_load_u16(b));
        const int8_t *q = (const int8_t *)(b + 2);
        for (int j = 0; j < HT_QK8_0; j++) dst[j] = d * (float)q[j];
    }
}

/* llama.cpp: amax = max |x|, d = amax/127, id = d ? 1/d : 0, q = roundf(x*id); d stored as f16.
 * |x*id| <= 127 for finite input; a non-finite value gets code 0 (what the reference's
 * float->int8 conversion yields on x86) instead of undefined behaviour. */
static void q8_0_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += HT_QK8_0, b += Q8_0_BYTES, src += HT_QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < HT_QK8_0; j++) amax = fmaxf(amax, fabsf(src[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        hq_store_u16(b, hu_f32_to_f16(d));
        for (int j = 0; j < HT_QK8_0; j++) {
            float r = roundf(src[j] * id);
            b[2 + j] = (uint8_t)(int8_t)(r >= -128.0f && r <= 127.0f ? (int)r : 0);
        }
    }
}

/* ---- Q4_0: 32 values = { f16 d; uint8 qs[16]; } (18 bytes), x = d * (nibble - 8);
 *      value j is the low nibble of qs[j], value j+16 its high nibble ---- */

enum { Q4_0_BYTES = 2 + HT_QK4_0 / 2 };

static void q4_0_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += HT_QK4_0, b += Q4_0_BYTES, dst += HT_QK4_0) {
        float d = hu_f16_to_f32(hq_load_u16(b));
        const uint8_t *qs = b + 2;
        for (int j = 0; j < HT_QK4_0 / 2; j++) {
            dst[j] = d * (float)((qs[j] & 0x0f) - 8);
            dst[j + HT_QK4_0 / 2] = d * (float)((qs[j] >> 4) - 8);
        }
    }
}

/* Code for one scaled value v: truncation toward zero as llama.cpp's (int8_t) / (uint8_t) casts,
 * capped at `max` (no cap: pass 255). Finite input keeps v in [0, max + 1.5]; non-finite input
 * gets code 0 instead of undefined behaviour. */
static inline uint8_t trunc_code(float v, int max) {
    if (!(v >= 0.0f && v < 64.0f)) return 0;
    int q = (int)v;
    return (uint8_t)(q < max ? q : max);
}

/* llama.cpp: max = the value of largest magnitude, sign kept (first one wins on ties);
 * d = max / -8, id = d ? 1/d : 0, code = min(15, trunc(x*id + 8.5)); d stored as f16. */
static void q4_0_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += HT_QK4_0, b += Q4_0_BYTES, src += HT_QK4_0) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < HT_QK4_0; j++) {
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        hq_store_u16(b, hu_f32_to_f16(d));
        for (int j = 0; j < HT_QK4_0 / 2; j++) {
            uint8_t lo = trunc_code(src[j] * id + 8.5f, 15);
            uint8_t hi = trunc_code(src[j + HT_QK4_0 / 2] * id + 8.5f, 15);
            b[2 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/* ---- Q4_1, Q5_0, Q5_1: the other block-32 types (llama.cpp's fallbacks for k-quant rows whose
 *      length is not a multiple of 256, and the types of older files) ---- */

enum { Q4_1_BYTES = 4 + HT_QK4_0 / 2, Q5_0_BYTES = 2 + 4 + HT_QK4_0 / 2, Q5_1_BYTES = 4 + 4 + HT_QK4_0 / 2 };

/* 5-bit code j of a Q5_0/Q5_1 block: nibble j (as Q4_0) | bit j of the little-endian u32 qh << 4 */
static inline int q5_code(const uint8_t *qh, const uint8_t *qs, int j) {
    const uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
    const int nib = j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4;
    return nib | (int)((h >> j) & 1) << 4;
}

/* Packs 32 codes of 0..31 into qh[4] and qs[16]. */
static void q5_pack(const uint8_t *code, uint8_t *qh, uint8_t *qs) {
    uint32_t h = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((code[j] & 0x0f) | ((code[j + 16] & 0x0f) << 4));
        h |= (uint32_t)(code[j] >> 4 & 1) << j | (uint32_t)(code[j + 16] >> 4 & 1) << (j + 16);
    }
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(h >> (8 * k));
}

static void q4_1_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += 32, b += Q4_1_BYTES, dst += 32) {
        const float d = hu_f16_to_f32(hq_load_u16(b)), m = hu_f16_to_f32(hq_load_u16(b + 2));
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)(b[4 + j] & 0x0f) * d + m;
            dst[j + 16] = (float)(b[4 + j] >> 4) * d + m;
        }
    }
}

static void q5_0_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += 32, b += Q5_0_BYTES, dst += 32) {
        const float d = hu_f16_to_f32(hq_load_u16(b));
        for (int j = 0; j < 32; j++) dst[j] = (float)(q5_code(b + 2, b + 6, j) - 16) * d;
    }
}

static void q5_1_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += 32, b += Q5_1_BYTES, dst += 32) {
        const float d = hu_f16_to_f32(hq_load_u16(b)), m = hu_f16_to_f32(hq_load_u16(b + 2));
        for (int j = 0; j < 32; j++) dst[j] = (float)q5_code(b + 4, b + 8, j) * d + m;
    }
}

/* The min/max of a block as llama.cpp's Q4_1/Q5_1 find them. */
static void block_min_max(const float *x, float *mn, float *mx) {
    *mn = FLT_MAX;
    *mx = -FLT_MAX;
    for (int j = 0; j < 32; j++) {
        if (x[j] < *mn) *mn = x[j];
        if (x[j] > *mx) *mx = x[j];
    }
}

/* llama.cpp: d = (max - min)/15, m = min, code = min(15, trunc((x - min)/d + 0.5)). */
static void q4_1_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += 32, b += Q4_1_BYTES, src += 32) {
        float mn, mx;
        block_min_max(src, &mn, &mx);
        const float d = (mx - mn) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        hq_store_u16(b, hu_f32_to_f16(d));
        hq_store_u16(b + 2, hu_f32_to_f16(mn));
        for (int j = 0; j < 16; j++) {
            uint8_t lo = trunc_code((src[j] - mn) * id + 0.5f, 15);
            uint8_t hi = trunc_code((src[j + 16] - mn) * id + 0.5f, 15);
            b[4 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/* llama.cpp: as Q4_0 with 5 bits: d = max / -16, code = min(31, trunc(x/d + 16.5)). */
static void q5_0_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += 32, b += Q5_0_BYTES, src += 32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++) {
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        const float d = max / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        hq_store_u16(b, hu_f32_to_f16(d));
        uint8_t code[32];
        for (int j = 0; j < 32; j++) code[j] = trunc_code(src[j] * id + 16.5f, 31);
        q5_pack(code, b + 2, b + 6);
    }
}

/* llama.cpp: as Q4_1 with 5 bits, d = (max - min)/31, and no cap: a code that rounds up to 32
 * (possible only through f32 rounding at the max) keeps its low five bits, 0, as there. */
static void q5_1_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += 32, b += Q5_1_BYTES, src += 32) {
        float mn, mx;
        block_min_max(src, &mn, &mx);
        const float d = (mx - mn) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        hq_store_u16(b, hu_f32_to_f16(d));
        hq_store_u16(b + 2, hu_f32_to_f16(mn));
        uint8_t code[32];
        for (int j = 0; j < 32; j++) code[j] = trunc_code((src[j] - mn) * id + 0.5f, 255);
        q5_pack(code, b + 4, b + 8);
    }
}

/* ---- the table, indexed by GGML type id ----
 * Names, block sizes and block bytes are GGML's (k-quants are spelled "q4_K" as in GGML).
 * Ids GGML never defined or has retired (4, 5, 31-33, 36-38) have no name and read as unknown.
 * `supported` is true exactly for the rows with a to_float converter. The k-quants' converters
 * live in quant_k.c. To support another type, write <type>_to_float (and <type>_from_float if
 * hearth should produce it), set the two pointers in its row and its `supported` flag. */
static const type_entry k_types[HT_TYPE_COUNT] = {
    [HT_F32] = {{"f32", 1, 4, true}, f32_to_float, f32_from_float},
    [HT_F16] = {{"f16", 1, 2, true}, f16_to_float, f16_from_float},
    [HT_Q4_0] = {{"q4_0", HT_QK4_0, Q4_0_BYTES, true}, q4_0_to_float, q4_0_from_float},
    [HT_Q4_1] = {{"q4_1", 32, Q4_1_BYTES, true}, q4_1_to_float, q4_1_from_float},
    [HT_Q5_0] = {{"q5_0", 32, Q5_0_BYTES, true}, q5_0_to_float, q5_0_from_float},
    [HT_Q5_1] = {{"q5_1", 32, Q5_1_BYTES, true}, q5_1_to_float, q5_1_from_float},
    [HT_Q8_0] = {{"q8_0", HT_QK8_0, Q8_0_BYTES, true}, q8_0_to_float, q8_0_from_float},
    [HT_Q8_1] = {{"q8_1", 32, 36, false}, NULL, NULL},
    [HT_Q2_K] = {{"q2_K", 256, 84, false}, NULL, NULL},
    [HT_Q3_K] = {{"q3_K", 256, 110, false}, NULL, NULL},
    [HT_Q4_K] = {{"q4_K", HT_QK_K, 144, true}, hq_q4_k_to_float, hq_q4_k_from_float},
    [HT_Q5_K] = {{"q5_K", HT_QK_K, 176, true}, hq_q5_k_to_float, hq_q5_k_from_float},
    [HT_Q6_K] = {{"q6_K", HT_QK_K, 210, true}, hq_q6_k_to_float, hq_q6_k_from_float},
    [HT_Q8_K] = {{"q8_K", 256, 292, false}, NULL, NULL},
    [16] = {{"iq2_xxs", 256, 66, false}, NULL, NULL},
    [17] = {{"iq2_xs", 256, 74, false}, NULL, NULL},
    [18] = {{"iq3_xxs", 256, 98, false}, NULL, NULL},
    [19] = {{"iq1_s", 256, 50, false}, NULL, NULL},
    [20] = {{"iq4_nl", 32, 18, false}, NULL, NULL},
    [21] = {{"iq3_s", 256, 110, false}, NULL, NULL},
    [22] = {{"iq2_s", 256, 82, false}, NULL, NULL},
    [23] = {{"iq4_xs", 256, 136, false}, NULL, NULL},
    [HT_I8] = {{"i8", 1, 1, false}, NULL, NULL},
    [HT_I16] = {{"i16", 1, 2, false}, NULL, NULL},
    [HT_I32] = {{"i32", 1, 4, false}, NULL, NULL},
    [HT_I64] = {{"i64", 1, 8, false}, NULL, NULL},
    [HT_F64] = {{"f64", 1, 8, false}, NULL, NULL},
    [29] = {{"iq1_m", 256, 56, false}, NULL, NULL},
    [HT_BF16] = {{"bf16", 1, 2, true}, bf16_to_float, bf16_from_float},
    [34] = {{"tq1_0", 256, 54, false}, NULL, NULL},
    [35] = {{"tq2_0", 256, 66, false}, NULL, NULL},
    [39] = {{"mxfp4", 32, 17, false}, NULL, NULL},
};

/* The row for a type id, or NULL when the id is unknown. */
static const type_entry *entry(uint32_t type) {
    if (type >= HT_TYPE_COUNT || !k_types[type].info.name) return NULL;
    return &k_types[type];
}

const ht_type_info *ht_type_get(uint32_t type) {
    const type_entry *t = entry(type);
    return t ? &t->info : NULL;
}

int ht_type_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < HT_TYPE_COUNT; i++) {
        const char *nm = k_types[i].info.name;
        if (!nm) continue;
        size_t j = 0; /* case-insensitive: "q4_k" and "Q4_K" name GGML's "q4_K" */
        while (nm[j] && tolower((unsigned char)nm[j]) == tolower((unsigned char)name[j])) j++;
        if (!nm[j] && !name[j]) return i;
    }
    return -1;
}

bool ht_row_bytes(uint32_t type, uint64_t n, uint64_t *out) {
    const type_entry *t = entry(type);
    if (!t || n % t->info.block_size != 0) return false;
    return hu_mul(n / t->info.block_size, t->info.type_size, out);
}

/* A call with an unsupported type or a ragged/negative n is a bug in the caller (who must check
 * ht_type_get(type)->supported and the shape first). Rather than abort, dequantise and dot answer
 * NaN and quantise writes zeros, so such a bug shows in the first test that looks at the numbers. */
static bool usable(const type_entry *t, int64_t n) {
    return t && t->to_float && n >= 0 && n % t->info.block_size == 0;
}

void ht_dequantize(uint32_t type, const void *src, float *dst, int64_t n) {
    const type_entry *t = entry(type);
    if (!usable(t, n)) {
        for (int64_t i = 0; i < n; i++) dst[i] = NAN;
        return;
    }
    t->to_float(src, dst, n);
}

void ht_quantize(uint32_t type, const float *src, void *dst, int64_t n) {
    const type_entry *t = entry(type);
    uint64_t bytes;
    if (!usable(t, n) || !t->from_float) {
        if (n >= 0 && ht_row_bytes(type, (uint64_t)n, &bytes)) memset(dst, 0, (size_t)bytes);
        return;
    }
    t->from_float(src, dst, n);
}

/* Dequantises CHUNK values at a time (a whole number of blocks of every type) and adds each
 * chunk's partial sum to the total, all in f32. This is the reference, not the fast path. */
float ht_dot(uint32_t type, const void *row, const float *x, int64_t n) {
    enum { CHUNK = 256 }; /* the k-quant super-block; a multiple of every block size */
    const type_entry *t = entry(type);
    if (!usable(t, n)) return NAN;
    const uint8_t *src = row;
    const int64_t bs = t->info.block_size;
    float tmp[CHUNK];
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK; /* a multiple of bs: n and CHUNK both are */
        t->to_float(src + (i / bs) * t->info.type_size, tmp, m);
        float part = 0.0f;
        for (int64_t j = 0; j < m; j++) part += tmp[j] * x[i + j];
        sum += part;
    }
    return sum;
}
