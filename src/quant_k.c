/* quant_k.c - the k-quants Q4_K, Q5_K, Q6_K in plain C: llama.cpp's 256-value super-block layouts, dequantisation, and its reference quantisation.
 *
 * Layouts (byte offsets in one super-block; quant.h has the summary):
 *   Q4_K (144): d f16 @0, dmin f16 @2, scales[12] @4, qs[128] @16.
 *   Q5_K (176): d f16 @0, dmin f16 @2, scales[12] @4, qh[32] @16, qs[128] @48.
 *   Q6_K (210): ql[128] @0, qh[64] @128, scales[16] (int8) @192, d f16 @208.
 *
 * Quantisation follows llama.cpp's quantize_row_q{4,5,6}_K_ref (used by llama-quantize when no
 * importance matrix is given). The float operations are written in the same order as there, so
 * that hearth and llama.cpp write the same bytes from the same f32 weights
 * (tests/test_quant_llamacpp.c checks it against the library node-llama-cpp ships).
 */
#include "quant_k.h"

#include <math.h>

/* The byte-for-byte match needs every float operation rounded on its own: no fused multiply-adds.
 * GCC in ISO C mode (-std=c11) does not fuse across or within expressions; clang fuses within an
 * expression where the target has FMA (aarch64) unless told not to. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

enum {
    Q4_K_BYTES = 4 + 12 + HT_QK_K / 2,              /* 144 */
    Q5_K_BYTES = 4 + 12 + HT_QK_K / 8 + HT_QK_K / 2, /* 176 */
    Q6_K_BYTES = HT_QK_K / 2 + HT_QK_K / 4 + HT_QK_K / 16 + 2, /* 210 */
};

/* Round to nearest, ties to even: what llama.cpp's nearest_int computes (by adding 1.5 * 2^23,
 * which leaves the rounded integer in the low mantissa bits) for |v| < 2^22. Outside that range,
 * which only non-finite or absurd input reaches, the result saturates and NaN gives 0, so hostile
 * weights are never undefined behaviour. */
static inline int round_even(float v) {
    if (!(fabsf(v) < 4194304.0f)) return v > 0 ? 4194304 : v < 0 ? -4194304 : 0;
    float t = v + 12582912.0f;
    uint32_t u;
    memcpy(&u, &t, sizeof u);
    return (int)(u & 0x7fffff) - 0x400000;
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- the 6-bit scales and mins of Q4_K / Q5_K ----
 * Eight sub-blocks of 32 values, each with a 6-bit scale sc[j] and a 6-bit min m[j], packed in
 * 12 bytes: for j < 4, byte j holds sc[j] and byte j+4 holds m[j] (low 6 bits each); for j >= 4,
 * byte j+4 holds the low nibbles (sc[j] low, m[j] high), and the top two bits of sc[j] / m[j]
 * ride in bits 6-7 of bytes j-4 / j. A value of sub-block j is d*sc[j]*q - dmin*m[j]. */

static inline void k_scale_min(const uint8_t *s, int j, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

static void k_pack_scale_mins(uint8_t *s, const uint8_t *sc, const uint8_t *m) {
    for (int j = 0; j < 4; j++) {
        s[j] = sc[j];
        s[j + 4] = m[j];
    }
    for (int j = 4; j < 8; j++) {
        s[j + 4] = (uint8_t)((sc[j] & 0x0f) | ((m[j] & 0x0f) << 4));
        s[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
        s[j] |= (uint8_t)((m[j] >> 4) << 6);
    }
}

/* ---- dequantisation ---- */

void hq_q4_k_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += HT_QK_K, b += Q4_K_BYTES, dst += HT_QK_K) {
        const float d = hu_f16_to_f32(hq_load_u16(b)), dmin = hu_f16_to_f32(hq_load_u16(b + 2));
        const uint8_t *qs = b + 16;
        /* 64 values per 32 bytes: low nibbles are sub-block 2c, high nibbles sub-block 2c+1 */
        for (int c = 0; c < 4; c++) {
            uint8_t sc0, m0, sc1, m1;
            k_scale_min(b + 4, 2 * c, &sc0, &m0);
            k_scale_min(b + 4, 2 * c + 1, &sc1, &m1);
            const float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
            float *y = dst + 64 * c;
            for (int l = 0; l < 32; l++) {
                y[l] = d0 * (float)(qs[32 * c + l] & 0x0f) - o0;
                y[l + 32] = d1 * (float)(qs[32 * c + l] >> 4) - o1;
            }
        }
    }
}

void hq_q5_k_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += HT_QK_K, b += Q5_K_BYTES, dst += HT_QK_K) {
        const float d = hu_f16_to_f32(hq_load_u16(b)), dmin = hu_f16_to_f32(hq_load_u16(b + 2));
        const uint8_t *qh = b + 16, *qs = b + 48;
        /* as Q4_K, plus a fifth bit: value 64c + l takes bit 2c of qh[l], value 64c + 32 + l bit 2c+1 */
        for (int c = 0; c < 4; c++) {
            uint8_t sc0, m0, sc1, m1;
            k_scale_min(b + 4, 2 * c, &sc0, &m0);
            k_scale_min(b + 4, 2 * c + 1, &sc1, &m1);
            const float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
            float *y = dst + 64 * c;
            for (int l = 0; l < 32; l++) {
                const int lo = (qs[32 * c + l] & 0x0f) | (((qh[l] >> (2 * c)) & 1) << 4);
                const int hi = (qs[32 * c + l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4);
                y[l] = d0 * (float)lo - o0;
                y[l + 32] = d1 * (float)hi - o1;
            }
        }
    }
}

