/* gpu_ops.c - op-parity cases for the WebGPU kernels: random inputs, the plain-C reference result, and the plan that computes it on the GPU.
 *
 * Each case is written as <dir>/<n>.plan (buffers with the inputs), <n>.step (the op's dispatches
 * and READs of its outputs) and <n>.expect (the reference outputs, concatenated), and described by
 * one JSON line in <dir>/index.jsonl: {"name", "outputs": [{"type": "f32"|"u32", "n", "tol"}]}.
 * tests/js/webgpu_ops.test.mjs runs them through web/gpu/host.js and compares.
 *
 * Error measure (f32 outputs): max |gpu - ref| / max |ref| over the whole output ("normalised
 * error"); u32 outputs (token ids) must be equal. Tolerances, stated per op below:
 *   - exact ops (embedding = dequantisation only): 1e-6
 *   - reductions of <= a few thousand terms in a different order (norms, matmul, conv, attention,
 *     the SSM recurrence): 1e-5 (f32 rounding is ~6e-8 per term; sums of n terms ~sqrt(n) ulp)
 *   - the chunked SSM scan against the reference's chunked scan (exp of differences of cumsums,
 *     different association): 1e-4
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu_kernels.h"
#include "gpu_helper.h"
#include "ops.h"
#include "quant.h"
#include "sampler.h"
#include "webgpu/hg.h"

typedef struct {
    const char *dir;
    int n;         /* cases written */
    FILE *index;
    hs_rng rng;
    hg_device dev;
    const char *tag; /* appended to case names: the device variant */
    bool x_aligned;  /* matmul cases: activation rows 16-byte aligned (else a stride of n_in + 1) */
    /* the case being built */
    hg_ctx *g;
    char name[160];
    struct {
        void *ref;
        int n;
        double tol;
        bool u32;
        bool q8; /* ref holds f32 values; the GPU output is their Q8 blocks */
    } out[8];
    int n_out;
    int failures;
} suite;

static float frand(suite *s) { return (float)(hs_rng_uniform(&s->rng) * 2.0 - 1.0); }
static float *rand_vec(suite *s, size_t n, float scale) {
    float *v = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) v[i] = frand(s) * scale;
    return v;
}

