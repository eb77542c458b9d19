/* engine.c - a test double of hearth.h for browser tests of the web shell: byte tokens, a scripted reply, real timing.
 *
 * It lets the worker protocol, streaming, interrupt, state save/restore and the chat UI be tested
 * with no trained model. Its "model file" (written by tests/e2e/lib/fake-model.mjs) is:
 *   "GGUF" | u32 version | u64 total file size | u32 milliseconds per token | payload...
 * The reply to a conversation is fixed text that names a hash of the whole token history, so a
 * continuation after a state restore equals the one without it only if the state came back whole.
 * A user message starting with "/echo " is answered with the rest of that message instead, so a
 * test can make the "model" write anything (tests/e2e/security.mjs: hostile HTML and Markdown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth.h"
#include "util.h"

struct hearth_model {
    uint64_t ms_per_token;
};

struct hearth_session {
    const hearth_model *model;
    int n_ctx;
    int32_t *tokens;
    int n_past;
    char err[256];
    char reply[8192]; /* the scripted reply of the generation in progress */
    size_t reply_len, reply_pos;
    int max_tokens, n_generated;
    hearth_stats stats;
};

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

hearth_model_params hearth_model_default_params(void) { return (hearth_model_params){0, true}; }

hearth_status hearth_model_load(const char *path, const hearth_model_params *params, hearth_model **out, char *err,
                                size_t err_size) {
    snprintf(err, err_size, "the fake engine loads from memory only");
    return HEARTH_ERR_UNSUPPORTED;
}

hearth_status hearth_model_load_memory(const void *data, size_t size, const hearth_model_params *params,
                                       hearth_model **out, char *err, size_t err_size) {
    const uint8_t *p = data;
    *out = NULL;
    if (size < 20 || memcmp(p, "GGUF", 4) != 0) {
        if (err) snprintf(err, err_size, "not a GGUF file (bad magic)");
        return HEARTH_ERR_FORMAT;
    }
    uint64_t total = rd32(p + 8) | (uint64_t)rd32(p + 12) << 32;
    if (total > size) {
        if (err) snprintf(err, err_size, "truncated file: %zu bytes, the header says %llu", size, (unsigned long long)total);
        return HEARTH_ERR_FORMAT;
    }
    hearth_model *m = calloc(1, sizeof *m);
    if (!m) return HEARTH_ERR_NOMEM;
    m->ms_per_token = rd32(p + 16);
    *out = m;
    return HEARTH_OK;
}

void hearth_model_free(hearth_model *model) { free(model); }
int hearth_model_n_vocab(const hearth_model *model) { return 257; }
int hearth_model_n_ctx_train(const hearth_model *model) { return 4096; }
const char *hearth_model_arch(const hearth_model *model) { return "fake"; }

hearth_session_params hearth_session_default_params(void) { return (hearth_session_params){0, 42}; }

hearth_status hearth_session_new(const hearth_model *model, const hearth_session_params *params,
                                 hearth_session **out, char *err, size_t err_size) {
    hearth_session *s = calloc(1, sizeof *s);
    if (!s) return HEARTH_ERR_NOMEM;
    s->model = model;
    s->n_ctx = params->n_ctx > 0 ? params->n_ctx : 4096;
    s->tokens = calloc((size_t)s->n_ctx, sizeof *s->tokens);
    if (!s->tokens) {
        free(s);
        return HEARTH_ERR_NOMEM;
    }
    *out = s;
    return HEARTH_OK;
}

void hearth_session_free(hearth_session *s) {
    if (!s) return;
    free(s->tokens);
    free(s);
}

const char *hearth_session_error(const hearth_session *s) { return s->err; }
int hearth_session_n_past(const hearth_session *s) { return s->n_past; }
void hearth_session_reset(hearth_session *s) { s->n_past = 0; }

static hearth_status feed(hearth_session *s, const int32_t *tokens, int n) {
    if (s->n_past + n > s->n_ctx) {
        snprintf(s->err, sizeof s->err, "context full (%d tokens)", s->n_ctx);
        return HEARTH_ERR_CONTEXT_FULL;
    }
    memcpy(s->tokens + s->n_past, tokens, (size_t)n * sizeof *tokens);
    s->n_past += n;
    return HEARTH_OK;
}

hearth_status hearth_session_eval(hearth_session *s, const int32_t *tokens, int n, float *logits,
                                  hearth_logits_mode mode) {
    return feed(s, tokens, n);
}

hearth_status hearth_tokenize(const hearth_model *model, const char *text, size_t len, bool parse_special,
                              int32_t *ids, size_t max, size_t *n_ids) {
    *n_ids = len;
    if (len > max) return ids ? HEARTH_ERR_INVALID_ARG : HEARTH_OK;
    for (size_t i = 0; i < len; i++) ids[i] = (uint8_t)text[i];
    return HEARTH_OK;
}

