/* cpu_avx512.c - AVX-512 VNNI quantised tiles, Q4_0 and Q8_0 (x86-64; built with -mavx512f/bw/vl/vnni, used only after a CPU check).
 *
 * Q4_0 (Q8_0 activations): the layout idea of cpu_avx2.c, twice as wide: 16 weight rows are
 * transposed in registers so that each 32-bit lane holds one row, and vpdpbusd (u8 x s8, 4
 * products per lane, accumulated in 32 bits, no saturation) forms a block's dot product without
 * horizontal sums. The unsigned operand is the weight: Q4_0 nibbles as they are (0..15, corrected
 * by -8 * sum of the activation codes). With several tokens
 * (prefill) a chunk of blocks is transposed once into an L1-sized buffer and reused by every
 * token; with one token (decode) each block is transposed and used at once.
 *
 * Q8_0 (int16 activations, cpu_kernels.h): row by row, a block's 32 weights widen to 32 int16
 * in one register and vpdpwssd (s16 x s16, 2 products per lane) multiplies them with the
 * token's 32 codes; the 16 lanes are scaled per block in f32 and summed once per output.
 */
#include "cpu_kernels.h"

const hk_kernels *hk_avx512_table(void);

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512VNNI__) && defined(__F16C__)

#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

enum {
    ROWS = 16,   /* rows per vector */
    KCHUNK = 64, /* blocks transposed at a time in prefill: 64 x 576 bytes = 36 KiB */
    TSUPER = 64, /* tokens whose sums stay in the accumulator buffer */
    TGROUP = 8,  /* tokens per inner loop (8 accumulators) */
    PREFETCH = 192 /* decode: bytes ahead of the current block that each row prefetches */
};

/* One block of 16 rows, ready for vpdpbusd: w[j] lane i = the 4 unsigned weight bytes of row i
 * that multiply activation codes 4j..4j+3; dw lane i = row i's block scale. */
typedef struct {
    __m512i w[8];
    __m512 dw;
} blk16;

static ALWAYS_INLINE int32_t load_i32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* 16 bytes at p[k] for k = 0..15 into out[j] (j = 0..3), lane k = dword j of p[k]. */
static ALWAYS_INLINE void transpose16x16(const uint8_t *const p[16], __m512i out[4]) {
    __m512i y[4];
    #pragma GCC unroll 16
    for (int k = 0; k < 4; k++) { /* y[k] 128-bit lane q = row k + 4q */
        __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p[k]));
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)p[k + 4]), 1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)p[k + 8]), 2);
        y[k] = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)p[k + 12]), 3);
    }
    const __m512i t0 = _mm512_unpacklo_epi32(y[0], y[1]), t1 = _mm512_unpacklo_epi32(y[2], y[3]);
    const __m512i t2 = _mm512_unpackhi_epi32(y[0], y[1]), t3 = _mm512_unpackhi_epi32(y[2], y[3]);
    out[0] = _mm512_unpacklo_epi64(t0, t1);
    out[1] = _mm512_unpackhi_epi64(t0, t1);
    out[2] = _mm512_unpacklo_epi64(t2, t3);
    out[3] = _mm512_unpackhi_epi64(t2, t3);
}

/* Block at byte offset `off` of 16 rows: row k at w0 + k*rb, or at rows[k] when rows is not NULL
 * (a short last group); vidx[k] = row k's offset from row 0. */
static ALWAYS_INLINE void load_block(const uint8_t *w0, size_t rb, const uint8_t *const *rows, __m512i vidx, size_t off,
                                     blk16 *o) {
    const uint8_t *p[16];
    #pragma GCC unroll 16
    for (int k = 0; k < 16; k++) p[k] = (rows ? rows[k] : w0 + (size_t)k * rb) + off + 2;
    __m512i D[4];
    transpose16x16(p, D);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    #pragma GCC unroll 16
    for (int j = 0; j < 4; j++) {
        o->w[j] = _mm512_and_si512(D[j], m4);                          /* values 4j..4j+3 */
        o->w[4 + j] = _mm512_and_si512(_mm512_srli_epi16(D[j], 4), m4); /* values 16+4j.. */
    }
    /* the f16 scale: the low half of the 4 bytes at each row's block start */
    const __m512i g = _mm512_i32gather_epi32(vidx, (const void *)(w0 + off), 1);
    o->dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
}

/* acc[j] += dot(block, token j's block at act index tb + j*nb) for j < MT. */
static ALWAYS_INLINE void tile(const blk16 *b, const hk_q8act *x, size_t tb, int nb, const int MT, const float corr,
                               __m512 acc[TGROUP]) {
    #pragma GCC unroll 16
    for (int j = 0; j < MT; j++) {
        const size_t t = tb + (size_t)j * nb;
        const int8_t *xq = x->q + t * HK_QK;
        __m512i s = _mm512_setzero_si512();
        #pragma GCC unroll 16
        for (int k = 0; k < 8; k++) s = _mm512_dpbusd_epi32(s, b->w[k], _mm512_set1_epi32(load_i32(xq + 4 * k)));
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(b->dw, _mm512_set1_ps(x->d[t])), acc[j]);
        acc[j] = _mm512_fnmadd_ps(b->dw, _mm512_set1_ps(corr * x->s[t]), acc[j]);
    }
}

