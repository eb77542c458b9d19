/* cpu_attn.c - causal GQA attention over the KV cache: one work item per (token, KV head), its query heads together, keys in blocks with an online softmax. */
#include <math.h>

#include "cpu.h"

/* Every query head that shares a KV head is handled by the same work item, so each key and value
 * row is read from memory once per token for the whole group (the reference reads it once per query
 * head; at long context that traffic is the whole cost). Keys go in blocks of up to ATTN_BLOCK:
 *   scores  sc[g][j] = q_g . k_j * scale                       (kernel gemm_f32: key rows x query heads)
 *   softmax running max m_g and sum l_g; when m_g grows, o_g and l_g are rescaled by e^(m_old - m_new)
 *   values  o[g][:] += sum_j e^(sc[g][j] - m_g) v_j             (kernel mm_f32: one pass over the block's rows)
 * and finally o_g /= l_g. Same result as hop_attention_ref up to float summation order. */
#define ATTN_BLOCK 256    /* keys per block (the block's scores stay in L1) */
#define ATTN_MAX_GROUP 16 /* query heads per work item; larger GQA groups are split into several items */

typedef struct {
    const hk_kernels *k;
    const float *q, *kc, *vc;
    float *out, *thr;
    size_t thr_stride;
    int p0, n_head, n_kv, hd, n_sub; /* n_sub: work items per (token, KV head) */
} attn_job;

/* Query heads h0..h0+G-1 of token t, all reading KV head kvh. Scratch: sc, at least G floats. */
static void attn_group(const attn_job *j, int t, int kvh, int h0, int G, float *sc, size_t sc_len) {
    const hk_kernels *k = j->k;
    const int hd = j->hd, kv_dim = j->n_kv * hd, n_keys = j->p0 + t + 1; /* causal: keys 0..p0+t */
    const float scale = 1.0f / sqrtf((float)hd);
    const int B = sc_len / (size_t)G < ATTN_BLOCK ? (int)(sc_len / (size_t)G) : ATTN_BLOCK;
    const float *q = j->q + ((size_t)t * j->n_head + h0) * hd; /* [G][hd] */
    float *o = j->out + ((size_t)t * j->n_head + h0) * hd;     /* [G][hd] */
    const float *kb = j->kc + (size_t)kvh * hd, *vb = j->vc + (size_t)kvh * hd; /* row s at + s * kv_dim */
    float m[ATTN_MAX_GROUP], l[ATTN_MAX_GROUP];
    for (int g = 0; g < G; g++) m[g] = -INFINITY, l[g] = 0.0f;
    for (int i = 0; i < G * hd; i++) o[i] = 0.0f;
    for (int s0 = 0; s0 < n_keys; s0 += B) {
        const int nb = n_keys - s0 < B ? n_keys - s0 : B;
        /* sc[g][s] = k_(s0+s) . q_g: the block's key rows as the rows of an f32 matrix, the G query
         * heads as its G "tokens" (the tiled float matmul: several keys and heads per tile) */
        k->gemm_f32((const uint8_t *)(kb + (size_t)s0 * kv_dim), (size_t)kv_dim * sizeof(float), nb, q, (size_t)hd, G,
                    hd, sc, (size_t)B);
        for (int g = 0; g < G; g++) {
            float *sg = sc + (size_t)g * B, mx = m[g];
            k->scale(sg, scale, nb);
            for (int s = 0; s < nb; s++)
                if (sg[s] > mx) mx = sg[s];
            if (mx > m[g]) { /* a new maximum: what was summed so far shrinks by e^(m_old - m_new) */
                const float f = expf(m[g] - mx);
                k->scale(o + (size_t)g * hd, f, hd);
                l[g] *= f;
                m[g] = mx;
            }
            l[g] += k->exp_sum(sg, m[g], nb);
        }
        k->mm_f32(o, (size_t)hd, sc, (size_t)B, vb + (size_t)s0 * kv_dim, (size_t)kv_dim, G, hd, nb, 1.0f);
    }
    for (int g = 0; g < G; g++) k->scale(o + (size_t)g * hd, 1.0f / l[g], hd);
}

static void attn_body(void *arg, int i0, int i1, int ith) {
    const attn_job *j = arg;
    const int group = j->n_head / j->n_kv, per_token = j->n_kv * j->n_sub;
    float *sc = j->thr + (size_t)ith * j->thr_stride;
    for (int i = i0; i < i1; i++) {
        const int t = i / per_token, kvh = (i % per_token) / j->n_sub, sub = i % j->n_sub;
        const int g0 = sub * ATTN_MAX_GROUP, G = group - g0 < ATTN_MAX_GROUP ? group - g0 : ATTN_MAX_GROUP;
        attn_group(j, t, kvh, kvh * group + g0, G, sc, j->thr_stride);
    }
}

void hcpu_attention(hcpu_ctx *c, const float *q, const float *k_cache, const float *v_cache, int p0, int T, int n_head,
                    int n_kv, int hd, float *out) {
    const int group = n_head / n_kv, n_sub = (group + ATTN_MAX_GROUP - 1) / ATTN_MAX_GROUP;
    attn_job j = {c->k, q, k_cache, v_cache, out, c->thr, c->thr_stride, p0, n_head, n_kv, hd, n_sub};
    hcpu_parallel_for(c, T * n_kv * n_sub, 1, attn_body, &j);
}
