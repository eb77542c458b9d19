/* cpu_matmul.c - the threaded matmul: activations quantised once, then (row chunk x token block) tiles spread over the pool, each by the tile for the weight's type and layout. */
#include "cpu.h"
#include "ops.h"
#include "quant.h"

enum {
    MM_TOKEN_BLOCK = 64, /* tokens per work item in prefill: their Q8_0 rows stay in L2 */
    MM_ROWS_PREFILL = 16 /* output rows per work item in prefill: the weight rows stay in L2 */
};
_Static_assert(MM_ROWS_PREFILL % HK_X16 == 0, "work items must start on a group of the Q4_0 x16 layout");

typedef struct {
    const hk_kernels *k;
    const hm_weight *w;
    const float *x;
    float *y;
    int T, n_in, n_out;
    hk_q8act act;     /* Q8_0 activations (Q4_0 weights) */
    hk_q16act act16;  /* int16 activations (Q8_0 and k-quant weights) */
    bool q16;
    int rows, n_rc, tb; /* rows per item, row chunks, tokens per item */
} mm_job;

static void quant_body(void *arg, int t0, int t1, int ith) {
    (void)ith;
    const mm_job *j = arg;
    const int nb = j->act.nb;
    if (j->q16) {
        for (int t = t0; t < t1; t++)
            j->k->quantize_q16(j->x + (size_t)t * j->n_in, j->act16.q + (size_t)t * nb * HK_QK, j->act16.d + (size_t)t * nb,
                               j->act16.s + (size_t)t * nb, nb);
        return;
    }
    for (int t = t0; t < t1; t++)
        j->k->quantize_q8(j->x + (size_t)t * j->n_in, j->act.q + (size_t)t * nb * HK_QK, j->act.d + (size_t)t * nb,
                          j->act.s + (size_t)t * nb, nb);
}

/* The Q4_0 tile for w's layout. A table without an x16 kernel gets the generic one: slow, but a
 * session may run another table than the one the model was repacked for (tests, HEARTH_KERNELS). */
static hk_gemm_q_fn q4_0_tile(const hk_kernels *k, const hm_weight *w) {
    if (w->layout != HM_LAYOUT_Q4_0_X16) return k->gemm_q4_0;
    return k->gemm_q4_0_x16 ? k->gemm_q4_0_x16 : hk_generic()->gemm_q4_0_x16;
}

static void mm_body(void *arg, int i0, int i1, int ith) {
    (void)ith;
    const mm_job *j = arg;
    const hm_weight *w = j->w;
    for (int i = i0; i < i1; i++) {
        const int r0 = (i % j->n_rc) * j->rows, t0 = (i / j->n_rc) * j->tb;
        const int nr = j->n_out - r0 < j->rows ? j->n_out - r0 : j->rows;
        const int nt = j->T - t0 < j->tb ? j->T - t0 : j->tb;
        const uint8_t *wr = (const uint8_t *)w->data + (size_t)r0 * w->row_bytes;
        float *y = j->y + (size_t)t0 * j->n_out + r0;
        const int nb = j->act.nb;
        const hk_q8act sub = {j->act.q + (size_t)t0 * nb * HK_QK, j->act.d + (size_t)t0 * nb, j->act.s + (size_t)t0 * nb, nb};
        const hk_q16act sub16 = {j->act16.q + (size_t)t0 * nb * HK_QK, j->act16.d + (size_t)t0 * nb,
                                 j->act16.s + (size_t)t0 * nb, nb};
        const float *x = j->x + (size_t)t0 * j->n_in;
        switch (w->type) {
        case HT_Q4_0: q4_0_tile(j->k, w)(wr, w->row_bytes, nr, &sub, nt, y, (size_t)j->n_out); break;
        case HT_Q8_0: j->k->gemm_q8_0(wr, w->row_bytes, nr, &sub16, nt, y, (size_t)j->n_out); break;
        case HT_Q4_K: j->k->gemm_q4_k(wr, w->row_bytes, nr, &sub16, nt, y, (size_t)j->n_out); break;
        case HT_Q5_K: j->k->gemm_q5_k(wr, w->row_bytes, nr, &sub16, nt, y, (size_t)j->n_out); break;
        case HT_Q6_K: j->k->gemm_q6_k(wr, w->row_bytes, nr, &sub16, nt, y, (size_t)j->n_out); break;
        case HT_F32: j->k->gemm_f32(wr, w->row_bytes, nr, x, (size_t)j->n_in, nt, j->n_in, y, (size_t)j->n_out); break;
        case HT_F16: j->k->gemm_f16(wr, w->row_bytes, nr, x, (size_t)j->n_in, nt, j->n_in, y, (size_t)j->n_out); break;
        case HT_BF16: j->k->gemm_bf16(wr, w->row_bytes, nr, x, (size_t)j->n_in, nt, j->n_in, y, (size_t)j->n_out); break;
        default: break;
        }
    }
}

void hcpu_matmul(hcpu_ctx *c, const hm_weight *w, const float *x, int T, float *y) {
    const int n_in = (int)w->ne[0], n_out = (int)w->ne[1];
    const bool q16 = w->type == HT_Q8_0 || w->type == HT_Q4_K || w->type == HT_Q5_K || w->type == HT_Q6_K;
    const bool quant = w->type == HT_Q4_0 || q16;
    if (!(quant || w->type == HT_F32 || w->type == HT_F16 || w->type == HT_BF16) ||
        (quant && (uint64_t)T * (uint64_t)(n_in / HK_QK) > c->act_cap)) {
        hop_matmul_ref(w, x, T, y); /* a type without a fast kernel, or scratch not reserved */
        return;
    }
    mm_job j = {.k = c->k, .w = w, .x = x, .y = y, .T = T, .n_in = n_in, .n_out = n_out};
    j.act = (hk_q8act){c->aq, c->ad, c->as, n_in / HK_QK};
    j.act16 = (hk_q16act){(int16_t *)(void *)c->aq, c->ad, c->as, n_in / HK_QK};
    j.q16 = q16;
    if (quant) {
        if (T == 1)
            quant_body(&j, 0, 1, 0);
        else
            hcpu_parallel_for(c, T, (T + 4 * c->nth - 1) / (4 * c->nth), quant_body, &j);
    }
    /* items start at multiples of 16 rows: the widest kernels' tile, and a group of the Q4_0 x16 layout */
    if (T == 1) {
        /* decode: about 8 items per thread, whole tiles of 16 rows */
        int rows = (n_out + 8 * c->nth - 1) / (8 * c->nth);
        rows = (rows + 15) & ~15;
        j.rows = rows < 16 ? 16 : rows;
        j.tb = 1;
    } else {
        j.rows = MM_ROWS_PREFILL;
        j.tb = MM_TOKEN_BLOCK;
    }
    j.n_rc = (n_out + j.rows - 1) / j.rows;
    const int n_tb = (T + j.tb - 1) / j.tb;
    hcpu_parallel_for(c, j.n_rc * n_tb, 1, mm_body, &j);
}
