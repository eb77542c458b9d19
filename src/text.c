/* text.c - vocabulary, chat template and end-of-generation ids: converted into GGUF, attached to a loaded model. */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "tokenizer.h"

#define EOS_KEY "hearth.eos_token_ids"
#define TEMPLATE_KEY "tokenizer.chat_template"

/* Reads dir/name into a heap string; NULL when the file does not exist. */
static char *read_opt(const char *dir, const char *name, size_t *len) {
    char path[4096], *text = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (hu_read_text(path, &text, len, NULL) != HEARTH_OK) return NULL;
    return text;
}

/* Collects eos ids from generation_config.json ("eos_token_id": int or list), falling back on
 * config.json. Returns the count written to ids (at most 8). */
static int read_eos_ids(const char *hf_dir, const json_value *config, int32_t *ids) {
    size_t len;
    int n = 0;
    char *text = read_opt(hf_dir, "generation_config.json", &len);
    json_value *gen = text ? json_parse(text, len, NULL) : NULL;
    free(text);
    const json_value *v = gen ? json_get(gen, "eos_token_id") : NULL;
    if (!v) v = json_get(config, "eos_token_id");
    double d;
    if (v && v->type == JSON_ARRAY) {
        for (size_t i = 0; i < v->len && n < 8; i++)
            if (json_number(json_at(v, i), &d) && d >= 0 && d < (1 << 30)) ids[n++] = (int32_t)d;
    } else if (json_number(v, &d) && d >= 0 && d < (1 << 30)) {
        ids[n++] = (int32_t)d;
    }
    json_free(gen);
    return n;
}

static hearth_status placeholder_vocab(int n_vocab, gguf_ctx *out, hearth_err *e) {
    if (n_vocab <= 0 || n_vocab > (1 << 24))
        return herr(e, HEARTH_ERR_FORMAT, "config.json: missing or invalid vocab_size for a placeholder vocabulary");
    char **toks = calloc((size_t)n_vocab, sizeof *toks);
    int32_t *types = calloc((size_t)n_vocab, sizeof *types);
    hearth_status st = toks && types ? HEARTH_OK : herr(e, HEARTH_ERR_NOMEM, "out of memory");
    for (int i = 0; st == HEARTH_OK && i < n_vocab; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "<tok_%d>", i);
        toks[i] = hu_strndup(buf, strlen(buf));
        types[i] = HK_TOKEN_NORMAL;
        if (!toks[i]) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
    }
    if (!st) st = gguf_set_str(out, "tokenizer.ggml.model", "gpt2");
    if (!st) st = gguf_set_str(out, "tokenizer.ggml.pre", "default");
    if (!st) st = gguf_set_arr_str(out, "tokenizer.ggml.tokens", (const char *const *)toks, (uint64_t)n_vocab);
    if (!st) st = gguf_set_arr(out, "tokenizer.ggml.token_type", GGUF_I32, types, (uint64_t)n_vocab);
    if (!st) st = gguf_set_arr_str(out, "tokenizer.ggml.merges", NULL, 0);
    if (!st) st = gguf_set_bool(out, "tokenizer.hearth.placeholder", true);
    for (int i = 0; toks && i < n_vocab; i++) free(toks[i]);
    free(toks);
    free(types);
    return st;
}

/* The model's embedding may have more rows than the tokenizer has ids (vocab padded to a
 * multiple of 8 or 64): extend tokens/token_type with unused "[PAD<i>]" entries as llama.cpp's
 * converter does, so that both sizes agree. */
static hearth_status pad_vocab(gguf_ctx *out, int n_vocab, hearth_err *e) {
    const gguf_kv *toks = gguf_find(out, "tokenizer.ggml.tokens");
    const gguf_kv *types = gguf_find(out, "tokenizer.ggml.token_type");
    if (!toks || !types || toks->n >= (uint64_t)n_vocab || types->n != toks->n) return HEARTH_OK;
    const uint64_t n0 = toks->n;
    char **s = calloc((size_t)n_vocab, sizeof *s);
    int32_t *t = calloc((size_t)n_vocab, sizeof *t);
    hearth_status st = s && t ? HEARTH_OK : herr(e, HEARTH_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; st == HEARTH_OK && i < (uint64_t)n_vocab; i++) {
        char buf[32];
        int64_t ty = HK_TOKEN_UNUSED;
        if (i < n0) {
            s[i] = hu_strndup(toks->strs[i], toks->str_lens[i]);
            gguf_arr_i64(types, i, &ty);
        } else {
            snprintf(buf, sizeof buf, "[PAD%llu]", (unsigned long long)i);
            s[i] = hu_strndup(buf, strlen(buf));
        }
        t[i] = (int32_t)ty;
        if (!s[i]) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
    }
    if (!st) st = gguf_set_arr_str(out, "tokenizer.ggml.tokens", (const char *const *)s, (uint64_t)n_vocab);
    if (!st) st = gguf_set_arr(out, "tokenizer.ggml.token_type", GGUF_I32, t, (uint64_t)n_vocab);
    for (int i = 0; s && i < n_vocab; i++) free(s[i]);
    free(s);
    free(t);
    return st;
}

