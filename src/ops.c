/* ops.c - plain-C reference kernels: matmul over any supported weight type, norms, rope, attention, Mamba-2.
 * The forward pass runs the threaded SIMD versions (cpu.h); these stay the reference they are tested against. */
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

void hop_matmul_ref(const hm_weight *w, const float *x, int T, float *y) {
    const int64_t n_in = (int64_t)w->ne[0], n_out = (int64_t)w->ne[1];
    uint8_t *buf = w->layout == HM_LAYOUT_ROWS ? NULL : malloc(w->row_bytes); /* a repacked row, rebuilt */
    if (w->layout != HM_LAYOUT_ROWS && !buf) { /* no memory for one row: the reference has no error path */
        memset(y, 0, sizeof(float) * (size_t)T * (size_t)n_out);
        return;
    }
    for (int64_t o = 0; o < n_out; o++) {
        const uint8_t *row = hm_weight_row(w, (uint64_t)o, buf);
        for (int t = 0; t < T; t++) y[(int64_t)t * n_out + o] = ht_dot(w->type, row, x + (int64_t)t * n_in, n_in);
    }
    free(buf);
}

void hop_rmsnorm_ref(float *out, const float *x, const float *w, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float r = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = w[i] * (x[i] * r);
}

void hop_rope(float *x, int hd, int pos, float base, bool neox) {
    const int half = hd / 2;
    for (int i = 0; i < half; i++) {
        float theta = (float)pos * powf(base, -2.0f * (float)i / (float)hd);
        float c = cosf(theta), s = sinf(theta);
        int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        float x0 = x[a], x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
    }
}

void hop_attention_ref(const float *q, const float *k_cache, const float *v_cache, int p0, int T, int n_head, int n_kv,
                   int hd, float *out, float *scratch) {
    const int group = n_head / n_kv, kv_dim = n_kv * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    for (int t = 0; t < T; t++) {
        const int n_keys = p0 + t + 1; /* causal: keys 0..p0+t */
        for (int h = 0; h < n_head; h++) {
            const float *qh = q + (int64_t)t * n_head * hd + h * hd;
            const int kvh = h / group;
            float mx = -INFINITY;
            for (int j = 0; j < n_keys; j++) {
                const float *k = k_cache + (int64_t)j * kv_dim + kvh * hd;
                float s = 0;
                for (int i = 0; i < hd; i++) s += qh[i] * k[i];
                scratch[j] = s * scale;
                if (scratch[j] > mx) mx = scratch[j];
            }
            float sum = 0;
            for (int j = 0; j < n_keys; j++) {
                scratch[j] = expf(scratch[j] - mx);
                sum += scratch[j];
            }
            float *o = out + (int64_t)t * n_head * hd + h * hd;
            for (int i = 0; i < hd; i++) o[i] = 0;
            for (int j = 0; j < n_keys; j++) {
                const float p = scratch[j] / sum;
                const float *v = v_cache + (int64_t)j * kv_dim + kvh * hd;
                for (int i = 0; i < hd; i++) o[i] += p * v[i];
            }
        }
    }
}

void hop_conv_silu_ref(const float *xbc, int T, int C, int K, const float *w, const float *b, float *state, float *out) {
    const int H = K - 1; /* history rows */
    for (int t = 0; t < T; t++) {
        for (int c = 0; c < C; c++) {
            float acc = b[c];
            for (int k = 0; k < K; k++) {
                int src = t - H + k; /* time of the input this tap reads */
                float v = src >= 0 ? xbc[(int64_t)src * C + c] : state[(int64_t)(H + src) * C + c];
                acc += w[(int64_t)c * K + k] * v;
            }
            out[(int64_t)t * C + c] = hop_silu(acc);
        }
    }
    /* new history: the last H raw rows of [state; xbc] */
    for (int r = 0; r < H; r++) {
        int src = T - H + r;
        if (src >= 0) {
            memcpy(state + (int64_t)r * C, xbc + (int64_t)src * C, sizeof(float) * (size_t)C);
        } else {
            memmove(state + (int64_t)r * C, state + (int64_t)(H + src) * C, sizeof(float) * (size_t)C);
        }
    }
}

