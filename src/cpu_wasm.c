/* cpu_wasm.c - the WebAssembly SIMD128 kernel table (compiled only when __wasm_simd128__ is defined; a NULL stub elsewhere).
 *
 * SIMD128 has no 8-bit multiply-add, so quantised blocks are widened to 16 bits and multiplied
 * with i32x4.dot_i16x8_s (exact); a tile of 2 rows x 2 tokens shares each widened block. Q8_0
 * takes int16 activations as they are (cpu_kernels.h); k-quant super-blocks are unpacked to int16
 * once per row and up to 4 tokens. Lanes hold partial sums across the row (one horizontal sum per
 * output), not rows as on x86.
 */
#include "cpu_kernels.h"

const hk_kernels *hk_wasm_table(void);

#if defined(__wasm_simd128__)

#include <math.h>
#include <string.h>
#include <wasm_simd128.h>

#include "util.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE float hsum4(v128_t v) {
    return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
           wasm_f32x4_extract_lane(v, 3);
}

static ALWAYS_INLINE int32_t hsum4i(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) + wasm_i32x4_extract_lane(v, 2) +
           wasm_i32x4_extract_lane(v, 3);
}

/* IEEE half to float for 4 values in the low 16 bits of each lane (subnormals, inf and NaN
 * included): shift into place, scale by 2^112 to fix the exponent bias, restore inf/NaN. */
