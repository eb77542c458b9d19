/* generate.c - steppable generation: prefill, sample, stream whole UTF-8 pieces, stop on eos / stop strings / limit. */
#include <stdio.h>
#include <stdlib.h>

#include "session.h"

hearth_gen_params hearth_gen_default_params(void) {
    hearth_gen_params p = {0};
    p.max_tokens = 256;
    p.temperature = 0.7f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.min_p = 0.05f;
    p.repetition_penalty = 1.0f;
    return p;
}

void hm_gen_clear(hearth_session *s) {
    hm_gen *g = &s->gen;
    for (size_t i = 0; i < g->n_stop; i++) free(g->stop[i]);
    free(g->stop);
    free(g->text);
    free(g->logits);
    free(g->scratch);
    memset(g, 0, sizeof *g);
    g->pending = -1;
}

void hm_chat_text_append(hearth_session *s, const char *bytes, size_t n) {
    if (!s->chat_valid) return;
    if (!hu_grow(&s->chat_text, &s->chat_cap, s->chat_len + n)) {
        s->chat_valid = false; /* cannot track: the next chat turn starts over */
        return;
    }
    memcpy(s->chat_text + s->chat_len, bytes, n);
    s->chat_len += n;
}

static hearth_status fail(hearth_session *s, hearth_status code, const char *msg) {
    snprintf(s->err, sizeof s->err, "%s", msg);
    return code;
}

/* Evaluates tokens, leaving the last position's logits in gen.logits. */
static hearth_status feed(hearth_session *s, const int32_t *tokens, int n) {
    hearth_err e = {0};
    hearth_status st = hm_forward(s, tokens, n, s->gen.logits, HEARTH_LOGITS_LAST, &e);
    if (st != HEARTH_OK) return fail(s, st, e.msg);
    for (int i = 0; i < n; i++) {
        size_t len;
        const char *t = hm_token_text(s->model, tokens[i], &len);
        hm_chat_text_append(s, t, len);
    }
    return HEARTH_OK;
}

static hearth_status arm(hearth_session *s, const hearth_gen_params *params) {
    hm_gen *g = &s->gen;
    hm_gen_clear(s);
    g->params = params ? *params : hearth_gen_default_params();
    const int V = s->model->hp.n_vocab;
    g->logits = malloc(sizeof(float) * (size_t)V);
    g->scratch = malloc(hs_sample_scratch_bytes(V));
    if (!g->logits || !g->scratch) return fail(s, HEARTH_ERR_NOMEM, "out of memory");
    if (g->params.n_stop && g->params.stop) {
        g->stop = calloc(g->params.n_stop, sizeof *g->stop);
        if (!g->stop) return fail(s, HEARTH_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < g->params.n_stop; i++) {
            const char *src = g->params.stop[i] ? g->params.stop[i] : "";
            if (!(g->stop[g->n_stop++] = hu_strndup(src, strlen(src)))) return fail(s, HEARTH_ERR_NOMEM, "out of memory");
        }
    }
    g->params.stop = NULL; /* the copies in g->stop are used from here on */
    return HEARTH_OK;
}

static hearth_status begin_with(hearth_session *s, const int32_t *tokens, int n, const hearth_gen_params *params) {
    s->err[0] = 0;
    hearth_status st = arm(s, params);
    if (st) return st;
    if (n <= 0) return fail(s, HEARTH_ERR_INVALID_ARG, "generation needs at least one new token to feed");
    double t0 = hu_now();
    st = feed(s, tokens, n);
    if (st) return st;
    s->stats.n_prefill = n;
    s->stats.prefill_seconds = hu_now() - t0;
    s->stats.n_decode = 0;
    s->stats.decode_seconds = 0;
    s->gen.active = true;
    return HEARTH_OK;
}

hearth_status hearth_session_generate_begin(hearth_session *s, const int32_t *tokens, int n, const hearth_gen_params *params) {
    s->chat_valid = false; /* raw tokens: the session's text is no longer known */
    return begin_with(s, tokens, n, params);
}

hearth_status hearth_session_chat_begin(hearth_session *s, const hearth_message *msgs, size_t n_msgs,
                                        const hearth_chat_options *chat_opts, const hearth_gen_params *params) {
    size_t len = 0;
    char err[512];
    s->err[0] = 0;
    hearth_status st = hearth_chat_render(s->model, msgs, n_msgs, chat_opts, NULL, 0, &len, err, sizeof err);
    if (st) return fail(s, st, err);
    char *text = malloc(len + 1);
    if (!text) return fail(s, HEARTH_ERR_NOMEM, "out of memory");
    st = hearth_chat_render(s->model, msgs, n_msgs, chat_opts, text, len + 1, &len, err, sizeof err);
    if (st) {
        free(text);
        return fail(s, st, err);
    }
    /* feed only what the session has not seen; start over when the earlier text changed */
    size_t from = 0;
    if (s->chat_valid && s->chat_len <= len && (s->chat_len == 0 || memcmp(s->chat_text, text, s->chat_len) == 0)) {
        from = s->chat_len;
    } else {
        hearth_session_reset(s);
    }
    size_t n_ids = 0;
    st = hearth_tokenize(s->model, text + from, len - from, true, NULL, 0, &n_ids);
    int32_t *ids = st == HEARTH_OK ? malloc(sizeof(int32_t) * (n_ids ? n_ids : 1)) : NULL;
    if (st == HEARTH_OK && !ids) st = HEARTH_ERR_NOMEM;
    if (st == HEARTH_OK) st = hearth_tokenize(s->model, text + from, len - from, true, ids, n_ids, &n_ids);
    free(text);
    if (st != HEARTH_OK) {
        free(ids);
        return fail(s, st, "cannot tokenize the rendered conversation");
    }
    if ((size_t)s->n_past + n_ids + 1 > (size_t)s->n_ctx) {
        free(ids);
        char msg[160];
        snprintf(msg, sizeof msg, "the conversation needs %zu tokens but the context holds %d", (size_t)s->n_past + n_ids, s->n_ctx);
        return fail(s, HEARTH_ERR_CONTEXT_FULL, msg);
    }
    st = begin_with(s, ids, (int)n_ids, params);
    free(ids);
    return st;
}

