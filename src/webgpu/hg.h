/* hg.h - the WebGPU backend's planner: GPU buffers, kernels and dispatches as plan blobs (plan.h) for web/gpu/host.js.
 *
 * Layers, bottom up:
 *   hg_ctx     a plan under construction: buffers (with their uploads), the kernel registry and the
 *              current step's records. Knows nothing about models.
 *   hg_op_*    one function per op: appends the dispatches of that op to the current step. The forward
 *              pass and the op-parity tests call the very same functions.
 *   hg_model   (hg_model.c) a loaded hearth_model's weights placed in GPU buffers, and the forward
 *              pass + sampling of one step as dispatches.
 *   hg_session (hg_session.c, gpu.h) steppable prefill/decode/generation on the GPU with a fallback
 *              to the CPU session when the device is gone.
 *
 * Conventions: every activation is f32. A view (hg_view) addresses a [rows][stride] matrix inside
 * a binding by element offset, so one binding serves every row. Offsets in params are in elements.
 */
#ifndef HEARTH_WEBGPU_HG_H
#define HEARTH_WEBGPU_HG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "webgpu/plan.h"

/* What the host reports about its device (GpuHost.facts() in web/gpu/host.js). */
typedef struct {
    uint64_t max_binding;    /* maxStorageBufferBindingSize */
    uint64_t max_buffer;     /* maxBufferSize */
    uint32_t max_wg;         /* maxComputeWorkgroupsPerDimension */
    uint32_t max_storage;    /* maxStorageBuffersPerShaderStage */
    bool subgroups;          /* feature 'subgroups' enabled on the device */
    uint32_t subgroup_min;   /* adapter's smallest subgroup size (with subgroups; 0 = unknown: not used) */
    bool dot4;               /* WGSL language feature packed_4x8_integer_dot_product (dot4I8Packed) */
    bool shader_f16;         /* feature 'shader-f16' enabled on the device (not used: f16 data is decoded by hand) */
} hg_device;

/* WebGPU's default limits (what every adapter offers). */
hg_device hg_device_default(void);

/* A range of a GPU buffer, as bound. */
typedef struct {
    uint32_t buf;
    uint64_t off, size; /* bytes; off is a multiple of HG_BIND_ALIGN */
} hg_ref;

/* A [rows][stride] f32 matrix inside a binding: element (t, i) is at off + t * stride + i. */
typedef struct {
    hg_ref ref;
    uint32_t off, stride;
} hg_view;

static inline hg_view hg_v(hg_ref r, uint32_t off, uint32_t stride) { return (hg_view){r, off, stride}; }

/* A weight matrix [n_out][n_in] in GGUF layout, split by rows into parts that each fit a binding. */
#define HG_MAX_PARTS 64
typedef struct {
    uint32_t type;      /* ht_type: F32, F16, BF16, Q8_0, Q4_0; Q4_K, Q5_K, Q6_K, Q4_1, Q5_0, Q5_1 */
    int64_t n_in, n_out;
    uint64_t row_bytes;
    bool planar;        /* Q8_0/Q4_0 repacked per part: all quants, then all f16 scales (wq.wgsl) */
    int n_parts;
    struct {
        hg_ref ref;
        int64_t row0, rows;
    } part[HG_MAX_PARTS];
} hg_weight;

/* Byte offset of part i's scales plane inside the part (planar weights; 0 otherwise). */
static inline uint64_t hg_weight_s0(const hg_weight *w, int i) {
    return w->planar ? (uint64_t)w->part[i].rows * (w->row_bytes - 2 * (uint64_t)(w->n_in / 32)) : 0;
}

/* A growable blob of plan records (plan.h). */
typedef struct {
    uint8_t *p;
    size_t len, cap;
    uint32_t n_records;
    bool oom;
} hg_blob;

typedef struct hg_ctx hg_ctx;

/* ---- plan context ---------------------------------------------------------------------------- */

hearth_status hg_ctx_new(const hg_device *dev, hg_ctx **out, hearth_err *e);
void hg_ctx_free(hg_ctx *g);
const hg_device *hg_ctx_device(const hg_ctx *g);

/* A 256-byte buffer bound where a kernel's binding is unused (read-only). */
hg_ref hg_dummy(const hg_ctx *g);
/* A new buffer of `size` bytes (rounded up to 4, at least 256), zero-filled. Whole-buffer ref. */
hg_ref hg_buffer(hg_ctx *g, uint64_t size, const char *label);
/* A new buffer holding a copy of `data` (n bytes). */
hg_ref hg_buffer_data(hg_ctx *g, const void *data, uint64_t n, const char *label);
/* Space for `size` bytes in a shared arena of weights (packed, 256-aligned); filled from the model
 * file (file_off) or from a copy of `data` when data != NULL. size <= max_binding. */
