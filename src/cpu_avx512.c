/* cpu_avx512.c - AVX-512 VNNI quantised tiles, Q4_0 (file order or repacked x16) and Q8_0 (x86-64; built with -mavx512f/bw/vl/vnni, used only after a CPU check).
 *
 * Q4_0 (Q8_0 activations): the layout idea of cpu_avx2.c, twice as wide: each 32-bit lane holds
 * one of 16 weight rows, and vpdpbusd (u8 x s8, 4 products per lane, accumulated in 32 bits, no
 * saturation) forms a block's dot product without horizontal sums. The unsigned operand is the
 * weight: Q4_0 nibbles as they are (0..15, corrected by -8 * sum of the activation codes). Matrices
 * repacked at load into the x16 layout (cpu_kernels.h; gemm_q4_0_x16) hold each block of 16 rows
 * in that lane order already: a block is 5 plain loads. Rows in file order (gemm_q4_0, and the
 * last nr % 16 rows of a repacked matrix) are gathered and transposed in registers per block. With
 * several tokens (prefill) a chunk of blocks is unpacked once into an L1-sized buffer and reused
 * by every token; with one or two tokens (decode) each block is loaded and used at once. Both
 * layouts go through the same arithmetic, so their outputs are equal bit for bit.
 *
 * Q8_0 (int16 activations, cpu_kernels.h): the same 16 rows per vector, weights widened to
 * int16 pairs for vpdpwssd (s16 x s16, 2 products per lane) in prefill, 16 row vectors reduced
 * together in decode; each lane's block sum is exact and is scaled as the generic table does, so
 * the outputs equal the generic table's bit for bit (see the Q8_0 section).
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

/* The 8 vpdpbusd operands from the 4 runs of nibble bytes (run j lane i = row i's qs[4j..4j+3]). */
static ALWAYS_INLINE void split_nibbles(const __m512i D[4], blk16 *o) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    #pragma GCC unroll 16
    for (int j = 0; j < 4; j++) {
        o->w[j] = _mm512_and_si512(D[j], m4);                          /* values 4j..4j+3 */
        o->w[4 + j] = _mm512_and_si512(_mm512_srli_epi16(D[j], 4), m4); /* values 16+4j.. */
    }
}

/* Block at byte offset `off` of 16 rows in row layout: row k at w0 + k*rb, or at rows[k] when
 * rows is not NULL (a short last group); vidx[k] = row k's offset from row 0. */
static ALWAYS_INLINE void load_block(const uint8_t *w0, size_t rb, const uint8_t *const *rows, __m512i vidx, size_t off,
                                     blk16 *o) {
    const uint8_t *p[16];
    #pragma GCC unroll 16
    for (int k = 0; k < 16; k++) p[k] = (rows ? rows[k] : w0 + (size_t)k * rb) + off + 2;
    __m512i D[4];
    transpose16x16(p, D);
    split_nibbles(D, o);
    /* the f16 scale: the low half of the 4 bytes at each row's block start */
    const __m512i g = _mm512_i32gather_epi32(vidx, (const void *)(w0 + off), 1);
    o->dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
}

/* Block of 16 rows in the x16 layout (cpu_kernels.h) at blk: loaded as it stands. */
static ALWAYS_INLINE void load_block_x16(const uint8_t *blk, blk16 *o) {
    __m512i D[4];
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) D[j] = _mm512_loadu_si512((const void *)(blk + 32 + 64 * j));
    split_nibbles(D, o);
    o->dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
}

