/* cpu_mamba.c - the Mamba-2 mixer's conv + SiLU (split by channels) and SSM scan, recurrent and chunked (split by heads). */
#include <math.h>
#include <string.h>

#include "cpu.h"

/* ---- depthwise causal conv + SiLU ---- */

typedef struct {
    const hk_kernels *k;
    const float *xbc, *w, *b;
    float *state, *out;
    int T, C, K;
} conv_job;

static void conv_body(void *arg, int c0, int c1, int ith) {
    (void)ith;
    const conv_job *j = arg;
    const int C = j->C, K = j->K, H = K - 1; /* H history rows */
    for (int t = 0; t < j->T; t++) {
        float *o = j->out + (size_t)t * C;
        for (int c = c0; c < c1; c++) {
            float acc = j->b[c];
            for (int k = 0; k < K; k++) {
                const int src = t - H + k; /* time of the input this tap reads */
                const float v = src >= 0 ? j->xbc[(size_t)src * C + c] : j->state[(size_t)(H + src) * C + c];
                acc += j->w[(size_t)c * K + k] * v;
            }
            o[c] = acc;
        }
        j->k->silu(o + c0, o + c0, c1 - c0);
    }
    /* new history of these channels: the last H raw rows of [state; xbc] (rows read lie below
     * the row written, so ascending order never reads a row it already replaced) */
    for (int r = 0; r < H; r++) {
        const int src = j->T - H + r;
        const float *from = src >= 0 ? j->xbc + (size_t)src * C : j->state + (size_t)(H + src) * C;
        memmove(j->state + (size_t)r * C + c0, from + c0, sizeof(float) * (size_t)(c1 - c0));
    }
}

void hcpu_conv_silu(hcpu_ctx *c, const float *xbc, int T, int C, int K, const float *w, const float *b, float *state,
                    float *out) {
    conv_job j = {c->k, xbc, w, b, state, out, T, C, K};
    int grain = (C + 2 * c->nth - 1) / (2 * c->nth);
    grain = (grain + 15) & ~15;
    hcpu_parallel_for(c, C, grain, conv_body, &j);
}

/* ---- SSM, token by token ---- */

typedef struct {
    const hk_kernels *k;
    const float *x, *B, *C, *dt, *A, *D;
    float *state, *y, *cb, *thr;
    size_t thr_stride;
    int T, H, P, G, N, chunk;
} ssm_job;

static void scan_body(void *arg, int h0, int h1, int ith) {
    (void)ith;
    const ssm_job *j = arg;
    const int H = j->H, P = j->P, G = j->G, N = j->N, hpg = H / G;
    for (int h = h0; h < h1; h++) {
        const int g = h / hpg;
        for (int t = 0; t < j->T; t++) {
            const float d = j->dt[(size_t)t * H + h];
            const float a = expf(d * j->A[h]);
            const float *Bt = j->B + (size_t)t * G * N + (size_t)g * N, *Ct = j->C + (size_t)t * G * N + (size_t)g * N;
            const float *xt = j->x + (size_t)t * H * P + (size_t)h * P;
            float *yt = j->y + (size_t)t * H * P + (size_t)h * P;
            for (int p = 0; p < P; p++)
                yt[p] = j->k->ssm_step(j->state + ((size_t)h * P + p) * N, a, d * xt[p], Bt, Ct, N) + j->D[h] * xt[p];
        }
    }
}

void hcpu_ssm_scan(hcpu_ctx *c, const float *x, const float *B, const float *C, const float *dt, const float *A,
                   const float *D, int T, int H, int P, int G, int N, float *state, float *y) {
    ssm_job j = {.k = c->k, .x = x, .B = B, .C = C, .dt = dt, .A = A, .D = D, .state = state, .y = y,
                 .T = T, .H = H, .P = P, .G = G, .N = N};
    hcpu_parallel_for(c, H, 1, scan_body, &j);
}

