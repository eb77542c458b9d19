/* test_ops_simd.c - every CPU kernel table (generic, AVX2, AVX-512, wasm SIMD128) and threaded op against the plain-C reference, op by op.
 *
 * Tolerances (all on random inputs, several shapes incl. odd sizes and tails):
 * - quantize_q8: codes and scale byte-identical to ht_quantize(HT_Q8_0); s = d * sum(codes) exactly.
 * - quantize_q16: codes, d and s identical to the generic table's; the generic's meet
 *   |x - q d| <= d/2 (+ float rounding), d = amax/32767, s = d * sum(codes) exactly.
 * - Quantised tiles (Q4_0 on Q8_0 activations; Q8_0, Q4_K, Q5_K, Q6_K on int16 activations; odd
 *   row/token counts, 1-5 blocks or 1-3 super-blocks), SIMD table vs generic table (same exact
 *   integer block sums, float scaling and accumulation order differ): |diff| <= 2e-5 * M + 1e-6,
 *   M = the sum of the magnitudes of the float terms: sum over blocks of |d_w d_x| * sum_j |w_j q_j|
 *   (+ 8 sum |q_j| for Q4_0's offset), and for int16 activations sum_i (|w_i| + 2 o_i) |d_x q_i|
 *   (o_i = the Q4_K/Q5_K offset dmin*m of value i, 0 otherwise).
 * - The same tiles, generic table vs the f32 reference ht_dot on unquantised activations: the
 *   activation rounding bound sum_i |w_i| * c * d_x(block of i), c = 0.57 for Q8_0 activations
 *   (half a step + the f16 rounding of d_x) and 0.501 for int16 (half a step, d_x in f32), plus
 *   1e-5 * sum (|w_i| + 2 o_i) |x_i| for the float arithmetic.
 * - F32/F16/BF16 tiles vs ht_dot: 1e-5 * sum |w_i x_i| + 1e-6 (f32 accumulation, other order).
 * - vector ops vs double-precision sums: 1e-5 relative to the sum of magnitudes; exp/silu 2e-6
 *   relative (the SIMD exp is a polynomial within 2 ulp).
 * - threaded ops (hcpu_*) vs hop_*_ref: 2e-5 relative to each output's magnitude for the float
 *   ops; matmuls as above.
 * - Q4_0 in the x16 layout (repacked at load for AVX-512): the pack round-trips byte for byte;
 *   each table's gemm_q4_0_x16 on packed rows equals its gemm_q4_0 on the same rows bit for bit
 *   (whole groups and a short last group, 1, 2, 3, 6 and 9 tokens, more blocks than a prefill
 *   chunk; the AVX2 and AVX-512 tables must have one); hcpu_matmul, hop_matmul_ref and hm_weight_dequantize_row on a packed weight equal
 *   them on the row layout bit for bit (hcpu_matmul with a table without an x16 tile: the
 *   generic table's on rows).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cpu.h"
#include "ops.h"
#include "quant.h"
#include "threadpool.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd_u32(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}
static float rnd(void) { return (float)rnd_u32() / 4294967296.0f * 2.0f - 1.0f; } /* [-1, 1) */
static void fill(float *x, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = rnd() * scale;
}

static const hk_kernels *tables[4];
static hk_kernels avx512_table;
static int n_tables;

/* ---- activation quantisation ---- */

static void test_quantize(const hk_kernels *k) {
    const int nbs[] = {1, 3, 7, 98};
    for (size_t c = 0; c < sizeof nbs / sizeof nbs[0]; c++) {
        const int nb = nbs[c], n = nb * HK_QK;
        float *x = malloc(sizeof(float) * n), *d = malloc(sizeof(float) * nb), *s = malloc(sizeof(float) * nb);
        int8_t *q = malloc((size_t)n);
        uint8_t *ref = malloc((size_t)nb * 34);
        fill(x, n, 3.0f);
        for (int j = 0; j < HK_QK; j++) x[j] = 0; /* an all-zero block */
        if (nb > 2) {
            for (int j = 0; j < HK_QK; j++) x[2 * HK_QK + j] = (float)(j - 16) * 0.5f; /* exact .5 ties */
        }
        k->quantize_q8(x, q, d, s, nb);
        ht_quantize(HT_Q8_0, x, ref, n);
        int bad = 0;
        for (int b = 0; b < nb; b++) {
            const float rd = hu_f16_to_f32((uint16_t)(ref[b * 34] | (ref[b * 34 + 1] << 8)));
            int sum = 0;
            if (rd != d[b]) bad++;
            for (int j = 0; j < HK_QK; j++) {
                if ((int8_t)ref[b * 34 + 2 + j] != q[b * HK_QK + j]) bad++;
                sum += q[b * HK_QK + j];
            }
            if (s[b] != d[b] * (float)sum) bad++;
        }
        CHECK(bad == 0, "%s quantize_q8 nb=%d: %d values differ from ht_quantize(Q8_0)", k->name, nb, bad);
        free(x), free(d), free(s), free(q), free(ref);
    }
}

/* int16 activations: every table writes the generic table's codes and scales; the generic ones
 * meet the contract |x - q d| <= d/2 (plus float rounding), d = amax/32767, s = d * sum(q). */