static ALWAYS_INLINE v128_t f16x4_to_f32(v128_t h) {
    const v128_t mag = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
    v128_t f = wasm_f32x4_mul(mag, wasm_f32x4_splat(0x1p112f));
    const v128_t infnan = wasm_i32x4_ge(mag, wasm_i32x4_splat(0x7c00 << 13));
    f = wasm_v128_bitselect(wasm_v128_or(mag, wasm_i32x4_splat(0x7f800000)), f, infnan);
    return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

static ALWAYS_INLINE float f16_scalar(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return wasm_f32x4_extract_lane(f16x4_to_f32(wasm_i32x4_splat(h)), 0);
}

/* ---- activation quantisation ---- */

static ALWAYS_INLINE v128_t round_away(v128_t v) {
    const v128_t t = wasm_f32x4_trunc(v);
    const v128_t half = wasm_f32x4_ge(wasm_f32x4_abs(wasm_f32x4_sub(v, t)), wasm_f32x4_splat(0.5f));
    const v128_t one = wasm_v128_or(wasm_f32x4_splat(1.0f), wasm_v128_and(v, wasm_i32x4_splat((int32_t)0x80000000u)));
    return wasm_f32x4_add(t, wasm_v128_and(half, one));
}

/* Loads the 32 values of a block into v[8]; returns their largest |x| (0 for none, NaN skipped). */
static ALWAYS_INLINE float load_amax32(const float *x, v128_t v[8]) {
    v128_t m = wasm_f32x4_splat(0.0f);
    #pragma GCC unroll 16
    for (int i = 0; i < 8; i++) {
        v[i] = wasm_v128_load(x + 4 * i);
        m = wasm_f32x4_pmax(m, wasm_f32x4_abs(v[i])); /* keeps m when |x| is NaN, as fmaxf */
    }
    return fmaxf(fmaxf(wasm_f32x4_extract_lane(m, 0), wasm_f32x4_extract_lane(m, 1)),
                 fmaxf(wasm_f32x4_extract_lane(m, 2), wasm_f32x4_extract_lane(m, 3)));
}

static void quantize_q8(const float *x, int8_t *q, float *d, float *s, int nb) {
    for (int b = 0; b < nb; b++, x += HK_QK, q += HK_QK) {
        v128_t v[8];
        const float amax = load_amax32(x, v);
        const float dd = amax / 127.0f;
        const float idf = dd != 0.0f ? 1.0f / dd : 0.0f;
        const v128_t id = wasm_f32x4_splat(idf);
        v128_t i32[8], sum = wasm_i32x4_splat(0);
        #pragma GCC unroll 16
        for (int i = 0; i < 8; i++) {
            const v128_t r = round_away(wasm_f32x4_mul(v[i], id));
            const v128_t ok = wasm_v128_and(wasm_f32x4_ge(r, wasm_f32x4_splat(-128.0f)), wasm_f32x4_le(r, wasm_f32x4_splat(127.0f)));
            i32[i] = wasm_v128_and(wasm_i32x4_trunc_sat_f32x4(r), ok);
            sum = wasm_i32x4_add(sum, i32[i]);
        }
        for (int i = 0; i < 8; i += 4) {
            const v128_t a = wasm_i16x8_narrow_i32x4(i32[i], i32[i + 1]), c = wasm_i16x8_narrow_i32x4(i32[i + 2], i32[i + 3]);
            wasm_v128_store(q + 4 * i, wasm_i8x16_narrow_i16x8(a, c));
        }
        /* d after the f16 rounding GGML stores it with */
        d[b] = hu_f16_to_f32(hu_f32_to_f16(dd));
        s[b] = d[b] * (float)hsum4i(sum);
    }
}

/* int16 codes per 32-value block, d = amax/32767 in f32 (for Q8_0 and k-quant weights) */
static void quantize_q16(const float *x, int16_t *q, float *d, float *s, int nb) {
    for (int b = 0; b < nb; b++, x += HK_QK, q += HK_QK) {
        v128_t v[8];
        const float dd = load_amax32(x, v) / 32767.0f;
        const v128_t id = wasm_f32x4_splat(dd != 0.0f ? 1.0f / dd : 0.0f);
        v128_t i32[8], sum = wasm_i32x4_splat(0);
        #pragma GCC unroll 16
        for (int i = 0; i < 8; i++) {
            const v128_t r = round_away(wasm_f32x4_mul(v[i], id));
            const v128_t ok =
                wasm_v128_and(wasm_f32x4_ge(r, wasm_f32x4_splat(-32768.0f)), wasm_f32x4_le(r, wasm_f32x4_splat(32767.0f)));
            i32[i] = wasm_v128_and(wasm_i32x4_trunc_sat_f32x4(r), ok);
            sum = wasm_i32x4_add(sum, i32[i]);
        }
        #pragma GCC unroll 4
        for (int i = 0; i < 8; i += 2) wasm_v128_store(q + 4 * i, wasm_i16x8_narrow_i32x4(i32[i], i32[i + 1]));
        d[b] = dd;
        s[b] = dd * (float)hsum4i(sum);
    }
}

/* ---- quantised tiles: 2 rows x 2 tokens, blocks widened to 16 bits ---- */

/* The 32 weights of a block as 4 x i16x8 (values 0-7, 8-15, 16-23, 24-31). */
static ALWAYS_INLINE void widen_w(const uint8_t *blk, const bool q4, v128_t w[4]) {
    v128_t lo, hi;
    if (q4) {
        const v128_t qs = wasm_v128_load(blk + 2);
        const v128_t eight = wasm_i8x16_splat(8);
        lo = wasm_i8x16_sub(wasm_v128_and(qs, wasm_i8x16_splat(0x0f)), eight); /* values 0..15 */
        hi = wasm_i8x16_sub(wasm_u8x16_shr(qs, 4), eight);                     /* values 16..31 */
    } else {
        lo = wasm_v128_load(blk + 2);
        hi = wasm_v128_load(blk + 18);
    }
    w[0] = wasm_i16x8_extend_low_i8x16(lo);
    w[1] = wasm_i16x8_extend_high_i8x16(lo);
    w[2] = wasm_i16x8_extend_low_i8x16(hi);
    w[3] = wasm_i16x8_extend_high_i8x16(hi);
}

static ALWAYS_INLINE void widen_x(const int8_t *q, v128_t x[4]) {
    const v128_t lo = wasm_v128_load(q), hi = wasm_v128_load(q + 16);
    x[0] = wasm_i16x8_extend_low_i8x16(lo);
    x[1] = wasm_i16x8_extend_high_i8x16(lo);
    x[2] = wasm_i16x8_extend_low_i8x16(hi);
    x[3] = wasm_i16x8_extend_high_i8x16(hi);
}

static ALWAYS_INLINE v128_t idot(const v128_t w[4], const v128_t x[4]) {
    v128_t s = wasm_i32x4_dot_i16x8(w[0], x[0]);
    s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(w[1], x[1]));
    s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(w[2], x[2]));
    return wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(w[3], x[3]));
}