static void begin(suite *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void begin(suite *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    if (s->tag && *s->tag) {
        size_t l = strlen(s->name);
        snprintf(s->name + l, sizeof s->name - l, " %s", s->tag);
    }
    hearth_err e = {0};
    if (hg_ctx_new(&s->dev, &s->g, &e) != HEARTH_OK) {
        fprintf(stderr, "hg_ctx_new: %s\n", e.msg);
        exit(2);
    }
    s->n_out = 0;
}

/* Finishes the plan (call after every buffer exists) and starts the step. */
static void plan_done(suite *s) {
    size_t len;
    const uint8_t *p = hg_finish_plan(s->g, &len);
    char fn[64];
    snprintf(fn, sizeof fn, "%d.plan", s->n);
    if (!p || gh_write_file(s->dir, fn, p, len)) {
        fprintf(stderr, "%s: plan failed\n", s->name);
        s->failures++;
    }
    hg_step_begin(s->g);
}

/* Reads `ref` back (n values) and records the expected values (copied). */
static void expect_f32(suite *s, hg_ref r, uint64_t off_elems, const float *ref, int n, double tol) {
    hg_read(s->g, r, off_elems * 4, (uint64_t)n * 4, HG_READ_DATA);
    float *c = malloc(sizeof(float) * (size_t)n);
    memcpy(c, ref, sizeof(float) * (size_t)n);
    s->out[s->n_out].ref = c;
    s->out[s->n_out].n = n;
    s->out[s->n_out].tol = tol;
    s->out[s->n_out].u32 = false;
    s->out[s->n_out].q8 = false;
    s->n_out++;
}

static void expect_u32(suite *s, hg_ref r, uint64_t off_elems, const uint32_t *ref, int n) {
    hg_read(s->g, r, off_elems * 4, (uint64_t)n * 4, HG_READ_DATA);
    uint32_t *c = malloc(sizeof(uint32_t) * (size_t)n);
    memcpy(c, ref, sizeof(uint32_t) * (size_t)n);
    s->out[s->n_out].ref = c;
    s->out[s->n_out].n = n;
    s->out[s->n_out].tol = 0;
    s->out[s->n_out].u32 = true;
    s->out[s->n_out].q8 = false;
    s->n_out++;
}

/* Reads the Q8 blocks at r and checks them against the f32 values they quantise (n values, a
 * multiple of 32): every block's d is the f16 nearest amax/127 (within one f16 step, as the
 * values may differ from the reference in their last bit) and every code * d lies within 0.57 d
 * of its value (src/cpu_kernels.h). Bit-exact codes are checked by the quant_act cases, which share the code. */
static void expect_q8(suite *s, hg_ref r, const float *ref, int n) {
    hg_read(s->g, r, 0, (uint64_t)(n / 32) * 36, HG_READ_DATA);
    float *c = malloc(sizeof(float) * (size_t)n);
    memcpy(c, ref, sizeof(float) * (size_t)n);
    s->out[s->n_out].ref = c;
    s->out[s->n_out].n = n;
    s->out[s->n_out].tol = 0;
    s->out[s->n_out].u32 = false;
    s->out[s->n_out].q8 = true;
    s->n_out++;
}

static void end(suite *s) {
    size_t len;
    const uint8_t *p = hg_step_end(s->g, &len);
    char fn[64];
    snprintf(fn, sizeof fn, "%d.step", s->n);
    if (!p || gh_write_file(s->dir, fn, p, len)) {
        fprintf(stderr, "%s: step failed\n", s->name);
        s->failures++;
    }
    size_t total = 0;
    for (int i = 0; i < s->n_out; i++) total += 4 * (size_t)s->out[i].n;
    uint8_t *all = malloc(total ? total : 1);
    size_t at = 0;
    fprintf(s->index, "{\"name\": \"%s\", \"id\": %d, \"dispatches\": %d, \"outputs\": [", s->name, s->n,
            hg_step_dispatches(s->g));
    for (int i = 0; i < s->n_out; i++) {
        memcpy(all + at, s->out[i].ref, 4 * (size_t)s->out[i].n);
        at += 4 * (size_t)s->out[i].n;
        fprintf(s->index, "%s{\"type\": \"%s\", \"n\": %d, \"tol\": %g}", i ? ", " : "",
                s->out[i].u32 ? "u32" : s->out[i].q8 ? "q8" : "f32",
                s->out[i].n, s->out[i].tol);
        free(s->out[i].ref);
    }
    fprintf(s->index, "]}\n");
    snprintf(fn, sizeof fn, "%d.expect", s->n);
    gh_write_file(s->dir, fn, all, total);
    free(all);
    hg_ctx_free(s->g);
    s->g = NULL;
    s->n++;
}

/* A weight of `type` from random values: its bytes (caller frees) and a reference view of them. */
static uint8_t *make_weight(suite *s, uint32_t type, int n_in, int n_out, float scale, hm_weight *w) {
    uint64_t rb;
    ht_row_bytes(type, (uint64_t)n_in, &rb);
    uint8_t *bytes = malloc(rb * (uint64_t)n_out);
    float *row = rand_vec(s, (size_t)n_in, scale);
    for (int o = 0; o < n_out; o++) {
        for (int i = 0; i < n_in; i++) row[i] = frand(s) * scale;
        ht_quantize(type, row, bytes + rb * (uint64_t)o, n_in);
    }
    free(row);
    memset(w, 0, sizeof *w);
    w->type = type;
    w->ne[0] = (uint64_t)n_in;
    w->ne[1] = (uint64_t)n_out;
    w->ne[2] = w->ne[3] = 1;
    w->data = bytes;
    w->row_bytes = rb;
    return bytes;
}

static const uint32_t all_types[5] = {HT_F32, HT_F16, HT_BF16, HT_Q8_0, HT_Q4_0};
/* Dequantised in the kernel against f32 activations (wq_k.wgsl): the k-quants, then the 32-value
 * types a k-quant file falls back to for rows that are not a multiple of 256. */
static const uint32_t wk_types[6] = {HT_Q4_K, HT_Q5_K, HT_Q6_K, HT_Q4_1, HT_Q5_0, HT_Q5_1};
static int wk_block(uint32_t type) { return (int)ht_type_get(type)->block_size; }

/* ---- cases ------------------------------------------------------------------------------------- */

static void case_embed(suite *s, uint32_t type, int V, int E, int T, uint64_t max_part) {
    hm_weight w;
    uint8_t *bytes = make_weight(s, type, E, V, max_part ? 1.0f : 0.003f, &w); /* unsplit: f16-subnormal scales */
    begin(s, "embed %s V=%d E=%d T=%d%s", ht_type_get(type)->name, V, E, T, max_part ? " split" : "");
    hg_weight gw;
    hearth_err e = {0};
    if (hg_place_weight(s->g, type, E, V, 0, bytes, max_part, &gw, &e) != HEARTH_OK) {
        fprintf(stderr, "%s: %s\n", s->name, e.msg);
        exit(2);
    }
    uint32_t *tok = malloc(sizeof(uint32_t) * (size_t)T);
    for (int t = 0; t < T; t++) tok[t] = t == 0 ? 0 : t == 1 ? (uint32_t)V - 1 : (uint32_t)(hs_rng_next(&s->rng) % (uint64_t)V);
    hg_ref tb = hg_buffer_data(s->g, tok, sizeof(uint32_t) * (size_t)T, "tokens");
    const uint32_t stride = (uint32_t)E + 3, off = 5;
    hg_ref out = hg_buffer(s->g, 4ull * (off + (uint64_t)T * stride), "out");
    plan_done(s);
    hg_op_embed(s->g, &gw, tb, 0, T, hg_v(out, off, stride));
    float *ref = calloc((size_t)T * stride, sizeof(float));
    for (int t = 0; t < T; t++) ht_dequantize(type, bytes + w.row_bytes * tok[t], ref + (size_t)t * stride, E);
    /* the padding columns stay 0 */
    expect_f32(s, out, off, ref, (int)((T - 1) * stride + (uint32_t)E), 1e-6);
    end(s);
    if (max_part && gw.n_parts < 2) {
        fprintf(stderr, "%s: expected a split table\n", s->name);
        s->failures++;
    }
    free(ref);
    free(tok);
    free(bytes);
}

static void case_rmsnorm(suite *s, int n, int T) {
    begin(s, "rmsnorm n=%d T=%d", n, T);
    const uint32_t xs = (uint32_t)n + 7, xo = 3;
    float *x = rand_vec(s, xo + (size_t)T * xs, 2.0f), *w = rand_vec(s, (size_t)n, 1.0f);
    hg_ref xb = hg_buffer_data(s->g, x, 4 * (xo + (size_t)T * xs), "x");
    hg_ref wb = hg_place_data(s->g, w, 4ull * (uint64_t)n);
    hg_ref ob = hg_buffer(s->g, 4ull * (uint64_t)T * (uint64_t)n, "out");
    plan_done(s);
    hg_op_rmsnorm(s->g, hg_v(xb, xo, xs), wb, n, T, 1e-5f, hg_v(ob, 0, (uint32_t)n));
    float *ref = malloc(sizeof(float) * (size_t)T * n);
    for (int t = 0; t < T; t++) hop_rmsnorm_ref(ref + (size_t)t * n, x + xo + (size_t)t * xs, w, n, 1e-5f);
    expect_f32(s, ob, 0, ref, T * n, 1e-5);
    end(s);
    free(x), free(w), free(ref);
}

/* rmsnorm fused with the Q8 copy of its output. */
static void case_rmsnorm_q8(suite *s, int n, int T, int pad) {
    begin(s, "rmsnorm_q8 n=%d T=%d row stride n+%d%s", n, T, pad, pad % 4 ? " (unfused)" : "");
    const uint32_t xs = (uint32_t)(n + pad);
    float *x = rand_vec(s, (size_t)T * xs, 2.0f), *w = rand_vec(s, (size_t)n, 1.0f);
    hg_ref xb = hg_buffer_data(s->g, x, 4ull * T * xs, "x");
    hg_ref wb = hg_place_data(s->g, w, 4ull * (uint64_t)n);
    hg_ref ob = hg_buffer(s->g, 4ull * T * n, "out");
    hg_ref q8 = hg_buffer(s->g, hg_q8_bytes(T, n), "q8");
    plan_done(s);
    hg_act a = hg_act_of(hg_v(ob, 0, (uint32_t)n), T, n, q8);
    hg_op_rmsnorm_act(s->g, hg_v(xb, 0, xs), wb, n, T, 1e-5f, &a);
    if (!a.q8_ready) hg_op_quant(s->g, &a);
    float *ref = malloc(sizeof(float) * (size_t)T * n);
    for (int t = 0; t < T; t++) hop_rmsnorm_ref(ref + (size_t)t * n, x + (size_t)t * xs, w, n, 1e-5f);
    expect_f32(s, ob, 0, ref, T * n, 1e-5);
    expect_q8(s, q8, ref, T * n);
    end(s);
    free(x), free(w), free(ref);
}

static void case_gated_norm_q8(suite *s, int n, int G, int T) {
    begin(s, "gated_norm_q8 n=%d G=%d T=%d", n, G, T);
    float *y = rand_vec(s, (size_t)T * n, 1.5f), *z = rand_vec(s, (size_t)T * n, 2.0f), *w = rand_vec(s, (size_t)n, 1.0f);
    hg_ref yb = hg_buffer_data(s->g, y, 4ull * T * n, "y");
    hg_ref zb = hg_buffer_data(s->g, z, 4ull * T * n, "z");
    hg_ref wb = hg_place_data(s->g, w, 4ull * (uint64_t)n);
    hg_ref ob = hg_buffer(s->g, 4ull * T * n, "out");
    hg_ref q8 = hg_buffer(s->g, hg_q8_bytes(T, n), "q8");
    plan_done(s);
    hg_act a = hg_act_of(hg_v(ob, 0, (uint32_t)n), T, n, q8);
    hg_op_gated_norm_act(s->g, hg_v(yb, 0, (uint32_t)n), hg_v(zb, 0, (uint32_t)n), wb, n, G, T, 1e-5f, &a);
    float *ref = malloc(sizeof(float) * (size_t)T * n);
    for (int t = 0; t < T; t++) hop_gated_norm_ref(ref + (size_t)t * n, y + (size_t)t * n, z + (size_t)t * n, w, n, G, 1e-5f);
    expect_f32(s, ob, 0, ref, T * n, 1e-5);
    expect_q8(s, q8, ref, T * n);
    end(s);
    free(y), free(z), free(w), free(ref);
}

/* Three weights placed as one matrix (q|k|v), split into parts that straddle the tensors. */
static void case_concat(suite *s, uint32_t type, int n_in, int T, uint64_t max_part) {
    const int64_t rows[3] = {40, 24, 24};
    hm_weight w[3];
    uint8_t *bytes[3];
    for (int i = 0; i < 3; i++) bytes[i] = make_weight(s, type, n_in, (int)rows[i], 0.5f, &w[i]);
    begin(s, "matmul concat %s 3x(%lld|%lld|%lld)x%d T=%d%s", ht_type_get(type)->name, (long long)rows[0], (long long)rows[1],
          (long long)rows[2], n_in, T, max_part ? " split" : "");
    hg_weight gw;
    hearth_err e = {0};
    const uint64_t offs[3] = {0, 0, 0};
    const void *const data[3] = {bytes[0], bytes[1], bytes[2]};
    if (hg_place_weight_concat(s->g, type, n_in, 3, rows, offs, data, max_part, &gw, &e) != HEARTH_OK) {
        fprintf(stderr, "%s: %s\n", s->name, e.msg);
        exit(2);
    }
    const int n_out = 88;
    float *x = rand_vec(s, (size_t)T * n_in, 1.0f);
    hg_ref xb = hg_buffer_data(s->g, x, 4ull * T * n_in, "x");
    hg_ref yb = hg_buffer(s->g, 4ull * T * n_out, "y");
    hg_ref q8 = hg_buffer(s->g, hg_q8_bytes(T, n_in), "q8");
    plan_done(s);
    hg_act xa = hg_act_of(hg_v(xb, 0, (uint32_t)n_in), T, n_in, q8);
    hg_op_matmul(s->g, &gw, &xa, hg_v(yb, 0, (uint32_t)n_out), HG_EPI_STORE);
    float *ref = malloc(sizeof(float) * (size_t)T * n_out);
    const bool quant = type == HT_Q4_0; /* Q8 activations; Q8_0 weights take f32 ones (hop_matmul_ref) */
    const int nb = n_in / 32;
    int8_t *aq = malloc((size_t)n_in);
    float ad[64], as[64];
    for (int t = 0; t < T; t++) {
        int at = 0;
        for (int i = 0; i < 3; i++) {
            float *yr = ref + (size_t)t * n_out + at;
            if (quant) {
                const hk_kernels *k = hk_generic();
                k->quantize_q8(x + (size_t)t * n_in, aq, ad, as, nb);
                hk_q8act act = {aq, ad, as, nb};
                k->gemm_q4_0(bytes[i], w[i].row_bytes, (int)rows[i], &act, 1, yr, 1);
            } else {
                hop_matmul_ref(&w[i], x + (size_t)t * n_in, 1, yr);
            }
            at += (int)rows[i];
        }
    }
    expect_f32(s, yb, 0, ref, T * n_out, 1e-5);
    end(s);
    if (max_part && gw.n_parts < 3) {
        fprintf(stderr, "%s: expected several parts\n", s->name);
        s->failures++;
    }
    free(x), free(ref), free(aq);
    for (int i = 0; i < 3; i++) free(bytes[i]);
}

static float silu(float v) { return v / (1.0f + expf(-v)); }

static void case_matmul_scaled(suite *s, uint32_t type, int n_in, int n_out, int T, hg_epilogue epi, uint64_t max_part,
                               float wscale) {
    static const char *epi_name[] = {"store", "add", "relu2", "swiglu"};
    hm_weight w;
    uint8_t *bytes = make_weight(s, type, n_in, n_out, wscale, &w);
    begin(s, "matmul %s %dx%d T=%d %s%s%s", ht_type_get(type)->name, n_out, n_in, T, epi_name[epi], max_part ? " split" : "",
          wscale < 0.01f ? " tiny weights (f16-subnormal scales)" : "");
    hg_weight gw;
    hearth_err e = {0};
    if (hg_place_weight(s->g, type, n_in, n_out, 0, bytes, max_part, &gw, &e) != HEARTH_OK) {
        fprintf(stderr, "%s: %s\n", s->name, e.msg);
        exit(2);
    }
    const uint32_t xs = (uint32_t)n_in + (s->x_aligned ? 0 : 1), ys = (uint32_t)n_out + 2;
    float *x = rand_vec(s, (size_t)T * xs, 1.0f), *y0 = rand_vec(s, (size_t)T * ys, 1.0f);
    hg_ref xb = hg_buffer_data(s->g, x, 4ull * T * xs, "x");
    hg_ref yb = hg_buffer_data(s->g, y0, 4ull * T * ys, "y");
    hg_ref q8 = hg_buffer(s->g, hg_q8_bytes(T, n_in), "q8");
    plan_done(s);
    hg_act xa = hg_act_of(hg_v(xb, 0, xs), T, n_in, q8);
    hg_op_matmul(s->g, &gw, &xa, hg_v(yb, 1, ys), epi);
    /* references: the plain-C f32 matmul (hop_matmul_ref); for Q4_0 weights also the CPU backend's
     * plain-C kernel on Q8 activations (hk_generic), which the GPU reproduces. Q8_0 weights run on
     * f32 activations (dequantised in the kernel): hop_matmul_ref alone, like the float types. */
    const bool quant = type == HT_Q4_0;
    float *ref = malloc(sizeof(float) * (size_t)T * ys), *exact = malloc(sizeof(float) * (size_t)T * ys);
    float *tmp = malloc(sizeof(float) * (size_t)n_out), *tq = malloc(sizeof(float) * (size_t)n_out);
    const int nb = n_in / 32;
    int8_t *aq = malloc((size_t)(nb ? nb : 1) * 32);
    float *ad = malloc(sizeof(float) * (size_t)(nb ? nb : 1)), *as = malloc(sizeof(float) * (size_t)(nb ? nb : 1));
    memcpy(ref, y0, sizeof(float) * (size_t)T * ys);
    memcpy(exact, y0, sizeof(float) * (size_t)T * ys);
    for (int t = 0; t < T; t++) {
        hop_matmul_ref(&w, x + (size_t)t * xs, 1, tmp);
        if (quant) {
            const hk_kernels *k = hk_generic();
            k->quantize_q8(x + (size_t)t * xs, aq, ad, as, nb);
            hk_q8act act = {aq, ad, as, nb};
            k->gemm_q4_0(bytes, w.row_bytes, n_out, &act, 1, tq, 1);
        } else {
            memcpy(tq, tmp, sizeof(float) * (size_t)n_out);
        }
        for (int pass = 0; pass < 2; pass++) {
            float *yr = (pass ? exact : ref) + (size_t)t * ys + 1;
            const float *src = pass ? tmp : tq;
            for (int o = 0; o < n_out; o++) {
                float v = src[o];
                switch (epi) {
                case HG_EPI_STORE: yr[o] = v; break;
                case HG_EPI_ADD: yr[o] += v; break;
                case HG_EPI_RELU2: yr[o] = v > 0 ? v * v : 0; break;
                case HG_EPI_SWIGLU: yr[o] = silu(yr[o]) * v; break;
                }
            }
        }
    }
    expect_f32(s, yb, 0, ref, (int)((uint32_t)T * ys), 1e-5);
    /* Q8 activations against exact f32 ones: the rounding bound of cpu_kernels.h, about 1% of the
     * output scale for these random rows (measured 0.25-0.45%) */
    if (quant) expect_f32(s, yb, 0, exact, (int)((uint32_t)T * ys), 2e-2);
    end(s);
    free(aq), free(ad), free(as), free(tq), free(exact);
    free(x), free(y0), free(ref), free(tmp), free(bytes);
}

/* Activations to Q8 blocks: byte for byte what ht_quantize(Q8_0) writes (codes, and d as f16). */
static void case_quant(suite *s, int n, int T) {
    begin(s, "quant_act n=%d T=%d", n, T);
    const uint32_t xs = (uint32_t)n + 5;
    float *x = rand_vec(s, (size_t)T * xs, 3.0f);
    for (int i = 0; i < 32 && i < n; i++) x[i] = 0;          /* an all-zero block */
    if (n >= 64) x[40] = 1e-6f, x[41] = -2e-7f;              /* a block with an f16-subnormal d */
    for (int i = 64; i < 96 && i < n; i++) x[i] = (float)(i - 80) * 0.5f; /* exact .5 ties */
    /* values whose x/d lies within an ulp or two of a .5 boundary: a division off by one ulp
     * (GPUs may divide approximately) rounds them the other way */
    for (int t = 0; t < T; t++)
        for (int b0 = 96; b0 + 32 <= n; b0 += 32) {
            float *blk = x + (size_t)t * xs + b0;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(blk[j]));
            const float d = amax / 127.0f;
            for (int j = 1; j < 9; j++) {
                float v = ((float)(j * 13 % 120) + 0.5f) * d;
                uint32_t bits;
                memcpy(&bits, &v, 4);
                bits += (uint32_t)(j % 3) - 1u; /* -1, 0 or +1 ulp */
                memcpy(&blk[j], &bits, 4);
                if (fabsf(blk[j]) > amax) blk[j] = amax;
            }
        }
    hg_ref xb = hg_buffer_data(s->g, x, 4ull * T * xs, "x");
    hg_ref q8 = hg_buffer(s->g, hg_q8_bytes(T, n), "q8");
    plan_done(s);
    hg_act a = hg_act_of(hg_v(xb, 0, xs), T, n, q8);
    hg_op_quant(s->g, &a);
    const int nb = n / 32;
    uint32_t *ref = calloc((size_t)T * nb * 9, sizeof(uint32_t));
    uint8_t *blk = malloc(34 * (size_t)nb);
    for (int t = 0; t < T; t++) {
        ht_quantize(HT_Q8_0, x + (size_t)t * xs, blk, n);
        for (int b = 0; b < nb; b++) {
            uint32_t *o = ref + ((size_t)t * nb + b) * 9;
            memcpy(o, blk + 34 * b + 2, 32);
            float d = hu_f16_to_f32((uint16_t)(blk[34 * b] | blk[34 * b + 1] << 8));
            memcpy(o + 8, &d, 4);
        }
    }
    expect_u32(s, q8, 0, ref, T * nb * 9);
    end(s);
    free(x), free(ref), free(blk);
}

