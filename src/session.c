/* session.c - session lifetime, evaluation entry point, reset, and state save/restore. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>

#include "cpu.h"

static void free_state(hearth_session *s) {
    if (!s->layers) return;
    for (int l = 0; l < s->model->hp.n_layer; l++) {
        free(s->layers[l].k);
        free(s->layers[l].v);
        free(s->layers[l].conv);
        free(s->layers[l].ssm);
    }
    free(s->layers);
    s->layers = NULL;
}

hearth_session_params hearth_session_default_params(void) {
    hearth_session_params p = {0};
    p.seed = 42;
    return p;
}

static uint64_t conv_floats(const hm_hparams *hp) { return (uint64_t)(hp->ssm_d_conv - 1) * (uint64_t)hm_ssm_conv_dim(hp); }
static uint64_t ssm_floats(const hm_hparams *hp) { return (uint64_t)hp->ssm_d_inner * (uint64_t)hp->ssm_d_state; }
static uint64_t kv_floats(const hearth_session *s) {
    return (uint64_t)s->n_ctx * (uint64_t)s->model->hp.n_head_kv * (uint64_t)s->model->hp.head_dim;
}

hearth_status hearth_session_new(const hearth_model *model, const hearth_session_params *params, hearth_session **out,
                                 char *err, size_t err_size) {
    hearth_err e = {0};
    *out = NULL;
    hearth_session_params p = params ? *params : hearth_session_default_params();
    const hm_hparams *hp = &model->hp;
    hearth_session *s = calloc(1, sizeof *s);
    if (!s) {
        if (err && err_size) snprintf(err, err_size, "out of memory");
        return HEARTH_ERR_NOMEM;
    }
    s->model = model;
    s->n_ctx = p.n_ctx > 0 ? p.n_ctx : (hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);
    s->ssm_chunk = 64;
    s->seed = p.seed;
    s->gen.pending = -1;
    s->chat_valid = true;
    hs_rng_seed(&s->rng, p.seed);
    hearth_status st = HEARTH_OK;
    if (p.n_ctx < 0 || s->n_ctx > (1 << 24)) st = herr(&e, HEARTH_ERR_INVALID_ARG, "n_ctx %d is out of range", p.n_ctx);
    if (st == HEARTH_OK) {
        uint64_t need = hm_state_bytes(hp, s->n_ctx), have = hu_mem_total();
        if (need > HU_ALLOC_CAP || (have && need > have))
            st = herr(&e, HEARTH_ERR_TOO_LARGE,
                      "a session with n_ctx %d needs %.1f GiB of state, more than the %.1f GiB of memory there is; "
                      "use a smaller context", s->n_ctx, (double)need / (1 << 30),
                      (double)(have && have < HU_ALLOC_CAP ? have : HU_ALLOC_CAP) / (1 << 30));
    }
    if (st == HEARTH_OK) {
        s->tokens = hu_calloc((uint64_t)s->n_ctx, sizeof(int32_t), &e);
        s->layers = hu_calloc((uint64_t)hp->n_layer, sizeof(hm_layer_state), &e);
        if (!s->tokens || !s->layers) st = e.code ? e.code : HEARTH_ERR_NOMEM;
    }
    for (int l = 0; st == HEARTH_OK && l < hp->n_layer; l++) {
        hm_layer_state *ls = &s->layers[l];
        if (hp->kind[l] == HM_LAYER_ATTN || hp->kind[l] == HM_LAYER_DENSE) {
            ls->k = hu_calloc(kv_floats(s), sizeof(float), &e);
            ls->v = hu_calloc(kv_floats(s), sizeof(float), &e);
            if (!ls->k || !ls->v) st = e.code;
        } else if (hp->kind[l] == HM_LAYER_MAMBA) {
            ls->conv = hu_calloc(conv_floats(hp), sizeof(float), &e);
            ls->ssm = hu_calloc(ssm_floats(hp), sizeof(float), &e);
            if (!ls->conv || !ls->ssm) st = e.code;
        }
    }
    if (st != HEARTH_OK) {
        if (err && err_size) snprintf(err, err_size, "%s", e.msg);
        hearth_session_free(s);
        return st;
    }
    *out = s;
    return HEARTH_OK;
}

void hearth_session_free(hearth_session *s) {
    if (!s) return;
    hcpu_free(s->cpu);
    free(s->decode_scratch);
    hm_gen_clear(s);
    free_state(s);
    free(s->tokens);
    free(s->chat_text);
    free(s);
}

const char *hearth_session_error(const hearth_session *s) { return s ? s->err : ""; }

void hm_session_set_ssm_chunk(hearth_session *s, int chunk) { s->ssm_chunk = chunk; }

static hearth_status fail(hearth_session *s, const hearth_err *e) {
    snprintf(s->err, sizeof s->err, "%s", e->msg);
    return e->code;
}

hearth_status hearth_session_eval(hearth_session *s, const int32_t *tokens, int n, float *logits, hearth_logits_mode mode) {
    hearth_err e = {0};
    s->err[0] = 0;
    if (!tokens && n > 0) return fail(s, &(hearth_err){HEARTH_ERR_INVALID_ARG, "tokens is NULL"});
    hearth_status st = hm_forward(s, tokens, n, logits, mode, &e);
    return st == HEARTH_OK ? HEARTH_OK : fail(s, &e);
}

int hearth_session_n_past(const hearth_session *s) { return s->n_past; }

int hearth_session_n_ctx(const hearth_session *s) { return s ? s->n_ctx : 0; }

void hearth_session_set_seed(hearth_session *s, uint64_t seed) {
    s->seed = seed;
    hs_rng_seed(&s->rng, seed);
}

void hearth_session_reset(hearth_session *s) {
    const hm_hparams *hp = &s->model->hp;
    for (int l = 0; l < hp->n_layer; l++) {
        hm_layer_state *ls = &s->layers[l];
        if (ls->conv) memset(ls->conv, 0, sizeof(float) * conv_floats(hp));
        if (ls->ssm) memset(ls->ssm, 0, sizeof(float) * ssm_floats(hp));
        /* KV rows past n_past are never read, so the cache needs no clearing */
    }
    s->n_past = 0;
    s->chat_len = 0;
    s->chat_valid = true;
    hm_gen_clear(s);
    memset(&s->stats, 0, sizeof s->stats);
}