/* Block b of a group: from the x16 layout at pk when pk is not NULL, else gathered from rows. */
static ALWAYS_INLINE void group_block(const uint8_t *pk, const uint8_t *w0, size_t rb, const uint8_t *const *rows,
                                      __m512i vidx, int b, blk16 *o) {
    if (pk)
        load_block_x16(pk + (size_t)b * HK_X16_BLOCK, o);
    else
        load_block(w0, rb, rows, vidx, (size_t)b * 18, o);
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

/* The group of m (<= 16) rows from w0 (stride rb): rows[k] and the byte offsets in the returned
 * gather index; a short last group repeats its last row. *rp = rows for a short group, NULL for a
 * full one (uniform stride). */
static ALWAYS_INLINE __m512i row_group(const uint8_t *w0, size_t rb, int m, const uint8_t *rows[16],
                                       const uint8_t *const **rp) {
    int32_t idx[16];
    #pragma GCC unroll 16
    for (int k = 0; k < 16; k++) {
        const int kc = k < m ? k : m - 1;
        rows[k] = w0 + (size_t)kc * rb;
        idx[k] = (int32_t)((size_t)kc * rb);
    }
    *rp = m == ROWS ? NULL : rows;
    return _mm512_loadu_si512(idx);
}

/* Decode: each block of the 16 rows is loaded and used at once. In row layout the rows' coming
 * lines are prefetched (16 interleaved short streams are more than the hardware prefetchers
 * follow); the x16 layout (pk) is one sequential stream. */
static ALWAYS_INLINE void decode_group(const uint8_t *pk, const uint8_t *w0, size_t rb, const uint8_t *const *rows,
                                       __m512i vidx, const hk_q8act *x, int nt, __m512 acc[TGROUP]) {
    const float corr = 8.0f;
    const int nb = x->nb;
    for (int b = 0; b < nb; b++) {
        if (!pk && (b & 1) == 0) { /* about one prefetch per row per 64-byte line */
            const size_t off = (size_t)b * 18;
            #pragma GCC unroll 16
            for (int k = 0; k < 16; k++)
                _mm_prefetch((const char *)((rows ? rows[k] : w0 + (size_t)k * rb) + off + PREFETCH), _MM_HINT_T0);
        }
        blk16 blk;
        group_block(pk, w0, rb, rows, vidx, b, &blk);
        if (nt == 2)
            tile(&blk, x, (size_t)b, nb, 2, corr, acc);
        else
            tile(&blk, x, (size_t)b, nb, 1, corr, acc);
    }
}

/* Tokens ts..ts+nts-1 over the nk blocks in buf (blocks kb.. of the group), TGROUP at a time; sums in accs[0..nts-1]. */
static void run_chunk(const blk16 *buf, int nk, const hk_q8act *x, int ts, int nts, int kb, __m512 *accs) {
    const float corr = 8.0f;
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

/* Prefill: KCHUNK blocks of the group are unpacked into buf once and every token runs over them. */
static ALWAYS_INLINE void prefill_group(const uint8_t *pk, const uint8_t *w0, size_t rb, const uint8_t *const *rows,
                                        __m512i vidx, const hk_q8act *x, int nt, float *y, size_t ys, int m) {
    const int nb = x->nb;
    for (int ts = 0; ts < nt; ts += TSUPER) {
        const int nts = nt - ts < TSUPER ? nt - ts : TSUPER;
        __m512 accs[TSUPER];
        for (int j = 0; j < nts; j++) accs[j] = _mm512_setzero_ps();
        for (int kb = 0; kb < nb; kb += KCHUNK) {
            const int nk = nb - kb < KCHUNK ? nb - kb : KCHUNK;
            blk16 buf[KCHUNK];
            for (int i = 0; i < nk; i++) group_block(pk, w0, rb, rows, vidx, kb + i, &buf[i]);
            run_chunk(buf, nk, x, ts, nts, kb, accs);
        }
        for (int j = 0; j < nts; j++) store_rows(y + (size_t)(ts + j) * ys, accs[j], m);
    }
}

/* One group of m (<= 16) rows at w0: from the x16 layout (pk = w0) or from rows; the branches on
 * pk and rows are resolved at compile time in each call below. */
static ALWAYS_INLINE void q4_0_group(const uint8_t *pk, const uint8_t *w0, size_t rb, const uint8_t *const *rows,
                                     __m512i vidx, const hk_q8act *x, int nt, float *y, size_t ys, int m) {
    if (nt > 2) {
        prefill_group(pk, w0, rb, rows, vidx, x, nt, y, ys, m);
        return;
    }
    __m512 acc[TGROUP] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    decode_group(pk, w0, rb, rows, vidx, x, nt, acc);
    for (int j = 0; j < nt; j++) store_rows(y + (size_t)j * ys, acc[j], m);
}

/* Rows in row layout, or (x16) whole groups in the x16 layout and the last nr % 16 rows in row layout. */
static ALWAYS_INLINE void gemm_q4_0_any(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y,
                                        size_t ys, const bool x16) {
    for (int r0 = 0; r0 < nr; r0 += ROWS) {
        const int m = nr - r0 < ROWS ? nr - r0 : ROWS;
        const uint8_t *w0 = w + (size_t)r0 * rb;
        const uint8_t *rows[16], *const *rp;
        const __m512i vidx = row_group(w0, rb, m, rows, &rp);
        if (rp)
            q4_0_group(NULL, w0, rb, rp, vidx, x, nt, y + r0, ys, m);
        else if (x16)
            q4_0_group(w0, w0, rb, NULL, vidx, x, nt, y + r0, ys, m);
        else
            q4_0_group(NULL, w0, rb, NULL, vidx, x, nt, y + r0, ys, m);
    }
}

static void gemm_q4_0(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys) {
    gemm_q4_0_any(w, rb, nr, x, nt, y, ys, false);
}

static void gemm_q4_0_x16(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys) {
    gemm_q4_0_any(w, rb, nr, x, nt, y, ys, true);
}

/* ---- Q8_0 weights, int16 activations ----
 * The same 16 rows per vector, one row per 32-bit lane, so that a block's sum for each row is
 * exact in its lane and is scaled as the generic table does: acc += (d_w * d_x) * isum, blocks in
 * order, a multiply and an add (no fma). The outputs are therefore bit-identical to the generic
 * table's. Two ways to form the 16 block sums:
 * - prefill (3 tokens or more): a chunk of blocks of the 16 rows is transposed once into an
 *   L1-sized buffer, each row's weights widened to int16 pairs (lane k of w[p] = row k's values
 *   2p, 2p+1); per token, vpdpwssd multiplies them with the broadcast activation pair (codes 2p,
 *   2p+1 are adjacent in the activation row: a 32-bit broadcast) and 16 of them give the block.
 * - decode: each row's block is widened and multiplied with the token's 32 codes (vpmaddwd, 16
 *   lanes of 2 products), and the 16 rows' vectors are reduced together into one vector of 16
 *   block sums (lane k = row k), cheaper than transposing weights that are used once. */

enum {
    KCHUNK16 = 16 /* Q8_0 blocks transposed at a time in prefill: 16 x 1088 bytes = 17 KiB */
};

/* One Q8_0 block of 16 rows as int16 pairs, and the 16 rows' scales. */
typedef struct {
    __m512i w[16];
    __m512 dw;
} blk16w;

/* The Q8_0 scales of 16 rows at block offset `off`. */
static ALWAYS_INLINE __m512 scales16(const uint8_t *w0, __m512i vidx, size_t off) {
    const __m512i g = _mm512_i32gather_epi32(vidx, (const void *)(w0 + off), 1);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
}

static ALWAYS_INLINE void load_block_q8(const uint8_t *w0, size_t rb, const uint8_t *const *rows, __m512i vidx, size_t off,
                                        blk16w *o) {
    /* bytes b0 b1 b2 b3 of each dword -> b0 b2 b1 b3: the 16-bit words become (b0, b2) and (b1, b3) */
    const __m512i pair_order = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15));
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) { /* weights 0..15, then 16..31 */
        const uint8_t *p[16];
        #pragma GCC unroll 16
        for (int k = 0; k < 16; k++) p[k] = (rows ? rows[k] : w0 + (size_t)k * rb) + off + 2 + 16 * h;
        __m512i D[4];
        transpose16x16(p, D); /* D[j] lane k = row k's weights 16h + 4j .. +3 */
        #pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const __m512i e = _mm512_shuffle_epi8(D[j], pair_order);
            o->w[8 * h + 2 * j] = _mm512_srai_epi16(_mm512_slli_epi16(e, 8), 8); /* values 4j, 4j+1 */
            o->w[8 * h + 2 * j + 1] = _mm512_srai_epi16(e, 8);                   /* values 4j+2, 4j+3 */
        }
    }
    o->dw = scales16(w0, vidx, off);
}