static void test_quantize16(const hk_kernels *k) {
    const hk_kernels *g = hk_generic();
    const int nbs[] = {1, 3, 7, 98};
    int bad = 0, bad_contract = 0;
    for (size_t c = 0; c < sizeof nbs / sizeof nbs[0]; c++) {
        const int nb = nbs[c], n = nb * HK_QK;
        float *x = malloc(sizeof(float) * n), *d = malloc(sizeof(float) * nb), *s = malloc(sizeof(float) * nb);
        float *dg = malloc(sizeof(float) * nb), *sg = malloc(sizeof(float) * nb);
        int16_t *q = malloc(sizeof(int16_t) * n), *qg = malloc(sizeof(int16_t) * n);
        fill(x, n, 3.0f);
        for (int j = 0; j < HK_QK; j++) x[j] = 0; /* an all-zero block */
        if (nb > 2)
            for (int j = 0; j < HK_QK; j++) x[2 * HK_QK + j] = (float)(j - 16) * 1e-3f; /* small values, amax 0.016 */
        k->quantize_q16(x, q, d, s, nb);
        g->quantize_q16(x, qg, dg, sg, nb);
        for (int b = 0; b < nb; b++) {
            int sum = 0;
            float amax = 0;
            if (d[b] != dg[b] || s[b] != sg[b]) bad++;
            for (int j = 0; j < HK_QK; j++) {
                const int i = b * HK_QK + j;
                if (q[i] != qg[i]) bad++;
                sum += qg[i];
                amax = fmaxf(amax, fabsf(x[i]));
            }
            if (dg[b] != amax / 32767.0f || sg[b] != dg[b] * (float)sum) bad_contract++;
            for (int j = 0; j < HK_QK; j++) {
                const int i = b * HK_QK + j;
                if (!(fabs((double)x[i] - (double)qg[i] * dg[b]) <= 0.5 * dg[b] * (1 + 1e-6) + 1e-7 * fabs(x[i]))) bad_contract++;
            }
        }
        free(x), free(d), free(s), free(dg), free(sg), free(q), free(qg);
    }
    CHECK(bad == 0, "%s quantize_q16: %d values differ from the generic table", k->name, bad);
    CHECK(bad_contract == 0, "quantize_q16 (generic): %d values break |x - q d| <= d/2, d = amax/32767", bad_contract);
}

/* ---- quantised tiles ---- */

static float blk_scale(const uint8_t *b) { return hu_f16_to_f32((uint16_t)(b[0] | (b[1] << 8))); }

static bool is_q16(uint32_t type) { return type != HT_Q4_0; }
static bool is_kquant(uint32_t type) { return type == HT_Q4_K || type == HT_Q5_K || type == HT_Q6_K; }

/* The offset dmin * m subtracted from value i of a Q4_K / Q5_K row (0 for other types). */
static double k_offset(uint32_t type, const uint8_t *row, int i) {
    if (type != HT_Q4_K && type != HT_Q5_K) return 0;
    const uint8_t *blk = row + (size_t)(i / HK_QKK) * (type == HT_Q4_K ? 144 : 176);
    int sc, m;
    hk_k_scale_min(blk + 4, (i % HK_QKK) / 32, &sc, &m);
    return (double)blk_scale(blk + 2) * m;
}

/* M of the header for row `row` (type q4/q8) and token t of act. */
static double q_magnitude(uint32_t type, const uint8_t *row, const hk_q8act *a, int t) {
    double m = 0;
    for (int b = 0; b < a->nb; b++) {
        const int8_t *xq = a->q + ((size_t)t * a->nb + b) * HK_QK;
        const uint8_t *blk = row + (size_t)b * (type == HT_Q4_0 ? 18 : 34);
        double s = 0;
        for (int j = 0; j < HK_QK; j++) {
            int wq = type == HT_Q4_0 ? (j < 16 ? (blk[2 + j] & 15) : (blk[2 + j - 16] >> 4)) : (int8_t)blk[2 + j];
            s += fabs((double)wq * xq[j]) + (type == HT_Q4_0 ? 8.0 * abs(xq[j]) : 0);
        }
        m += fabs((double)blk_scale(blk) * a->d[(size_t)t * a->nb + b]) * s;
    }
    return m;
}

