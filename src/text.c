/* text.c - vocabulary, chat template and end-of-generation ids: converted into GGUF, attached to a loaded model. */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>

#include "model.h"

#define EOS_KEY "hearth.eos_token_ids"

/* Collects eos ids from generation_config.json ("eos_token_id": int or list), falling back on
 * config.json. Returns the count written to ids (at most 8). */
static int read_eos_ids(const char *hf_dir, const json_value *config, int32_t *ids) {
    char path[4096], *text = NULL;
    size_t len;
    int n = 0;
    snprintf(path, sizeof path, "%s/generation_config.json", hf_dir);
    json_value *gen = NULL;
    if (hu_read_text(path, &text, &len, NULL) == HEARTH_OK) {
        gen = json_parse(text, len, NULL);
        free(text);
    }
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
        types[i] = 1; /* normal */
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

hearth_status htext_convert_vocab(const char *hf_dir, const json_value *config, int n_vocab, gguf_ctx *out, hearth_err *e) {
    int32_t eos[8];
    int n_eos = read_eos_ids(hf_dir, config, eos);
    hearth_status st = HEARTH_OK;
    if (n_eos > 0) {
        st = gguf_set_arr(out, EOS_KEY, GGUF_I32, eos, (uint64_t)n_eos);
        if (!st) st = gguf_set_u32(out, "tokenizer.ggml.eos_token_id", (uint32_t)eos[0]);
    }
    if (st) return st;
    double bos;
    if (json_number(json_get(config, "bos_token_id"), &bos) && bos >= 0 && bos < n_vocab)
        st = gguf_set_u32(out, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    if (st) return st;
    return placeholder_vocab(n_vocab, out, e);
}

hearth_status hm_tokenizer_attach(hearth_model *m, hearth_err *e) {
    const gguf_kv *kv = gguf_find(m->gguf, EOS_KEY);
    m->n_eos = 0;
    for (uint64_t i = 0; kv && i < kv->n && m->n_eos < 8; i++) {
        int64_t v;
        if (gguf_arr_i64(kv, i, &v) && v >= 0 && v < m->hp.n_vocab) m->eos_ids[m->n_eos++] = (int32_t)v;
    }
    uint32_t id;
    if (m->n_eos == 0 && gguf_get_u32(m->gguf, "tokenizer.ggml.eos_token_id", &id) && id < (uint32_t)m->hp.n_vocab)
        m->eos_ids[m->n_eos++] = (int32_t)id;
    (void)e;
    return HEARTH_OK;
}

void hm_tokenizer_release(hearth_model *m) { (void)m; }
