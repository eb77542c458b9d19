/* hg_session.c - steppable generation on the GPU plan, with the CPU session as the fallback when the device is lost. */
#include <stdio.h>
#include <stdlib.h>

#include "session.h"
#include "webgpu/gpu.h"

struct hg_session {
    hearth_session *s;
    hg_model *gm;
    bool on_gpu;
    int32_t *hist;      /* [n_ctx + 1] tokens fed to the model */
    int n_fed;
    int32_t *queue;     /* prompt tokens not fed yet: queue[q_at .. n_queue) */
    int n_queue, q_at, cap_queue;
    int32_t pending;    /* sampled, not yet fed; -1 when none */
    bool gpu_has_pending; /* the GPU's token buffer holds `pending` (it sampled it) */
    bool reset_next;    /* the next GPU step starts the sequence over */
    hs_sampler_params sp;
    hg_sampling hgs;
    bool gpu_sampling;
    int max_tokens, n_generated;
    /* the step in flight */
    bool inflight;
    int inflight_fed;       /* tokens it feeds */
    bool inflight_queue;    /* they come from the queue (else: pending) */
    bool inflight_token, inflight_logits;
    hs_rng rng_before;      /* the RNG before the step drew its u, restored if the step is lost */
    float *logits;          /* [n_vocab] for CPU sampling */
    void *scratch;
};

hearth_status hg_session_new(hearth_session *s, const hg_device *dev, const hg_options *opts, hg_session **out,
                             hearth_err *e) {
    *out = NULL;
    hg_options o = opts ? *opts : hg_default_options();
    o.n_ctx = s->n_ctx;
    hg_session *gs = calloc(1, sizeof *gs);
    if (!gs) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    gs->s = s;
    gs->pending = -1;
    gs->on_gpu = true;
    gs->reset_next = true;
    const int V = s->model->hp.n_vocab;
    gs->hist = calloc((size_t)s->n_ctx + 1, sizeof(int32_t));
    gs->logits = malloc(sizeof(float) * (size_t)V);
    gs->scratch = malloc(hs_sample_scratch_bytes(V));
    hearth_status st = HEARTH_OK;
    if (!gs->hist || !gs->logits || !gs->scratch) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
    if (st == HEARTH_OK) st = hg_model_new(s->model, dev, &o, &gs->gm, e);
    /* what the session already holds is fed first, on the GPU */
    if (st == HEARTH_OK && s->n_past > 0) {
        gs->queue = malloc(sizeof(int32_t) * (size_t)s->n_past);
        if (!gs->queue) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
        else {
            memcpy(gs->queue, s->tokens, sizeof(int32_t) * (size_t)s->n_past);
            gs->n_queue = gs->cap_queue = s->n_past;
        }
    }
    if (st != HEARTH_OK) {
        hg_session_free(gs);
        return st;
    }
    *out = gs;
    return HEARTH_OK;
}

void hg_session_free(hg_session *gs) {
    if (!gs) return;
    hg_model_free(gs->gm);
    free(gs->hist);
    free(gs->queue);
    free(gs->logits);
    free(gs->scratch);
    free(gs);
}

const uint8_t *hg_session_plan(const hg_session *gs, size_t *len) { return hg_model_plan(gs->gm, len); }
bool hg_session_on_gpu(const hg_session *gs) { return gs->on_gpu; }
int hg_session_n_past(const hg_session *gs) { return gs->n_fed; }
hg_model *hg_session_model(hg_session *gs) { return gs->gm; }

void hg_session_reset(hg_session *gs) {
    gs->n_fed = 0;
    gs->n_queue = gs->q_at = 0;
    gs->pending = -1;
    gs->gpu_has_pending = false;
    gs->reset_next = true;
    gs->inflight = false;
    gs->n_generated = 0;
    hearth_session_reset(gs->s);
}

static hearth_status enqueue(hg_session *gs, const int32_t *t, int n, hearth_err *e) {
    if (gs->q_at > 0) { /* drop what was fed */
        memmove(gs->queue, gs->queue + gs->q_at, sizeof(int32_t) * (size_t)(gs->n_queue - gs->q_at));
        gs->n_queue -= gs->q_at;
        gs->q_at = 0;
    }
    if (gs->n_queue + n > gs->cap_queue) {
        int cap = gs->n_queue + n + 64;
        int32_t *nq = realloc(gs->queue, sizeof(int32_t) * (size_t)cap);
        if (!nq) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
        gs->queue = nq;
        gs->cap_queue = cap;
    }
    memcpy(gs->queue + gs->n_queue, t, sizeof(int32_t) * (size_t)n);
    gs->n_queue += n;
    return HEARTH_OK;
}