hg_ref hg_place_file(hg_ctx *g, uint64_t size, uint64_t file_off);
hg_ref hg_place_data(hg_ctx *g, const void *data, uint64_t size);
/* Places a weight of `type` [n_out][n_in] whose bytes start at file_off (data == NULL) or at `data`,
 * split by rows so that every part fits in max_part bytes (0 = the device's binding limit). */
hearth_status hg_place_weight(hg_ctx *g, uint32_t type, int64_t n_in, int64_t n_out, uint64_t file_off,
                              const void *data, uint64_t max_part, hg_weight *w, hearth_err *e);
/* Places n weights with the same type and row length as one matrix, their rows one after another
 * (q, k and v become one projection): rows[i] rows from file_off[i] (or data[i] when data and
 * data[i] are not NULL). */
hearth_status hg_place_weight_concat(hg_ctx *g, uint32_t type, int64_t n_in, int n, const int64_t *rows,
                                     const uint64_t *file_off, const void *const *data, uint64_t max_part, hg_weight *w,
                                     hearth_err *e);

/* Emits the buffer plan (BUFFER and UPLOAD records, plus kernels registered so far) and returns
 * it (borrowed, valid until hg_ctx_free). Later kernel registrations go into steps. */
const uint8_t *hg_finish_plan(hg_ctx *g, size_t *len);

/* Steps: begin clears the step blob; the ops below append to it; end returns it (borrowed, valid
 * until the next begin). */
void hg_step_begin(hg_ctx *g);
const uint8_t *hg_step_end(hg_ctx *g, size_t *len);
int hg_step_dispatches(const hg_ctx *g); /* dispatches in the current step */
bool hg_ctx_failed(const hg_ctx *g);     /* an allocation failed while building */

void hg_write(hg_ctx *g, hg_ref dst, uint64_t off, const void *data, uint32_t n);
void hg_clear(hg_ctx *g, hg_ref r);
void hg_copy(hg_ctx *g, hg_ref src, uint64_t src_off, hg_ref dst, uint64_t dst_off, uint64_t size);
void hg_read(hg_ctx *g, hg_ref r, uint64_t off, uint64_t size, uint32_t what);

/* ---- ops ------------------------------------------------------------------------------------- */

typedef enum {
    HG_EPI_STORE = 0, /* y = W x */
    HG_EPI_ADD = 1,   /* y += W x (residual add) */
    HG_EPI_RELU2 = 2, /* y = relu(W x)^2 */
    HG_EPI_SWIGLU = 3 /* y = silu(y) * (W x): y held the gate projection */
} hg_epilogue;

/* An activation matrix x [T][n] (f32) as the input of matmuls. Quantised weights (Q8_0, Q4_0)
 * read it as Q8 blocks, as the CPU backend does (llama.cpp's rounding, d kept as f16): the first
 * such matmul quantises x into the scratch q8 and marks it ready for the next ones on the same x. */
typedef struct {
    hg_view x;
    int T, n;
    hg_ref q8;     /* hg_q8_bytes(T, n) bytes */
    bool q8_ready; /* q8 holds x quantised */
} hg_act;

static inline hg_act hg_act_of(hg_view x, int T, int n, hg_ref q8) { return (hg_act){x, T, n, q8, false}; }
/* Bytes of the Q8 copy of [T][n] (n a multiple of 32): per block 32 int8 codes + f32 d. */
static inline uint64_t hg_q8_bytes(int T, int n) { return (uint64_t)T * (uint64_t)(n / 32) * 36u; }

/* Rows tok..tok+T-1 of `tokens` (u32) looked up in `table` into out[T][n_in]. */
void hg_op_embed(hg_ctx *g, const hg_weight *table, hg_ref tokens, uint32_t tok_off, int T, hg_view out);
/* out[t] = w * x[t] / sqrt(mean(x[t]^2) + eps), n values, T rows. */
void hg_op_rmsnorm(hg_ctx *g, hg_view x, hg_ref w, int n, int T, float eps, hg_view out);
/* RMSNorm into out->x (as hg_op_rmsnorm), fused with the Q8 copy when out->q8 is large enough and
 * x's offset and stride are multiples of 4 (out->q8_ready is then set): the next quantised
 * matmuls need no quantisation dispatch. */
void hg_op_rmsnorm_act(hg_ctx *g, hg_view x, hg_ref w, int n, int T, float eps, hg_act *out);
/* x's Q8 copy (quant_act.wgsl); hg_op_matmul calls it when a quantised weight needs it. */
void hg_op_quant(hg_ctx *g, hg_act *x);
/* y[t][o] (epilogue) W[o] . x[t] for x's T rows; T <= 8 runs the decode kernel, more the tiled one. */
void hg_op_matmul(hg_ctx *g, const hg_weight *w, hg_act *x, hg_view y, hg_epilogue epi);
/* Mamba-2 conv + SiLU over T rows of raw xBC (C channels, kernel K); cw = taps [C][K] then bias [C];
 * state [K-1][C] advanced. */