hearth_status hearth_token_to_piece(const hearth_model *model, int32_t id, char *buf, size_t size, size_t *len) {
    *len = id < 256 ? 1 : 0;
    if (*len && size >= 1) buf[0] = (char)id;
    return HEARTH_OK;
}

hearth_chat_options hearth_chat_default_options(void) { return (hearth_chat_options){true, -1}; }

hearth_status hearth_chat_render(const hearth_model *model, const hearth_message *msgs, size_t n_msgs,
                                 const hearth_chat_options *opts, char *out, size_t size, size_t *len, char *err,
                                 size_t err_size) {
    size_t need = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t at = 0;
        for (size_t i = 0; i <= n_msgs; i++) {
            const char *role = i < n_msgs ? msgs[i].role : "assistant";
            const char *content = i < n_msgs ? msgs[i].content : "";
            if (i == n_msgs && !opts->add_generation_prompt) break;
            int n = snprintf(pass ? out + at : NULL, pass ? size - at : 0, "<|%s|>\n%s%s", role, content,
                             i < n_msgs ? "\n" : (opts->enable_thinking != 0 ? "<think>\n" : ""));
            at += (size_t)n;
        }
        need = at;
        if (!pass && (!out || need + 1 > size)) break;
    }
    *len = need;
    return out && need + 1 <= size ? HEARTH_OK : (out ? HEARTH_ERR_INVALID_ARG : HEARTH_OK);
}

hearth_gen_params hearth_gen_default_params(void) {
    return (hearth_gen_params){256, 0.7f, 40, 0.95f, 0.05f, 1.0f, NULL, 0};
}

/* Start of the last occurrence of the bytes `pat` in the token history (byte tokens), or -1. */
static int find_last(const int32_t *tokens, int n, const char *pat) {
    int m = (int)strlen(pat);
    for (int i = n - m; i >= 0; i--) {
        int k = 0;
        while (k < m && tokens[i + k] == (uint8_t)pat[k]) k++;
        if (k == m) return i;
    }
    return -1;
}

hearth_status hearth_session_generate_begin(hearth_session *s, const int32_t *tokens, int n,
                                            const hearth_gen_params *params) {
    double t0 = hu_now();
    hearth_status st = feed(s, tokens, n);
    if (st != HEARTH_OK) return st;
    uint32_t h = 2166136261u; /* FNV-1a over the whole history */
    for (int i = 0; i < s->n_past; i++) h = (h ^ (uint32_t)s->tokens[i]) * 16777619u;
    int thinking = s->n_past >= 8 && memcmp(s->tokens + s->n_past - 8, (int32_t[]){'<', 't', 'h', 'i', 'n', 'k', '>', '\n'}, 8 * sizeof(int32_t)) == 0;
    const char *think = thinking ? "The user greets me. I should answer briefly.\n</think>\n\n" : "";
    size_t echo_at = 0, echo_len = 0; /* the last user message is "/echo TEXT": reply TEXT */
    int user = find_last(s->tokens, s->n_past, "<|user|>\n/echo ");
    if (user >= 0) {
        int from = user + 15, end = find_last(s->tokens, s->n_past, "\n<|assistant|>");
        if (end >= from && find_last(s->tokens, s->n_past, "<|user|>\n") < from) {
            echo_at = (size_t)from;
            echo_len = (size_t)(end - from);
        }
    }
    if (echo_len) {
        size_t k = strlen(think);
        if (k + echo_len >= sizeof s->reply) echo_len = sizeof s->reply - k - 1;
        memcpy(s->reply, think, k);
        for (size_t i = 0; i < echo_len; i++) s->reply[k + i] = (char)s->tokens[echo_at + i];
        s->reply_len = k + echo_len;
    } else {
        s->reply_len = (size_t)snprintf(s->reply, sizeof s->reply,
                                        "%sHello! This is the **fake engine**, state `%08x`.\n\n"
                                        "- it streams one word per step\n- it has `%d` tokens of history\n\n"
                                        "<script>alert(1)</script><img src=x onerror=alert(2)>done",
                                        think, (unsigned)h, s->n_past);
    }
    s->reply_pos = 0;
    s->max_tokens = params->max_tokens;
    s->n_generated = 0;
    s->stats = (hearth_stats){n, 0, hu_now() - t0 + 1e-6, 0};
    return HEARTH_OK;
}

