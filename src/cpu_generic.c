/* cpu_generic.c - the plain-C kernel table: the semantics every SIMD table (AVX2, wasm SIMD128) is tested against. */
#include <math.h>
#include <string.h>

#include "cpu_kernels.h"
#include "util.h"

static inline float f16_at(const uint8_t *p) { return hu_f16_to_f32((uint16_t)(p[0] | (p[1] << 8))); }

/* GGML's Q8_0 rounding (quant.c q8_0_from_float), keeping d as f32 after its f16 rounding. */
static void quantize_q8(const float *x, int8_t *q, float *d, float *s, int nb) {
    for (int b = 0; b < nb; b++, x += HK_QK, q += HK_QK) {
        float amax = 0.0f;
        for (int j = 0; j < HK_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float dd = amax / 127.0f;
        const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        int sum = 0;
        for (int j = 0; j < HK_QK; j++) {
            float r = roundf(x[j] * id);
            int v = r >= -128.0f && r <= 127.0f ? (int)r : 0;
            q[j] = (int8_t)v;
            sum += v;
        }
        d[b] = hu_f16_to_f32(hu_f32_to_f16(dd));
        s[b] = d[b] * (float)sum;
    }
}

/* int16 per 32-value block: d = amax/32767 kept in f32. */
static void quantize_q16(const float *x, int16_t *q, float *d, float *s, int nb) {
    for (int b = 0; b < nb; b++, x += HK_QK, q += HK_QK) {
        float amax = 0.0f;
        for (int j = 0; j < HK_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float dd = amax / 32767.0f;
        const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        int sum = 0;
        for (int j = 0; j < HK_QK; j++) {
            float r = roundf(x[j] * id);
            int v = r >= -32768.0f && r <= 32767.0f ? (int)r : 0;
            q[j] = (int16_t)v;
            sum += v;
        }
        d[b] = dd;
        s[b] = dd * (float)sum;
    }
}

/* Q4_0 block: { f16 d; u8 qs[16] }, value j = (qs[j] & 15) - 8, value j+16 = (qs[j] >> 4) - 8.
 * The exact integer dot product of one block's nibbles with 32 activation codes. */
static inline int q4_0_isum(const uint8_t qs[16], const int8_t *qb) {
    int isum = 0;
    for (int j = 0; j < 16; j++) {
        isum += ((qs[j] & 15) - 8) * qb[j];
        isum += ((qs[j] >> 4) - 8) * qb[j + 16];
    }
    return isum;
}

static void gemm_q4_0(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys) {
    const int nb = x->nb;
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t = 0; t < nt; t++) {
            const int8_t *xq = x->q + (size_t)t * nb * HK_QK;
            const float *xd = x->d + (size_t)t * nb;
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                const uint8_t *blk = row + (size_t)b * 18;
                acc += f16_at(blk) * xd[b] * (float)q4_0_isum(blk + 2, xq + (size_t)b * HK_QK);
            }
            y[(size_t)t * ys + r] = acc;
        }
    }
}

/* The x16 layout (cpu_kernels.h): row k of a group reads its scale at 2k and its nibble bytes
 * 4j..4j+3 at 32 + 64j + 4k of each 288-byte block; the same sums as gemm_q4_0, in the same order. */
static void gemm_q4_0_x16(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys) {
    const int nb = x->nb, full = nr / HK_X16 * HK_X16;
    for (int r = 0; r < full; r++) {
        const uint8_t *grp = w + (size_t)(r / HK_X16) * HK_X16 * rb;
        const int k = r % HK_X16;
        for (int t = 0; t < nt; t++) {
            const int8_t *xq = x->q + (size_t)t * nb * HK_QK;
            const float *xd = x->d + (size_t)t * nb;
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                const uint8_t *blk = grp + (size_t)b * HK_X16_BLOCK;
                uint8_t qs[16];
                for (int j = 0; j < 4; j++) memcpy(qs + 4 * j, blk + 32 + 64 * j + 4 * k, 4);
                acc += f16_at(blk + 2 * k) * xd[b] * (float)q4_0_isum(qs, xq + (size_t)b * HK_QK);
            }
            y[(size_t)t * ys + r] = acc;
        }
    }
    if (full < nr) gemm_q4_0(w + (size_t)full * rb, rb, nr - full, x, nt, y + full, ys); /* rows after the last group */
}

