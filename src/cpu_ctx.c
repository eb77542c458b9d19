/* cpu_ctx.c - the CPU backend's per-session context: thread pool, kernel table, scratch, and the parallel-for over it. */
#include <stdatomic.h>
#include <stdlib.h>

#include "cpu.h"

hearth_status hcpu_new(int n_threads, hcpu_ctx **out, hearth_err *e) {
    *out = NULL;
    hcpu_ctx *c = calloc(1, sizeof *c);
    if (!c) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    c->pool = htp_new(n_threads);
    if (!c->pool) {
        free(c);
        return herr(e, HEARTH_ERR_NOMEM, "out of memory creating the thread pool");
    }
    c->nth = htp_threads(c->pool);
    c->k = hk_pick(&c->kt);
    *out = c;
    return HEARTH_OK;
}

void hcpu_free(hcpu_ctx *c) {
    if (!c) return;
    htp_free(c->pool);
    free(c->aq);
    free(c->ad);
    free(c->as);
    free(c->thr);
    free(c->shared);
    free(c);
}

/* Grows *buf to hold n elements of `size` bytes (contents are not kept). */
static hearth_status grow(void **buf, size_t *cap, uint64_t n, size_t size, hearth_err *e) {
    if (n <= *cap) return HEARTH_OK;
    void *nb = hu_malloc(n * size, e);
    if (!nb) return e ? e->code : HEARTH_ERR_NOMEM;
    free(*buf);
    *buf = nb;
    *cap = (size_t)n;
    return HEARTH_OK;
}

hearth_status hcpu_reserve(hcpu_ctx *c, int T, int max_in, int n_ctx, int chunk, int G, int P, int N, hearth_err *e) {
    if (T < 1) T = 1;
    if (chunk < 1) chunk = 1;
    if (G < 1) G = 1;
    if (P < 1) P = 1;
    if (N < 1) N = 1;
    hearth_status st;
    /* activations: T rows of max_in / 32 blocks */
    const uint64_t blocks = (uint64_t)T * (uint64_t)((max_in + HK_QK - 1) / HK_QK);
    if (blocks > c->act_cap) {
        size_t cq = c->act_cap, cd = c->act_cap, cs = c->act_cap;
        /* codes: int8 (Q8_0 activations) or int16 (for Q8_0 and k-quant weights) */
        if ((st = grow((void **)&c->aq, &cq, blocks * HK_QK * sizeof(int16_t), 1, e))) return st;
        if ((st = grow((void **)&c->ad, &cd, blocks, sizeof(float), e))) return st;
        if ((st = grow((void **)&c->as, &cs, blocks, sizeof(float), e))) return st;
        c->act_cap = (size_t)blocks;
    }
    /* per thread: attention scores [n_ctx], or an SSM chunk's matrices */
    uint64_t per = hcpu_ssm_chunk_scratch(chunk, P, N);
    if ((uint64_t)n_ctx > per) per = (uint64_t)n_ctx;
    per = (per + 15) & ~(uint64_t)15; /* keep threads' slices 64 bytes apart */
    if (per > c->thr_stride) {
        size_t cap = 0;
        free(c->thr);
        c->thr = NULL;
        c->thr_stride = 0;
        if ((st = grow((void **)&c->thr, &cap, per * (uint64_t)c->nth, sizeof(float), e))) return st;
        c->thr_stride = (size_t)per;
    }
    /* C.B^T and B^T of every chunk and group */
    const uint64_t n_chunks = ((uint64_t)T + (uint64_t)chunk - 1) / (uint64_t)chunk;
    return grow((void **)&c->shared, &c->shared_cap, n_chunks * (uint64_t)G * hcpu_ssm_chunk_shared(chunk, N),
                sizeof(float), e);
}

typedef struct {
    hcpu_range_fn body;
    void *arg;
    int n, grain;
    atomic_int next;
} pfor_job;

static void pfor_worker(void *v, int ith, int nth) {
    (void)nth;
    pfor_job *j = v;
    for (;;) {
        const int i0 = atomic_fetch_add_explicit(&j->next, j->grain, memory_order_relaxed);
        if (i0 >= j->n) return;
        const int i1 = j->n - i0 < j->grain ? j->n : i0 + j->grain;
        j->body(j->arg, i0, i1, ith);
    }
}

void hcpu_parallel_for(hcpu_ctx *c, int n, int grain, hcpu_range_fn body, void *arg) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (c->nth == 1 || n <= grain) {
        body(arg, 0, n, 0);
        return;
    }
    pfor_job j = {body, arg, n, grain, 0};
    atomic_init(&j.next, 0);
    htp_run(c->pool, pfor_worker, &j);
}