/* ---- SSM, chunked (SSD) form ----
 * Pass 1 prepares, per chunk and group, C.B^T and B^T (the H/G heads of a group share them);
 * pass 2 runs each head through all chunks in order (heads are independent), with the head's
 * state transposed to St [N][P] so that every step is a small row-major product (mm_f32):
 *   intra  y[i][p]  = sum_j W[i][j] x[j][p]          W[i][j] = CB[i][j] e^(lam_i - lam_j) dt_j, j <= i
 *   carry  y[i][p] += sum_n e^lam_i C[i][n] St[n][p]  (the state as it was at the chunk start)
 *   state  St[n][p] = e^lam_L-1 St[n][p] + sum_j B^T[n][j] tail_j x[j][p],  tail_j = e^(lam_L-1 - lam_j) dt_j */

/* Shared floats per (chunk, group): CB [L][L] then B^T [N][L]. */
static size_t shared_per(int L, int N) { return (size_t)L * L + (size_t)N * L; }
static float *cb_at(const ssm_job *j, int ci, int g) { return j->cb + ((size_t)ci * j->G + g) * shared_per(j->chunk, j->N); }

static void cb_body(void *arg, int i0, int i1, int ith) {
    (void)ith;
    const ssm_job *j = arg;
    const int G = j->G, N = j->N, L0 = j->chunk;
    const size_t GN = (size_t)G * N;
    for (int it = i0; it < i1; it++) {
        const int ci = it / G, g = it % G, c0 = ci * L0, L = j->T - c0 < L0 ? j->T - c0 : L0;
        const float *Bc = j->B + (size_t)c0 * GN + (size_t)g * N, *Cc = j->C + (size_t)c0 * GN + (size_t)g * N;
        float *cb = cb_at(j, ci, g), *bt = cb + (size_t)L0 * L0;
        for (int jj = 0; jj < L; jj++)
            for (int n = 0; n < N; n++) bt[(size_t)n * L + jj] = Bc[(size_t)jj * GN + n];
        j->k->mm_f32(cb, (size_t)L, Cc, GN, bt, (size_t)L, L, L, N, 0.0f); /* cb[i][jj] = C_i . B_jj */
    }
}

/* Per-thread scratch of chunk_body, in floats: St, W, Cs, Xs, lam/tail/e^lam. */
static size_t chunk_scratch(int L, int P, int N) {
    return (size_t)N * P + (size_t)L * L + (size_t)L * N + (size_t)L * P + 3u * (size_t)L;
}