/* Q8_0 block: { f16 d; i8 qs[32] }, against int16 activations (|product sum| <= 32 * 128 * 32768 = 2^27). */
static void gemm_q8_0(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys) {
    const int nb = x->nb;
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t = 0; t < nt; t++) {
            const int16_t *xq = x->q + (size_t)t * nb * HK_QK;
            const float *xd = x->d + (size_t)t * nb;
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                const uint8_t *blk = row + (size_t)b * 34;
                const int8_t *qw = (const int8_t *)(blk + 2);
                const int16_t *qb = xq + (size_t)b * HK_QK;
                int isum = 0;
                for (int j = 0; j < HK_QK; j++) isum += qw[j] * qb[j];
                acc += f16_at(blk) * xd[b] * (float)isum;
            }
            y[(size_t)t * ys + r] = acc;
        }
    }
}

/* Q4_K (144 bytes) / Q5_K (176 bytes) super-block against 8 int16 activation blocks: value i of
 * sub-block j is d*sc[j]*q_i - dmin*m[j], so its dot product is
 * d*sc[j]*d_x*sum(q_i x_i) - dmin*m[j]*s_x (s_x = d_x * sum of the block's codes). */
static float dot_q45_k(const uint8_t *blk, const int16_t *xq, const float *xd, const float *xs, const bool q5) {
    const float d = f16_at(blk), dmin = f16_at(blk + 2);
    const uint8_t *qh = blk + 16, *qs = blk + (q5 ? 48 : 16);
    float sc[8], mn[8];
    hk_k_scales_mins(blk, d, dmin, sc, mn);
    float acc = 0.0f;
    for (int j = 0; j < 8; j++) {
        const int c = j / 2, shift = (j & 1) * 4;
        int isum = 0;
        for (int l = 0; l < 32; l++) {
            int q = (qs[32 * c + l] >> shift) & 15;
            if (q5) q |= ((qh[l] >> j) & 1) << 4;
            isum += q * xq[32 * j + l];
        }
        acc += sc[j] * xd[j] * (float)isum - mn[j] * xs[j];
    }
    return acc;
}

/* Q6_K (210 bytes): value 128h + 32k + l (see quant_k.c) is d*sc[8h + 2k + l/16]*(q - 32). */
static float dot_q6_k(const uint8_t *blk, const int16_t *xq, const float *xd) {
    const float d = f16_at(blk + 208);
    const int8_t *sc = (const int8_t *)(blk + 192);
    float acc = 0.0f;
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < 4; k++) {
            const uint8_t *ql = blk + 64 * h + 32 * (k & 1), *qh = blk + 128 + 32 * h;
            int64_t isum = 0;
            for (int half = 0; half < 2; half++) {
                int part = 0; /* <= 16 * 32 * 32768 = 2^24 */
                for (int l = 16 * half; l < 16 * half + 16; l++) {
                    const int q = ((k < 2 ? ql[l] & 15 : ql[l] >> 4) | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
                    part += q * xq[128 * h + 32 * k + l];
                }
                isum += (int64_t)sc[8 * h + 2 * k + half] * part;
            }
            acc += d * xd[4 * h + k] * (float)isum;
        }
    return acc;
}

enum { KQ4, KQ5, KQ6 };