static void case_matmul(suite *s, uint32_t type, int n_in, int n_out, int T, hg_epilogue epi, uint64_t max_part) {
    case_matmul_scaled(s, type, n_in, n_out, T, epi, max_part, 0.5f);
}

static void case_conv(suite *s, int C, int K, int T) {
    begin(s, "conv_silu C=%d K=%d T=%d", C, K, T);
    const uint32_t ss = (uint32_t)C + 10, so = 4;
    float *src = rand_vec(s, (size_t)T * ss + so, 1.0f), *cw = rand_vec(s, (size_t)C * (K + 1), 0.7f);
    float *state = rand_vec(s, (size_t)(K - 1) * C, 1.0f);
    hg_ref sb = hg_buffer_data(s->g, src, 4 * ((size_t)T * ss + so), "src");
    hg_ref cb = hg_place_data(s->g, cw, 4ull * (uint64_t)C * (uint64_t)(K + 1));
    hg_ref stb = hg_buffer_data(s->g, state, 4ull * (uint64_t)(K - 1) * (uint64_t)C, "state");
    hg_ref ob = hg_buffer(s->g, 4ull * (uint64_t)T * (uint64_t)C, "out");
    plan_done(s);
    hg_op_conv_silu(s->g, hg_v(sb, so, ss), T, C, K, cb, stb, hg_v(ob, 0, (uint32_t)C));
    float *raw = malloc(sizeof(float) * (size_t)T * C), *ref = malloc(sizeof(float) * (size_t)T * C);
    for (int t = 0; t < T; t++) memcpy(raw + (size_t)t * C, src + so + (size_t)t * ss, sizeof(float) * (size_t)C);
    hop_conv_silu_ref(raw, T, C, K, cw, cw + (size_t)C * K, state, ref);
    expect_f32(s, ob, 0, ref, T * C, 1e-5);
    expect_f32(s, stb, 0, state, (K - 1) * C, 1e-6);
    end(s);
    free(src), free(cw), free(state), free(raw), free(ref);
}