void hop_ssm_scan_ref(const float *x, const float *B, const float *C, const float *dt, const float *A, const float *D,
                  int T, int H, int P, int G, int N, float *state, float *y) {
    const int heads_per_group = H / G;
    for (int t = 0; t < T; t++) {
        for (int h = 0; h < H; h++) {
            const int g = h / heads_per_group;
            const float d = dt[(int64_t)t * H + h];
            const float a = expf(d * A[h]);
            const float *Bt = B + (int64_t)t * G * N + g * N;
            const float *Ct = C + (int64_t)t * G * N + g * N;
            for (int p = 0; p < P; p++) {
                const float xv = x[(int64_t)t * H * P + h * P + p];
                float *S = state + ((int64_t)h * P + p) * N;
                float acc = 0;
                for (int n = 0; n < N; n++) {
                    S[n] = a * S[n] + d * xv * Bt[n];
                    acc += S[n] * Ct[n];
                }
                y[(int64_t)t * H * P + h * P + p] = acc + D[h] * xv;
            }
        }
    }
}

size_t hop_ssm_chunked_scratch(int chunk) { return (size_t)chunk * (size_t)chunk + 2 * (size_t)chunk; }

void hop_ssm_chunked_ref(const float *x, const float *B, const float *C, const float *dt, const float *A, const float *D,
                     int T, int H, int P, int G, int N, int chunk, float *state, float *y, float *scratch) {
    const int heads_per_group = H / G;
    float *W = scratch;                        /* [L][L]: (C_i . B_j) exp(Λi - Λj) Δj, j <= i */
    float *lam = scratch + (size_t)chunk * chunk; /* [L] cumulative Δ·A */
    float *tail = lam + chunk;                 /* [L] exp(Λ_{L-1} - Λ_j) Δ_j */
    for (int c0 = 0; c0 < T; c0 += chunk) {
        const int L = T - c0 < chunk ? T - c0 : chunk;
        for (int h = 0; h < H; h++) {
            const int g = h / heads_per_group;
            float acc_l = 0;
            for (int i = 0; i < L; i++) {
                acc_l += dt[(int64_t)(c0 + i) * H + h] * A[h];
                lam[i] = acc_l;
            }
            for (int i = 0; i < L; i++) {
                const float *Ci = C + (int64_t)(c0 + i) * G * N + g * N;
                for (int j = 0; j <= i; j++) {
                    const float *Bj = B + (int64_t)(c0 + j) * G * N + g * N;
                    float cb = 0;
                    for (int n = 0; n < N; n++) cb += Ci[n] * Bj[n];
                    W[i * L + j] = cb * expf(lam[i] - lam[j]) * dt[(int64_t)(c0 + j) * H + h];
                }
            }
            for (int j = 0; j < L; j++) tail[j] = expf(lam[L - 1] - lam[j]) * dt[(int64_t)(c0 + j) * H + h];
            for (int p = 0; p < P; p++) {
                float *S = state + ((int64_t)h * P + p) * N;
                /* outputs read the state as it was at the chunk start */
                for (int i = 0; i < L; i++) {
                    const float *Ci = C + (int64_t)(c0 + i) * G * N + g * N;
                    float carry = 0;
                    for (int n = 0; n < N; n++) carry += S[n] * Ci[n];
                    float intra = 0;
                    for (int j = 0; j <= i; j++) intra += W[i * L + j] * x[(int64_t)(c0 + j) * H * P + h * P + p];
                    const float xi = x[(int64_t)(c0 + i) * H * P + h * P + p];
                    y[(int64_t)(c0 + i) * H * P + h * P + p] = intra + expf(lam[i]) * carry + D[h] * xi;
                }
                const float decay = expf(lam[L - 1]);
                for (int n = 0; n < N; n++) {
                    float s = decay * S[n];
                    for (int j = 0; j < L; j++)
                        s += tail[j] * x[(int64_t)(c0 + j) * H * P + h * P + p] * B[(int64_t)(c0 + j) * G * N + g * N + n];
                    S[n] = s;
                }
            }
        }
    }
}

void hop_gated_norm_ref(float *out, const float *y, const float *z, const float *w, int n, int G, float eps) {
    const int gs = n / G;
    for (int q = 0; q < G; q++) {
        double ss = 0;
        for (int i = q * gs; i < (q + 1) * gs; i++) {
            float v = y[i] * hop_silu(z[i]);
            out[i] = v;
            ss += (double)v * v;
        }
        float r = 1.0f / sqrtf((float)(ss / gs) + eps);
        for (int i = q * gs; i < (q + 1) * gs; i++) out[i] = w[i] * (out[i] * r);
    }
}
