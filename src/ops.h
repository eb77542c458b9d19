/* ops.h - the plain-C reference kernels of the forward pass; every faster kernel is tested against these.
 *
 * The forward pass runs the threaded SIMD versions in cpu.h (hcpu_*), which keep these contracts;
 * tests/test_ops_simd.c checks each against its *_ref here. */
#ifndef HEARTH_OPS_H
#define HEARTH_OPS_H

#include <math.h>

#include "model.h"

/* y[t][o] = sum_i W[o][i] * x[t][i] for T rows of x (row length w->ne[0]); y has w->ne[1] columns. */
void hop_matmul_ref(const hm_weight *w, const float *x, int T, float *y);

/* out = w * x / sqrt(mean(x^2) + eps), n values (out may alias x). */
void hop_rmsnorm_ref(float *out, const float *x, const float *w, int n, float eps);

static inline float hop_silu(float v) { return v / (1.0f + expf(-v)); }
/* log(1 + e^v), returning v above 20 as PyTorch does. */
static inline float hop_softplus(float v) { return v > 20.0f ? v : log1pf(expf(v)); }

/* Rotary embedding of one head vector x[hd] at position pos. neox: pairs (i, i + hd/2);
 * otherwise pairs (2i, 2i+1) (GGUF "normal" mode with llama's permuted q/k rows). */
void hop_rope(float *x, int hd, int pos, float base, bool neox);

/* Causal GQA attention for T new queries at positions p0..p0+T-1 against a cache holding
 * p0+T keys/values ([pos][n_kv*hd]). q: [T][n_head*hd], out: [T][n_head*hd]. scratch: p0+T floats. */
void hop_attention_ref(const float *q, const float *k_cache, const float *v_cache, int p0, int T, int n_head, int n_kv,
                   int hd, float *out, float *scratch);

/* Mamba-2 depthwise causal conv + SiLU over T rows of raw xBC ([T][C]) with K-1 rows of history
 * (state: [K-1][C], oldest first). Writes out [T][C] and advances the state. */
void hop_conv_silu_ref(const float *xbc, int T, int C, int K, const float *w /* [C][K] */, const float *b,
                   float *state, float *out);

/* Mamba-2 SSM over T tokens for all heads. x: [T][H*P] (post-conv x), B, C: [T][G*N],
 * dt: [T][H] (after softplus), A, D: [H]. state: [H][P][N], updated. y: [T][H*P] (includes D*x).
 * hop_ssm_scan runs the recurrence token by token; hop_ssm_chunked the chunked (SSD) form with
 * chunks of `chunk` tokens. Both give the same y and final state up to rounding. */
void hop_ssm_scan_ref(const float *x, const float *B, const float *C, const float *dt, const float *A, const float *D,
                  int T, int H, int P, int G, int N, float *state, float *y);
void hop_ssm_chunked_ref(const float *x, const float *B, const float *C, const float *dt, const float *A, const float *D,
                     int T, int H, int P, int G, int N, int chunk, float *state, float *y, float *scratch);
/* Scratch floats hop_ssm_chunked_ref needs. */
size_t hop_ssm_chunked_scratch(int chunk);

/* Gated group RMSNorm: v = y * silu(z); each of G groups normalised by its own RMS; times w. n values. */
void hop_gated_norm_ref(float *out, const float *y, const float *z, const float *w, int n, int G, float eps);

#endif