/* out[r][j] = dot(row r, token t0+j) for r < MR, j < MT (<= 2). Q4_0 rows (q4) take Q8_0
 * activations: codes x8 widened to 16 bits; Q8_0 rows take int16 activations: codes x16 loaded as
 * they are. xd: the activation scales, nb blocks per token. */
static ALWAYS_INLINE void tile_q(const uint8_t *const rows[2], const int8_t *x8, const int16_t *x16, const float *xd, int nb,
                                 int t0, const int MR, const int MT, const bool q4, float out[2][2]) {
    const size_t bb = q4 ? 18 : 34;
    v128_t acc[2][2];
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) acc[r][j] = wasm_f32x4_splat(0.0f);
    for (int b = 0; b < nb; b++) {
        v128_t xw[2][4];
        float dx[2];
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) {
            const size_t tb = (size_t)(t0 + j) * nb + b;
            if (q4) {
                widen_x(x8 + tb * HK_QK, xw[j]);
            } else {
                #pragma GCC unroll 4
                for (int i = 0; i < 4; i++) xw[j][i] = wasm_v128_load(x16 + tb * HK_QK + 8 * i);
            }
            dx[j] = xd[tb];
        }
        #pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            const uint8_t *blk = rows[r] + (size_t)b * bb;
            v128_t w[4];
            widen_w(blk, q4, w);
            const float dw = f16_scalar(blk);
            #pragma GCC unroll 16
            for (int j = 0; j < MT; j++)
                acc[r][j] = wasm_f32x4_add(acc[r][j], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(idot(w, xw[j])), wasm_f32x4_splat(dw * dx[j])));
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) out[r][j] = hsum4(acc[r][j]);
}

/* Tiles of 2 rows x 2 tokens. */
static ALWAYS_INLINE void gemm_q(const uint8_t *w, size_t rb, int nr, const int8_t *x8, const int16_t *x16, const float *xd,
                                 int nb, int nt, float *y, size_t ys, const bool q4) {
    for (int r0 = 0; r0 < nr; r0 += 2) {
        const int mr = nr - r0 < 2 ? nr - r0 : 2;
        const uint8_t *rows[2] = {w + (size_t)r0 * rb, w + (size_t)(r0 + mr - 1) * rb};
        for (int t0 = 0; t0 < nt; t0 += 2) {
            const int mt = nt - t0 < 2 ? nt - t0 : 2;
            float out[2][2];
            if (mr == 2 && mt == 2) tile_q(rows, x8, x16, xd, nb, t0, 2, 2, q4, out);
            else if (mr == 2) tile_q(rows, x8, x16, xd, nb, t0, 2, 1, q4, out);
            else if (mt == 2) tile_q(rows, x8, x16, xd, nb, t0, 1, 2, q4, out);
            else tile_q(rows, x8, x16, xd, nb, t0, 1, 1, q4, out);
            for (int j = 0; j < mt; j++)
                for (int r = 0; r < mr; r++) y[(size_t)(t0 + j) * ys + r0 + r] = out[r][j];
        }
    }
}

static void gemm_q4_0(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys) {
    gemm_q(w, rb, nr, x->q, NULL, x->d, x->nb, nt, y, ys, true);
}

static void gemm_q8_0(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys) {
    gemm_q(w, rb, nr, NULL, x->q, x->d, x->nb, nt, y, ys, false);
}

/* ---- k-quant tiles: a super-block unpacked to int16, then dotted with each token's codes ----
 * value i = sc[i/32] * q[i] - mn[i/32]; Q6_K folds its 16-value sub-block scales into q
 * (|(q - 32) * sc| <= 4096: a lane of dot_i16x8 sums 2 products < 2^28, 4 lanes' adds < 2^30). */
typedef struct {
    _Alignas(16) int16_t q[HK_QKK];
    float sc[8], mn[8];
} kblock;

enum { KQ4, KQ5, KQ6 };

static ALWAYS_INLINE void store_u8_as_i16(int16_t *dst, v128_t v) {
    wasm_v128_store(dst, wasm_u16x8_extend_low_u8x16(v));
    wasm_v128_store(dst + 8, wasm_u16x8_extend_high_u8x16(v));
}

