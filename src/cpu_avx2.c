/* cpu_avx2.c - the AVX2 + FMA + F16C kernel table (x86-64); built with -mavx2 -mfma -mf16c, used only after a CPU check.
 *
 * Q4_0 matmul layout: 8 weight rows are processed together with one row per 32-bit lane, so a
 * block dot product needs no horizontal sum: maddubs(u8 weights, s8 activations broadcast by
 * dword) adds 2 products per 16-bit lane, 8 of those are added in 16 bits (Q4_0 bounds: 8 x 2 x
 * 15 x 127 = 30480 < 32767), and one madd with ones widens to 32 bits. Matrices repacked at load
 * into the x16 layout (cpu_kernels.h; gemm_q4_0_x16) hold each block of a group of 16 rows in
 * that lane order already: each half of 8 rows is 4 plain loads of nibbles and one of scales, and
 * decode takes both halves of a block in one pass over one sequential stream. Rows in file order
 * (gemm_q4_0: a mapped file, and the last nr % 16 rows of a repacked matrix) are transposed in
 * registers per block. Both layouts go through the same arithmetic (dot_block), so their outputs
 * are equal bit for bit. Up to 4 tokens share each loaded weight block (prefill), 1 or 2 in
 * decode. Q8_0 and k-quant weights take int16 activations (cpu_kernels.h) row by row: see the
 * int16-activation tiles below.
 */
#include "cpu_kernels.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE float hsum8(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

static ALWAYS_INLINE float hmax8(__m256 v) {
    __m128 lo = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_max_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

static ALWAYS_INLINE int32_t load_i32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static ALWAYS_INLINE uint16_t load_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* ---- activation quantisation (Q8_0, ties away from zero like roundf) ---- */

static ALWAYS_INLINE __m256 round_away(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_sub_ps(v, t); /* exact */
    const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 half = _mm256_cmp_ps(_mm256_and_ps(frac, absm), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_andnot_ps(absm, v)); /* +-1 with v's sign */
    return _mm256_add_ps(t, _mm256_and_ps(half, one));
}

/* codes of one vector: values outside [-128, 127] (only from non-finite input) become 0 */
static ALWAYS_INLINE __m256i codes8(__m256 r) {
    const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(r, _mm256_set1_ps(-128.0f), _CMP_GE_OQ),
                                    _mm256_cmp_ps(r, _mm256_set1_ps(127.0f), _CMP_LE_OQ));
    return _mm256_and_si256(_mm256_cvttps_epi32(r), _mm256_castps_si256(ok));
}

/* Loads the 32 values of a block into v[4]; returns their largest |x| (0 for none, NaN skipped). */
static ALWAYS_INLINE float load_amax32(const float *x, __m256 v[4]) {
    const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    #pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        v[i] = _mm256_loadu_ps(x + 8 * i);
        m = _mm256_max_ps(_mm256_and_ps(v[i], absm), m); /* keeps m when |x| is NaN, as fmaxf does */
    }
    return hmax8(m);
}

/* The sum of the 32 codes in i0..i3. */
static ALWAYS_INLINE int sum_codes32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    const __m256i sum4 = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum4), _mm256_extracti128_si256(sum4, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
    return _mm_cvtsi128_si32(s4);
}

static void quantize_q8(const float *x, int8_t *q, float *d, float *s, int nb) {
    for (int b = 0; b < nb; b++, x += HK_QK, q += HK_QK) {
        __m256 v[4];
        const float amax = load_amax32(x, v);
        const float dd = amax / 127.0f;
        const float idf = dd != 0.0f ? 1.0f / dd : 0.0f;
        const __m256 id = _mm256_set1_ps(idf);
        const __m256 r0 = round_away(_mm256_mul_ps(v[0], id)), r1 = round_away(_mm256_mul_ps(v[1], id));
        const __m256 r2 = round_away(_mm256_mul_ps(v[2], id)), r3 = round_away(_mm256_mul_ps(v[3], id));
        const __m256i i0 = codes8(r0), i1 = codes8(r1), i2 = codes8(r2), i3 = codes8(r3);
        const int isum = sum_codes32(i0, i1, i2, i3);
        const __m256i p01 = _mm256_packs_epi32(i0, i1), p23 = _mm256_packs_epi32(i2, i3);
        __m256i p = _mm256_packs_epi16(p01, p23);
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)q, p);
        d[b] = _cvtsh_ss(_cvtss_sh(dd, _MM_FROUND_TO_NEAREST_INT));
        s[b] = d[b] * (float)isum;
    }
}