/* state [H][P][N] (CPU) <-> [H][N][P] (GPU) */
static void to_gpu_state(const float *cpu, float *gpu, int H, int P, int N) {
    for (int h = 0; h < H; h++)
        for (int p = 0; p < P; p++)
            for (int n = 0; n < N; n++) gpu[((size_t)h * N + n) * P + p] = cpu[((size_t)h * P + p) * N + n];
}

static void case_ssm(suite *s, int H, int P, int G, int N, int T, int chunk) {
    if (chunk > 1 && T > 1) begin(s, "ssm H=%d P=%d G=%d N=%d T=%d chunked scan, chunk=%d", H, P, G, N, T, chunk);
    else begin(s, "ssm H=%d P=%d G=%d N=%d T=%d recurrence", H, P, G, N, T);
    const int DI = H * P, CD = DI + 2 * G * N, IN = DI + CD + H;
    const hg_ssm_shape sh = {H, P, G, N, DI};
    /* xc rows [x | B | C] (post-conv), proj rows [z | xBC | dt] */
    float *xc = rand_vec(s, (size_t)T * CD, 1.0f), *proj = rand_vec(s, (size_t)T * IN, 2.0f);
    float *hv = malloc(sizeof(float) * 3 * (size_t)H);
    for (int h = 0; h < H; h++) {
        hv[h] = frand(s);                          /* dt_bias */
        hv[H + h] = -expf(frand(s) * 1.5f);        /* A < 0 */
        hv[2 * H + h] = frand(s);                  /* D */
    }
    float *st = rand_vec(s, (size_t)H * P * N, 0.5f), *gst = malloc(sizeof(float) * (size_t)H * P * N);
    to_gpu_state(st, gst, H, P, N);
    hg_ref xb = hg_buffer_data(s->g, xc, 4ull * T * CD, "xc");
    hg_ref pb = hg_buffer_data(s->g, proj, 4ull * T * IN, "proj");
    hg_ref hb = hg_place_data(s->g, hv, 12ull * (uint64_t)H);
    hg_ref sb = hg_buffer_data(s->g, gst, 4ull * H * P * N, "state");
    const int Q = chunk > 64 ? 64 : chunk, nc = (T + (Q > 0 ? Q : 1) - 1) / (Q > 0 ? Q : 1);
    hg_ref dtl = hg_buffer(s->g, 8ull * T * H, "dtl");
    hg_ref sl = hg_buffer(s->g, 4ull * (uint64_t)nc * H * N * P, "sl");
    hg_ref yb = hg_buffer(s->g, 4ull * T * DI, "y");
    plan_done(s);
    hg_op_ssm(s->g, &sh, T, chunk, hg_v(xb, 0, (uint32_t)CD), hg_v(pb, (uint32_t)(DI + CD), (uint32_t)IN), hb, sb, dtl, sl,
              hg_v(yb, 0, (uint32_t)DI));
    /* reference: x, B, C, dt gathered as forward.c does */
    float *x = malloc(sizeof(float) * (size_t)T * DI), *B = malloc(sizeof(float) * (size_t)T * G * N);
    float *Cm = malloc(sizeof(float) * (size_t)T * G * N), *dt = malloc(sizeof(float) * (size_t)T * H);
    float *y = malloc(sizeof(float) * (size_t)T * DI);
    for (int t = 0; t < T; t++) {
        memcpy(x + (size_t)t * DI, xc + (size_t)t * CD, sizeof(float) * (size_t)DI);
        memcpy(B + (size_t)t * G * N, xc + (size_t)t * CD + DI, sizeof(float) * (size_t)(G * N));
        memcpy(Cm + (size_t)t * G * N, xc + (size_t)t * CD + DI + G * N, sizeof(float) * (size_t)(G * N));
        for (int h = 0; h < H; h++) dt[(size_t)t * H + h] = hop_softplus(proj[(size_t)t * IN + DI + CD + h] + hv[h]);
    }
    double tol = 1e-5;
    if (T == 1 || chunk <= 1) {
        hop_ssm_scan_ref(x, B, Cm, dt, hv + H, hv + 2 * H, T, H, P, G, N, st, y);
    } else {
        float *scr = malloc(sizeof(float) * hop_ssm_chunked_scratch(Q));
        hop_ssm_chunked_ref(x, B, Cm, dt, hv + H, hv + 2 * H, T, H, P, G, N, Q, st, y, scr);
        free(scr);
        tol = 1e-4;
    }
    to_gpu_state(st, gst, H, P, N);
    expect_f32(s, yb, 0, y, T * DI, tol);
    expect_f32(s, sb, 0, gst, H * P * N, tol);
    end(s);
    free(xc), free(proj), free(hv), free(st), free(gst), free(x), free(B), free(Cm), free(dt), free(y);
}