void hg_op_conv_silu(hg_ctx *g, hg_view src, int T, int C, int K, hg_ref cw, hg_ref state, hg_view out);

/* Shapes of a Mamba-2 layer. */
typedef struct {
    int H, P, G, N, DI; /* heads, head dim, groups, state size, inner = H * P */
} hg_ssm_shape;

/* Mamba-2 SSM for T tokens: xc rows [x | B | C] (post-conv), dt_raw at dt (per head), hv = dt_bias |
 * A | D [3][H], state [H][N][P] (GPU layout), y [T][DI] (with D x). T == 1 or chunk <= 1: the
 * recurrence; else the chunked scan with chunks of `chunk` (<= 64) tokens, which needs dtl
 * (2*T*H floats) and sl (ceil(T/chunk)*H*N*P floats) scratch. */
void hg_op_ssm(hg_ctx *g, const hg_ssm_shape *s, int T, int chunk, hg_view xc, hg_view dt, hg_ref hv, hg_ref state,
               hg_ref dtl, hg_ref sl, hg_view y);
/* Gated group RMSNorm: out = w * v / rms_group(v), v = y * silu(z); n values in G groups. */
void hg_op_gated_norm(hg_ctx *g, hg_view y, hg_view z, hg_ref w, int n, int G, int T, float eps, hg_view out);
/* The same into out->x, fused with the Q8 copy when out->q8 is large enough and n / G is a
 * multiple of 32. */
void hg_op_gated_norm_act(hg_ctx *g, hg_view y, hg_view z, hg_ref w, int n, int G, int T, float eps, hg_act *out);

/* Attention layer shape and options. */
typedef struct {
    int nh, nkv, hd;
    int rope;          /* 0 none, 1 pairs (2i, 2i+1), 2 neox (i, i + hd/2) */
    bool bias;         /* aux holds q|k|v biases at bias_off */
    bool qk_norm;      /* aux holds q_norm [hd] at qn_off and k_norm [hd] at kn_off */
    uint32_t bias_off, qn_off, kn_off;
    float eps;
} hg_attn_shape;

/* q|k|v rows [T][nh*hd + 2*nkv*hd] in qkv (updated in place: q after bias/norm/rope), k and v
 * appended to kc/vc ([n_ctx][nkv*hd]) at rows p0..p0+T-1. rope: table [n_ctx][hd/2][cos, sin]. */
void hg_op_attn_prep(hg_ctx *g, const hg_attn_shape *a, int T, int p0, hg_ref qkv, hg_ref aux, hg_ref rope, hg_ref kc,
                     hg_ref vc);
/* RoPE table [n_pos][hd/2][cos, sin] of pos * base^(-2i/hd), computed as src/ops.c hop_rope does. */
void hg_rope_table(float *out, int n_pos, int hd, float base);
/* Causal attention of T queries at p0.. (q from a view with row stride) into out[T][nh*hd]. With
 * T <= 8 and `part` large enough (hg_attn_part_bytes) it splits over the keys in two dispatches
 * (decode: many workgroups instead of one per head); else one dispatch. */
void hg_op_attention(hg_ctx *g, const hg_attn_shape *a, int T, int p0, hg_view q, hg_ref kc, hg_ref vc, hg_ref part,
                     hg_view out);
/* Scratch bytes of the split attention for up to T queries over n_ctx positions. */
uint64_t hg_attn_part_bytes(int T, int n_ctx, int nh, int hd);

/* Sampling parameters for the GPU sampler. */
typedef struct {
    float temperature; /* <= 0: greedy */
    int top_k;         /* 1..HG_MAX_TOP_K when temperature > 0 */
    float top_p, min_p;
    float repetition_penalty; /* 1 = off */
} hg_sampling;
#define HG_MAX_TOP_K 256

/* Whether hg_op_sample can run these parameters on the GPU (greedy, or top_k in [1, 256]). */
bool hg_sampling_on_gpu(const hg_sampling *sp, int n_vocab);
/* Samples from logits[n] (modified by the repetition penalty over hist[0..n_hist)) with uniform u;
 * writes the id to tokens[tok_off] and hist[hist_pos]. cand_a/cand_b: scratch of
 * hg_sample_scratch_bytes(n); bits: ceil(n/32) u32. */
void hg_op_sample(hg_ctx *g, const hg_sampling *sp, float u, hg_ref logits, int n, hg_ref hist, int n_hist,
                  hg_ref tokens, uint32_t tok_off, uint32_t hist_pos, hg_ref cand_a, hg_ref cand_b, hg_ref bits);
uint64_t hg_sample_scratch_bytes(int n, int top_k);

#endif