void hq_q6_k_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += HT_QK_K, b += Q6_K_BYTES, dst += HT_QK_K) {
        const float d = hu_f16_to_f32(hq_load_u16(b + 208));
        const int8_t *sc = (const int8_t *)(b + 192);
        /* two halves of 128 values; in half h, value 128h + 32k + l (k < 4, l < 32) has its low
         * nibble in ql[64h + l + 32(k&1)] (low nibble for k < 2, high for k >= 2), its top two bits
         * at bit 2k of qh[32h + l], and the scale of its 16-value sub-block, sc[8h + 2k + l/16]. */
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            float *y = dst + 128 * h;
            for (int k = 0; k < 4; k++) {
                for (int l = 0; l < 32; l++) {
                    const uint8_t lq = ql[l + 32 * (k & 1)];
                    const int q = ((k < 2 ? lq & 0x0f : lq >> 4) | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
                    y[32 * k + l] = d * (float)sc[8 * h + 2 * k + l / 16] * (float)q;
                }
            }
        }
    }
}

/* ---- quantisation helpers (llama.cpp's make_qkx2_quants and make_qx_quants) ---- */

/* Fits x[i] ~ scale * L[i] - the_min, L[i] in 0..nmax, the_min >= 0, to n values with weights w,
 * minimising sum w (error)^2. Starts from the grid spanning [lo, hi] = [min(x, 0), max(x)], then
 * tries grids of nmax + rmin + rdelta*k steps (k = 0..nstep) and keeps the weighted least-squares
 * (scale, offset) of the best. As in llama.cpp, a better candidate's offset replaces lo for the
 * grids tried after it (the width stays hi - lo with the new lo). Laux is scratch for n codes.
 * Returns the scale. */