static void case_gated_norm(suite *s, int n, int G, int T) {
    begin(s, "gated_norm n=%d G=%d T=%d", n, G, T);
    const uint32_t zs = (uint32_t)n + 9;
    float *y = rand_vec(s, (size_t)T * n, 1.5f), *z = rand_vec(s, (size_t)T * zs, 2.0f), *w = rand_vec(s, (size_t)n, 1.0f);
    hg_ref yb = hg_buffer_data(s->g, y, 4ull * T * n, "y");
    hg_ref zb = hg_buffer_data(s->g, z, 4ull * T * zs, "z");
    hg_ref wb = hg_place_data(s->g, w, 4ull * (uint64_t)n);
    hg_ref ob = hg_buffer(s->g, 4ull * T * n, "out");
    plan_done(s);
    hg_op_gated_norm(s->g, hg_v(yb, 0, (uint32_t)n), hg_v(zb, 2, zs), wb, n, G, T, 1e-5f, hg_v(ob, 0, (uint32_t)n));
    float *ref = malloc(sizeof(float) * (size_t)T * n);
    for (int t = 0; t < T; t++) hop_gated_norm_ref(ref + (size_t)t * n, y + (size_t)t * n, z + (size_t)t * zs + 2, w, n, G, 1e-5f);
    expect_f32(s, ob, 0, ref, T * n, 1e-5);
    end(s);
    free(y), free(z), free(w), free(ref);
}