/* Q4_0 takes Q8_0 activations; Q8_0 and the k-quants int16 ones. */
static void test_gemm_q(const hk_kernels *k, uint32_t type) {
    const hk_kernels *g = hk_generic();
    const int nrs[] = {1, 7, 8, 13, 24}, nts[] = {1, 2, 3, 4, 5, 9}, nbss[] = {1, 2, 5}, nbss_k[] = {8, 24, 16};
    const bool q16 = is_q16(type), kq = is_kquant(type);
    uint64_t rb64;
    int bad_simd = 0, bad_ref = 0, cases = 0;
    double worst_ref = 0;
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 6; b++)
            for (size_t c = 0; c < 3; c++) {
                const int nr = nrs[a], nt = nts[b], nb = kq ? nbss_k[c] : nbss[c], n = nb * HK_QK;
                ht_row_bytes(type, (uint64_t)n, &rb64);
                const size_t rb = (size_t)rb64, ys = (size_t)nr + 3;
                float *wf = malloc(sizeof(float) * (size_t)nr * n), *x = malloc(sizeof(float) * (size_t)nt * n);
                uint8_t *w = malloc(rb * (size_t)nr);
                fill(wf, (size_t)nr * n, 1.0f);
                fill(x, (size_t)nt * n, 2.0f);
                for (int r = 0; r < nr; r++) ht_quantize(type, wf + (size_t)r * n, w + (size_t)r * rb, n);
                float *ad = malloc(sizeof(float) * nt * nb), *as = malloc(sizeof(float) * nt * nb);
                hk_q8act act = {malloc((size_t)nt * n), ad, as, nb};
                hk_q16act act16 = {malloc(sizeof(int16_t) * (size_t)nt * n), ad, as, nb};
                for (int t = 0; t < nt; t++) {
                    if (q16)
                        g->quantize_q16(x + (size_t)t * n, act16.q + (size_t)t * n, ad + (size_t)t * nb, as + (size_t)t * nb, nb);
                    else
                        g->quantize_q8(x + (size_t)t * n, act.q + (size_t)t * n, ad + (size_t)t * nb, as + (size_t)t * nb, nb);
                }
                float *y = calloc((size_t)nt * ys, sizeof(float)), *yg = calloc((size_t)nt * ys, sizeof(float));
                if (q16) {
                    hk_gemm_q16_fn f = type == HT_Q8_0 ? k->gemm_q8_0 : type == HT_Q4_K ? k->gemm_q4_k : type == HT_Q5_K ? k->gemm_q5_k : k->gemm_q6_k;
                    hk_gemm_q16_fn fg = type == HT_Q8_0 ? g->gemm_q8_0 : type == HT_Q4_K ? g->gemm_q4_k : type == HT_Q5_K ? g->gemm_q5_k : g->gemm_q6_k;
                    f(w, rb, nr, &act16, nt, y, ys);
                    fg(w, rb, nr, &act16, nt, yg, ys);
                } else {
                    k->gemm_q4_0(w, rb, nr, &act, nt, y, ys);
                    g->gemm_q4_0(w, rb, nr, &act, nt, yg, ys);
                }
                float *wd = malloc(sizeof(float) * n);
                for (int r = 0; r < nr; r++) {
                    const uint8_t *row = w + (size_t)r * rb;
                    ht_dequantize(type, row, wd, n);
                    for (int t = 0; t < nt; t++) {
                        const float *xt = x + (size_t)t * n;
                        const float *xd = ad + (size_t)t * nb;
                        /* M: the generic's float terms (k-quants: scaled codes and offsets, each <= |w| + offset) */
                        double M = 0;
                        if (q16) {
                            for (int i = 0; i < n; i++)
                                M += (fabs(wd[i]) + 2 * k_offset(type, row, i)) * fabs((double)act16.q[(size_t)t * n + i] * xd[i / HK_QK]);
                        } else {
                            M = q_magnitude(type, row, &act, t);
                        }
                        const float v = y[(size_t)t * ys + r], vg = yg[(size_t)t * ys + r];
                        if (!(fabs((double)v - vg) <= 2e-5 * M + 1e-6)) bad_simd++;
                        /* activation rounding bound against the f32 reference */
                        double bound = 0, mag = 0;
                        for (int i = 0; i < n; i++) {
                            bound += fabs(wd[i]) * (q16 ? 0.501 : 0.57) * xd[i / HK_QK];
                            mag += (fabs(wd[i]) + 2 * k_offset(type, row, i)) * fabs(xt[i]);
                        }
                        const float ref = ht_dot(type, row, xt, n);
                        const double err = fabs((double)vg - ref);
                        if (!(err <= bound + 1e-5 * mag)) bad_ref++;
                        if (bound > 0 && err / bound > worst_ref) worst_ref = err / bound;
                    }
                }
                /* the stride padding stays untouched */
                for (int t = 0; t < nt; t++)
                    for (size_t r = (size_t)nr; r < ys; r++)
                        if (y[(size_t)t * ys + r] != 0) bad_simd++;
                cases++;
                free(wf), free(x), free(w), free(act.q), free(act16.q), free(ad), free(as), free(y), free(yg), free(wd);
            }
    const char *tn = ht_type_get(type)->name;
    CHECK(bad_simd == 0, "%s gemm_%s: %d outputs differ from the generic table beyond 2e-5 M", k->name, tn, bad_simd);
    CHECK(bad_ref == 0, "%s gemm_%s: %d outputs outside the activation-rounding bound of ht_dot", k->name, tn, bad_ref);
    if (getenv("HEARTH_VERBOSE"))
        printf("%s gemm_%s: %d shapes, worst |generic - f32 ref| = %.2f of the rounding bound\n", k->name, tn, cases, worst_ref);
}

/* A random Q4_0 matrix of nr rows x nb blocks (row layout), and its copy in the x16 layout. */
static void random_q4_0(int nr, int nb, uint8_t **rows, uint8_t **packed) {
    const int n = nb * HK_QK;
    const size_t rb = (size_t)nb * 18;
    float *wf = malloc(sizeof(float) * (size_t)n);
    *rows = malloc(rb * (size_t)nr);
    *packed = malloc(rb * (size_t)nr);
    uint8_t *tmp = malloc(rb * HK_X16);
    for (int r = 0; r < nr; r++) {
        fill(wf, (size_t)n, 1.0f);
        ht_quantize(HT_Q4_0, wf, *rows + (size_t)r * rb, n);
    }
    memcpy(*packed, *rows, rb * (size_t)nr);
    hk_q4_0_pack_x16(*packed, rb, (uint64_t)nr, tmp);
    free(wf), free(tmp);
}

