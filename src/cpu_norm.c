/* cpu_norm.c - RMSNorm and the Mamba-2 gated group norm over rows, on the kernel table and the pool. */
#include <math.h>

#include "cpu.h"

typedef struct {
    const hk_kernels *k;
    float *out;
    const float *x, *w, *z;
    size_t xs, zs;
    int n, G;
    float eps;
} norm_job;

static void rms_body(void *arg, int t0, int t1, int ith) {
    (void)ith;
    const norm_job *j = arg;
    for (int t = t0; t < t1; t++) {
        const float *x = j->x + (size_t)t * j->xs;
        const double ss = j->k->sumsq(x, j->n);
        const float r = 1.0f / sqrtf((float)(ss / j->n) + j->eps);
        j->k->scale_mul(j->out + (size_t)t * j->xs, x, j->w, r, j->n);
    }
}

void hcpu_rmsnorm(hcpu_ctx *c, float *out, const float *x, const float *w, int T, int n, float eps) {
    norm_job j = {.k = c->k, .out = out, .x = x, .w = w, .xs = (size_t)n, .n = n, .eps = eps};
    hcpu_parallel_for(c, T, T < 8 ? T : (T + 2 * c->nth - 1) / (2 * c->nth), rms_body, &j);
}

/* items are (token, group) pairs */
static void gated_body(void *arg, int i0, int i1, int ith) {
    (void)ith;
    const norm_job *j = arg;
    const int gs = j->n / j->G;
    for (int i = i0; i < i1; i++) {
        const int t = i / j->G, q = i % j->G;
        const size_t o = (size_t)q * gs;
        float *out = j->out + (size_t)t * j->xs + o;
        j->k->mul_silu(out, j->x + (size_t)t * j->xs + o, j->z + (size_t)t * j->zs + o, gs);
        const double ss = j->k->sumsq(out, gs);
        const float r = 1.0f / sqrtf((float)(ss / gs) + j->eps);
        j->k->scale_mul(out, out, j->w + o, r, gs);
    }
}

void hcpu_gated_norm(hcpu_ctx *c, float *out, const float *y, size_t ys, const float *z, size_t zs, const float *w, int T,
                     int n, int G, float eps) {
    norm_job j = {.k = c->k, .out = out, .x = y, .w = w, .z = z, .xs = ys, .zs = zs, .n = n, .G = G, .eps = eps};
    const int items = T * G;
    hcpu_parallel_for(c, items, (items + 4 * c->nth - 1) / (4 * c->nth), gated_body, &j);
}