static ALWAYS_INLINE void unpack_q45_k(const uint8_t *blk, const bool q5, kblock *u) {
    hk_k_scales_mins(blk, f16_scalar(blk), f16_scalar(blk + 2), u->sc, u->mn);
    const v128_t m4 = wasm_i8x16_splat(0x0f), one = wasm_i8x16_splat(1);
    const uint8_t *qs = blk + (q5 ? 48 : 16);
    #pragma GCC unroll 4
    for (int c = 0; c < 4; c++)
        #pragma GCC unroll 2
        for (int hf = 0; hf < 2; hf++) { /* bytes 16hf.. of the 32: values l = 16hf.. of both sub-blocks */
            const v128_t v = wasm_v128_load(qs + 32 * c + 16 * hf);
            v128_t lo = wasm_v128_and(v, m4), hi = wasm_u8x16_shr(v, 4);
            if (q5) {
                const v128_t qh = wasm_v128_load(blk + 16 + 16 * hf);
                lo = wasm_v128_or(lo, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(qh, 2 * c), one), 4));
                hi = wasm_v128_or(hi, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(qh, 2 * c + 1), one), 4));
            }
            store_u8_as_i16(u->q + 64 * c + 16 * hf, lo);
            store_u8_as_i16(u->q + 64 * c + 32 + 16 * hf, hi);
        }
}

static ALWAYS_INLINE void unpack_q6_k(const uint8_t *blk, kblock *u) {
    const float d = f16_scalar(blk + 208);
    const int8_t *sc = (const int8_t *)(blk + 192);
    const v128_t m4 = wasm_i8x16_splat(0x0f), m2 = wasm_i8x16_splat(3), off = wasm_i8x16_splat(32);
    for (int h = 0; h < 2; h++)
        #pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            #pragma GCC unroll 2
            for (int hf = 0; hf < 2; hf++) { /* values l = 16hf..16hf+15: sub-block 8h + 2k + hf */
                const v128_t v = wasm_v128_load(blk + 64 * h + 32 * (k & 1) + 16 * hf);
                const v128_t qh = wasm_v128_load(blk + 128 + 32 * h + 16 * hf);
                const v128_t nib = k < 2 ? wasm_v128_and(v, m4) : wasm_u8x16_shr(v, 4);
                const v128_t top = wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(qh, 2 * k), m2), 4);
                const v128_t q = wasm_i8x16_sub(wasm_v128_or(nib, top), off); /* -32..31 */
                const v128_t s16 = wasm_i16x8_splat(sc[8 * h + 2 * k + hf]);
                int16_t *dst = u->q + 128 * h + 32 * k + 16 * hf;
                wasm_v128_store(dst, wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(q), s16));
                wasm_v128_store(dst + 8, wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(q), s16));
            }
            u->sc[4 * h + k] = d;
            u->mn[4 * h + k] = 0.0f;
        }
}

/* acc += the 8 blocks' scaled dot products with activation blocks xb..xb+7; *mins += their offsets. */
static ALWAYS_INLINE void dot_kblock(const kblock *u, const hk_q16act *x, size_t xb, const bool has_min, v128_t *acc, float *mins) {
    #pragma GCC unroll 8
    for (int b = 0; b < 8; b++) {
        const int16_t *xq = x->q + (xb + (size_t)b) * HK_QK, *wq = u->q + 32 * b;
        v128_t s = wasm_i32x4_dot_i16x8(wasm_v128_load(wq), wasm_v128_load(xq));
        s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_v128_load(wq + 8), wasm_v128_load(xq + 8)));
        s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_v128_load(wq + 16), wasm_v128_load(xq + 16)));
        s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_v128_load(wq + 24), wasm_v128_load(xq + 24)));
        *acc = wasm_f32x4_add(*acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_splat(u->sc[b] * x->d[xb + (size_t)b])));
        if (has_min) *mins += u->mn[b] * x->s[xb + (size_t)b];
    }
}