/* acc[j] += dot(block, token j's block at act index tb + j*nb) for j < MT, exactly as the generic table. */
static ALWAYS_INLINE void tile_q8(const blk16w *b, const hk_q16act *x, size_t tb, int nb, const int MT, __m512 acc[TGROUP]) {
    #pragma GCC unroll 16
    for (int j = 0; j < MT; j++) {
        const size_t t = tb + (size_t)j * nb;
        const int16_t *xq = x->q + t * HK_QK;
        __m512i s = _mm512_setzero_si512();
        #pragma GCC unroll 16
        for (int p = 0; p < 16; p++) s = _mm512_dpwssd_epi32(s, b->w[p], _mm512_set1_epi32(load_i32(xq + 2 * p)));
        acc[j] = _mm512_add_ps(acc[j], _mm512_mul_ps(_mm512_mul_ps(b->dw, _mm512_set1_ps(x->d[t])), _mm512_cvtepi32_ps(s)));
    }
}

static ALWAYS_INLINE void run_tokens_q8(const blk16w *buf, int nk, const hk_q16act *x, int t0, int kb, const int MT,
                                        __m512 *accs) {
    __m512 acc[TGROUP];
    #pragma GCC unroll 16
    for (int j = 0; j < MT; j++) acc[j] = accs[j];
    const size_t tb = (size_t)t0 * x->nb + (size_t)kb;
    for (int i = 0; i < nk; i++) tile_q8(&buf[i], x, tb + (size_t)i, x->nb, MT, acc);
    #pragma GCC unroll 16
    for (int j = 0; j < MT; j++) accs[j] = acc[j];
}