/* int16 codes: values outside [-32768, 32767] (only from non-finite input) become 0 */
static ALWAYS_INLINE __m256i codes16(__m256 r) {
    const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(r, _mm256_set1_ps(-32768.0f), _CMP_GE_OQ),
                                    _mm256_cmp_ps(r, _mm256_set1_ps(32767.0f), _CMP_LE_OQ));
    return _mm256_and_si256(_mm256_cvttps_epi32(r), _mm256_castps_si256(ok));
}

static void quantize_q16(const float *x, int16_t *q, float *d, float *s, int nb) {
    for (int b = 0; b < nb; b++, x += HK_QK, q += HK_QK) {
        __m256 v[4];
        const float dd = load_amax32(x, v) / 32767.0f;
        const __m256 id = _mm256_set1_ps(dd != 0.0f ? 1.0f / dd : 0.0f);
        const __m256i i0 = codes16(round_away(_mm256_mul_ps(v[0], id))), i1 = codes16(round_away(_mm256_mul_ps(v[1], id)));
        const __m256i i2 = codes16(round_away(_mm256_mul_ps(v[2], id))), i3 = codes16(round_away(_mm256_mul_ps(v[3], id)));
        /* packs interleaves the 128-bit halves: restore the order of the 64-bit quarters */
        _mm256_storeu_si256((__m256i *)q, _mm256_permute4x64_epi64(_mm256_packs_epi32(i0, i1), 0xd8));
        _mm256_storeu_si256((__m256i *)(q + 16), _mm256_permute4x64_epi64(_mm256_packs_epi32(i2, i3), 0xd8));
        d[b] = dd;
        s[b] = dd * (float)sum_codes32(i0, i1, i2, i3);
    }
}

/* ---- quantised GEMM tiles: 8 rows (one per lane) x MT tokens ---- */

/* The f16 scales of 8 blocks at the same offset of 8 rows, as 8 floats. */
static ALWAYS_INLINE __m256 scales8(const uint8_t *const rows[8], size_t off) {
    const __m128i h = _mm_setr_epi16((short)load_u16(rows[0] + off), (short)load_u16(rows[1] + off),
                                     (short)load_u16(rows[2] + off), (short)load_u16(rows[3] + off),
                                     (short)load_u16(rows[4] + off), (short)load_u16(rows[5] + off),
                                     (short)load_u16(rows[6] + off), (short)load_u16(rows[7] + off));
    return _mm256_cvtph_ps(h);
}

/* Transposes 16 bytes of 8 rows (row k at p[k]) into 4 vectors: out[j] lane i = dword j of row i. */
static ALWAYS_INLINE void transpose16x8(const uint8_t *const p[8], __m256i out[4]) {
    const __m256i y0 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p[0])),
                                               _mm_loadu_si128((const __m128i *)p[4]), 1);
    const __m256i y1 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p[1])),
                                               _mm_loadu_si128((const __m128i *)p[5]), 1);
    const __m256i y2 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p[2])),
                                               _mm_loadu_si128((const __m128i *)p[6]), 1);
    const __m256i y3 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p[3])),
                                               _mm_loadu_si128((const __m128i *)p[7]), 1);
    const __m256i t0 = _mm256_unpacklo_epi32(y0, y1), t1 = _mm256_unpacklo_epi32(y2, y3);
    const __m256i t2 = _mm256_unpackhi_epi32(y0, y1), t3 = _mm256_unpackhi_epi32(y2, y3);
    out[0] = _mm256_unpacklo_epi64(t0, t1);
    out[1] = _mm256_unpackhi_epi64(t0, t1);
    out[2] = _mm256_unpacklo_epi64(t2, t3);
    out[3] = _mm256_unpackhi_epi64(t2, t3);
}