static float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min, uint8_t *Laux,
                           float rmin, float rdelta, int nstep) {
    float lo = x[0], hi = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (lo > 0) lo = 0;
    if (hi == lo) {
        memset(L, 0, (size_t)n);
        *the_min = -lo;
        return 0.0f;
    }
    float iscale = (float)nmax / (hi - lo);
    float scale = 1.0f / iscale;
    float best = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clampi(round_even(iscale * (x[i] - lo)), 0, nmax);
        const float diff = scale * (float)L[i] + lo - x[i];
        best += w[i] * (diff * diff);
    }
    for (int k = 0; k <= nstep; k++) {
        iscale = (rmin + rdelta * (float)k + (float)nmax) / (hi - lo);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            const int l = clampi(round_even(iscale * (x[i] - lo)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (!(D > 0)) continue;
        float s = (sum_w * sum_xl - sum_x * sum_l) / D;
        float o = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (o > 0) { /* the offset may only lower values: refit the scale alone */
            o = 0;
            s = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; i++) {
            const float diff = s * (float)Laux[i] + o - x[i];
            err += w[i] * (diff * diff);
        }
        if (err < best) {
            memcpy(L, Laux, (size_t)n);
            best = err;
            scale = s;
            lo = o;
        }
    }
    *the_min = -lo;
    return scale;
}

/* Fits x[i] ~ scale * (L[i] - nmax), L[i] in 0..2*nmax-1, to n values, weighting each by x[i]^2.
 * Starts from the grid that maps the value of largest magnitude to -nmax, tries the 18 grids of
 * nmax + 0.1k steps (k = -9..9, k != 0) and keeps the least-squares scale of the best. */
static float fit_scale_sym(int n, int nmax, const float *x, uint8_t *L) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++) {
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    }
    if (amax < 1e-15f) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)(-nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        const int l = clampi(round_even(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (uint8_t)(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int k = -9; k <= 9; k++) {
        if (k == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)k) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            const int l = clampi(round_even(iscale * x[i]), -nmax, nmax - 1);
            const float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) L[i] = (uint8_t)(clampi(round_even(iscale * x[i]), -nmax, nmax - 1) + nmax);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* ---- Q4_K / Q5_K: one super-block's codes L[256] (0..nmax), scales and mins ---- */

/* Fits the 8 sub-blocks, quantises their scales and mins to 6 bits against the super-block's
 * d = max scale / 63 and dmin = max min / 63 (stored f16 at b and b+2, packed scales at b+4),
 * then recomputes every code against the stored (rounded) scale and min. */
static void k_quantize_block(const float *x, uint8_t *b, uint8_t *L, int nmax, float rmin, float rdelta, int nstep) {
    float scales[8], mins[8], w[32];
    uint8_t aux[32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        const float *xj = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += xj[l] * xj[l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(xj[l]);
        scales[j] = fit_scale_min(32, nmax, xj, w, L + 32 * j, &mins[j], aux, rmin, rdelta, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        /* as llama.cpp: the int is narrowed to a byte, then capped */
        const uint8_t s = (uint8_t)round_even(inv_scale * scales[j]), m = (uint8_t)round_even(inv_min * mins[j]);
        ls[j] = s < 63 ? s : 63;
        lm[j] = m < 63 ? m : 63;
    }
    k_pack_scale_mins(b + 4, ls, lm);
    hq_store_u16(b, hu_f32_to_f16(max_scale / 63.0f));
    hq_store_u16(b + 2, hu_f32_to_f16(max_min / 63.0f));
    const float d = hu_f16_to_f32(hq_load_u16(b)), dmin = hu_f16_to_f32(hq_load_u16(b + 2));
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        k_scale_min(b + 4, j, &sc, &m);
        const float dj = d * sc;
        if (dj == 0) continue; /* keeps the codes of the fit */
        const float mj = dmin * m;
        for (int l = 0; l < 32; l++) L[32 * j + l] = (uint8_t)clampi(round_even((x[32 * j + l] + mj) / dj), 0, nmax);
    }
}

void hq_q4_k_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    uint8_t L[HT_QK_K];
    for (int64_t i = 0; i < n; i += HT_QK_K, b += Q4_K_BYTES, src += HT_QK_K) {
        k_quantize_block(src, b, L, 15, -1.0f, 0.1f, 20);
        uint8_t *qs = b + 16;
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

void hq_q5_k_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    uint8_t L[HT_QK_K];
    for (int64_t i = 0; i < n; i += HT_QK_K, b += Q5_K_BYTES, src += HT_QK_K) {
        k_quantize_block(src, b, L, 31, -0.5f, 0.1f, 15);
        uint8_t *qh = b + 16, *qs = b + 48;
        memset(qh, 0, HT_QK_K / 8);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
                qs[32 * c + l] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
            }
        }
    }
}

/* Q6_K: 16 sub-blocks of 16 values, each fitted symmetrically with 6-bit codes; their scales go
 * to int8 against d = -max_scale/128 (the sub-block scale of largest magnitude maps to -128). */
void hq_q6_k_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    uint8_t L[HT_QK_K];
    for (int64_t i = 0; i < n; i += HT_QK_K, b += Q6_K_BYTES, src += HT_QK_K) {
        float scales[16], max_scale = 0, max_abs = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = fit_scale_sym(16, 32, src + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > max_abs) {
                max_abs = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        memset(b, 0, Q6_K_BYTES);
        if (max_abs < 1e-15f) continue; /* an all-zero block: d = 0 and every code 0 */
        const float iscale = -128.0f / max_scale;
        hq_store_u16(b + 208, hu_f32_to_f16(1.0f / iscale));
        int8_t *sc = (int8_t *)(b + 192);
        for (int j = 0; j < 16; j++) {
            const int s = round_even(iscale * scales[j]);
            sc[j] = (int8_t)(s < 127 ? s : 127);
        }
        const float d = hu_f16_to_f32(hq_load_u16(b + 208));
        for (int j = 0; j < 16; j++) {
            const float dj = d * (float)sc[j];
            if (dj == 0) continue;
            for (int l = 0; l < 16; l++) L[16 * j + l] = (uint8_t)(clampi(round_even(src[16 * j + l] / dj), -32, 31) + 32);
        }
        /* the layout of hq_q6_k_to_float */
        for (int h = 0; h < 2; h++) {
            uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            const uint8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}