/* 16 vectors of 16 int32 lanes -> one vector, lane k = the sum of v[k]'s lanes. */
static ALWAYS_INLINE __m512i reduce16(const __m512i v[16]) {
    __m512i s[8], t[4];
    #pragma GCC unroll 8
    for (int i = 0; i < 8; i++) /* 128-bit lane q: [a, b, a, b] partial sums of rows 2i, 2i+1 */
        s[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
    #pragma GCC unroll 4
    for (int i = 0; i < 4; i++) /* 128-bit lane q: rows 4i..4i+3, from quarter q of their vectors */
        t[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(s[2 * i], s[2 * i + 1]), _mm512_unpackhi_epi64(s[2 * i], s[2 * i + 1]));
    const __m512i u0 = _mm512_add_epi32(_mm512_shuffle_i32x4(t[0], t[1], 0x88), _mm512_shuffle_i32x4(t[0], t[1], 0xdd));
    const __m512i u1 = _mm512_add_epi32(_mm512_shuffle_i32x4(t[2], t[3], 0x88), _mm512_shuffle_i32x4(t[2], t[3], 0xdd));
    return _mm512_add_epi32(_mm512_shuffle_i32x4(u0, u1, 0x88), _mm512_shuffle_i32x4(u0, u1, 0xdd));
}

#ifndef PREFETCH_Q8
#define PREFETCH_Q8 256 /* decode: bytes ahead of the current Q8_0 block that each row prefetches */
#endif

/* Decode: MT (1 or 2) tokens, each block's 16 row sums by reduce16. */
static ALWAYS_INLINE void decode_q8(const uint8_t *w0, size_t rb, const uint8_t *const *rows, __m512i vidx,
                                    const hk_q16act *x, const int MT, __m512 acc[2]) {
    const int nb = x->nb;
    for (int b = 0; b < nb; b++) {
        const size_t off = (size_t)b * 34;
        if ((b & 1) == 0) { /* about one prefetch per row per 64-byte line */
            #pragma GCC unroll 16
            for (int k = 0; k < 16; k++)
                _mm_prefetch((const char *)((rows ? rows[k] : w0 + (size_t)k * rb) + off + PREFETCH_Q8), _MM_HINT_T0);
        }
        __m512i xv[2], v[2][16];
        #pragma GCC unroll 2
        for (int j = 0; j < MT; j++) xv[j] = _mm512_loadu_si512(x->q + ((size_t)j * nb + b) * HK_QK);
        #pragma GCC unroll 16
        for (int k = 0; k < 16; k++) {
            const uint8_t *blk = (rows ? rows[k] : w0 + (size_t)k * rb) + off;
            const __m512i wv = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(blk + 2)));
            #pragma GCC unroll 2
            for (int j = 0; j < MT; j++) v[j][k] = _mm512_madd_epi16(wv, xv[j]);
        }
        const __m512 dw = scales16(w0, vidx, off);
        #pragma GCC unroll 2
        for (int j = 0; j < MT; j++) {
            const __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(x->d[(size_t)j * nb + b]));
            acc[j] = _mm512_add_ps(acc[j], _mm512_mul_ps(sc, _mm512_cvtepi32_ps(reduce16(v[j]))));
        }
    }
}