hearth_status hg_gen_begin(hg_session *gs, const int32_t *prompt, int n, const hs_sampler_params *sp, int max_tokens,
                           hearth_err *e) {
    const int V = gs->s->model->hp.n_vocab;
    if (n < 1 || !prompt) return herr(e, HEARTH_ERR_INVALID_ARG, "generation needs at least one prompt token");
    for (int i = 0; i < n; i++)
        if (prompt[i] < 0 || prompt[i] >= V) return herr(e, HEARTH_ERR_INVALID_ARG, "token id %d is outside the vocabulary", prompt[i]);
    if (gs->inflight) return herr(e, HEARTH_ERR_INVALID_ARG, "a GPU step is still in flight");
    hearth_status st;
    if (gs->pending >= 0) { /* the last turn's final token was never fed: it goes first */
        if ((st = enqueue(gs, &gs->pending, 1, e)) != HEARTH_OK) return st;
        gs->pending = -1;
        gs->gpu_has_pending = false;
    }
    if ((st = enqueue(gs, prompt, n, e)) != HEARTH_OK) return st;
    if (gs->n_fed + (gs->n_queue - gs->q_at) + (max_tokens > 0 ? max_tokens - 1 : 0) > gs->s->n_ctx)
        return herr(e, HEARTH_ERR_CONTEXT_FULL, "context full: the prompt and %d new tokens do not fit in n_ctx %d", max_tokens,
                    gs->s->n_ctx);
    gs->sp = *sp;
    gs->hgs = (hg_sampling){sp->temperature, sp->top_k, sp->top_p, sp->min_p, sp->repetition_penalty};
    gs->gpu_sampling = hg_sampling_on_gpu(&gs->hgs, V);
    gs->max_tokens = max_tokens;
    gs->n_generated = 0;
    return HEARTH_OK;
}

/* The CPU path: feed what is queued or pending, sample. */
static hearth_status cpu_next(hg_session *gs, hg_action *a, hearth_err *e) {
    hearth_session *s = gs->s;
    const int V = s->model->hp.n_vocab;
    hearth_status st = HEARTH_OK;
    if (gs->q_at < gs->n_queue) {
        const int n = gs->n_queue - gs->q_at;
        st = hearth_session_eval(s, gs->queue + gs->q_at, n, gs->logits, HEARTH_LOGITS_LAST);
        if (st == HEARTH_OK) {
            memcpy(gs->hist + gs->n_fed, gs->queue + gs->q_at, sizeof(int32_t) * (size_t)n);
            gs->n_fed += n;
            gs->q_at = gs->n_queue;
        }
    } else if (gs->pending >= 0) {
        st = hearth_session_eval(s, &gs->pending, 1, gs->logits, HEARTH_LOGITS_LAST);
        if (st == HEARTH_OK) gs->hist[gs->n_fed++] = gs->pending;
    } else {
        return herr(e, HEARTH_ERR_INVALID_ARG, "nothing to generate from");
    }
    if (st != HEARTH_OK) return herr(e, st, "%s", hearth_session_error(s));
    gs->pending = hs_sample(&gs->sp, gs->logits, V, gs->hist, gs->n_fed, &s->rng, gs->scratch);
    gs->gpu_has_pending = false;
    gs->n_generated++;
    a->kind = HG_ACT_TOKEN;
    a->token = gs->pending;
    return HEARTH_OK;
}