/* The x16 layout: round trip, and gemm_q4_0_x16 == gemm_q4_0 bit for bit (tables that have one). */
static void test_gemm_q4_0_x16(const hk_kernels *k) {
    if (!k->gemm_q4_0_x16) return;
    const int nrs[] = {13, 16, 35, 48}, nts[] = {1, 2, 3, 6, 9}, nbs[] = {1, 5, 70}; /* 70 blocks: two prefill chunks */
    int bad = 0, bad_trip = 0, moved = 0;
    for (size_t a = 0; a < 4; a++)
        for (size_t c = 0; c < 3; c++) {
            const int nr = nrs[a], nb = nbs[c], n = nb * HK_QK;
            const size_t rb = (size_t)nb * 18;
            uint8_t *w, *pk;
            random_q4_0(nr, nb, &w, &pk);
            if (nr >= HK_X16 && memcmp(w, pk, rb * HK_X16) != 0) moved++;
            uint8_t *row = malloc(rb);
            for (int r = 0; r < nr; r++) {
                hk_q4_0_blocks_x16(pk, rb, (uint64_t)nr, (uint64_t)r, 0, (size_t)nb, row);
                if (memcmp(row, w + (size_t)r * rb, rb) != 0) bad_trip++;
            }
            for (size_t b = 0; b < 5; b++) {
                const int nt = nts[b];
                const size_t ys = (size_t)nr + 3;
                float *x = malloc(sizeof(float) * (size_t)nt * n), *ad = malloc(sizeof(float) * nt * nb),
                      *as = malloc(sizeof(float) * nt * nb);
                hk_q8act act = {malloc((size_t)nt * n), ad, as, nb};
                fill(x, (size_t)nt * n, 2.0f);
                for (int t = 0; t < nt; t++)
                    k->quantize_q8(x + (size_t)t * n, act.q + (size_t)t * n, ad + (size_t)t * nb, as + (size_t)t * nb, nb);
                float *y = calloc((size_t)nt * ys, sizeof(float)), *yp = calloc((size_t)nt * ys, sizeof(float));
                k->gemm_q4_0(w, rb, nr, &act, nt, y, ys);
                k->gemm_q4_0_x16(pk, rb, nr, &act, nt, yp, ys);
                if (memcmp(y, yp, sizeof(float) * (size_t)nt * ys) != 0) bad++;
                free(x), free(ad), free(as), free(act.q), free(y), free(yp);
            }
            free(w), free(pk), free(row);
        }
    CHECK(moved == 3 * 3, "x16 pack left %d of 9 matrices with whole groups unchanged", 9 - moved);
    CHECK(bad_trip == 0, "x16 layout: %d rows do not round-trip", bad_trip);
    CHECK(bad == 0, "%s gemm_q4_0_x16: %d cases differ from gemm_q4_0 on the same rows", k->name, bad);
}

/* ---- float tiles ---- */

static void test_gemm_f(const hk_kernels *k, uint32_t type) {
    const int nrs[] = {1, 3, 4, 9}, nts[] = {1, 2, 3, 5}, ns[] = {1, 7, 8, 33, 100};
    int bad = 0;
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++)
            for (size_t c = 0; c < 5; c++) {
                const int nr = nrs[a], nt = nts[b], n = ns[c];
                uint64_t rb64;
                ht_row_bytes(type, (uint64_t)n, &rb64);
                const size_t rb = (size_t)rb64 + 6, xs = (size_t)n + 1, ys = (size_t)nr + 2; /* padded strides */
                float *wf = malloc(sizeof(float) * n), *x = malloc(sizeof(float) * nt * xs);
                uint8_t *w = calloc((size_t)nr, rb);
                for (int r = 0; r < nr; r++) {
                    fill(wf, (size_t)n, 1.0f);
                    ht_quantize(type, wf, w + (size_t)r * rb, n);
                }
                fill(x, (size_t)nt * xs, 1.0f);
                float *y = calloc((size_t)nt * ys, sizeof(float));
                hk_gemm_f_fn f = type == HT_F32 ? k->gemm_f32 : type == HT_F16 ? k->gemm_f16 : k->gemm_bf16;
                f(w, rb, nr, x, xs, nt, n, y, ys);
                float *wd = malloc(sizeof(float) * n);
                for (int r = 0; r < nr; r++) {
                    ht_dequantize(type, w + (size_t)r * rb, wd, n);
                    for (int t = 0; t < nt; t++) {
                        double mag = 0;
                        for (int i = 0; i < n; i++) mag += fabs((double)wd[i] * x[(size_t)t * xs + i]);
                        const float ref = ht_dot(type, w + (size_t)r * rb, x + (size_t)t * xs, n);
                        if (!(fabs((double)y[(size_t)t * ys + r] - ref) <= 1e-5 * mag + 1e-6)) bad++;
                    }
                }
                free(wf), free(x), free(w), free(y), free(wd);
            }
    CHECK(bad == 0, "%s gemm_%s: %d outputs differ from ht_dot", k->name, ht_type_get(type)->name, bad);
}

/* ---- vector ops ---- */

static bool close_rel(double a, double b, double mag, double rel) { return fabs(a - b) <= rel * mag + 1e-30; }