/* attn_prep + attention for one layer shape: q/k/v rows of T tokens at positions p0.., a cache
 * holding p0 earlier rows. Checks q after prep (written in place; the k|v columns stay as they
 * were), both caches, and the attention output. */
static void case_attention(suite *s, const char *label, int nh, int nkv, int hd, int rope, bool bias, bool qk_norm, int p0,
                           int T, bool split) {
    begin(s, "attention %s nh=%d nkv=%d hd=%d p0=%d T=%d%s", label, nh, nkv, hd, p0, T, split ? " split over keys" : "");
    const int qd = nh * hd, kvd = nkv * hd, stride = qd + 2 * kvd, n_ctx = p0 + T + 2;
    const float base = 10000.0f, eps = 1e-6f;
    float *qkv = rand_vec(s, (size_t)T * stride, 1.0f);
    float *aux = rand_vec(s, (size_t)stride + 2 * (size_t)hd, 0.5f);
    for (int i = 0; i < 2 * hd; i++) aux[stride + i] += 1.0f; /* norm weights near 1 */
    float *kc = rand_vec(s, (size_t)n_ctx * kvd, 1.0f), *vc = rand_vec(s, (size_t)n_ctx * kvd, 1.0f);
    float *rope_t = malloc(sizeof(float) * (size_t)n_ctx * hd);
    hg_rope_table(rope_t, n_ctx, hd, base);
    hg_attn_shape a = {nh, nkv, hd, rope, bias, qk_norm, 0, (uint32_t)stride, (uint32_t)(stride + hd), eps};
    hg_ref qb = hg_buffer_data(s->g, qkv, 4ull * T * stride, "qkv");
    hg_ref ab = hg_place_data(s->g, aux, 4ull * (uint64_t)(stride + 2 * hd));
    hg_ref rb = hg_place_data(s->g, rope_t, 4ull * (uint64_t)n_ctx * hd);
    hg_ref kb = hg_buffer_data(s->g, kc, 4ull * n_ctx * kvd, "kc");
    hg_ref vb = hg_buffer_data(s->g, vc, 4ull * n_ctx * kvd, "vc");
    hg_ref ob = hg_buffer(s->g, 4ull * T * qd, "out");
    hg_ref part = split ? hg_buffer(s->g, hg_attn_part_bytes(T, n_ctx, nh, hd), "parts") : (hg_ref){0, 0, 0};
    plan_done(s);
    hg_op_attn_prep(s->g, &a, T, p0, qb, ab, rb, kb, vb);
    hg_op_attention(s->g, &a, T, p0, hg_v(qb, 0, (uint32_t)stride), kb, vb, part, hg_v(ob, 0, (uint32_t)qd));
    /* reference, as forward.c's attention_block does it */
    float *expect_qkv = malloc(sizeof(float) * (size_t)T * stride);
    memcpy(expect_qkv, qkv, sizeof(float) * (size_t)T * stride);
    float *q = malloc(sizeof(float) * (size_t)T * qd), *out = malloc(sizeof(float) * (size_t)T * qd);
    float *scr = malloc(sizeof(float) * (size_t)n_ctx);
    for (int t = 0; t < T; t++) {
        float *row = qkv + (size_t)t * stride;
        if (bias)
            for (int i = 0; i < stride; i++) row[i] += aux[i];
        for (int h = 0; h < nh + nkv; h++) {
            float *v = row + (size_t)h * hd;
            if (qk_norm) hop_rmsnorm_ref(v, v, aux + stride + (h < nh ? 0 : hd), hd, eps);
            if (rope) hop_rope(v, hd, p0 + t, base, rope == 2);
        }
        memcpy(q + (size_t)t * qd, row, sizeof(float) * (size_t)qd);
        memcpy(expect_qkv + (size_t)t * stride, row, sizeof(float) * (size_t)qd);
        memcpy(kc + (size_t)(p0 + t) * kvd, row + qd, sizeof(float) * (size_t)kvd);
        memcpy(vc + (size_t)(p0 + t) * kvd, row + qd + kvd, sizeof(float) * (size_t)kvd);
    }
    hop_attention_ref(q, kc, vc, p0, T, nh, nkv, hd, out, scr);
    expect_f32(s, qb, 0, expect_qkv, T * stride, 1e-5);
    expect_f32(s, kb, 0, kc, n_ctx * kvd, 1e-5);
    expect_f32(s, vb, 0, vc, n_ctx * kvd, 1e-5);
    expect_f32(s, ob, 0, out, T * qd, 1e-5);
    end(s);
    free(qkv), free(aux), free(kc), free(vc), free(rope_t), free(q), free(out), free(scr), free(expect_qkv);
}

/* GPU sampling (penalty, top-k rounds, sample) against hs_sample with the same uniform draw.
 * Several draws per case (different u); every token must be equal. */