/* Decode reads 8 interleaved short row streams, more than the hardware prefetchers follow:
 * each row prefetches the line PREFETCH bytes ahead (once per 64 bytes of progress). */
enum { PREFETCH = 192 };
static ALWAYS_INLINE void prefetch_rows(const uint8_t *const rows[8], size_t off) {
    #pragma GCC unroll 8
    for (int k = 0; k < 8; k++) _mm_prefetch((const char *)(rows[k] + off + PREFETCH), _MM_HINT_T0);
}

/* One Q4_0 block of 8 rows, ready for maddubs: w[j] lane i = row i's 4 unsigned weights that
 * multiply activation codes 4j..4j+3 (j < 4: low nibbles; j >= 4: high nibbles, codes 16+4(j-4)..);
 * dw lane i = row i's block scale. */
typedef struct {
    __m256i w[8];
    __m256 dw;
} blk8;

/* The 8 maddubs operands from the 4 runs of nibble bytes (run j lane i = row i's qs[4j..4j+3]). */
static ALWAYS_INLINE void split_nibbles(const __m256i D[4], blk8 *o) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        o->w[j] = _mm256_and_si256(D[j], m4);
        o->w[4 + j] = _mm256_and_si256(_mm256_srli_epi16(D[j], 4), m4);
    }
}

/* The block at byte offset off of 8 rows in row layout: transposed in registers. */
static ALWAYS_INLINE void load_block_rows(const uint8_t *const rows[8], size_t off, blk8 *o) {
    const uint8_t *p[8];
    #pragma GCC unroll 16
    for (int k = 0; k < 8; k++) p[k] = rows[k] + off + 2;
    __m256i D[4];
    transpose16x8(p, D);
    split_nibbles(D, o);
    o->dw = scales8(rows, off);
}

/* Half h (rows 8h..8h+7) of a block of a group in the x16 layout (cpu_kernels.h) at blk: the
 * scales at 16h, run j's bytes 32h..32h+31 at 32 + 64j; already in lane order. */
static ALWAYS_INLINE void load_block_x16(const uint8_t *blk, int h, blk8 *o) {
    __m256i D[4];
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) D[j] = _mm256_loadu_si256((const __m256i *)(blk + 32 + 64 * j + 32 * h));
    split_nibbles(D, o);
    o->dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h)));
}

/* acc[j] += dot(block, token j's block at act index tb + j*nb) for j < MT. Both layouts go
 * through this arithmetic, so their outputs are equal bit for bit. */
static ALWAYS_INLINE void dot_block(const blk8 *k, const hk_q8act *x, size_t tb, int nb, const int MT, __m256 acc[4]) {
    const __m256i ones = _mm256_set1_epi16(1);
    #pragma GCC unroll 16
    for (int j = 0; j < MT; j++) {
        const size_t t = tb + (size_t)j * nb;
        const int8_t *xq = x->q + t * HK_QK;
        __m256i s16 = _mm256_maddubs_epi16(k->w[0], _mm256_set1_epi32(load_i32(xq)));
        #pragma GCC unroll 8
        for (int i = 1; i < 8; i++) s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(k->w[i], _mm256_set1_epi32(load_i32(xq + 4 * i))));
        const __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, ones));
        /* sum (n - 8) q = sum n q - 8 sum q, and s = d_x * sum q */
        acc[j] = _mm256_fmadd_ps(dot, _mm256_mul_ps(k->dw, _mm256_set1_ps(x->d[t])), acc[j]);
        acc[j] = _mm256_fnmadd_ps(k->dw, _mm256_set1_ps(8.0f * x->s[t]), acc[j]);
    }
}

/* acc[j] (lane i = row i) = dot(Q4_0 rows, token t0+j) for j < MT. */
static ALWAYS_INLINE void tile_q4_0(const uint8_t *const rows[8], const hk_q8act *x, int t0, const int MT, __m256 acc[4]) {
    const int nb = x->nb;
    #pragma GCC unroll 16
    for (int j = 0; j < MT; j++) acc[j] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const size_t off = (size_t)b * 18;
        if (MT <= 2 && (b & 1) == 0) prefetch_rows(rows, off);
        blk8 k;
        load_block_rows(rows, off, &k);
        dot_block(&k, x, (size_t)t0 * nb + (size_t)b, nb, MT, acc);
    }
}