/* One row at a time, up to 4 tokens per unpacked super-block. */
static ALWAYS_INLINE void gemm_k(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys, const int kind) {
    const int nb = x->nb, nsb = nb / 8;
    const size_t bb = kind == KQ4 ? 144 : kind == KQ5 ? 176 : 210;
    kblock u;
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t0 = 0; t0 < nt; t0 += 4) {
            const int mt = nt - t0 < 4 ? nt - t0 : 4;
            v128_t acc[4] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)};
            float mins[4] = {0, 0, 0, 0};
            for (int i = 0; i < nsb; i++) {
                if (kind == KQ6)
                    unpack_q6_k(row + (size_t)i * bb, &u);
                else
                    unpack_q45_k(row + (size_t)i * bb, kind == KQ5, &u);
                for (int j = 0; j < mt; j++) dot_kblock(&u, x, (size_t)(t0 + j) * nb + (size_t)i * 8, kind != KQ6, &acc[j], &mins[j]);
            }
            for (int j = 0; j < mt; j++) y[(size_t)(t0 + j) * ys + r] = hsum4(acc[j]) - mins[j];
        }
    }
}

static void gemm_q4_k(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys) {
    gemm_k(w, rb, nr, x, nt, y, ys, KQ4);
}
static void gemm_q5_k(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys) {
    gemm_k(w, rb, nr, x, nt, y, ys, KQ5);
}
static void gemm_q6_k(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys) {
    gemm_k(w, rb, nr, x, nt, y, ys, KQ6);
}

/* ---- float-weight tiles: 2 rows x 2 tokens, 4 values per step ---- */

enum { WF32, WF16, WBF16 };

static ALWAYS_INLINE v128_t load_w4(const uint8_t *row, int i, const int kind) {
    if (kind == WF32) return wasm_v128_load(row + 4 * (size_t)i);
    const v128_t h = wasm_u32x4_extend_low_u16x8(wasm_v128_load64_zero(row + 2 * (size_t)i));
    if (kind == WF16) return f16x4_to_f32(h);
    return wasm_i32x4_shl(h, 16);
}

static ALWAYS_INLINE float load_w1(const uint8_t *row, int i, const int kind) {
    if (kind == WF32) {
        float v;
        memcpy(&v, row + 4 * (size_t)i, 4);
        return v;
    }
    uint16_t h;
    memcpy(&h, row + 2 * (size_t)i, 2);
    if (kind == WF16) return f16_scalar(row + 2 * (size_t)i);
    uint32_t u = (uint32_t)h << 16;
    float v;
    memcpy(&v, &u, 4);
    return v;
}

static ALWAYS_INLINE void tile_f(const uint8_t *const rows[2], const float *x, size_t xs, const int MR, const int MT, int n,
                                 const int kind, float out[2][2]) {
    v128_t acc[2][2];
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) acc[r][j] = wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t xv[2];
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) xv[j] = wasm_v128_load(x + (size_t)j * xs + i);
        #pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            const v128_t wv = load_w4(rows[r], i, kind);
            #pragma GCC unroll 16
            for (int j = 0; j < MT; j++) acc[r][j] = wasm_f32x4_add(acc[r][j], wasm_f32x4_mul(wv, xv[j]));
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) {
            float v = hsum4(acc[r][j]);
            for (int k = i; k < n; k++) v += load_w1(rows[r], k, kind) * x[(size_t)j * xs + k];
            out[r][j] = v;
        }
}

static ALWAYS_INLINE void gemm_f(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y,
                                 size_t ys, const int kind) {
    for (int r0 = 0; r0 < nr; r0 += 2) {
        const int mr = nr - r0 < 2 ? nr - r0 : 2;
        const uint8_t *rows[2] = {w + (size_t)r0 * rb, w + (size_t)(r0 + mr - 1) * rb};
        for (int t0 = 0; t0 < nt; t0 += 2) {
            const int mt = nt - t0 < 2 ? nt - t0 : 2;
            const float *xt = x + (size_t)t0 * xs;
            float out[2][2];
            if (mr == 2 && mt == 2) tile_f(rows, xt, xs, 2, 2, n, kind, out);
            else if (mr == 2) tile_f(rows, xt, xs, 2, 1, n, kind, out);
            else if (mt == 2) tile_f(rows, xt, xs, 1, 2, n, kind, out);
            else tile_f(rows, xt, xs, 1, 1, n, kind, out);
            for (int j = 0; j < mt; j++)
                for (int r = 0; r < mr; r++) y[(size_t)(t0 + j) * ys + r0 + r] = out[r][j];
        }
    }
}