static void test_vector_ops(const hk_kernels *k) {
    const int ns[] = {1, 5, 8, 17, 128, 131};
    int bad[10] = {0};
    for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
        const int n = ns[c];
        float a[131], b[131], C[131], y[131], y0[131], S[131], S0[131];
        fill(a, (size_t)n, 2.0f);
        fill(b, (size_t)n, 2.0f);
        fill(C, (size_t)n, 1.0f);
        double dd = 0, mag = 0;
        for (int i = 0; i < n; i++) dd += (double)a[i] * b[i], mag += fabs((double)a[i] * b[i]);
        if (!close_rel(k->dot(a, b, n), dd, mag, 1e-5)) bad[0]++;
        memcpy(y, b, sizeof y);
        k->axpy(y, 0.75f, a, n);
        for (int i = 0; i < n; i++)
            if (!close_rel(y[i], (double)b[i] + 0.75 * a[i], fabs(b[i]) + fabs(0.75 * a[i]), 1e-6)) bad[1]++;
        memcpy(y, b, sizeof y);
        k->scale(y, -1.5f, n);
        for (int i = 0; i < n; i++)
            if (y[i] != b[i] * -1.5f) bad[2]++;
        /* ssm_step */
        fill(S, (size_t)n, 1.0f);
        memcpy(S0, S, sizeof S);
        const float sa = 0.9f, sb = 0.3f;
        const float got = k->ssm_step(S, sa, sb, b, C, n);
        double want = 0, wmag = 0;
        for (int i = 0; i < n; i++) {
            const double s = (double)sa * S0[i] + (double)sb * b[i];
            if (!close_rel(S[i], s, fabs(sa * S0[i]) + fabs(sb * b[i]), 1e-6)) bad[3]++;
            want += s * C[i];
            wmag += fabs(s * C[i]);
        }
        if (!close_rel(got, want, wmag, 1e-5)) bad[3]++;
        /* exp_sum over a wide range (scores down to -100 below the max) */
        for (int i = 0; i < n; i++) y[i] = y0[i] = rnd() * 50.0f - 50.0f;
        const float m = 1.0f;
        const float sum = k->exp_sum(y, m, n);
        double ws = 0;
        for (int i = 0; i < n; i++) {
            const double e = exp((double)y0[i] - m);
            if (!close_rel(y[i], e, e, 2e-6) && !(e < 1e-37 && y[i] < 2e-38)) bad[4]++;
            ws += e;
        }
        if (!close_rel(sum, ws, ws, 1e-5)) bad[4]++;
        /* silu and mul_silu, inputs in [-40, 40] and beyond the clamp */
        for (int i = 0; i < n; i++) y0[i] = rnd() * 40.0f;
        if (n > 2) y0[0] = -120.0f, y0[1] = 120.0f;
        k->silu(y, y0, n);
        for (int i = 0; i < n; i++) {
            const double e = (double)y0[i] / (1.0 + exp(-(double)y0[i]));
            if (!close_rel(y[i], e, fabs(e), 2e-6) && !(fabs(e) < 1e-30 && fabs(y[i]) < 1e-30)) bad[5]++;
        }
        k->mul_silu(y, a, y0, n);
        for (int i = 0; i < n; i++) {
            const double e = (double)a[i] * ((double)y0[i] / (1.0 + exp(-(double)y0[i])));
            if (!close_rel(y[i], e, fabs(e), 3e-6) && !(fabs(e) < 1e-30 && fabs(y[i]) < 1e-30)) bad[6]++;
        }
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double)a[i] * a[i];
        if (!close_rel(k->sumsq(a, n), ss, ss, 1e-12)) bad[7]++;
        k->scale_mul(y, a, b, 0.37f, n);
        for (int i = 0; i < n; i++)
            if (y[i] != b[i] * (a[i] * 0.37f)) bad[8]++;
    }
    const char *names[] = {"dot", "axpy", "scale", "ssm_step", "exp_sum", "silu", "mul_silu", "sumsq", "scale_mul"};
    for (int i = 0; i < 9; i++) CHECK(bad[i] == 0, "%s %s: %d values out of tolerance", k->name, names[i], bad[i]);
}

/* ---- threaded ops against the references ---- */

/* max over i of |a - b| / (|b| + floor) */
static double rel_err(const float *a, const float *b, size_t n, double floor_) {
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + floor_);
        if (!(e <= w)) w = e; /* NaN propagates */
    }
    return w;
}