/* acc[h][j] (lane i = row 8(h0+h)+i of the group at pk, x16 layout) = dot(row, token t0+j) for
 * h < NH, j < MT. Decode takes both halves of each block in one pass (one sequential stream). */
static ALWAYS_INLINE void tile_q4_0_x16(const uint8_t *pk, int h0, const int NH, const hk_q8act *x, int t0, const int MT,
                                        __m256 acc[2][4]) {
    const int nb = x->nb;
    #pragma GCC unroll 4
    for (int h = 0; h < NH; h++)
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) acc[h][j] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *blk = pk + (size_t)b * HK_X16_BLOCK;
        #pragma GCC unroll 4
        for (int h = 0; h < NH; h++) {
            blk8 k;
            load_block_x16(blk, h0 + h, &k);
            dot_block(&k, x, (size_t)t0 * nb + (size_t)b, nb, MT, acc[h]);
        }
    }
}

static ALWAYS_INLINE void store_rows(float *y, const __m256 v, int m) {
    if (m == 8) {
        _mm256_storeu_ps(y, v);
    } else {
        float tmp[8];
        _mm256_storeu_ps(tmp, v);
        memcpy(y, tmp, sizeof(float) * (size_t)m);
    }
}

#define TILE_ROWS 8
#define TILE_TOKENS 4

static void gemm_q4_0(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys) {
    for (int r0 = 0; r0 < nr; r0 += TILE_ROWS) {
        const int m = nr - r0 < TILE_ROWS ? nr - r0 : TILE_ROWS;
        const uint8_t *rows[8];
        #pragma GCC unroll 16
        for (int k = 0; k < 8; k++) rows[k] = w + (size_t)(r0 + (k < m ? k : m - 1)) * rb;
        for (int t0 = 0; t0 < nt; t0 += TILE_TOKENS) {
            const int mt = nt - t0 < TILE_TOKENS ? nt - t0 : TILE_TOKENS;
            __m256 acc[4];
            switch (mt) {
            case 4: tile_q4_0(rows, x, t0, 4, acc); break;
            case 3: tile_q4_0(rows, x, t0, 3, acc); break;
            case 2: tile_q4_0(rows, x, t0, 2, acc); break;
            default: tile_q4_0(rows, x, t0, 1, acc); break;
            }
            for (int j = 0; j < mt; j++) store_rows(y + (size_t)(t0 + j) * ys + r0, acc[j], m);
        }
    }
}

/* Whole groups of 16 rows in the x16 layout, the last nr % 16 rows in row layout (gemm_q4_0).
 * Decode (1-2 tokens): both 8-row halves of a group per block; prefill: one half at a time, up to
 * 4 tokens per loaded block, as gemm_q4_0. */
static void gemm_q4_0_x16(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys) {
    const int full = nr / HK_X16 * HK_X16;
    for (int r0 = 0; r0 < full; r0 += HK_X16) {
        const uint8_t *pk = w + (size_t)r0 * rb; /* a group keeps its bytes: 16 * rb */
        __m256 acc[2][4];
        if (nt <= 2) {
            if (nt == 2)
                tile_q4_0_x16(pk, 0, 2, x, 0, 2, acc);
            else
                tile_q4_0_x16(pk, 0, 2, x, 0, 1, acc);
            for (int j = 0; j < nt; j++)
                for (int h = 0; h < 2; h++) _mm256_storeu_ps(y + (size_t)j * ys + r0 + 8 * h, acc[h][j]);
            continue;
        }
        for (int h = 0; h < 2; h++)
            for (int t0 = 0; t0 < nt; t0 += TILE_TOKENS) {
                const int mt = nt - t0 < TILE_TOKENS ? nt - t0 : TILE_TOKENS;
                switch (mt) {
                case 4: tile_q4_0_x16(pk, h, 1, x, t0, 4, acc); break;
                case 3: tile_q4_0_x16(pk, h, 1, x, t0, 3, acc); break;
                case 2: tile_q4_0_x16(pk, h, 1, x, t0, 2, acc); break;
                default: tile_q4_0_x16(pk, h, 1, x, t0, 1, acc); break;
                }
                for (int j = 0; j < mt; j++) _mm256_storeu_ps(y + (size_t)(t0 + j) * ys + r0 + 8 * h, acc[0][j]);
            }
    }
    if (full < nr) gemm_q4_0(w + (size_t)full * rb, rb, nr - full, x, nt, y + full, ys);
}