static void case_sample(suite *s, int V, const hs_sampler_params *sp, int n_hist, bool ties) {
    begin(s, "sample V=%d temp=%g top_k=%d top_p=%g min_p=%g rep=%g hist=%d%s", V, sp->temperature, sp->top_k, sp->top_p,
          sp->min_p, sp->repetition_penalty, n_hist, ties ? " ties" : "");
    enum { DRAWS = 6 };
    float *logits = rand_vec(s, (size_t)V, 4.0f);
    if (ties) /* the best value several times: greedy takes the lowest id */
        for (int i = V / 3; i < V; i += V / 4) logits[i] = 9.0f;
    int32_t *hist = malloc(sizeof(int32_t) * (size_t)(n_hist + DRAWS + 1));
    for (int i = 0; i < n_hist; i++) hist[i] = (int32_t)(hs_rng_next(&s->rng) % (uint64_t)(V < 50 ? V : 50)); /* repeats */
    hg_sampling hs = {sp->temperature, sp->top_k, sp->top_p, sp->min_p, sp->repetition_penalty};
    hg_ref lb[DRAWS];
    for (int k = 0; k < DRAWS; k++) lb[k] = hg_buffer_data(s->g, logits, 4ull * (uint64_t)V, "logits");
    hg_ref hb = hg_buffer_data(s->g, hist, 4ull * (uint64_t)(n_hist + DRAWS + 1), "hist");
    hg_ref tb = hg_buffer(s->g, 4ull * DRAWS, "tokens");
    const int K = sp->temperature > 0 ? sp->top_k : 1;
    hg_ref ca = hg_buffer(s->g, hg_sample_scratch_bytes(V, K), "cand a"), cb = hg_buffer(s->g, hg_sample_scratch_bytes(V, K), "cand b");
    hg_ref bits = hg_buffer(s->g, 4ull * (uint64_t)((V + 31) / 32), "bits");
    plan_done(s);
    uint32_t want[DRAWS];
    void *scratch = malloc(hs_sample_scratch_bytes(V));
    float *work = malloc(sizeof(float) * (size_t)V);
    for (int k = 0; k < DRAWS; k++) {
        /* the same uniform draw on both sides (hs_sample takes it from a copy of the RNG) */
        hs_rng r = s->rng, rc = s->rng;
        float u = (float)hs_rng_uniform(&r);
        memcpy(work, logits, sizeof(float) * (size_t)V);
        want[k] = (uint32_t)hs_sample(sp, work, V, hist, n_hist, &rc, scratch);
        hs_rng_next(&s->rng);
        /* all draws share one hist: the first n_hist entries */
        hg_op_sample(s->g, &hs, u, lb[k], V, hb, n_hist, tb, (uint32_t)k, (uint32_t)(n_hist + 1 + k), ca, cb, bits);
    }
    expect_u32(s, tb, 0, want, DRAWS);
    end(s);
    free(logits), free(hist), free(scratch), free(work);
}

/* The wq_k.wgsl types against the plain-C reference (ht_dequantize / hop_matmul_ref: dequantise, f32
 * dot): row lengths of 1-3 blocks (256 or 32 values; odd block counts put Q6_K and Q5_0 rows on
 * 2-byte boundaries), odd row counts, decode (T <= 8) and prefill shapes, every epilogue, rows split
 * over several bindings, weights small enough for f16-subnormal scales. Tolerance 1e-5 as for the
 * float types: the same f32 values summed in another order. */
static void wk_cases(suite *s) {
    for (int i = 0; i < 6; i++) {
        const uint32_t t = wk_types[i];
        const int b = wk_block(t);
        case_matmul(s, t, b, 37, 1, HG_EPI_STORE, 0);
        case_matmul(s, t, 2 * b, 130, 3, HG_EPI_ADD, 0);
        case_matmul(s, t, 3 * b, 101, 8, HG_EPI_RELU2, 0);
        case_matmul(s, t, 3 * b, 70, 13, HG_EPI_STORE, 0);
        case_matmul(s, t, b, 129, 40, HG_EPI_SWIGLU, 0);
        case_matmul(s, t, 2 * b, 64, 1, HG_EPI_SWIGLU, 0);
        case_matmul(s, t, b, 50, 20, HG_EPI_RELU2, 0);
        const uint64_t split = b == 256 ? 4096 : 1024; /* 2 .. 23 parts */
        case_matmul(s, t, 2 * b, 200, 2, HG_EPI_STORE, split); /* split rows */
        case_matmul(s, t, b, 100, 33, HG_EPI_ADD, split);
        case_matmul_scaled(s, t, b, 40, 1, HG_EPI_STORE, 0, 0.004f);
        case_matmul_scaled(s, t, b, 40, 12, HG_EPI_STORE, 0, 0.004f);
        case_concat(s, t, b, 1, 0);
        case_concat(s, t, 2 * b, 3, 1000); /* parts of 2 rows (Q6_K) .. 24 rows (Q4_1) */
    }
}

/* Everything that reads weights or writes Q8 activations: run once per device variant. */
static void weight_cases(suite *s) {
    wk_cases(s);
    for (int i = 0; i < 5; i++) {
        const uint32_t t = all_types[i];
        const bool fl = t == HT_F32 || t == HT_F16 || t == HT_BF16;
        case_matmul(s, t, 64, 37, 1, HG_EPI_STORE, 0);
        case_matmul(s, t, fl ? 45 : 96, 130, 3, HG_EPI_ADD, 0);
        case_matmul(s, t, 256, 300, 8, HG_EPI_STORE, 0);
        case_matmul(s, t, fl ? 77 : 160, 70, 13, HG_EPI_STORE, 0);
        case_matmul(s, t, 64, 129, 40, HG_EPI_ADD, 0);
        case_matmul(s, t, 128, 200, 2, HG_EPI_STORE, 4096); /* split rows */
        case_matmul(s, t, 128, 100, 33, HG_EPI_STORE, 4096);
    }
    for (int i = 0; i < 5; i++) { /* weights small enough that f16 scales and values are subnormal */
        case_matmul_scaled(s, all_types[i], 64, 40, 1, HG_EPI_STORE, 0, 0.004f);
        case_matmul_scaled(s, all_types[i], 64, 40, 12, HG_EPI_STORE, 0, 0.004f);
    }
    case_quant(s, 128, 3);
    case_quant(s, 2048, 1);
    case_quant(s, 8192, 4);
    for (int i = 3; i < 5; i++) { /* an odd number of blocks per row: rows alternate 4-byte alignment */
        case_matmul(s, all_types[i], 160, 64, 1, HG_EPI_ADD, 0);
        case_matmul(s, all_types[i], 160, 64, 5, HG_EPI_STORE, 0);
        case_matmul(s, all_types[i], 64, 160, 1, HG_EPI_SWIGLU, 0);
    }
    /* matvec_planar.wgsl (planar Q8_0/Q4_0, T <= 8): aligned f32 rows for Q8_0, rows longer than the
     * workgroup's 64 lanes, every epilogue, parts with their own scales planes */
    s->x_aligned = true;
    case_matmul(s, HT_Q8_0, 2048, 70, 1, HG_EPI_ADD, 0);
    case_matmul(s, HT_Q8_0, 256, 90, 3, HG_EPI_RELU2, 0);
    case_matmul(s, HT_Q8_0, 128, 64, 8, HG_EPI_SWIGLU, 4096);
    case_matmul(s, HT_Q8_0, 64, 37, 2, HG_EPI_STORE, 0);
    case_matmul(s, HT_Q4_0, 4160, 33, 2, HG_EPI_ADD, 0);
    case_matmul(s, HT_Q4_0, 128, 64, 1, HG_EPI_SWIGLU, 1024);
    case_matmul(s, HT_Q4_0, 3136, 65, 1, HG_EPI_STORE, 0); /* x staged in two chunks, the second partial; an odd row count */
    s->x_aligned = false;
    case_matmul(s, HT_Q8_0, 64, 50, 1, HG_EPI_RELU2, 0);
    case_matmul(s, HT_Q4_0, 64, 50, 20, HG_EPI_RELU2, 0);
    case_matmul(s, HT_F32, 64, 50, 1, HG_EPI_SWIGLU, 0);
    case_matmul(s, HT_Q8_0, 96, 70, 17, HG_EPI_SWIGLU, 0);
    case_rmsnorm_q8(s, 64, 1, 0);
    case_rmsnorm_q8(s, 3136, 2, 8);
    case_rmsnorm_q8(s, 96, 3, 7);
    case_gated_norm_q8(s, 128, 2, 3);
    case_gated_norm_q8(s, 1920, 2, 1);
    for (int i = 0; i < 5; i++) {
        case_concat(s, all_types[i], 64, 1, 0);
        case_concat(s, all_types[i], 64, 3, 1000); /* parts of 3 rows (f32) .. 27 rows (q4_0) */
    }
}