hearth_status hearth_session_tokens(const hearth_session *s, int32_t *ids, size_t max, size_t *n) {
    *n = (size_t)s->n_past;
    if (!ids) return HEARTH_OK;
    if (max < (size_t)s->n_past) return HEARTH_ERR_INVALID_ARG;
    memcpy(ids, s->tokens, sizeof(int32_t) * (size_t)s->n_past);
    return HEARTH_OK;
}

void hearth_session_stats(const hearth_session *s, hearth_stats *out) { *out = s->stats; }

/* ---- save / restore ------------------------------------------------------------------------
 * Layout (little-endian): magic "HSS1", u32 n_layer, u32 n_vocab, u32 n_embd, u32 n_past,
 * u64 rng state[4], u32 chat_valid, u32 chat_len, chat text bytes padded to 4, i32 tokens[n_past], then per layer: attention K and V rows [n_past][kv_dim],
 * Mamba conv [d_conv-1][conv_dim] and SSM [H*P*N] floats. The model shape fields guard against
 * restoring into a different model. */

#define HSS_MAGIC 0x31535348u /* "HSS1" */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} wbuf;

static void put(wbuf *w, const void *src, size_t n) {
    if (n && w->p && w->len + n <= w->cap) memcpy(w->p + w->len, src, n);
    w->len += n;
}

static size_t state_layout(const hearth_session *s, wbuf *w) {
    const hm_hparams *hp = &s->model->hp;
    uint32_t hdr[5] = {HSS_MAGIC, (uint32_t)hp->n_layer, (uint32_t)hp->n_vocab, (uint32_t)hp->n_embd, (uint32_t)s->n_past};
    put(w, hdr, sizeof hdr);
    put(w, s->rng.s, sizeof s->rng.s);
    uint32_t chat[2] = {s->chat_valid, (uint32_t)s->chat_len};
    put(w, chat, sizeof chat);
    put(w, s->chat_text, s->chat_len);
    put(w, "\0\0\0", (4 - s->chat_len % 4) % 4);
    put(w, s->tokens, sizeof(int32_t) * (size_t)s->n_past);
    const size_t kv = (size_t)hp->n_head_kv * (size_t)hp->head_dim;
    for (int l = 0; l < hp->n_layer; l++) {
        const hm_layer_state *ls = &s->layers[l];
        if (ls->k) {
            put(w, ls->k, sizeof(float) * kv * (size_t)s->n_past);
            put(w, ls->v, sizeof(float) * kv * (size_t)s->n_past);
        }
        if (ls->conv) {
            put(w, ls->conv, sizeof(float) * conv_floats(hp));
            put(w, ls->ssm, sizeof(float) * ssm_floats(hp));
        }
    }
    return w->len;
}