/* The chat template: chat_template.jinja, else tokenizer_config.json's "chat_template" (a string,
 * or a list of {name, template} of which "default" is taken). Borrowed from cfg or owned *file. */
static const char *find_template(const char *hf_dir, const json_value *tok_cfg, char **file) {
    size_t len;
    *file = read_opt(hf_dir, "chat_template.jinja", &len);
    if (*file) return *file;
    const json_value *v = json_get(tok_cfg, "chat_template");
    if (v && v->type == JSON_STRING) return v->str;
    for (size_t i = 0; v && v->type == JSON_ARRAY && i < v->len; i++) {
        const json_value *it = json_at(v, i);
        const char *name = json_get_string(it, "name");
        if (name && !strcmp(name, "default")) return json_get_string(it, "template");
    }
    return NULL;
}

static hearth_status convert_tokenizer(const char *hf_dir, const char *tok_json, size_t tok_len, int n_vocab, gguf_ctx *out,
                                       hearth_err *e) {
    hk_tokenizer *tok = NULL;
    size_t cfg_len = 0;
    char *cfg_text = read_opt(hf_dir, "tokenizer_config.json", &cfg_len);
    json_value *cfg = cfg_text ? json_parse(cfg_text, cfg_len, NULL) : NULL;
    char *tmpl_file = NULL;
    hearth_status st = hk_tokenizer_from_json(tok_json, tok_len, &tok, e);
    if (!st && cfg_text) st = hk_tokenizer_apply_config(tok, cfg_text, cfg_len, e);
    if (!st && n_vocab > 0 && hk_tokenizer_n_vocab(tok) > n_vocab)
        st = herr(e, HEARTH_ERR_FORMAT, "tokenizer.json has %d ids but the model's vocab_size is %d", hk_tokenizer_n_vocab(tok), n_vocab);
    if (!st) st = hk_tokenizer_to_gguf(tok, out, e);
    if (!st && n_vocab > 0) st = pad_vocab(out, n_vocab, e);
    const char *tmpl = st ? NULL : find_template(hf_dir, cfg, &tmpl_file);
    if (tmpl) st = gguf_set_str(out, TEMPLATE_KEY, tmpl);
    free(tmpl_file);
    json_free(cfg);
    free(cfg_text);
    hk_tokenizer_free(tok);
    return st;
}

