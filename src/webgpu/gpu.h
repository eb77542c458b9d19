/* gpu.h - the WebGPU backend as the engine sees it: a model's GPU plan, steps of the forward pass, and steppable generation with CPU fallback.
 *
 * The GPU itself is driven by web/gpu/host.js (JavaScript), so nothing here blocks on it: the C side
 * emits blobs (plan.h) and the host reports what it read back. Usage, as the wasm glue does it:
 *
 *     hg_session *gs;
 *     hg_session_new(session, &device_facts, &opts, &gs, &e);       // places every weight
 *     host.loadPlan(hg_session_plan(gs))                             // JS: buffers, kernels, weights
 *     hg_gen_begin(gs, prompt, n, &sampler_params, max_tokens);
 *     for (;;) {
 *         hg_action a;
 *         hg_gen_next(gs, &a, &e);
 *         if (a.kind == HG_ACT_DONE) break;
 *         if (a.kind == HG_ACT_RUN) {                                // JS: reads = host.run(a.blob)
 *             on success:   hg_gen_result(gs, token_read, logits_read_or_NULL, &tok, &e)
 *             device lost:  hg_gen_lost(gs, &e)                      // state rebuilt on the CPU
 *         } else {                                                   // HG_ACT_TOKEN: computed on the CPU
 *             use a.token
 *         }
 *     }
 *
 * Each sampled token is reported once: through hg_gen_result (GPU) or as HG_ACT_TOKEN (CPU); the
 * driver feeds it to the model on the next step (on the GPU it is already there: 4 bytes come back
 * per token, nothing goes up). Sampling runs on the GPU for greedy and top_k in [1, 256]; other
 * parameters read the logits back and sample on the CPU (hs_sample), same RNG stream either way.
 */
#ifndef HEARTH_WEBGPU_GPU_H
#define HEARTH_WEBGPU_GPU_H

#include "model.h"
#include "sampler.h"
#include "webgpu/hg.h"

typedef struct {
    int n_ctx;         /* positions the KV caches and the RoPE table hold */
    int max_batch;     /* tokens per step; longer prompts take several steps */
    int logits_rows;   /* rows of logits one step can return (1; max_batch for whole-prompt logits) */
    int ssd_chunk;     /* Mamba-2 prefill chunk length, <= 64 (1 = the token recurrence) */
    uint64_t max_part; /* split weights into parts of at most this many bytes (0 = the binding limit) */
} hg_options;

hg_options hg_default_options(void);

/* ---- a model on the GPU ------------------------------------------------------------------------ */

typedef struct hg_model hg_model;

/* Plans where every weight goes (file byte ranges -> GPU buffers) and every activation lives.
 * `m` is borrowed and must outlive the plan. Only the weights' file offsets are used, never their
 * bytes (small f32 vectors the model already converted go inline). */
hearth_status hg_model_new(const hearth_model *m, const hg_device *dev, const hg_options *o, hg_model **out,
                           hearth_err *e);
void hg_model_free(hg_model *gm);
/* The model plan blob (borrowed, valid until hg_model_free). */
const uint8_t *hg_model_plan(const hg_model *gm, size_t *len);
const hg_options *hg_model_options(const hg_model *gm);

typedef struct {
    hearth_logits_mode logits; /* rows read back: NONE, LAST (1 row) or ALL (T rows <= logits_rows) */
    bool sample;               /* sample the next token on the GPU (logits mode NONE or LAST) */
    hg_sampling sampling;
    float u;                   /* uniform [0, 1) for the draw (temperature > 0) */
    bool reset;                /* zero the recurrent state first (the sequence starts over) */
} hg_step_opts;

/* One step: feed T tokens at positions pos.. (tokens == NULL: the one token the previous step
 * sampled, already on the GPU), then read logits and/or sample. The blob is borrowed, valid until
 * the next step. */
hearth_status hg_model_step(hg_model *gm, const int32_t *tokens, int T, int pos, const hg_step_opts *so,
                            const uint8_t **blob, size_t *len, hearth_err *e);
/* Dispatches in the last step. */
int hg_model_dispatches(const hg_model *gm);
/* Bytes a decode step must read at least: every weight except the embedding table (one row of
 * it), and the recurrent state read and written (for bandwidth figures). */
uint64_t hg_model_bytes_per_token(const hg_model *gm);

/* ---- steppable generation with CPU fallback ---------------------------------------------------- */

typedef struct hg_session hg_session;

/* Puts `s`'s model on the GPU for generation in `s` (both borrowed; they must outlive gs). The
 * session's own state is kept for the CPU fallback; its RNG is the one both paths draw from. */
hearth_status hg_session_new(hearth_session *s, const hg_device *dev, const hg_options *o, hg_session **out,
                             hearth_err *e);
void hg_session_free(hg_session *gs);
const uint8_t *hg_session_plan(const hg_session *gs, size_t *len);
/* False once the GPU was lost (everything then runs on the CPU session). */
bool hg_session_on_gpu(const hg_session *gs);
/* Tokens fed to the model so far (prompt and generated). */
int hg_session_n_past(const hg_session *gs);
/* The GPU plan the session drives (borrowed), for steps outside generation (logits of a prompt). */
hg_model *hg_session_model(hg_session *gs);

typedef enum {
    HG_ACT_RUN = 0,   /* run blob on the GPU host, then hg_gen_result or hg_gen_lost */
    HG_ACT_TOKEN = 1, /* token was produced on the CPU */
    HG_ACT_DONE = 2,  /* max_tokens reached */
} hg_action_kind;

typedef struct {
    hg_action_kind kind;
    const uint8_t *blob; /* RUN: borrowed until the next hg_gen_next */
    size_t len;
    bool wants_token;    /* RUN: the step reads a sampled token back */
    bool wants_logits;   /* RUN: the step reads the last logits back (sampling on the CPU) */
    int32_t token;       /* TOKEN */
} hg_action;

/* Forgets every token (GPU and CPU state): the next step starts a new sequence. */
void hg_session_reset(hg_session *gs);

/* Starts generating after `prompt` (n >= 1 tokens appended to what the session holds).
 * max_tokens: stop after this many sampled tokens. */
hearth_status hg_gen_begin(hg_session *gs, const int32_t *prompt, int n, const hs_sampler_params *sp, int max_tokens,
                           hearth_err *e);
hearth_status hg_gen_next(hg_session *gs, hg_action *a, hearth_err *e);
/* The RUN step finished: pass the token it sampled (wants_token) and/or its logits [n_vocab]
 * (wants_logits; the CPU samples). *token_out gets the new token (-1 for a prompt-only step). */
hearth_status hg_gen_result(hg_session *gs, int32_t token, const float *logits, int32_t *token_out, hearth_err *e);
/* The device is gone (before or during the last RUN step): rebuild the state on the CPU from the
 * tokens fed so far; generation continues there. */
hearth_status hg_gen_lost(hg_session *gs, hearth_err *e);

#endif