hearth_status hearth_session_save(const hearth_session *s, void *buf, size_t size, size_t *len) {
    wbuf sizing = {0};
    *len = state_layout(s, &sizing);
    if (!buf) return HEARTH_OK;
    if (size < *len) return HEARTH_ERR_INVALID_ARG;
    wbuf w = {buf, 0, size};
    state_layout(s, &w);
    return HEARTH_OK;
}

hearth_status hearth_session_load(hearth_session *s, const void *buf, size_t size) {
    const hm_hparams *hp = &s->model->hp;
    const uint8_t *p = buf;
    uint32_t hdr[5];
    s->err[0] = 0;
    uint32_t chat[2];
    if (size < sizeof hdr + sizeof s->rng.s + sizeof chat)
        return fail(s, &(hearth_err){HEARTH_ERR_FORMAT, "saved state is truncated"});
    memcpy(hdr, p, sizeof hdr);
    if (hdr[0] != HSS_MAGIC) return fail(s, &(hearth_err){HEARTH_ERR_FORMAT, "not a hearth session state"});
    if (hdr[1] != (uint32_t)hp->n_layer || hdr[2] != (uint32_t)hp->n_vocab || hdr[3] != (uint32_t)hp->n_embd)
        return fail(s, &(hearth_err){HEARTH_ERR_FORMAT, "saved state belongs to a different model"});
    if (hdr[4] > (uint32_t)s->n_ctx)
        return fail(s, &(hearth_err){HEARTH_ERR_CONTEXT_FULL, "saved state holds more tokens than this session's n_ctx"});
    size_t off = sizeof hdr + sizeof s->rng.s;
    memcpy(chat, p + off, sizeof chat);
    off += sizeof chat;
    if (chat[1] > size - off) return fail(s, &(hearth_err){HEARTH_ERR_FORMAT, "saved state is truncated"});
    /* size check: what a session of the saved shape lays out must be exactly `size` */
    size_t pad = (4 - chat[1] % 4) % 4, need = off + chat[1] + pad + sizeof(int32_t) * hdr[4];
    const size_t kvb = sizeof(float) * (size_t)hp->n_head_kv * (size_t)hp->head_dim * hdr[4];
    for (int l = 0; l < hp->n_layer; l++) {
        if (s->layers[l].k) need += 2 * kvb;
        if (s->layers[l].conv) need += sizeof(float) * (conv_floats(hp) + ssm_floats(hp));
    }
    if (size != need) return fail(s, &(hearth_err){HEARTH_ERR_FORMAT, "saved state has the wrong size"});
    if (chat[1] > s->chat_cap) {
        char *nb = realloc(s->chat_text, chat[1]);
        if (!nb) return fail(s, &(hearth_err){HEARTH_ERR_NOMEM, "out of memory"});
        s->chat_text = nb;
        s->chat_cap = chat[1];
    }
    hearth_session_reset(s);
    memcpy(s->rng.s, p + sizeof hdr, sizeof s->rng.s);
    if (chat[1]) memcpy(s->chat_text, p + off, chat[1]);
    s->chat_len = chat[1];
    s->chat_valid = chat[0] != 0;
    off += chat[1] + pad;
    s->n_past = (int)hdr[4];
    memcpy(s->tokens, p + off, sizeof(int32_t) * (size_t)s->n_past);
    off += sizeof(int32_t) * (size_t)s->n_past;
    const size_t kv = (size_t)hp->n_head_kv * (size_t)hp->head_dim;
    for (int l = 0; l < hp->n_layer; l++) {
        hm_layer_state *ls = &s->layers[l];
        if (ls->k) {
            size_t n = sizeof(float) * kv * (size_t)s->n_past;
            memcpy(ls->k, p + off, n);
            memcpy(ls->v, p + off + n, n);
            off += 2 * n;
        }
        if (ls->conv) {
            memcpy(ls->conv, p + off, sizeof(float) * conv_floats(hp));
            off += sizeof(float) * conv_floats(hp);
            memcpy(ls->ssm, p + off, sizeof(float) * ssm_floats(hp));
            off += sizeof(float) * ssm_floats(hp);
        }
    }
    for (int i = 0; i < s->n_past; i++)
        if (s->tokens[i] < 0 || s->tokens[i] >= hp->n_vocab) {
            hearth_session_reset(s);
            return fail(s, &(hearth_err){HEARTH_ERR_FORMAT, "saved state holds an invalid token id"});
        }
    return HEARTH_OK;
}