bool hearth_session_chat_reasoning(const hearth_session *s) {
    return s && s->chat_valid && hearth_chat_in_reasoning(s->chat_text, s->chat_len);
}

/* Length of the longest prefix of text[0..n) that ends on a UTF-8 character boundary. */
static size_t utf8_complete(const char *text, size_t n) {
    size_t i = n;
    /* walk back over at most 3 continuation bytes to the lead byte of the last character */
    size_t back = 0;
    while (i > 0 && back < 4 && ((unsigned char)text[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0) return n; /* only continuation bytes: nothing to wait for */
    unsigned char lead = (unsigned char)text[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return back + 1 >= need ? n : i - 1;
}

/* Bytes at the end of text that could be the start of a stop string (held back). */
static size_t stop_holdback(const hm_gen *g, const char *text, size_t n) {
    size_t hold = 0;
    for (size_t k = 0; k < g->n_stop; k++) {
        size_t sl = strlen(g->stop[k]);
        for (size_t l = sl > 0 ? sl - 1 : 0; l > hold; l--)
            if (l <= n && memcmp(text + n - l, g->stop[k], l) == 0) {
                hold = l;
                break;
            }
    }
    return hold;
}

/* Moves up to `size` bytes of ready text to the caller. */
static void emit(hm_gen *g, size_t ready, char *piece, size_t size, size_t *len) {
    size_t n = ready < size ? ready : size;
    if (n < ready) n = utf8_complete(g->text, n);
    if (piece && n) memcpy(piece, g->text, n);
    memmove(g->text, g->text + n, g->text_len - n);
    g->text_len -= n;
    *len = n;
}

hearth_status hearth_session_generate_next(hearth_session *s, char *piece, size_t size, size_t *len, int32_t *token,
                                           bool *done) {
    hm_gen *g = &s->gen;
    *len = 0;
    *token = -1;
    *done = false;
    s->err[0] = 0;
    if (!g->active) {
        /* flush what an earlier call could not fit, then report the end */
        emit(g, g->text_len, piece, size, len);
        *done = g->text_len == 0;
        return HEARTH_OK;
    }
    double t0 = hu_now();
    hearth_status st = HEARTH_OK;
    if (g->pending >= 0) {
        int32_t t = g->pending;
        g->pending = -1;
        if ((st = feed(s, &t, 1))) return st;
    }
    if (s->n_past >= s->n_ctx) {
        g->active = false;
        emit(g, g->text_len, piece, size, len);
        *done = g->text_len == 0;
        return HEARTH_OK;
    }
    hs_sampler_params sp = {g->params.temperature, g->params.top_k, g->params.top_p, g->params.min_p,
                            g->params.repetition_penalty};
    int32_t tok = hs_sample(&sp, g->logits, s->model->hp.n_vocab, s->tokens, s->n_past, &s->rng, g->scratch);
    *token = tok;
    g->n_generated++;
    s->stats.n_decode++;
    bool finished = false;
    if (!g->params.ignore_eos && hm_is_eos(s->model, tok)) {
        st = feed(s, &tok, 1); /* the next turn continues after the end-of-turn token */
        finished = true;
    } else {
        size_t tl;
        const char *t = hm_token_text(s->model, tok, &tl);
        if (!hu_grow(&g->text, &g->text_cap, g->text_len + tl)) return fail(s, HEARTH_ERR_NOMEM, "out of memory");
        memcpy(g->text + g->text_len, t, tl);
        g->text_len += tl;
        g->pending = tok;
        for (size_t k = 0; k < g->n_stop; k++) {
            size_t sl = strlen(g->stop[k]);
            if (!sl) continue;
            char *hit = memmem(g->text, g->text_len, g->stop[k], sl);
            if (hit) {
                g->text_len = (size_t)(hit - g->text);
                finished = true;
            }
        }
        if (g->n_generated >= g->params.max_tokens) finished = true;
        if (finished && g->pending >= 0) {
            int32_t p = g->pending;
            g->pending = -1;
            st = feed(s, &p, 1);
        }
    }
    s->stats.decode_seconds += hu_now() - t0;
    if (st) return st;
    if (finished) {
        g->active = false;
        emit(g, g->text_len, piece, size, len);
        *done = g->text_len == 0;
    } else {
        size_t ready = utf8_complete(g->text, g->text_len);
        size_t hold = stop_holdback(g, g->text, ready);
        emit(g, ready - hold, piece, size, len);
    }
    return HEARTH_OK;
}