static void gemm_f32(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y, size_t ys) {
    gemm_f(w, rb, nr, x, xs, nt, n, y, ys, WF32);
}
static void gemm_f16(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y, size_t ys) {
    gemm_f(w, rb, nr, x, xs, nt, n, y, ys, WF16);
}
static void gemm_bf16(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y, size_t ys) {
    gemm_f(w, rb, nr, x, xs, nt, n, y, ys, WBF16);
}

/* ---- small f32 matrix product: 4 rows x 8 columns of accumulators, outer products ---- */

static ALWAYS_INLINE void mm_tile(float *out, size_t os, const float *a, size_t as, const float *b, size_t bs, int K,
                                  float alpha, const int MR, const int NV /* vectors of 4 columns: 1 or 2 */) {
    v128_t acc[4][2];
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 16
        for (int v = 0; v < NV; v++)
            acc[r][v] = alpha != 0.0f ? wasm_f32x4_mul(wasm_f32x4_splat(alpha), wasm_v128_load(out + (size_t)r * os + 4 * v))
                                      : wasm_f32x4_splat(0.0f);
    for (int k = 0; k < K; k++) {
        v128_t bv[2];
        #pragma GCC unroll 16
        for (int v = 0; v < NV; v++) bv[v] = wasm_v128_load(b + (size_t)k * bs + 4 * v);
        #pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            const v128_t av = wasm_f32x4_splat(a[(size_t)r * as + k]);
            #pragma GCC unroll 16
            for (int v = 0; v < NV; v++) acc[r][v] = wasm_f32x4_add(acc[r][v], wasm_f32x4_mul(av, bv[v]));
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 16
        for (int v = 0; v < NV; v++) wasm_v128_store(out + (size_t)r * os + 4 * v, acc[r][v]);
}

static ALWAYS_INLINE void mm_rows(float *out, size_t os, const float *a, size_t as, const float *b, size_t bs, int n, int K,
                                  float alpha, const int MR) {
    int c = 0;
    for (; c + 8 <= n; c += 8) mm_tile(out + c, os, a, as, b + c, bs, K, alpha, MR, 2);
    for (; c + 4 <= n; c += 4) mm_tile(out + c, os, a, as, b + c, bs, K, alpha, MR, 1);
    for (; c < n; c++)
        #pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            float v = alpha != 0.0f ? alpha * out[(size_t)r * os + c] : 0.0f;
            for (int k = 0; k < K; k++) v += a[(size_t)r * as + k] * b[(size_t)k * bs + c];
            out[(size_t)r * os + c] = v;
        }
}

static void mm_f32(float *out, size_t os, const float *a, size_t as, const float *b, size_t bs, int M, int n, int K,
                   float alpha) {
    int i = 0;
    for (; i + 4 <= M; i += 4) mm_rows(out + (size_t)i * os, os, a + (size_t)i * as, as, b, bs, n, K, alpha, 4);
    switch (M - i) {
    case 3: mm_rows(out + (size_t)i * os, os, a + (size_t)i * as, as, b, bs, n, K, alpha, 3); break;
    case 2: mm_rows(out + (size_t)i * os, os, a + (size_t)i * as, as, b, bs, n, K, alpha, 2); break;
    case 1: mm_rows(out + (size_t)i * os, os, a + (size_t)i * as, as, b, bs, n, K, alpha, 1); break;
    default: break;
    }
}

/* ---- vector ops ---- */

static float dot(const float *a, const float *b, int n) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
    }
    for (; i + 4 <= n; i += 4) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    float sum = hsum4(wasm_f32x4_add(s0, s1));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static void axpy(float *y, float a, const float *x, int n) {
    const v128_t va = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(va, wasm_v128_load(x + i))));
    for (; i < n; i++) y[i] += a * x[i];
}

static void scale(float *y, float a, int n) {
    const v128_t va = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(va, wasm_v128_load(y + i)));
    for (; i < n; i++) y[i] *= a;
}