int gh_ops_main(const char *dir, const hg_device *features) {
    suite s = {0};
    s.dir = dir;
    s.dev = hg_device_default();
    hs_rng_seed(&s.rng, 12345);
    char path[1024];
    snprintf(path, sizeof path, "%s/index.jsonl", dir);
    s.index = fopen(path, "w");
    if (!s.index) {
        fprintf(stderr, "cannot write %s\n", path);
        return 2;
    }
    for (int i = 0; i < 5; i++) {
        case_embed(&s, all_types[i], 37, 64, 5, 0);
        case_embed(&s, all_types[i], 100, 96, 3, 2048); /* split into parts */
    }
    for (int i = 0; i < 6; i++) {
        const int b = wk_block(wk_types[i]);
        case_embed(&s, wk_types[i], 37, b, 5, 0);
        case_embed(&s, wk_types[i], 100, 3 * b, 3, 2048); /* split into parts */
    }
    case_rmsnorm(&s, 64, 1);
    case_rmsnorm(&s, 77, 3);
    case_rmsnorm(&s, 1000, 2);
    weight_cases(&s);
    case_conv(&s, 40, 4, 1);
    case_conv(&s, 75, 4, 6);
    case_conv(&s, 33, 2, 3);
    case_ssm(&s, 4, 6, 2, 5, 1, 1);
    case_ssm(&s, 6, 10, 3, 8, 3, 1);
    case_ssm(&s, 12, 80, 2, 128, 1, 1); /* 4B head and state sizes: P not a multiple of 8 */
    case_ssm(&s, 3, 8, 1, 40, 2, 1);    /* ssm_step: rows by four, then the rest */
    case_ssm(&s, 4, 6, 2, 5, 13, 4);
    case_ssm(&s, 8, 16, 2, 16, 37, 8);
    case_ssm(&s, 2, 70, 1, 12, 20, 64);
    case_gated_norm(&s, 48, 3, 2);
    case_gated_norm(&s, 256, 2, 1);
    for (int split = 0; split < 2; split++) {
        case_attention(&s, "nemotron_h", 4, 2, 16, 0, false, false, 0, 1, split);
        case_attention(&s, "nemotron_h", 4, 2, 16, 0, false, false, 5, 7, split);
        case_attention(&s, "llama", 4, 2, 16, 1, false, false, 3, 1, split);
        case_attention(&s, "llama", 6, 2, 24, 1, false, false, 70, 5, split);
        case_attention(&s, "qwen2", 4, 2, 16, 2, true, false, 2, 3, split);
        case_attention(&s, "qwen3", 4, 2, 32, 2, false, true, 1, 4, split);
        case_attention(&s, "qwen3", 8, 8, 128, 2, true, true, 9, 2, split);
        case_attention(&s, "nemotron_h", 40, 8, 128, 0, false, false, 200, 1, split); /* 4B shapes, 4 chunks */
    }
    case_attention(&s, "llama", 4, 2, 16, 1, false, false, 20, 12, true); /* T > 8: one dispatch anyway */
    const hs_sampler_params greedy = {0, 0, 1, 0, 1}, greedy_pen = {0, 0, 1, 0, 1.3f};
    const hs_sampler_params chat = {0.8f, 40, 0.9f, 0.05f, 1.2f}, wide = {1.3f, 256, 1, 0, 1}, k1 = {1.0f, 1, 1, 0, 1};
    const hs_sampler_params topp = {0.7f, 100, 0.5f, 0, 1}, minp = {1.0f, 64, 1, 0.2f, 1};
    case_sample(&s, 100, &greedy, 0, false);
    case_sample(&s, 3000, &greedy, 0, true);
    case_sample(&s, 40000, &greedy_pen, 30, false);
    case_sample(&s, 512, &chat, 20, false);
    case_sample(&s, 5000, &chat, 20, false);
    case_sample(&s, 3000, &wide, 0, false);
    case_sample(&s, 777, &k1, 0, false);
    case_sample(&s, 2000, &topp, 5, false);
    case_sample(&s, 2000, &minp, 0, false);
    if (features && (features->subgroup_min || features->dot4)) { /* the device's optional paths */
        char tag[48];
        snprintf(tag, sizeof tag, "[%s%s]", features->subgroup_min ? "subgroups" : "", features->dot4 ? " dot4" : "");
        s.tag = tag;
        s.dev.subgroups = features->subgroup_min > 0;
        s.dev.subgroup_min = features->subgroup_min;
        s.dev.dot4 = features->dot4;
        weight_cases(&s);
        s.tag = NULL;
        s.dev = hg_device_default();
    }
    fclose(s.index);
    printf("wrote %d cases to %s\n", s.n, dir);
    return s.failures ? 1 : 0;
}