/* ---- int16-activation tiles (Q8_0 and k-quant weights) ----
 * Row-major: a 32-value block of weights is widened to 2 x 16 int16 and multiplied with the
 * token's 2 x 16 activation codes by madd_epi16 (exact: 2 products per 32-bit lane); the 8 lanes
 * are scaled in f32 per block and summed horizontally once per output. */

/* Decode reads two interleaved row streams: each row prefetches the line PREFETCH_Q8 bytes ahead
 * (about once per 64 bytes of progress). */
enum { PREFETCH_Q8 = 256 };

/* out[r][j] = dot(Q8_0 row r, token t0+j) for r < MR (<= 2), j < MT (<= 4): each widened block
 * serves MT tokens (prefill); the arithmetic of one output does not depend on MR or MT. */
static ALWAYS_INLINE void tile_q8_0(const uint8_t *const rows[2], const hk_q16act *x, int t0, const int MR, const int MT,
                                    float out[2][4]) {
    const int nb = x->nb;
    __m256 acc[2][4];
    #pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 4
        for (int j = 0; j < MT; j++) acc[r][j] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m256i w0[2], w1[2];
        float dw[2];
        #pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            const uint8_t *blk = rows[r] + (size_t)b * 34;
            if (MT == 1 && (b & 1) == 0) _mm_prefetch((const char *)(blk + PREFETCH_Q8), _MM_HINT_T0);
            w0[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk + 2)));
            w1[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk + 18)));
            dw[r] = _cvtsh_ss(load_u16(blk));
        }
        #pragma GCC unroll 4
        for (int j = 0; j < MT; j++) {
            const size_t tb = (size_t)(t0 + j) * nb + b;
            const __m256i xl = _mm256_loadu_si256((const __m256i *)(x->q + tb * HK_QK));
            const __m256i xh = _mm256_loadu_si256((const __m256i *)(x->q + tb * HK_QK + 16));
            const float dx = x->d[tb];
            #pragma GCC unroll 4
            for (int r = 0; r < MR; r++) {
                const __m256i s32 = _mm256_add_epi32(_mm256_madd_epi16(w0[r], xl), _mm256_madd_epi16(w1[r], xh));
                acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32), _mm256_set1_ps(dw[r] * dx), acc[r][j]);
            }
        }
    }
    #pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 4
        for (int j = 0; j < MT; j++) out[r][j] = hsum8(acc[r][j]);
}

#define TILE_Q8(mr, mt) tile_q8_0(rows, x, t0, mr, mt, out)

/* Tiles of 2 rows x 4 tokens (2 rows x 1 token in decode). */
static void gemm_q8_0(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys) {
    for (int r0 = 0; r0 < nr; r0 += 2) {
        const int mr = nr - r0 < 2 ? nr - r0 : 2;
        const uint8_t *rows[2] = {w + (size_t)r0 * rb, w + (size_t)(r0 + mr - 1) * rb};
        for (int t0 = 0; t0 < nt; t0 += 4) {
            const int mt = nt - t0 < 4 ? nt - t0 : 4;
            float out[2][4];
            switch ((mr - 1) * 4 + (mt - 1)) {
            case 0: TILE_Q8(1, 1); break;
            case 1: TILE_Q8(1, 2); break;
            case 2: TILE_Q8(1, 3); break;
            case 3: TILE_Q8(1, 4); break;
            case 4: TILE_Q8(2, 1); break;
            case 5: TILE_Q8(2, 2); break;
            case 6: TILE_Q8(2, 3); break;
            default: TILE_Q8(2, 4); break;
            }
            for (int j = 0; j < mt; j++)
                for (int r = 0; r < mr; r++) y[(size_t)(t0 + j) * ys + r0 + r] = out[r][j];
        }
    }
}