static void test_matmul(hcpu_ctx *c, uint32_t type) {
    const int n_ins_q[] = {32, 96, 320}, n_ins_k[] = {256, 768, 512}, n_ins_f[] = {5, 37, 96}, n_outs[] = {1, 13, 40},
              Ts[] = {1, 3, 70};
    const bool kq = is_kquant(type), q = type == HT_Q4_0 || type == HT_Q8_0 || kq;
    int bad = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int d = 0; d < 3; d++) {
                const int n_in = kq ? n_ins_k[a] : q ? n_ins_q[a] : n_ins_f[a], n_out = n_outs[b], T = Ts[d];
                uint64_t rb;
                ht_row_bytes(type, (uint64_t)n_in, &rb);
                uint8_t *data = malloc((size_t)rb * n_out);
                float *wf = malloc(sizeof(float) * n_in), *x = malloc(sizeof(float) * T * n_in);
                for (int r = 0; r < n_out; r++) {
                    fill(wf, (size_t)n_in, 1.0f);
                    ht_quantize(type, wf, data + (size_t)r * rb, n_in);
                }
                fill(x, (size_t)T * n_in, 1.0f);
                hm_weight w = {.type = type, .ne = {(uint64_t)n_in, (uint64_t)n_out, 1, 1}, .data = data, .row_bytes = rb};
                float *y = malloc(sizeof(float) * T * n_out), *yr = malloc(sizeof(float) * T * n_out);
                hcpu_reserve(c, T, n_in, 8, 4, 1, 1, 1, NULL);
                hcpu_matmul(c, &w, x, T, y);
                hop_matmul_ref(&w, x, T, yr);
                /* bound per output: the activation rounding (quantised types) + 1e-5 of the magnitude */
                float *wd = malloc(sizeof(float) * n_in);
                for (int r = 0; r < n_out; r++) {
                    ht_dequantize(type, data + (size_t)r * rb, wd, n_in);
                    for (int t = 0; t < T; t++) {
                        const float *xt = x + (size_t)t * n_in;
                        double bound = 0, mag = 0;
                        for (int bb = 0; bb < n_in; bb += 32) {
                            float amax = 0;
                            for (int i = bb; i < bb + 32 && i < n_in; i++) amax = fmaxf(amax, fabsf(xt[i]));
                            for (int i = bb; i < bb + 32 && i < n_in; i++) {
                                if (q) bound += fabs(wd[i]) * (type == HT_Q4_0 ? 0.57 * amax / 127.0 * 1.001 : 0.501 * amax / 32767.0);
                                mag += (fabs(wd[i]) + 2 * k_offset(type, data + (size_t)r * rb, i)) * fabs(xt[i]);
                            }
                        }
                        if (!(fabs((double)y[(size_t)t * n_out + r] - yr[(size_t)t * n_out + r]) <= bound + 1e-5 * mag + 1e-6))
                            bad++;
                    }
                }
                free(data), free(wf), free(x), free(y), free(yr), free(wd);
            }
    CHECK(bad == 0, "hcpu_matmul %s (%s, %d threads): %d outputs out of bound", ht_type_get(type)->name, c->k->name, c->nth, bad);
}

/* hcpu_matmul, hop_matmul_ref and hm_weight_dequantize_row on a packed Q4_0 weight vs the row layout. */
static void test_matmul_x16(hcpu_ctx *c) {
    const int n_ins[] = {32, 96, 2240}, n_outs[] = {13, 40, 128}, Ts[] = {1, 2, 3, 70};
    const hk_kernels *k = c->k, *rows_k = c->k->gemm_q4_0_x16 ? c->k : hk_generic();
    int bad = 0, bad_ref = 0, bad_row = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int d = 0; d < 4; d++) {
                const int n_in = n_ins[a], n_out = n_outs[b], T = Ts[d];
                uint8_t *data, *pk;
                random_q4_0(n_out, n_in / HK_QK, &data, &pk);
                const uint64_t rb = (uint64_t)n_in / HK_QK * 18;
                hm_weight w = {.type = HT_Q4_0, .ne = {(uint64_t)n_in, (uint64_t)n_out, 1, 1}, .data = data, .row_bytes = rb};
                hm_weight wp = w;
                wp.data = pk;
                wp.layout = HM_LAYOUT_Q4_0_X16;
                float *x = malloc(sizeof(float) * T * n_in);
                fill(x, (size_t)T * n_in, 1.0f);
                float *y = malloc(sizeof(float) * T * n_out), *yp = malloc(sizeof(float) * T * n_out);
                hcpu_reserve(c, T, n_in, 8, 4, 1, 1, 1, NULL);
                c->k = rows_k;
                hcpu_matmul(c, &w, x, T, y);
                c->k = k;
                hcpu_matmul(c, &wp, x, T, yp);
                if (memcmp(y, yp, sizeof(float) * T * n_out) != 0) bad++;
                if (n_in <= 96 && T <= 3) {
                    hop_matmul_ref(&w, x, T, y);
                    hop_matmul_ref(&wp, x, T, yp);
                    if (memcmp(y, yp, sizeof(float) * T * n_out) != 0) bad_ref++;
                }
                float *r1 = malloc(sizeof(float) * n_in), *r2 = malloc(sizeof(float) * n_in);
                for (int r = 0; r < n_out; r++) {
                    hm_weight_dequantize_row(&w, (uint64_t)r, r1);
                    hm_weight_dequantize_row(&wp, (uint64_t)r, r2);
                    if (memcmp(r1, r2, sizeof(float) * n_in) != 0) bad_row++;
                }
                free(data), free(pk), free(x), free(y), free(yp), free(r1), free(r2);
            }
    CHECK(bad == 0, "hcpu_matmul q4_0 x16 (%s, %d threads): %d cases differ from the row layout (%s)", k->name, c->nth, bad,
          rows_k->name);
    CHECK(bad_ref == 0, "hop_matmul_ref q4_0 x16: %d cases differ from the row layout", bad_ref);
    CHECK(bad_row == 0, "hm_weight_dequantize_row q4_0 x16: %d rows differ from the row layout", bad_row);
}

