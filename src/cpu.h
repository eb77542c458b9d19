/* cpu.h - the CPU backend of the forward pass: a per-session context (thread pool, kernel table, scratch) and the threaded hot ops.
 *
 * Each hcpu_* op has the contract of its plain-C reference in ops.h (hop_*_ref) and is tested
 * against it (tests/test_ops_simd.c). Work is split across the session's thread pool: matmuls by
 * output rows (and token blocks), attention by (token, KV head), the Mamba-2 scan by heads, the conv
 * by channels. Quantised matmuls quantise the activations first (Q8_0 for Q4_0 weights, int16
 * blocks for Q8_0 and k-quant weights; see cpu_kernels.h).
 */
#ifndef HEARTH_CPU_H
#define HEARTH_CPU_H

#include "cpu_kernels.h"
#include "model.h"
#include "threadpool.h"

typedef struct hcpu_ctx {
    htp_pool *pool;
    const hk_kernels *k;   /* = &kt unless a test points it elsewhere */
    hk_kernels kt;         /* the table picked for this CPU */
    int nth;               /* threads of the pool */
    /* quantised activations of a matmul: act_cap blocks of codes (room for int16 codes: aq is
     * read as int16_t for Q8_0 and k-quant weights), scales and sums */
    int8_t *aq;
    float *ad, *as;
    size_t act_cap;
    /* per-thread scratch (attention scores, an SSM chunk's matrices): nth x thr_stride floats */
    float *thr;
    size_t thr_stride;
    /* shared scratch (the C.B products of every SSM chunk and group) */
    float *shared;
    size_t shared_cap;
} hcpu_ctx;

/* A context with n_threads threads (0 = one per CPU) and the best kernel table for this CPU.
 * Caller frees with hcpu_free. */
hearth_status hcpu_new(int n_threads, hcpu_ctx **out, hearth_err *e);
void hcpu_free(hcpu_ctx *c); /* NULL is fine */

/* Sizes the scratch for calls with up to T tokens: matmul inputs of up to max_in values,
 * attention over up to n_ctx keys, SSM chunks of `chunk` tokens with G groups, head dim P and
 * state size N. The ops below do
 * not allocate: call this first (it keeps what it has when that is large enough). */
hearth_status hcpu_reserve(hcpu_ctx *c, int T, int max_in, int n_ctx, int chunk, int G, int P, int N, hearth_err *e);

/* Runs body(arg, i0, i1, ith) over [0, n) in pieces of at most `grain` items, spread over the
 * pool (ith = the thread's index, for per-thread scratch). */
typedef void (*hcpu_range_fn)(void *arg, int i0, int i1, int ith);
void hcpu_parallel_for(hcpu_ctx *c, int n, int grain, hcpu_range_fn body, void *arg);

/* = hop_matmul_ref: y[t][o] = W[o] . x[t] for T rows of x. Q4_0/Q8_0 weights multiply Q8_0-quantised
 * activations (cpu_kernels.h states the difference to the f32 reference). */
void hcpu_matmul(hcpu_ctx *c, const hm_weight *w, const float *x, int T, float *y);

/* = hop_rmsnorm_ref on each of T rows of n values (out may alias x). */
void hcpu_rmsnorm(hcpu_ctx *c, float *out, const float *x, const float *w, int T, int n, float eps);

/* = hop_gated_norm_ref on each of T rows: row t of y at y + t*ys, of z at z + t*zs, of out at
 * out + t*ys (out may alias y). */
void hcpu_gated_norm(hcpu_ctx *c, float *out, const float *y, size_t ys, const float *z, size_t zs, const float *w, int T,
                     int n, int G, float eps);

/* = hop_attention_ref (per-thread score scratch comes from the context). */
void hcpu_attention(hcpu_ctx *c, const float *q, const float *k_cache, const float *v_cache, int p0, int T, int n_head,
                    int n_kv, int hd, float *out);

/* = hop_conv_silu_ref */
void hcpu_conv_silu(hcpu_ctx *c, const float *xbc, int T, int C, int K, const float *w, const float *b, float *state,
                    float *out);

/* = hop_ssm_scan_ref (token by token) and hop_ssm_chunked_ref (chunks of `chunk` tokens). */
void hcpu_ssm_scan(hcpu_ctx *c, const float *x, const float *B, const float *C, const float *dt, const float *A,
                   const float *D, int T, int H, int P, int G, int N, float *state, float *y);
void hcpu_ssm_chunked(hcpu_ctx *c, const float *x, const float *B, const float *C, const float *dt, const float *A,
                      const float *D, int T, int H, int P, int G, int N, int chunk, float *state, float *y);
/* Scratch floats hcpu_ssm_chunked needs per thread, and shared per (chunk, group) (hcpu_reserve
 * sizes both). */
size_t hcpu_ssm_chunk_scratch(int chunk, int P, int N);
size_t hcpu_ssm_chunk_shared(int chunk, int N);

#endif