/* A k-quant super-block unpacked for the int16 dot product: value i = sc[i/32] * q[i] - mn[i/32]
 * (Q6_K folds its 16-value sub-block scales into q: |(q - 32) * sc| <= 4096, so a 32-bit lane
 * holding 4 products with int16 activations stays below 2^29). */
typedef struct {
    _Alignas(32) int16_t q[HK_QKK];
    float sc[8], mn[8];
} kblock;

enum { KQ4, KQ5, KQ6 };

static ALWAYS_INLINE void store_u8_as_i16(int16_t *dst, __m256i v) {
    _mm256_store_si256((__m256i *)dst, _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v)));
    _mm256_store_si256((__m256i *)(dst + 16), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1)));
}

static ALWAYS_INLINE void unpack_q45_k(const uint8_t *blk, const bool q5, kblock *u) {
    hk_k_scales_mins(blk, _cvtsh_ss(load_u16(blk)), _cvtsh_ss(load_u16(blk + 2)), u->sc, u->mn);
    const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    const __m256i qh = q5 ? _mm256_loadu_si256((const __m256i *)(blk + 16)) : _mm256_setzero_si256();
    const uint8_t *qs = blk + (q5 ? 48 : 16);
    #pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        if (q5) { /* bit 2c (low nibbles) and 2c+1 (high) of qh[l] become bit 4 */
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
        }
        store_u8_as_i16(u->q + 64 * c, lo);
        store_u8_as_i16(u->q + 64 * c + 32, hi);
    }
}

static ALWAYS_INLINE void unpack_q6_k(const uint8_t *blk, kblock *u) {
    const float d = _cvtsh_ss(load_u16(blk + 208));
    const int8_t *sc = (const int8_t *)(blk + 192);
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(3), off = _mm256_set1_epi8(32);
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * h));
        #pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(blk + 64 * h + 32 * (k & 1)));
            const __m256i nib = k < 2 ? _mm256_and_si256(v, m4) : _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            const __m256i top = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m2), 4);
            const __m256i q = _mm256_sub_epi8(_mm256_or_si256(nib, top), off); /* -32..31 */
            int16_t *dst = u->q + 128 * h + 32 * k;
            const __m256i w0 = _mm256_mullo_epi16(_mm256_cvtepi8_epi16(_mm256_castsi256_si128(q)), _mm256_set1_epi16(sc[8 * h + 2 * k]));
            const __m256i w1 =
                _mm256_mullo_epi16(_mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1)), _mm256_set1_epi16(sc[8 * h + 2 * k + 1]));
            _mm256_store_si256((__m256i *)dst, w0);
            _mm256_store_si256((__m256i *)(dst + 16), w1);
            u->sc[4 * h + k] = d;
            u->mn[4 * h + k] = 0.0f;
        }
    }
}

/* acc += the 8 blocks' scaled int16 dot products with activation blocks xb..xb+7; *mins += their offsets. */
static ALWAYS_INLINE void dot_kblock(const kblock *u, const hk_q16act *x, size_t xb, const bool has_min, __m256 *acc, float *mins) {
    #pragma GCC unroll 8
    for (int b = 0; b < 8; b++) {
        const int16_t *xq = x->q + (xb + (size_t)b) * HK_QK;
        const __m256i s32 =
            _mm256_add_epi32(_mm256_madd_epi16(_mm256_load_si256((const __m256i *)(u->q + 32 * b)), _mm256_loadu_si256((const __m256i *)xq)),
                             _mm256_madd_epi16(_mm256_load_si256((const __m256i *)(u->q + 32 * b + 16)),
                                               _mm256_loadu_si256((const __m256i *)(xq + 16))));
        *acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32), _mm256_set1_ps(u->sc[b] * x->d[xb + (size_t)b]), *acc);
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
            __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
            float mins[4] = {0, 0, 0, 0};
            for (int i = 0; i < nsb; i++) {
                if (kind == KQ6)
                    unpack_q6_k(row + (size_t)i * bb, &u);
                else
                    unpack_q45_k(row + (size_t)i * bb, kind == KQ5, &u);
                for (int j = 0; j < mt; j++) dot_kblock(&u, x, (size_t)(t0 + j) * nb + (size_t)i * 8, kind != KQ6, &acc[j], &mins[j]);
            }
            for (int j = 0; j < mt; j++) y[(size_t)(t0 + j) * ys + r] = hsum8(acc[j]) - mins[j];
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