static void gemm_q8_0(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys) {
    const int nb = x->nb;
    for (int r0 = 0; r0 < nr; r0 += ROWS) {
        const int m = nr - r0 < ROWS ? nr - r0 : ROWS;
        const uint8_t *w0 = w + (size_t)r0 * rb;
        const uint8_t *rows[16], *const *rp;
        const __m512i vidx = row_group(w0, rb, m, rows, &rp);
        if (nt <= 2) {
            __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
            if (nt == 2)
                decode_q8(w0, rb, rp, vidx, x, 2, acc);
            else if (rp)
                decode_q8(w0, rb, rp, vidx, x, 1, acc);
            else
                decode_q8(w0, rb, NULL, vidx, x, 1, acc);
            for (int j = 0; j < nt; j++) store_rows(y + (size_t)j * ys + r0, acc[j], m);
            continue;
        }
        /* prefill: transpose KCHUNK16 blocks into buf, run every token over them */
        for (int ts = 0; ts < nt; ts += TSUPER) {
            const int nts = nt - ts < TSUPER ? nt - ts : TSUPER;
            __m512 accs[TSUPER];
            for (int j = 0; j < nts; j++) accs[j] = _mm512_setzero_ps();
            for (int kb = 0; kb < nb; kb += KCHUNK16) {
                const int nk = nb - kb < KCHUNK16 ? nb - kb : KCHUNK16;
                blk16w buf[KCHUNK16];
                for (int i = 0; i < nk; i++) load_block_q8(w0, rb, rp, vidx, (size_t)(kb + i) * 34, &buf[i]);
                for (int t0 = 0; t0 < nts; t0 += TGROUP) {
                    __m512 *a = accs + t0;
                    switch (nts - t0 < TGROUP ? nts - t0 : TGROUP) {
                    case 8: run_tokens_q8(buf, nk, x, ts + t0, kb, 8, a); break;
                    case 7: run_tokens_q8(buf, nk, x, ts + t0, kb, 7, a); break;
                    case 6: run_tokens_q8(buf, nk, x, ts + t0, kb, 6, a); break;
                    case 5: run_tokens_q8(buf, nk, x, ts + t0, kb, 5, a); break;
                    case 4: run_tokens_q8(buf, nk, x, ts + t0, kb, 4, a); break;
                    case 3: run_tokens_q8(buf, nk, x, ts + t0, kb, 3, a); break;
                    case 2: run_tokens_q8(buf, nk, x, ts + t0, kb, 2, a); break;
                    default: run_tokens_q8(buf, nk, x, ts + t0, kb, 1, a); break;
                    }
                }
            }
            for (int j = 0; j < nts; j++) store_rows(y + (size_t)(ts + j) * ys + r0, accs[j], m);
        }
    }
}

static const hk_kernels k_avx512 = {
    .name = "avx512",
    .gemm_q4_0 = gemm_q4_0,
    .gemm_q4_0_x16 = gemm_q4_0_x16,
    .repack_q4_0 = true,
    .gemm_q8_0 = gemm_q8_0,
};

const hk_kernels *hk_avx512_table(void) { return &k_avx512; }

#elif defined(__x86_64__)

/* Built without the AVX-512 flags (see the Makefile): no AVX-512 table. */
const hk_kernels *hk_avx512_table(void) { return 0; }

#endif