/* Tokens t0..t0+MT-1 over the nk buffered blocks starting at block kb; sums in accs[j]. */
static ALWAYS_INLINE void run_tokens(const blk16 *buf, int nk, const hk_q8act *x, int t0, int kb, const int MT,
                                     const float corr, __m512 *accs) {
    __m512 acc[TGROUP];
    #pragma GCC unroll 16
    for (int j = 0; j < MT; j++) acc[j] = accs[j];
    const size_t tb = (size_t)t0 * x->nb + (size_t)kb;
    for (int i = 0; i < nk; i++) tile(&buf[i], x, tb + (size_t)i, x->nb, MT, corr, acc);
    #pragma GCC unroll 16
    for (int j = 0; j < MT; j++) accs[j] = acc[j];
}

static ALWAYS_INLINE void store_rows(float *y, __m512 v, int m) {
    _mm512_mask_storeu_ps(y, (__mmask16)((1u << m) - 1u), v);
}

/* Decode: each block of the 16 rows is transposed and used at once; the rows' coming lines are
 * prefetched (16 interleaved short streams are more than the hardware prefetchers follow). */
static ALWAYS_INLINE void decode_group(const uint8_t *w0, size_t rb, const uint8_t *const *rows, __m512i vidx,
                                       const hk_q8act *x, int nt, __m512 acc[TGROUP]) {
    const size_t bb = 18;
    const float corr = 8.0f;
    const int nb = x->nb;
    for (int b = 0; b < nb; b++) {
        const size_t off = (size_t)b * bb;
        if ((b & 1) == 0) { /* about one prefetch per row per 64-byte line */
            #pragma GCC unroll 16
            for (int k = 0; k < 16; k++)
                _mm_prefetch((const char *)((rows ? rows[k] : w0 + (size_t)k * rb) + off + PREFETCH), _MM_HINT_T0);
        }
        blk16 blk;
        load_block(w0, rb, rows, vidx, off, &blk);
        if (nt == 2)
            tile(&blk, x, (size_t)b, nb, 2, corr, acc);
        else
            tile(&blk, x, (size_t)b, nb, 1, corr, acc);
    }
}

static void gemm_q4_0(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys) {
    const size_t bb = 18;
    const float corr = 8.0f;
    const int nb = x->nb;
    for (int r0 = 0; r0 < nr; r0 += ROWS) {
        const int m = nr - r0 < ROWS ? nr - r0 : ROWS;
        const uint8_t *w0 = w + (size_t)r0 * rb;
        const uint8_t *rows[16];
        int32_t idx[16];
        #pragma GCC unroll 16
        for (int k = 0; k < 16; k++) {
            const int kc = k < m ? k : m - 1; /* a short last group repeats its last row */
            rows[k] = w0 + (size_t)kc * rb;
            idx[k] = (int32_t)((size_t)kc * rb);
        }
        const __m512i vidx = _mm512_loadu_si512(idx);
        const uint8_t *const *rp = m == ROWS ? NULL : rows; /* full groups: uniform stride */
        if (nt <= 2) {
            __m512 acc[TGROUP] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
            if (rp)
                decode_group(w0, rb, rp, vidx, x, nt, acc);
            else
                decode_group(w0, rb, NULL, vidx, x, nt, acc);
            for (int j = 0; j < nt; j++) store_rows(y + (size_t)j * ys + r0, acc[j], m);
            continue;
        }
        /* prefill: transpose KCHUNK blocks into buf, run every token over them */
        for (int ts = 0; ts < nt; ts += TSUPER) {
            const int nts = nt - ts < TSUPER ? nt - ts : TSUPER;
            __m512 accs[TSUPER];
            for (int j = 0; j < nts; j++) accs[j] = _mm512_setzero_ps();
            for (int kb = 0; kb < nb; kb += KCHUNK) {
                const int nk = nb - kb < KCHUNK ? nb - kb : KCHUNK;
                blk16 buf[KCHUNK];
                if (rp)
                    for (int i = 0; i < nk; i++) load_block(w0, rb, rp, vidx, (size_t)(kb + i) * bb, &buf[i]);
                else
                    for (int i = 0; i < nk; i++) load_block(w0, rb, NULL, vidx, (size_t)(kb + i) * bb, &buf[i]);
                for (int t0 = 0; t0 < nts; t0 += TGROUP) {
                    __m512 *a = accs + t0;
                    switch (nts - t0 < TGROUP ? nts - t0 : TGROUP) {
                    case 8: run_tokens(buf, nk, x, ts + t0, kb, 8, corr, a); break;
                    case 7: run_tokens(buf, nk, x, ts + t0, kb, 7, corr, a); break;
                    case 6: run_tokens(buf, nk, x, ts + t0, kb, 6, corr, a); break;
                    case 5: run_tokens(buf, nk, x, ts + t0, kb, 5, corr, a); break;
                    case 4: run_tokens(buf, nk, x, ts + t0, kb, 4, corr, a); break;
                    case 3: run_tokens(buf, nk, x, ts + t0, kb, 3, corr, a); break;
                    case 2: run_tokens(buf, nk, x, ts + t0, kb, 2, corr, a); break;
                    default: run_tokens(buf, nk, x, ts + t0, kb, 1, corr, a); break;
                    }
                }
            }
            for (int j = 0; j < nts; j++) store_rows(y + (size_t)(ts + j) * ys + r0, accs[j], m);
        }
    }
}