static float ssm_step(float *S, float a, float bx, const float *B, const float *C, int n) {
    const v128_t va = wasm_f32x4_splat(a), vb = wasm_f32x4_splat(bx);
    v128_t acc = wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const v128_t s = wasm_f32x4_add(wasm_f32x4_mul(va, wasm_v128_load(S + i)), wasm_f32x4_mul(vb, wasm_v128_load(B + i)));
        wasm_v128_store(S + i, s);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(s, wasm_v128_load(C + i)));
    }
    float sum = hsum4(acc);
    for (; i < n; i++) {
        S[i] = a * S[i] + bx * B[i];
        sum += S[i] * C[i];
    }
    return sum;
}

/* e^x, the same Cephes polynomial and clamping as the AVX2 table (within 2 ulp of expf). */
static ALWAYS_INLINE v128_t exp4(v128_t x) {
    x = wasm_f32x4_pmin(x, wasm_f32x4_splat(88.3762626647949f));
    x = wasm_f32x4_pmax(x, wasm_f32x4_splat(-87.33654475f));
    const v128_t fx = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(0.693359375f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(fx, wasm_f32x4_splat(-2.12194440e-4f)));
    v128_t y = wasm_f32x4_splat(1.9875691500e-4f);
    y = wasm_f32x4_add(wasm_f32x4_mul(y, r), wasm_f32x4_splat(1.3981999507e-3f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, r), wasm_f32x4_splat(8.3334519073e-3f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, r), wasm_f32x4_splat(4.1665795894e-2f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, r), wasm_f32x4_splat(1.6666665459e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, r), wasm_f32x4_splat(5.0000001201e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, wasm_f32x4_mul(r, r)), wasm_f32x4_add(r, wasm_f32x4_splat(1.0f)));
    const v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(fx), wasm_i32x4_splat(127)), 23);
    return wasm_f32x4_mul(y, e);
}

static float exp_sum(float *x, float m, int n) {
    const v128_t vm = wasm_f32x4_splat(m);
    v128_t acc = wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(x + i), vm));
        wasm_v128_store(x + i, e);
        acc = wasm_f32x4_add(acc, e);
    }
    float sum = hsum4(acc);
    for (; i < n; i++) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    return sum;
}

static ALWAYS_INLINE v128_t silu4(v128_t v) {
    return wasm_f32x4_div(v, wasm_f32x4_add(wasm_f32x4_splat(1.0f), exp4(wasm_f32x4_neg(v))));
}

static void silu(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, silu4(wasm_v128_load(x + i)));
    for (; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

static void mul_silu(float *y, const float *a, const float *b, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(a + i), silu4(wasm_v128_load(b + i))));
    for (; i < n; i++) y[i] = a[i] * (b[i] / (1.0f + expf(-b[i])));
}

static double sumsq(const float *x, int n) {
    v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const v128_t v = wasm_v128_load(x + i);
        const v128_t lo = wasm_f64x2_promote_low_f32x4(v), hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
        s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(lo, lo));
        s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(hi, hi));
    }
    const v128_t s = wasm_f64x2_add(s0, s1);
    double sum = wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
    for (; i < n; i++) sum += (double)x[i] * x[i];
    return sum;
}

static void scale_mul(float *out, const float *x, const float *w, float r, int n) {
    const v128_t vr = wasm_f32x4_splat(r);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(w + i), wasm_f32x4_mul(wasm_v128_load(x + i), vr)));
    for (; i < n; i++) out[i] = w[i] * (x[i] * r);
}

static const hk_kernels k_wasm = {
    .name = "wasm-simd128",
    .quantize_q8 = quantize_q8,
    .quantize_q16 = quantize_q16,
    .gemm_q4_0 = gemm_q4_0,
    .gemm_q8_0 = gemm_q8_0,
    .gemm_q4_k = gemm_q4_k,
    .gemm_q5_k = gemm_q5_k,
    .gemm_q6_k = gemm_q6_k,
    .gemm_f32 = gemm_f32,
    .gemm_f16 = gemm_f16,
    .gemm_bf16 = gemm_bf16,
    .mm_f32 = mm_f32,
    .dot = dot,
    .axpy = axpy,
    .scale = scale,
    .ssm_step = ssm_step,
    .exp_sum = exp_sum,
    .silu = silu,
    .mul_silu = mul_silu,
    .sumsq = sumsq,
    .scale_mul = scale_mul,
};

const hk_kernels *hk_wasm_table(void) { return &k_wasm; }

#else

const hk_kernels *hk_wasm_table(void) { return 0; }

#endif