hearth_status hearth_session_generate_next(hearth_session *s, char *piece, size_t size, size_t *len,
                                           int32_t *token, bool *done) {
    double t0 = hu_now();
    while ((hu_now() - t0) * 1000.0 < (double)s->model->ms_per_token) {
    } /* stand-in for compute: busy, like a real forward pass */
    *len = 0;
    *token = -1;
    *done = false;
    if (s->reply_pos >= s->reply_len || s->n_generated >= s->max_tokens) {
        *done = true;
        return HEARTH_OK;
    }
    size_t end = s->reply_pos; /* one word and the spaces after it */
    while (end < s->reply_len && s->reply[end] != ' ' && s->reply[end] != '\n') end++;
    while (end < s->reply_len && (s->reply[end] == ' ' || s->reply[end] == '\n')) end++;
    size_t n = end - s->reply_pos;
    if (n > size) n = size;
    memcpy(piece, s->reply + s->reply_pos, n);
    for (size_t i = 0; i < n; i++) feed(s, &(int32_t){(uint8_t)piece[i]}, 1);
    s->reply_pos += n;
    *len = n;
    *token = (uint8_t)piece[0];
    s->n_generated++;
    s->stats.n_decode++;
    s->stats.decode_seconds += hu_now() - t0;
    *done = s->reply_pos >= s->reply_len || s->n_generated >= s->max_tokens;
    return HEARTH_OK;
}

hearth_status hearth_session_chat_begin(hearth_session *s, const hearth_message *msgs, size_t n_msgs,
                                        const hearth_chat_options *chat_opts, const hearth_gen_params *params) {
    size_t len = 0;
    hearth_chat_render(s->model, msgs, n_msgs, chat_opts, NULL, 0, &len, NULL, 0);
    char *text = malloc(len + 1);
    int32_t *ids = malloc((len + 1) * sizeof *ids);
    if (!text || !ids) {
        free(text);
        free(ids);
        return HEARTH_ERR_NOMEM;
    }
    hearth_chat_render(s->model, msgs, n_msgs, chat_opts, text, len + 1, &len, NULL, 0);
    for (size_t i = 0; i < len; i++) ids[i] = (uint8_t)text[i];
    int held = s->n_past; /* feed only what the session does not hold yet */
    if ((size_t)held >= len || memcmp(s->tokens, ids, (size_t)held * sizeof *ids) != 0) {
        s->n_past = 0;
        held = 0;
    }
    hearth_status st = hearth_session_generate_begin(s, ids + held, (int)len - held, params);
    free(text);
    free(ids);
    return st;
}

bool hearth_chat_in_reasoning(const char *text, size_t len) {
    long open = -1, close = -1;
    for (size_t i = 0; text && i < len; i++) {
        if (len - i >= 7 && memcmp(text + i, "<think>", 7) == 0) open = (long)i;
        if (len - i >= 8 && memcmp(text + i, "</think>", 8) == 0) close = (long)i;
    }
    return open > close;
}

/* the fake's tokens are the bytes of the text */
bool hearth_session_chat_reasoning(const hearth_session *s) {
    char *text = malloc((size_t)s->n_past + 1);
    if (!text) return false;
    for (int i = 0; i < s->n_past; i++) text[i] = (char)s->tokens[i];
    const bool in = hearth_chat_in_reasoning(text, (size_t)s->n_past);
    free(text);
    return in;
}

void hearth_session_stats(const hearth_session *s, hearth_stats *out) { *out = s->stats; }

hearth_status hearth_session_tokens(const hearth_session *s, int32_t *ids, size_t max, size_t *n) {
    *n = (size_t)s->n_past;
    if (!ids) return HEARTH_OK;
    if (*n > max) return HEARTH_ERR_INVALID_ARG;
    memcpy(ids, s->tokens, *n * sizeof *ids);
    return HEARTH_OK;
}

hearth_status hearth_session_save(const hearth_session *s, void *buf, size_t size, size_t *len) {
    *len = 8 + (size_t)s->n_past * 4;
    if (!buf || size < *len) return buf ? HEARTH_ERR_INVALID_ARG : HEARTH_OK;
    memcpy(buf, "FAKESTAT", 4);
    memcpy((char *)buf + 4, &s->n_past, 4);
    memcpy((char *)buf + 8, s->tokens, (size_t)s->n_past * 4);
    return HEARTH_OK;
}

hearth_status hearth_session_load(hearth_session *s, const void *buf, size_t size) {
    int n;
    if (size < 8 || memcmp(buf, "FAKE", 4) != 0) {
        snprintf(s->err, sizeof s->err, "not a saved state");
        return HEARTH_ERR_FORMAT;
    }
    memcpy(&n, (const char *)buf + 4, 4);
    if (n < 0 || n > s->n_ctx || size != 8 + (size_t)n * 4) {
        snprintf(s->err, sizeof s->err, "saved state has a bad size");
        return HEARTH_ERR_FORMAT;
    }
    memcpy(s->tokens, (const char *)buf + 8, (size_t)n * 4);
    s->n_past = n;
    return HEARTH_OK;
}