static void chunk_body(void *arg, int h0, int h1, int ith) {
    const ssm_job *j = arg;
    const hk_kernels *k = j->k;
    const int H = j->H, P = j->P, G = j->G, N = j->N, hpg = H / G, L0 = j->chunk;
    const size_t HP = (size_t)H * P, GN = (size_t)G * N;
    float *St = j->thr + (size_t)ith * j->thr_stride; /* [N][P] */
    float *W = St + (size_t)N * P;                    /* [L][L] */
    float *Cs = W + (size_t)L0 * L0;                  /* [L][N]: e^lam_i C[i][n] */
    float *Xs = Cs + (size_t)L0 * N;                  /* [L][P]: tail_j x[j][p] */
    float *lam = Xs + (size_t)L0 * P, *tail = lam + L0, *el = tail + L0;
    for (int h = h0; h < h1; h++) {
        const int g = h / hpg;
        const float Dh = j->D[h];
        float *S = j->state + (size_t)h * P * N; /* [P][N] */
        for (int p = 0; p < P; p++)
            for (int n = 0; n < N; n++) St[(size_t)n * P + p] = S[(size_t)p * N + n];
        for (int c0 = 0, ci = 0; c0 < j->T; c0 += L0, ci++) {
            const int L = j->T - c0 < L0 ? j->T - c0 : L0;
            const float *cb = cb_at(j, ci, g), *bt = cb + (size_t)L0 * L0;
            const float *dtc = j->dt + (size_t)c0 * H + h; /* dt of token c0+i at dtc[i*H] */
            const float *xc = j->x + (size_t)c0 * HP + (size_t)h * P;
            const float *Cc = j->C + (size_t)c0 * GN + (size_t)g * N;
            float *yc = j->y + (size_t)c0 * HP + (size_t)h * P;
            float acc_l = 0;
            for (int i = 0; i < L; i++) {
                acc_l += dtc[(size_t)i * H] * j->A[h];
                lam[i] = acc_l;
            }
            for (int i = 0; i < L; i++) {
                float *Wi = W + (size_t)i * L;
                for (int jj = 0; jj <= i; jj++) Wi[jj] = -lam[jj];
                k->exp_sum(Wi, -lam[i], i + 1); /* e^(lam_i - lam_jj) */
                for (int jj = 0; jj <= i; jj++) Wi[jj] = cb[i * L + jj] * Wi[jj] * dtc[(size_t)jj * H];
                for (int jj = i + 1; jj < L; jj++) Wi[jj] = 0;
            }
            for (int jj = 0; jj < L; jj++) tail[jj] = -lam[jj];
            k->exp_sum(tail, -lam[L - 1], L);
            for (int jj = 0; jj < L; jj++) tail[jj] *= dtc[(size_t)jj * H];
            for (int i = 0; i < L; i++) el[i] = expf(lam[i]);
            /* intra, 4 rows at a time up to the diagonal (W is zero above it) */
            for (int i0 = 0; i0 < L; i0 += 4) {
                const int m = L - i0 < 4 ? L - i0 : 4;
                k->mm_f32(yc + (size_t)i0 * HP, HP, W + (size_t)i0 * L, (size_t)L, xc, HP, m, P, i0 + m, 0.0f);
            }
            /* carry from the state at the chunk start, then the skip term */
            for (int i = 0; i < L; i++) {
                const float *Ci = Cc + (size_t)i * GN;
                float *Csi = Cs + (size_t)i * N;
                for (int n = 0; n < N; n++) Csi[n] = el[i] * Ci[n];
            }
            k->mm_f32(yc, HP, Cs, (size_t)N, St, (size_t)P, L, P, N, 1.0f);
            for (int i = 0; i < L; i++) k->axpy(yc + (size_t)i * HP, Dh, xc + (size_t)i * HP, P);
            /* state */
            for (int jj = 0; jj < L; jj++) {
                const float *xj = xc + (size_t)jj * HP;
                float *Xj = Xs + (size_t)jj * P;
                for (int p = 0; p < P; p++) Xj[p] = tail[jj] * xj[p];
            }
            k->mm_f32(St, (size_t)P, bt, (size_t)L, Xs, (size_t)P, N, P, L, expf(lam[L - 1]));
        }
        for (int p = 0; p < P; p++)
            for (int n = 0; n < N; n++) S[(size_t)p * N + n] = St[(size_t)n * P + p];
    }
}

size_t hcpu_ssm_chunk_scratch(int chunk, int P, int N) { return chunk_scratch(chunk, P, N); }
size_t hcpu_ssm_chunk_shared(int chunk, int N) { return shared_per(chunk, N); }

void hcpu_ssm_chunked(hcpu_ctx *c, const float *x, const float *B, const float *C, const float *dt, const float *A,
                      const float *D, int T, int H, int P, int G, int N, int chunk, float *state, float *y) {
    const size_t n_chunks = ((size_t)T + (size_t)chunk - 1) / (size_t)chunk;
    if (chunk < 1 || chunk_scratch(chunk, P, N) > c->thr_stride || n_chunks * (size_t)G * shared_per(chunk, N) > c->shared_cap) {
        hcpu_ssm_scan(c, x, B, C, dt, A, D, T, H, P, G, N, state, y); /* scratch not reserved: same result */
        return;
    }
    ssm_job j = {.k = c->k, .x = x, .B = B, .C = C, .dt = dt, .A = A, .D = D, .state = state, .y = y,
                 .cb = c->shared, .thr = c->thr, .thr_stride = c->thr_stride, .T = T, .H = H, .P = P, .G = G, .N = N,
                 .chunk = chunk};
    hcpu_parallel_for(c, (int)n_chunks * G, 1, cb_body, &j);
    hcpu_parallel_for(c, H, 1, chunk_body, &j);
}