/* ---- float-weight GEMM tiles: 4 rows x up to 2 tokens, 8 values per step ---- */

enum { WF32, WF16, WBF16 };

static ALWAYS_INLINE __m256 load_w8(const uint8_t *row, int i, const int kind) {
    if (kind == WF32) return _mm256_loadu_ps((const float *)(const void *)(row + 4 * (size_t)i));
    const __m128i h = _mm_loadu_si128((const __m128i *)(row + 2 * (size_t)i));
    if (kind == WF16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

static ALWAYS_INLINE float load_w1(const uint8_t *row, int i, const int kind) {
    if (kind == WF32) {
        float v;
        memcpy(&v, row + 4 * (size_t)i, 4);
        return v;
    }
    const uint16_t h = load_u16(row + 2 * (size_t)i);
    if (kind == WF16) return _cvtsh_ss(h);
    uint32_t u = (uint32_t)h << 16;
    float v;
    memcpy(&v, &u, 4);
    return v;
}

static ALWAYS_INLINE void tile_f(const uint8_t *const rows[4], const float *x, size_t xs, const int MT, int n, const int kind,
                                 float out[4][2]) {
    __m256 acc[4][2];
    #pragma GCC unroll 16
    for (int r = 0; r < 4; r++)
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) acc[r][j] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xv[2];
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) xv[j] = _mm256_loadu_ps(x + (size_t)j * xs + i);
        #pragma GCC unroll 16
        for (int r = 0; r < 4; r++) {
            const __m256 wv = load_w8(rows[r], i, kind);
            #pragma GCC unroll 16
            for (int j = 0; j < MT; j++) acc[r][j] = _mm256_fmadd_ps(wv, xv[j], acc[r][j]);
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < 4; r++)
        #pragma GCC unroll 16
        for (int j = 0; j < MT; j++) {
            float v = hsum8(acc[r][j]);
            for (int k = i; k < n; k++) v += load_w1(rows[r], k, kind) * x[(size_t)j * xs + k];
            out[r][j] = v;
        }
}