static void test_float_ops(hcpu_ctx *c) {
    const char *kn = c->k->name;
    /* rmsnorm over rows */
    {
        const int T = 5, n = 37;
        float x[5 * 37], w[37], out[5 * 37], ref[5 * 37];
        fill(x, sizeof x / sizeof x[0], 3.0f);
        fill(w, 37, 1.0f);
        hcpu_rmsnorm(c, out, x, w, T, n, 1e-5f);
        for (int t = 0; t < T; t++) hop_rmsnorm_ref(ref + t * n, x + t * n, w, n, 1e-5f);
        CHECK(rel_err(out, ref, (size_t)T * n, 1e-3) < 2e-5, "%s hcpu_rmsnorm differs from hop_rmsnorm_ref", kn);
    }
    /* gated norm with row strides */
    {
        const int T = 3, n = 48, G = 4, zs = 60;
        float y[3 * 48], z[3 * 60], w[48], out[3 * 48], ref[3 * 48];
        fill(y, sizeof y / sizeof y[0], 2.0f);
        fill(z, sizeof z / sizeof z[0], 4.0f);
        fill(w, 48, 1.0f);
        memcpy(out, y, sizeof y);
        hcpu_gated_norm(c, out, out, (size_t)n, z, (size_t)zs, w, T, n, G, 1e-5f);
        for (int t = 0; t < T; t++) hop_gated_norm_ref(ref + t * n, y + t * n, z + t * zs, w, n, G, 1e-5f);
        CHECK(rel_err(out, ref, (size_t)T * n, 1e-3) < 2e-5, "%s hcpu_gated_norm differs from hop_gated_norm_ref", kn);
    }
    /* attention: 3 new queries after 5 cached positions, GQA 6 heads over 2 */
    {
        const int p0 = 5, T = 3, nh = 6, nkv = 2, hd = 20, kvd = nkv * hd;
        float q[3 * 6 * 20], kc[8 * 40], vc[8 * 40], out[3 * 6 * 20], ref[3 * 6 * 20], scratch[8];
        fill(q, sizeof q / sizeof q[0], 1.0f);
        fill(kc, sizeof kc / sizeof kc[0], 1.0f);
        fill(vc, sizeof vc / sizeof vc[0], 1.0f);
        hcpu_reserve(c, T, 32, p0 + T, 4, 1, 1, 1, NULL);
        hcpu_attention(c, q, kc, vc, p0, T, nh, nkv, hd, out);
        hop_attention_ref(q, kc, vc, p0, T, nh, nkv, hd, ref, scratch);
        (void)kvd;
        CHECK(rel_err(out, ref, sizeof out / sizeof out[0], 1e-2) < 2e-5, "%s hcpu_attention differs from hop_attention_ref", kn);
    }
    /* conv + SiLU, two calls so that the state carries over (T = 2 then 5; C odd) */
    {
        const int C = 37, K = 4;
        float w[37 * 4], b[37], st[3 * 37], str[3 * 37], x1[2 * 37], x2[5 * 37], o[5 * 37], r[5 * 37];
        fill(w, sizeof w / sizeof w[0], 0.5f);
        fill(b, 37, 0.1f);
        fill(st, sizeof st / sizeof st[0], 1.0f);
        memcpy(str, st, sizeof st);
        fill(x1, sizeof x1 / sizeof x1[0], 1.0f);
        fill(x2, sizeof x2 / sizeof x2[0], 1.0f);
        hcpu_conv_silu(c, x1, 2, C, K, w, b, st, o);
        hop_conv_silu_ref(x1, 2, C, K, w, b, str, r);
        double e = rel_err(o, r, 2 * 37, 1e-3);
        hcpu_conv_silu(c, x2, 5, C, K, w, b, st, o);
        hop_conv_silu_ref(x2, 5, C, K, w, b, str, r);
        double e2 = rel_err(o, r, 5 * 37, 1e-3), e3 = rel_err(st, str, 3 * 37, 0);
        CHECK(e < 2e-5 && e2 < 2e-5 && e3 == 0, "%s hcpu_conv_silu differs from hop_conv_silu_ref (%g %g %g)", kn, e, e2, e3);
    }
    /* SSM: scan and chunked (chunks 1 token, 4, 8 and longer than T), T = 13, H = 6, G = 2 */
    {
        enum { T = 13, H = 6, P = 5, G = 2, N = 12 };
        float x[T * H * P], B[T * G * N], Cm[T * G * N], dt[T * H], A[H], D[H];
        float s0[H * P * N], s1[H * P * N], s2[H * P * N], y1[T * H * P], y2[T * H * P];
        fill(x, sizeof x / sizeof x[0], 1.0f);
        fill(B, sizeof B / sizeof B[0], 1.0f);
        fill(Cm, sizeof Cm / sizeof Cm[0], 1.0f);
        for (int i = 0; i < T * H; i++) dt[i] = 0.01f + 0.2f * (rnd() * 0.5f + 0.5f);
        for (int h = 0; h < H; h++) A[h] = -(1.0f + 4.0f * (rnd() * 0.5f + 0.5f)), D[h] = rnd();
        fill(s0, sizeof s0 / sizeof s0[0], 0.5f);
        memcpy(s1, s0, sizeof s0);
        memcpy(s2, s0, sizeof s0);
        hcpu_ssm_scan(c, x, B, Cm, dt, A, D, T, H, P, G, N, s1, y1);
        hop_ssm_scan_ref(x, B, Cm, dt, A, D, T, H, P, G, N, s2, y2);
        CHECK(rel_err(y1, y2, sizeof y1 / sizeof y1[0], 1e-2) < 2e-5 && rel_err(s1, s2, sizeof s1 / sizeof s1[0], 1e-2) < 2e-5,
              "%s hcpu_ssm_scan differs from hop_ssm_scan_ref", kn);
        const int chunks[] = {1, 4, 8, 64};
        for (int ci = 0; ci < 4; ci++) {
            const int L = chunks[ci];
            float *scratch = malloc(sizeof(float) * hop_ssm_chunked_scratch(L));
            memcpy(s1, s0, sizeof s0);
            memcpy(s2, s0, sizeof s0);
            hcpu_reserve(c, T, 32, 8, L, G, P, N, NULL);
            hcpu_ssm_chunked(c, x, B, Cm, dt, A, D, T, H, P, G, N, L, s1, y1);
            hop_ssm_chunked_ref(x, B, Cm, dt, A, D, T, H, P, G, N, L, s2, y2, scratch);
            const double ey = rel_err(y1, y2, sizeof y1 / sizeof y1[0], 1e-2), es = rel_err(s1, s2, sizeof s1 / sizeof s1[0], 1e-2);
            CHECK(ey < 2e-5 && es < 2e-5, "%s hcpu_ssm_chunked chunk %d differs from hop_ssm_chunked_ref (y %g, state %g)", kn, L, ey, es);
            free(scratch);
        }
    }
}

