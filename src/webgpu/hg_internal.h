/* hg_internal.h - the plan context's fields and the dispatch builder, shared by the planner's files only. */
#ifndef HEARTH_WEBGPU_HG_INTERNAL_H
#define HEARTH_WEBGPU_HG_INTERNAL_H

#include "quant.h"
#include "webgpu/hg.h"

#define HG_MAX_SOURCES 64

typedef struct {
    uint64_t size;
    char label[24];
} hg_bufinfo;

typedef struct {
    uint32_t buf;
    uint64_t off, n, file_off;
    void *data; /* owned copy, or NULL for a file range */
    uint32_t block; /* file range of n / block quantised blocks to repack (UPLOAD_FILE_PLANAR), else 0 */
    uint64_t off2;  /* ... and where their scales go */
} hg_upload;

struct hg_ctx {
    hg_device dev;
    hg_blob plan, step;
    bool plan_done;
    bool oom; /* an allocation failed, or a planner bug was caught: the blobs are unusable */
    hg_bufinfo *bufs;
    uint32_t n_bufs, cap_bufs;
    uint32_t arena; /* buffer id of the weight arena being filled, or UINT32_MAX */
    hg_upload *ups;
    uint32_t n_up, cap_ups;
    struct {
        char key[96];
    } *kernels;
    uint32_t n_kernels, cap_kernels;
    bool source_sent[HG_MAX_SOURCES];
    int n_dispatch;
};

/* One dispatch under construction: params (binding 0) and storage bindings 1..n. */
typedef struct {
    uint32_t kernel;
    uint32_t params[HG_MAX_PARAMS];
    uint32_t n_params;
    hg_ref binds[8];
    uint32_t n_binds;
} hg_disp;

static inline hg_disp hg_disp_new(uint32_t kernel) {
    hg_disp d;
    memset(&d, 0, sizeof d);
    d.kernel = kernel;
    return d;
}
static inline void hg_pu(hg_disp *d, uint32_t v) {
    if (d->n_params < HG_MAX_PARAMS) d->params[d->n_params++] = v;
}
static inline void hg_pf(hg_disp *d, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    hg_pu(d, v);
}
static inline void hg_bind(hg_disp *d, hg_ref r) {
    if (d->n_binds < 8) d->binds[d->n_binds++] = r;
}

/* Weight types whose kernels dequantise against f32 activations (matvec_k/matmul_k/embed_k.wgsl with
 * wq_k.wgsl): the k-quants and the 32-value types k-quant files fall back to for short rows. */
static inline bool hg_type_wk(uint32_t type) {
    return type == HT_Q4_K || type == HT_Q5_K || type == HT_Q6_K || type == HT_Q4_1 || type == HT_Q5_0 || type == HT_Q5_1;
}

/* Kernel id of WGSL file `name` with override constants "A=1,B=2" (registered on first use). */
uint32_t hg_kernel(hg_ctx *g, const char *name, const char *consts);
/* Appends the dispatch to the current step (nothing when a count is 0). */
void hg_dispatch(hg_ctx *g, const hg_disp *d, uint32_t wx, uint32_t wy, uint32_t wz);

void hg_blob_reset(hg_blob *b, uint32_t kind);
void hg_blob_free(hg_blob *b);

#endif