static ALWAYS_INLINE void gemm_f(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y,
                                 size_t ys, const int kind) {
    for (int r0 = 0; r0 < nr; r0 += 4) {
        const int m = nr - r0 < 4 ? nr - r0 : 4;
        const uint8_t *rows[4];
        #pragma GCC unroll 16
        for (int k = 0; k < 4; k++) rows[k] = w + (size_t)(r0 + (k < m ? k : m - 1)) * rb;
        for (int t0 = 0; t0 < nt; t0 += 2) {
            float out[4][2];
            if (nt - t0 >= 2)
                tile_f(rows, x + (size_t)t0 * xs, xs, 2, n, kind, out);
            else
                tile_f(rows, x + (size_t)t0 * xs, xs, 1, n, kind, out);
            const int mt = nt - t0 < 2 ? nt - t0 : 2;
            for (int j = 0; j < mt; j++)
                for (int r = 0; r < m; r++) y[(size_t)(t0 + j) * ys + r0 + r] = out[r][j];
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

/* ---- small f32 matrix product: 4 rows x 16 columns of accumulators, outer products ---- */

static ALWAYS_INLINE void mm_tile(float *out, size_t os, const float *a, size_t as, const float *b, size_t bs, int K,
                                  float alpha, const int MR, const int NV /* vectors of 8 columns: 1 or 2 */) {
    __m256 acc[4][2];
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 16
        for (int v = 0; v < NV; v++)
            acc[r][v] = alpha != 0.0f ? _mm256_mul_ps(_mm256_set1_ps(alpha), _mm256_loadu_ps(out + (size_t)r * os + 8 * v))
                                      : _mm256_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m256 bv[2];
        #pragma GCC unroll 16
        for (int v = 0; v < NV; v++) bv[v] = _mm256_loadu_ps(b + (size_t)k * bs + 8 * v);
        #pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            const __m256 av = _mm256_broadcast_ss(a + (size_t)r * as + k);
            #pragma GCC unroll 16
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 16
        for (int v = 0; v < NV; v++) _mm256_storeu_ps(out + (size_t)r * os + 8 * v, acc[r][v]);
}

static ALWAYS_INLINE void mm_rows(float *out, size_t os, const float *a, size_t as, const float *b, size_t bs, int n, int K,
                                  float alpha, const int MR) {
    int c = 0;
    for (; c + 16 <= n; c += 16) mm_tile(out + c, os, a, as, b + c, bs, K, alpha, MR, 2);
    for (; c + 8 <= n; c += 8) mm_tile(out + c, os, a, as, b + c, bs, K, alpha, MR, 1);
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
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float sum = hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static void axpy(float *y, float a, const float *x, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void scale(float *y, float a, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(va, _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] *= a;
}

static float ssm_step(float *S, float a, float bx, const float *B, const float *C, int n) {
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(bx);
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 s = _mm256_fmadd_ps(va, _mm256_loadu_ps(S + i), _mm256_mul_ps(vb, _mm256_loadu_ps(B + i)));
        _mm256_storeu_ps(S + i, s);
        acc = _mm256_fmadd_ps(s, _mm256_loadu_ps(C + i), acc);
    }
    float sum = hsum8(acc);
    for (; i < n; i++) {
        S[i] = a * S[i] + bx * B[i];
        sum += S[i] * C[i];
    }
    return sum;
}

/* e^x for 8 floats (Cephes' expf polynomial, within 2 ulp of expf for x in [-87, 88]); inputs
 * are clamped to that range, so e^x of very negative x returns ~1.2e-38 instead of 0 or a
 * subnormal (harmless for softmax weights and sigmoid). */
static ALWAYS_INLINE __m256 exp8(__m256 x) {
    x = _mm256_min_ps(x, _mm256_set1_ps(88.3762626647949f));
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.33654475f));
    const __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

static float exp_sum(float *x, float m, int n) {
    const __m256 vm = _mm256_set1_ps(m);
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    float sum = hsum8(acc);
    for (; i < n; i++) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    return sum;
}

static ALWAYS_INLINE __m256 silu8(__m256 v) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), v));
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

static void silu(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, silu8(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

static void mul_silu(float *y, const float *a, const float *b, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), silu8(_mm256_loadu_ps(b + i))));
    for (; i < n; i++) y[i] = a[i] * (b[i] / (1.0f + expf(-b[i])));
}

static double sumsq(const float *x, int n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), b = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
        s0 = _mm256_fmadd_pd(a, a, s0);
        s1 = _mm256_fmadd_pd(b, b, s1);
    }
    __m256d s = _mm256_add_pd(s0, s1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; i++) sum += (double)x[i] * x[i];
    return sum;
}

static void scale_mul(float *out, const float *x, const float *w, float r, int n) {
    const __m256 vr = _mm256_set1_ps(r);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(w + i), _mm256_mul_ps(_mm256_loadu_ps(x + i), vr)));
    for (; i < n; i++) out[i] = w[i] * (x[i] * r);
}

static const hk_kernels k_avx2 = {
    .name = "avx2",
    .quantize_q8 = quantize_q8,
    .quantize_q16 = quantize_q16,
    .gemm_q4_0 = gemm_q4_0,
    .gemm_q4_0_x16 = gemm_q4_0_x16,
    .repack_q4_0 = true,
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

const hk_kernels *hk_avx2_table(void) { return &k_avx2; }

#elif defined(__x86_64__)

/* Built without -mavx2 -mfma -mf16c (see the Makefile): no AVX2 table. */
const hk_kernels *hk_avx2_table(void);
const hk_kernels *hk_avx2_table(void) { return 0; }

#endif