/* ---- the thread pool ---- */

typedef struct {
    int hits[64];
    int nth_seen;
} pool_arg;

static void pool_fn(void *v, int ith, int nth) {
    pool_arg *a = v;
    a->hits[ith]++;
    a->nth_seen = nth;
}

static void test_pool(void) {
    const int sizes[] = {1, 2, 3, 5};
    for (int s = 0; s < 4; s++) {
        htp_pool *p = htp_new(sizes[s]);
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
        const int want = 1; /* no threads in a wasm build without -pthread */
#else
        const int want = sizes[s];
#endif
        CHECK(p && htp_threads(p) == want, "htp_new(%d) made %d threads", sizes[s], htp_threads(p));
        pool_arg a = {{0}, 0};
        for (int r = 0; r < 2000; r++) htp_run(p, pool_fn, &a);
        /* let the workers fall asleep, then wake them */
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        for (int r = 0; r < 3; r++) htp_run(p, pool_fn, &a);
        int bad = 0;
        for (int i = 0; i < htp_threads(p); i++) bad += a.hits[i] != 2003;
        CHECK(bad == 0 && a.nth_seen == htp_threads(p), "pool of %d: %d threads missed runs", sizes[s], bad);
        htp_free(p);
    }
    htp_run(NULL, pool_fn, &(pool_arg){{0}, 0});
    htp_free(NULL);
}

int main(void) {
    tables[n_tables++] = hk_generic();
    if (hk_avx2()) tables[n_tables++] = hk_avx2();
    if (hk_avx512(&avx512_table)) tables[n_tables++] = &avx512_table;
    /* the x86 tables read the x16 layout themselves (a NULL entry would skip test_gemm_q4_0_x16) */
    CHECK(!hk_avx2() || hk_avx2()->gemm_q4_0_x16, "the AVX2 table has no gemm_q4_0_x16");
    CHECK(!hk_avx512(&avx512_table) || avx512_table.gemm_q4_0_x16 != hk_avx2()->gemm_q4_0_x16,
          "the AVX-512 table has no gemm_q4_0_x16 of its own");
    if (hk_wasm()) tables[n_tables++] = hk_wasm();
    printf("kernel tables: ");
    for (int i = 0; i < n_tables; i++) printf("%s ", tables[i]->name);
    hk_kernels picked;
    printf("(picked: %s)\n", hk_pick(&picked)->name);
    test_pool();
    for (int i = 0; i < n_tables; i++) {
        const hk_kernels *k = tables[i];
        test_quantize(k);
        test_quantize16(k);
        const uint32_t qtypes[] = {HT_Q4_0, HT_Q8_0, HT_Q4_K, HT_Q5_K, HT_Q6_K};
        for (int t = 0; t < 5; t++) test_gemm_q(k, qtypes[t]);
        test_gemm_q4_0_x16(k);
        test_gemm_f(k, HT_F32);
        test_gemm_f(k, HT_F16);
        test_gemm_f(k, HT_BF16);
        test_vector_ops(k);
    }
    /* threaded ops, with every table, on 1 and 3 threads */
    const int threads[] = {1, 3};
    for (int ti = 0; ti < 2; ti++)
        for (int i = 0; i < n_tables; i++) {
            hcpu_ctx *c = NULL;
            if (hcpu_new(threads[ti], &c, NULL) != HEARTH_OK) {
                CHECK(false, "hcpu_new failed");
                continue;
            }
            c->k = tables[i];
            const uint32_t types[] = {HT_Q4_0, HT_Q8_0, HT_Q4_K, HT_Q5_K, HT_Q6_K, HT_F32, HT_F16, HT_BF16};
            for (int t = 0; t < 8; t++) test_matmul(c, types[t]);
            test_matmul_x16(c);
            test_float_ops(c);
            hcpu_free(c);
        }
    return check_summary("ops_simd");
}