hearth_status hg_gen_next(hg_session *gs, hg_action *a, hearth_err *e) {
    memset(a, 0, sizeof *a);
    a->token = -1;
    if (gs->inflight) return herr(e, HEARTH_ERR_INVALID_ARG, "the last GPU step has not reported back");
    const bool prompt_left = gs->q_at < gs->n_queue;
    if (!prompt_left && gs->n_generated >= gs->max_tokens) {
        a->kind = HG_ACT_DONE;
        return HEARTH_OK;
    }
    if (!gs->on_gpu) return cpu_next(gs, a, e);
    const int max_batch = hg_model_options(gs->gm)->max_batch;
    hg_step_opts so = {0};
    so.reset = gs->reset_next;
    const int32_t *tokens;
    int T;
    bool last;
    if (prompt_left) {
        T = gs->n_queue - gs->q_at < max_batch ? gs->n_queue - gs->q_at : max_batch;
        tokens = gs->queue + gs->q_at;
        last = gs->q_at + T == gs->n_queue;
    } else if (gs->pending >= 0) {
        T = 1;
        tokens = gs->gpu_has_pending ? NULL : &gs->pending;
        last = true;
    } else {
        return herr(e, HEARTH_ERR_INVALID_ARG, "nothing to generate from");
    }
    gs->rng_before = gs->s->rng;
    if (last) {
        if (gs->gpu_sampling) {
            so.sample = true;
            so.sampling = gs->hgs;
            so.u = gs->hgs.temperature > 0 ? (float)hs_rng_uniform(&gs->s->rng) : 0.0f;
        } else {
            so.logits = HEARTH_LOGITS_LAST;
        }
    }
    hearth_status st = hg_model_step(gs->gm, tokens, T, gs->n_fed, &so, &a->blob, &a->len, e);
    if (st != HEARTH_OK) {
        gs->s->rng = gs->rng_before;
        return st;
    }
    gs->inflight = true;
    gs->inflight_fed = T;
    gs->inflight_queue = prompt_left;
    gs->inflight_token = so.sample;
    gs->inflight_logits = so.logits == HEARTH_LOGITS_LAST;
    a->kind = HG_ACT_RUN;
    a->wants_token = so.sample;
    a->wants_logits = gs->inflight_logits;
    return HEARTH_OK;
}

hearth_status hg_gen_result(hg_session *gs, int32_t token, const float *logits, int32_t *token_out, hearth_err *e) {
    if (token_out) *token_out = -1;
    if (!gs->inflight) return herr(e, HEARTH_ERR_INVALID_ARG, "no GPU step in flight");
    const int V = gs->s->model->hp.n_vocab;
    if (gs->inflight_token && (token < 0 || token >= V))
        return herr(e, HEARTH_ERR_BACKEND, "the GPU sampled token id %d, outside the vocabulary", token);
    if (gs->inflight_logits && !logits) return herr(e, HEARTH_ERR_INVALID_ARG, "the step's logits were not passed back");
    gs->inflight = false;
    gs->reset_next = false;
    if (gs->inflight_queue) {
        memcpy(gs->hist + gs->n_fed, gs->queue + gs->q_at, sizeof(int32_t) * (size_t)gs->inflight_fed);
        gs->q_at += gs->inflight_fed;
    } else {
        gs->hist[gs->n_fed] = gs->pending;
        gs->pending = -1;
    }
    gs->n_fed += gs->inflight_fed;
    if (gs->inflight_token) {
        gs->pending = token;
        gs->gpu_has_pending = true;
        gs->n_generated++;
    } else if (gs->inflight_logits) {
        memcpy(gs->logits, logits, sizeof(float) * (size_t)V);
        gs->pending = hs_sample(&gs->sp, gs->logits, V, gs->hist, gs->n_fed, &gs->s->rng, gs->scratch);
        gs->gpu_has_pending = false;
        gs->n_generated++;
    }
    if (token_out) *token_out = (gs->inflight_token || gs->inflight_logits) ? gs->pending : -1;
    return HEARTH_OK;
}

hearth_status hg_gen_lost(hg_session *gs, hearth_err *e) {
    hearth_session *s = gs->s;
    if (gs->inflight) {
        s->rng = gs->rng_before; /* the lost step's draw never happened */
        gs->inflight = false;
    }
    gs->on_gpu = false;
    gs->gpu_has_pending = false;
    /* rebuild the CPU state from the tokens the GPU had been fed; keep the session's text record */
    const size_t chat_len = s->chat_len;
    const bool chat_valid = s->chat_valid;
    const hs_rng rng = s->rng;
    hearth_session_reset(s);
    s->chat_len = chat_len;
    s->chat_valid = chat_valid;
    s->rng = rng;
    if (gs->n_fed > 0) {
        hearth_status st = hearth_session_eval(s, gs->hist, gs->n_fed, NULL, HEARTH_LOGITS_NONE);
        if (st != HEARTH_OK) return herr(e, st, "CPU fallback: %s", hearth_session_error(s));
    }
    return HEARTH_OK;
}