static void gemm_k(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys, int kind) {
    const int nb = x->nb, nsb = nb / 8;
    const size_t bb = kind == KQ4 ? 144 : kind == KQ5 ? 176 : 210;
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t = 0; t < nt; t++) {
            float acc = 0.0f;
            for (int i = 0; i < nsb; i++) {
                const size_t xb = (size_t)t * nb + (size_t)i * 8;
                const int16_t *xq = x->q + xb * HK_QK;
                if (kind == KQ6)
                    acc += dot_q6_k(row + i * bb, xq, x->d + xb);
                else
                    acc += dot_q45_k(row + i * bb, xq, x->d + xb, x->s + xb, kind == KQ5);
            }
            y[(size_t)t * ys + r] = acc;
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

static inline float f32_at(const uint8_t *p, int i) {
    float v;
    memcpy(&v, p + 4 * (size_t)i, 4);
    return v;
}
static inline float f16_el(const uint8_t *p, int i) { return f16_at(p + 2 * (size_t)i); }
static inline float bf16_el(const uint8_t *p, int i) {
    return hu_bf16_to_f32((uint16_t)(p[2 * (size_t)i] | (p[2 * (size_t)i + 1] << 8)));
}

static void gemm_f32(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y, size_t ys) {
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < nt; t++) {
            const uint8_t *row = w + (size_t)r * rb;
            const float *xt = x + (size_t)t * xs;
            float acc = 0.0f;
            for (int i = 0; i < n; i++) acc += f32_at(row, i) * xt[i];
            y[(size_t)t * ys + r] = acc;
        }
}

static void gemm_f16(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y, size_t ys) {
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < nt; t++) {
            const uint8_t *row = w + (size_t)r * rb;
            const float *xt = x + (size_t)t * xs;
            float acc = 0.0f;
            for (int i = 0; i < n; i++) acc += f16_el(row, i) * xt[i];
            y[(size_t)t * ys + r] = acc;
        }
}

static void gemm_bf16(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y, size_t ys) {
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < nt; t++) {
            const uint8_t *row = w + (size_t)r * rb;
            const float *xt = x + (size_t)t * xs;
            float acc = 0.0f;
            for (int i = 0; i < n; i++) acc += bf16_el(row, i) * xt[i];
            y[(size_t)t * ys + r] = acc;
        }
}

static void mm_f32(float *out, size_t os, const float *a, size_t as, const float *b, size_t bs, int M, int n, int K,
                   float alpha) {
    for (int i = 0; i < M; i++) {
        float *o = out + (size_t)i * os;
        for (int c = 0; c < n; c++) o[c] = alpha != 0.0f ? alpha * o[c] : 0.0f;
        for (int k = 0; k < K; k++) {
            const float aik = a[(size_t)i * as + k];
            const float *bk = b + (size_t)k * bs;
            for (int c = 0; c < n; c++) o[c] += aik * bk[c];
        }
    }
}

static float dot(const float *a, const float *b, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

static void axpy(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

static void scale(float *y, float a, int n) {
    for (int i = 0; i < n; i++) y[i] *= a;
}

static float ssm_step(float *S, float a, float bx, const float *B, const float *C, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) {
        S[i] = a * S[i] + bx * B[i];
        acc += S[i] * C[i];
    }
    return acc;
}

static float exp_sum(float *x, float m, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    return sum;
}

static void silu(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

static void mul_silu(float *y, const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++) y[i] = a[i] * (b[i] / (1.0f + expf(-b[i])));
}

static double sumsq(const float *x, int n) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    return ss;
}

static void scale_mul(float *out, const float *x, const float *w, float r, int n) {
    for (int i = 0; i < n; i++) out[i] = w[i] * (x[i] * r);
}

static const hk_kernels k_generic = {
    .name = "generic",
    .quantize_q8 = quantize_q8,
    .quantize_q16 = quantize_q16,
    .gemm_q4_0 = gemm_q4_0,
    .gemm_q4_0_x16 = gemm_q4_0_x16,
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

const hk_kernels *hk_generic(void) { return &k_generic; }