hearth_status htext_convert_vocab(const char *hf_dir, const json_value *config, int n_vocab, gguf_ctx *out, hearth_err *e) {
    int32_t eos[8];
    int n_eos = read_eos_ids(hf_dir, config, eos);
    hearth_status st = HEARTH_OK;
    size_t len = 0;
    char *tok_json = read_opt(hf_dir, "tokenizer.json", &len);
    if (tok_json) {
        st = convert_tokenizer(hf_dir, tok_json, len, n_vocab, out, e);
        free(tok_json);
    } else {
        st = placeholder_vocab(n_vocab, out, e);
        double bos;
        if (!st && json_number(json_get(config, "bos_token_id"), &bos) && bos >= 0 && bos < n_vocab)
            st = gguf_set_u32(out, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    }
    if (!st && n_eos > 0) {
        st = gguf_set_arr(out, EOS_KEY, GGUF_I32, eos, (uint64_t)n_eos);
        if (!st && !gguf_find(out, "tokenizer.ggml.eos_token_id"))
            st = gguf_set_u32(out, "tokenizer.ggml.eos_token_id", (uint32_t)eos[0]);
    }
    return st;
}

/* ---- the loaded model's text side ---------------------------------------------------------- */

static void add_eos(hearth_model *m, int64_t id) {
    if (id < 0 || id >= m->hp.n_vocab || m->n_eos >= 8) return;
    for (int i = 0; i < m->n_eos; i++)
        if (m->eos_ids[i] == id) return;
    m->eos_ids[m->n_eos++] = (int32_t)id;
}

hearth_status hm_tokenizer_attach(hearth_model *m, hearth_err *e) {
    (void)e;
    const gguf_kv *kv = gguf_find(m->gguf, EOS_KEY);
    m->n_eos = 0;
    for (uint64_t i = 0; kv && i < kv->n; i++) {
        int64_t v;
        if (gguf_arr_i64(kv, i, &v)) add_eos(m, v);
    }
    uint32_t id;
    if (gguf_get_u32(m->gguf, "tokenizer.ggml.eos_token_id", &id)) add_eos(m, id);
    if (gguf_get_u32(m->gguf, "tokenizer.ggml.eot_token_id", &id)) add_eos(m, id);
    const char *tmpl = gguf_get_str(m->gguf, TEMPLATE_KEY);
    if (tmpl && !(m->chat_template = hu_strndup(tmpl, strlen(tmpl))))
        return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    /* A model without a usable vocabulary still loads (logits from token ids work); the text
     * functions then report why. */
    hearth_err te = {0};
    hk_tokenizer *tok = NULL;
    if (!gguf_find(m->gguf, "tokenizer.ggml.tokens")) {
        snprintf(m->tok_err, sizeof m->tok_err, "the model file has no vocabulary");
    } else if (hk_tokenizer_from_gguf(m->gguf, &tok, &te) != HEARTH_OK) {
        snprintf(m->tok_err, sizeof m->tok_err, "the model's vocabulary cannot be used: %s", te.msg);
    } else if (hk_tokenizer_n_vocab(tok) > m->hp.n_vocab) {
        snprintf(m->tok_err, sizeof m->tok_err, "the vocabulary has %d ids but the model only %d", hk_tokenizer_n_vocab(tok),
                 m->hp.n_vocab);
        hk_tokenizer_free(tok);
        tok = NULL;
    }
    m->tokenizer = tok;
    if (tok) add_eos(m, hk_tokenizer_eos(tok));
    /* ChatML turns end with <|im_end|> whatever generation_config says (MODEL-nemotron-h.md P13) */
    if (tok && m->chat_template && strstr(m->chat_template, "<|im_end|>"))
        add_eos(m, hk_tokenizer_find(tok, "<|im_end|>", 10));
    return HEARTH_OK;
}

void hm_tokenizer_release(hearth_model *m) {
    hk_tokenizer_free(m->tokenizer);
    m->tokenizer = NULL;
}

const char *hm_token_text(const hearth_model *m, int32_t id, size_t *len) {
    *len = 0;
    if (!m->tokenizer) return "";
    const char *s = hk_token_bytes(m->tokenizer, id, len);
    return s ? s : "";
}

bool hm_is_eos(const hearth_model *m, int32_t id) {
    for (int i = 0; i < m->n_eos; i++)
        if (m->eos_ids[i] == id) return true;
    return false;
}

hearth_status hearth_tokenize(const hearth_model *m, const char *text, size_t len, bool parse_special, int32_t *ids,
                              size_t max, size_t *n_ids) {
    *n_ids = 0;
    if (!m->tokenizer) return HEARTH_ERR_UNSUPPORTED;
    hearth_status st = hk_tokenizer_encode(m->tokenizer, text, len, parse_special, ids, ids ? max : 0, n_ids, NULL);
    return !ids && st == HEARTH_ERR_INVALID_ARG ? HEARTH_OK : st; /* a sizing call */
}

hearth_status hearth_token_to_piece(const hearth_model *m, int32_t id, char *buf, size_t size, size_t *len) {
    *len = 0;
    if (!m->tokenizer) return HEARTH_ERR_UNSUPPORTED;
    if (id < 0 || id >= m->hp.n_vocab) return HEARTH_ERR_INVALID_ARG;
    size_t n;
    const char *s = hk_token_bytes(m->tokenizer, id, &n);
    *len = n;
    if (buf && n <= size) memcpy(buf, s ? s : "", n);
    return HEARTH_OK;
}

/* Why the model cannot tokenize (for messages); "" when it can. */
const char *hm_tokenizer_error(const hearth_model *m) { return m->tokenizer ? "" : m->tok_err; }