#ifndef PREFETCH_Q8
#define PREFETCH_Q8 256 /* decode: bytes ahead of the current Q8_0 block that each row prefetches */
#endif

/* out[r][j] = dot(Q8_0 row r, token t0+j) for r < MR, j < MT: widened blocks shared by MT tokens. */
static ALWAYS_INLINE void tile_q8_0(const uint8_t *const rows[4], const hk_q16act *x, int t0, const int MR, const int MT,
                                    float out[4][4]) {
    const int nb = x->nb;
    __m512 acc[4][4];
    #pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 4
        for (int j = 0; j < MT; j++) acc[r][j] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m512i xv[4];
        float dx[4];
        #pragma GCC unroll 4
        for (int j = 0; j < MT; j++) {
            const size_t tb = (size_t)(t0 + j) * nb + b;
            xv[j] = _mm512_loadu_si512(x->q + tb * HK_QK);
            dx[j] = x->d[tb];
        }
        #pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            const uint8_t *blk = rows[r] + (size_t)b * 34;
            if (MT == 1 && (b & 1) == 0) _mm_prefetch((const char *)(blk + PREFETCH_Q8), _MM_HINT_T0); /* decode */
            const __m512i wv = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(blk + 2)));
            uint16_t h;
            memcpy(&h, blk, 2);
            const float dw = _cvtsh_ss(h);
            #pragma GCC unroll 4
            for (int j = 0; j < MT; j++) {
                const __m512i s32 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), wv, xv[j]);
                acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s32), _mm512_set1_ps(dw * dx[j]), acc[r][j]);
            }
        }
    }
    #pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 4
        for (int j = 0; j < MT; j++) out[r][j] = _mm512_reduce_add_ps(acc[r][j]);
}

#define TILE_Q8(mr, mt) tile_q8_0(rows, x, t0, mr, mt, out)

/* Tiles of 4 rows x 4 tokens (4 rows x 1 token in decode). */
static void gemm_q8_0(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys) {
    for (int r0 = 0; r0 < nr; r0 += 4) {
        const int mr = nr - r0 < 4 ? nr - r0 : 4;
        const uint8_t *rows[4];
        for (int k = 0; k < 4; k++) rows[k] = w + (size_t)(r0 + (k < mr ? k : mr - 1)) * rb;
        for (int t0 = 0; t0 < nt; t0 += 4) {
            const int mt = nt - t0 < 4 ? nt - t0 : 4;
            float out[4][4];
            switch ((mr - 1) * 4 + (mt - 1)) {
            case 0: TILE_Q8(1, 1); break;
            case 1: TILE_Q8(1, 2); break;
            case 2: TILE_Q8(1, 3); break;
            case 3: TILE_Q8(1, 4); break;
            case 4: TILE_Q8(2, 1); break;
            case 5: TILE_Q8(2, 2); break;
            case 6: TILE_Q8(2, 3); break;
            case 7: TILE_Q8(2, 4); break;
            case 8: TILE_Q8(3, 1); break;
            case 9: TILE_Q8(3, 2); break;
            case 10: TILE_Q8(3, 3); break;
            case 11: TILE_Q8(3, 4); break;
            case 12: TILE_Q8(4, 1); break;
            case 13: TILE_Q8(4, 2); break;
            case 14: TILE_Q8(4, 3); break;
            default: TILE_Q8(4, 4); break;
            }
            for (int j = 0; j < mt; j++)
                for (int r = 0; r < mr; r++) y[(size_t)(t0 + j) * ys + r0 + r] = out[r][j];
        }
    }
}

static const hk_kernels k_avx512 = {
    .name = "avx512",
    .gemm_q4_0 = gemm_q4_0,
    .gemm_q8_0 = gemm_q8_0,
};

const hk_kernels *hk_avx512_table(void) { return &k_avx512; }

#elif defined(__x86_64__)

/* Built without the AVX-512 flags (see the Makefile): no AVX-512 table. */
const hk_kernels *hk_avx512_table(void) { return 0; }

#endif
