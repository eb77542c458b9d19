/* cpu_attn.c - causal GQA attention over the KV cache, one (token, head) pair per work item. */
#include <math.h>

#include "cpu.h"

typedef struct {
    const hk_kernels *k;
    const float *q, *kc, *vc;
    float *out, *thr;
    size_t thr_stride;
    int p0, n_head, n_kv, hd;
} attn_job;

static void attn_body(void *arg, int i0, int i1, int ith) {
    const attn_job *j = arg;
    const int group = j->n_head / j->n_kv, kv_dim = j->n_kv * j->hd, hd = j->hd;
    const float scale = 1.0f / sqrtf((float)hd);
    float *sc = j->thr + (size_t)ith * j->thr_stride;
    for (int i = i0; i < i1; i++) {
        const int t = i / j->n_head, h = i % j->n_head, kvh = h / group;
        const int n_keys = j->p0 + t + 1; /* causal: keys 0..p0+t */
        const float *qh = j->q + ((size_t)t * j->n_head + h) * hd;
        float mx = -INFINITY;
        for (int s = 0; s < n_keys; s++) {
            sc[s] = j->k->dot(qh, j->kc + (size_t)s * kv_dim + (size_t)kvh * hd, hd) * scale;
            if (sc[s] > mx) mx = sc[s];
        }
        const float sum = j->k->exp_sum(sc, mx, n_keys);
        float *o = j->out + ((size_t)t * j->n_head + h) * hd;
        for (int d = 0; d < hd; d++) o[d] = 0;
        for (int s = 0; s < n_keys; s++) j->k->axpy(o, sc[s] / sum, j->vc + (size_t)s * kv_dim + (size_t)kvh * hd, hd);
    }
}

void hcpu_attention(hcpu_ctx *c, const float *q, const float *k_cache, const float *v_cache, int p0, int T, int n_head,
                    int n_kv, int hd, float *out) {
    attn_job j = {c->k, q, k_cache, v_cache, out, c->thr, c->thr_stride, p0, n_head, n_kv, hd};
    hcpu_parallel_for(c, T * n_head, 1, attn_body, &j);
}
