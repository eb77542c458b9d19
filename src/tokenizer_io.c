/* tokenizer_io.c - hk_tokenizer from Hugging Face tokenizer.json / tokenizer_config.json, and
 * from and to llama.cpp's GGUF tokenizer keys. */
#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "tokenizer_impl.h"

/* ---- tokenizer.json ---- */

static hearth_status parse_normalizer(const json_value *n, bool *nfc, hearth_err *e) {
    if (!n || n->type == JSON_NULL) return HEARTH_OK;
    const char *type = json_get_string(n, "type");
    if (!type) return herr(e, HEARTH_ERR_FORMAT, "tokenizer.json: normalizer without a type");
    if (strcmp(type, "NFC") == 0) {
        *nfc = true;
        return HEARTH_OK;
    }
    if (strcmp(type, "Sequence") == 0) {
        const json_value *list = json_get(n, "normalizers");
        for (size_t i = 0; list && i < list->len; i++) {
            hearth_status st = parse_normalizer(json_at(list, i), nfc, e);
            if (st != HEARTH_OK) return st;
        }
        return HEARTH_OK;
    }
    return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: normalizer '%s' is not supported (only NFC)", type);
}

/* Appends the splits of pre-tokenizer `p` to t->pre; *byte_level becomes true at the ByteLevel
 * step, which must come last. */
static hearth_status parse_pre(hk_tokenizer *t, const json_value *p, bool *byte_level, hearth_err *e) {
    if (!p || p->type == JSON_NULL) return HEARTH_OK;
    const char *type = json_get_string(p, "type");
    if (!type) return herr(e, HEARTH_ERR_FORMAT, "tokenizer.json: pre_tokenizer without a type");
    if (*byte_level)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: pre-tokenizer '%s' after ByteLevel is not supported",
                    type);
    if (strcmp(type, "Sequence") == 0) {
        const json_value *list = json_get(p, "pretokenizers");
        for (size_t i = 0; list && i < list->len; i++) {
            hearth_status st = parse_pre(t, json_at(list, i), byte_level, e);
            if (st != HEARTH_OK) return st;
        }
        return HEARTH_OK;
    }
    hk_pre_kind kind;
    if (strcmp(type, "Split") == 0) {
        const char *regex = json_get_string(json_get(p, "pattern"), "Regex");
        const char *behavior = json_get_string(p, "behavior");
        bool invert = false;
        json_get_bool(p, "invert", &invert);
        if (!regex)
            return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: Split pre-tokenizer without a Regex pattern");
        if ((behavior && strcmp(behavior, "Isolated") != 0) || invert)
            return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: Split behavior '%s'%s is not supported",
                        behavior, invert ? " (inverted)" : "");
        if (!hk_pre_from_regex(regex, &kind))
            return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: unknown pre-tokenizer regex: %.400s", regex);
    } else if (strcmp(type, "ByteLevel") == 0) {
        bool prefix = false, use_regex = true; /* HF's defaults */
        json_get_bool(p, "add_prefix_space", &prefix);
        json_get_bool(p, "use_regex", &use_regex);
        if (prefix)
            return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: ByteLevel add_prefix_space is not supported");
        *byte_level = true;
        if (!use_regex) return HEARTH_OK;
        kind = HK_PRE_GPT2;
    } else {
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: pre-tokenizer '%s' is not supported", type);
    }
    if (t->n_pre == HK_TOK_MAX_PRE)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: more than %d pre-tokenizer splits", HK_TOK_MAX_PRE);
    t->pre[t->n_pre++] = kind;
    return HEARTH_OK;
}

/* A TemplateProcessing post-processor whose single-sequence template starts with a special
 * token adds it as BOS (Llama 3.1 does this). */
static void parse_post(hk_tokenizer *t, const json_value *p) {
    const char *type = json_get_string(p, "type");
    if (!type) return;
    if (strcmp(type, "Sequence") == 0) {
        const json_value *list = json_get(p, "processors");
        for (size_t i = 0; list && i < list->len; i++) parse_post(t, json_at(list, i));
        return;
    }
    if (strcmp(type, "TemplateProcessing") != 0) return;
    const char *name = json_get_string(json_get(json_at(json_get(p, "single"), 0), "SpecialToken"), "id");
    if (!name) return;
    double id;
    if (json_number(json_at(json_get(json_get(json_get(p, "special_tokens"), name), "ids"), 0), &id) && id >= 0 &&
        id < t->n_vocab) {
        t->bos = (int32_t)id;
        t->add_bos = true;
    }
}

static bool json_id(const json_value *v, int64_t *id) {
    double d;
    if (!json_number(v, &d) || !(d >= 0 && d < HK_TOK_MAX_VOCAB) || d != (double)(int64_t)d) return false; /* NaN fails too */
    *id = (int64_t)d;
    return true;
}

/* Splits a merge "left right" at its space (from the second byte on: a part is never empty). */
static bool split_merge(const char *s, size_t len, size_t *cut) {
    const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
    if (!sp || (size_t)(sp - s) + 1 >= len) return false;
    *cut = (size_t)(sp - s);
    return true;
}

static hearth_status from_tree(const json_value *root, hk_tokenizer **out, hearth_err *e) {
    const json_value *model = json_get(root, "model");
    if (!model || model->type != JSON_OBJECT) return herr(e, HEARTH_ERR_FORMAT, "tokenizer.json: no model");
    const char *type = json_get_string(model, "type");
    const json_value *vocab = json_get(model, "vocab"), *merges = json_get(model, "merges");
    if (type ? strcmp(type, "BPE") != 0 : !merges)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: model type '%s' is not supported (only byte-level BPE)",
                    type ? type : "(none)");
    bool flag = false;
    if (json_get_bool(model, "byte_fallback", &flag) && flag)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: BPE byte_fallback is not supported");
    const char *affix[2] = {json_get_string(model, "continuing_subword_prefix"), json_get_string(model, "end_of_word_suffix")};
    if ((affix[0] && *affix[0]) || (affix[1] && *affix[1]))
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: BPE subword prefix/suffix is not supported");
    double dropout;
    if (json_get_number(model, "dropout", &dropout) && dropout > 0)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: BPE dropout is not supported");
    if (!vocab || vocab->type != JSON_OBJECT || !merges || merges->type != JSON_ARRAY)
        return herr(e, HEARTH_ERR_FORMAT, "tokenizer.json: model.vocab or model.merges missing");
    const json_value *added = json_get(root, "added_tokens");
    if (added && added->type != JSON_ARRAY && added->type != JSON_NULL)
        return herr(e, HEARTH_ERR_FORMAT, "tokenizer.json: added_tokens is not an array");

    /* ids run to the largest one in vocab or added_tokens */
    int64_t max_id = -1, id = 0;
    for (size_t i = 0; i < vocab->len; i++) {
        if (!json_id(&vocab->items[i], &id))
            return herr(e, HEARTH_ERR_FORMAT, "tokenizer.json: bad id for vocab entry \"%.40s\"", vocab->keys[i]);
        if (id > max_id) max_id = id;
    }
    for (size_t i = 0; added && i < added->len; i++) {
        const json_value *a = &added->items[i];
        if (!json_id(json_get(a, "id"), &id) || !json_get_string(a, "content"))
            return herr(e, HEARTH_ERR_FORMAT, "tokenizer.json: added_tokens[%zu] lacks an id or content", i);
        if (id > max_id) max_id = id;
    }

    hk_tokenizer *t;
    hearth_status st = hk_tok_new((int32_t)(max_id + 1), &t, e);
    if (st != HEARTH_OK) return st;
    json_get_bool(model, "ignore_merges", &t->ignore_merges);
    st = parse_normalizer(json_get(root, "normalizer"), &t->nfc, e);
    bool byte_level = false;
    if (st == HEARTH_OK) st = parse_pre(t, json_get(root, "pre_tokenizer"), &byte_level, e);
    if (st == HEARTH_OK && !byte_level)
        st = herr(e, HEARTH_ERR_UNSUPPORTED, "tokenizer.json: no ByteLevel pre-tokenizer (not a byte-level BPE)");

    char *buf = NULL;
    for (size_t i = 0; st == HEARTH_OK && i < vocab->len; i++) {
        const char *key = vocab->keys[i];
        size_t klen = strlen(key), blen;
        json_id(&vocab->items[i], &id);
        char *nb = realloc(buf, klen + 1);
        if (!nb) {
            st = herr(e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
            break;
        }
        buf = nb;
        if (hk_tok_from_bytelevel(t, key, klen, buf, &blen)) st = hk_tok_set(t, (int32_t)id, buf, blen, HK_TOKEN_NORMAL, 0, e);
        else st = hk_tok_set(t, (int32_t)id, key, klen, HK_TOKEN_NORMAL, HK_TF_LITERAL, e);
    }
    free(buf);
    for (size_t i = 0; st == HEARTH_OK && added && i < added->len; i++) {
        const json_value *a = &added->items[i];
        const json_value *content = json_get(a, "content");
        bool special = false, lstrip = false, rstrip = false, single = false;
        json_get_bool(a, "special", &special);
        json_get_bool(a, "lstrip", &lstrip);
        json_get_bool(a, "rstrip", &rstrip);
        json_get_bool(a, "single_word", &single);
        json_id(json_get(a, "id"), &id);
        int flags = (lstrip ? HK_TF_LSTRIP : 0) | (rstrip ? HK_TF_RSTRIP : 0) | (single ? HK_TF_SINGLE_WORD : 0);
        /* an added token that is also the vocabulary entry of its id stays reachable by BPE */
        const hk_tok_entry *old = &t->tok[id];
        if (old->type == HK_TOKEN_NORMAL && !(old->flags & HK_TF_LITERAL) && old->len == content->len &&
            memcmp(t->pool + old->off, content->str, content->len) == 0)
            flags |= HK_TF_IN_VOCAB;
        st = hk_tok_set(t, (int32_t)id, content->str, content->len,
                        special ? HK_TOKEN_CONTROL : HK_TOKEN_USER_DEFINED, flags, e);
    }
    if (st == HEARTH_OK) st = hk_tok_index_vocab(t, e);
    if (st == HEARTH_OK) st = hk_tok_reserve_merges(t, merges->len, e);
    for (size_t i = 0; st == HEARTH_OK && i < merges->len; i++) {
        const json_value *m = &merges->items[i];
        size_t cut;
        if (m->type == JSON_STRING && split_merge(m->str, m->len, &cut)) {
            st = hk_tok_add_merge(t, m->str, cut, m->str + cut + 1, m->len - cut - 1, e);
        } else if (m->type == JSON_ARRAY && m->len == 2 && m->items[0].type == JSON_STRING &&
                   m->items[1].type == JSON_STRING) {
            st = hk_tok_add_merge(t, m->items[0].str, m->items[0].len, m->items[1].str, m->items[1].len, e);
        } else {
            st = herr(e, HEARTH_ERR_FORMAT, "tokenizer.json: merges[%zu] is neither \"a b\" nor [a, b]", i);
        }
    }
    if (st == HEARTH_OK) st = hk_tok_index_added(t, e);
    if (st != HEARTH_OK) {
        hk_tokenizer_free(t);
        return st;
    }
    parse_post(t, json_get(root, "post_processor"));
    *out = t;
    return HEARTH_OK;
}

hearth_status hk_tokenizer_from_json(const char *text, size_t len, hk_tokenizer **out, hearth_err *e) {
    hearth_err local;
    if (!e) e = &local;
    *out = NULL;
    json_value *root = json_parse(text, len, e);
    if (!root) return e->code;
    hearth_status st = from_tree(root, out, e);
    json_free(root);
    return st;
}

hearth_status hk_tokenizer_apply_config(hk_tokenizer *t, const char *text, size_t len, hearth_err *e) {
    hearth_err local;
    if (!e) e = &local;
    json_value *root = json_parse(text, len, e);
    if (!root) return e->code;
    static const char *const keys[3] = {"bos_token", "eos_token", "pad_token"};
    int32_t *dst[3] = {&t->bos, &t->eos, &t->pad};
    hearth_status st = HEARTH_OK;
    for (int k = 0; k < 3 && st == HEARTH_OK; k++) {
        const json_value *v = json_get(root, keys[k]);
        const json_value *s = v && v->type == JSON_OBJECT ? json_get(v, "content") : v;
        if (!s || s->type != JSON_STRING) continue;
        int32_t id = hk_tokenizer_find(t, s->str, s->len);
        if (id < 0) st = herr(e, HEARTH_ERR_FORMAT, "tokenizer_config.json: %s \"%.60s\" is not a token", keys[k], s->str);
        else *dst[k] = id;
    }
    json_get_bool(root, "add_bos_token", &t->add_bos);
    json_free(root);
    return st;
}

/* ---- GGUF ---- */

#define KEY_NORMALIZER "tokenizer.hearth.normalizer"
#define KEY_IGNORE_MERGES "tokenizer.hearth.ignore_merges"

hearth_status hk_tokenizer_from_gguf(const gguf_ctx *g, hk_tokenizer **out, hearth_err *e) {
    hearth_err local;
    if (!e) e = &local;
    *out = NULL;
    const char *model = gguf_get_str(g, "tokenizer.ggml.model");
    if (!model) return herr(e, HEARTH_ERR_FORMAT, "gguf: no tokenizer.ggml.model");
    if (strcmp(model, "gpt2") != 0)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "gguf: tokenizer model '%.60s' is not supported (only gpt2 = byte-level BPE)",
                    model);
    const char *pre = gguf_get_str(g, "tokenizer.ggml.pre");
    hk_pre_kind kind;
    if (!pre || !hk_pre_from_gguf_name(pre, &kind))
        return herr(e, HEARTH_ERR_UNSUPPORTED, "gguf: pre-tokenizer '%.60s' is not supported", pre ? pre : "(missing)");
    const gguf_kv *tokens = gguf_find(g, "tokenizer.ggml.tokens");
    const gguf_kv *types = gguf_find(g, "tokenizer.ggml.token_type");
    const gguf_kv *merges = gguf_find(g, "tokenizer.ggml.merges");
    if (!tokens || tokens->type != GGUF_ARRAY || tokens->arr_type != GGUF_STRING || tokens->n == 0)
        return herr(e, HEARTH_ERR_FORMAT, "gguf: tokenizer.ggml.tokens missing or not a string array");
    if (tokens->n > HK_TOK_MAX_VOCAB)
        return herr(e, HEARTH_ERR_TOO_LARGE, "gguf: %llu tokens", (unsigned long long)tokens->n);
    if (types && (types->type != GGUF_ARRAY || types->n != tokens->n))
        return herr(e, HEARTH_ERR_FORMAT, "gguf: tokenizer.ggml.token_type does not match the tokens");
    if (merges && (merges->type != GGUF_ARRAY || (merges->n && merges->arr_type != GGUF_STRING)))
        return herr(e, HEARTH_ERR_FORMAT, "gguf: tokenizer.ggml.merges is not a string array");

    hk_tokenizer *t;
    hearth_status st = hk_tok_new((int32_t)tokens->n, &t, e);
    if (st != HEARTH_OK) return st;
    t->pre[0] = kind;
    t->n_pre = 1;
    const char *norm = gguf_get_str(g, KEY_NORMALIZER);
    t->nfc = norm ? strcmp(norm, "NFC") == 0 : kind == HK_PRE_QWEN2;
    if (!gguf_get_bool(g, KEY_IGNORE_MERGES, &t->ignore_merges))
        t->ignore_merges = kind == HK_PRE_LLAMA3 || kind == HK_PRE_TEKKEN; /* llama.cpp's rule */
    if (!gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos))
        t->add_bos = kind == HK_PRE_LLAMA3 || kind == HK_PRE_TEKKEN;

    char *buf = hu_malloc(1, e); /* grown to the longest token below */
    size_t buf_cap = 1;
    for (uint64_t i = 0; st == HEARTH_OK && buf && i < tokens->n; i++) {
        const char *s = tokens->strs[i];
        size_t len = (size_t)tokens->str_lens[i], blen;
        int64_t ty = HK_TOKEN_NORMAL;
        if (types && !gguf_arr_i64(types, i, &ty)) {
            st = herr(e, HEARTH_ERR_FORMAT, "gguf: tokenizer.ggml.token_type is not an integer array");
            break;
        }
        if (ty == HK_TOKEN_UNUSED) continue;
        if (len + 1 > buf_cap) {
            char *nb = realloc(buf, len + 1);
            if (!nb) {
                st = herr(e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
                break;
            }
            buf = nb;
            buf_cap = len + 1;
        }
        bool byte_level = hk_tok_from_bytelevel(t, s, len, buf, &blen);
        if (ty == HK_TOKEN_CONTROL || ty == HK_TOKEN_USER_DEFINED || ty == HK_TOKEN_UNKNOWN) {
            /* GGUF does not say whether an added token is also a BPE vocabulary entry; as in
             * llama.cpp, BPE may reach it when its text reads the same as byte-level text
             * (NORMAL tokens win a clash, see hk_tok_index_vocab). */
            bool same = byte_level && blen == len && memcmp(buf, s, len) == 0;
            st = hk_tok_set(t, (int32_t)i, s, len, (int)ty, same ? HK_TF_IN_VOCAB : 0, e);
        } else if (byte_level) {
            st = hk_tok_set(t, (int32_t)i, buf, blen, HK_TOKEN_NORMAL, 0, e);
        } else {
            st = hk_tok_set(t, (int32_t)i, s, len, HK_TOKEN_NORMAL, HK_TF_LITERAL, e);
        }
    }
    if (!buf) st = e->code;
    free(buf);
    uint64_t n_merges = merges ? merges->n : 0;
    if (st == HEARTH_OK) st = hk_tok_index_vocab(t, e);
    if (st == HEARTH_OK) st = hk_tok_reserve_merges(t, (size_t)n_merges, e);
    for (uint64_t i = 0; st == HEARTH_OK && i < n_merges; i++) {
        const char *m = merges->strs[i];
        size_t len = (size_t)merges->str_lens[i], cut;
        if (!split_merge(m, len, &cut)) st = herr(e, HEARTH_ERR_FORMAT, "gguf: merge %llu is not \"a b\"", (unsigned long long)i);
        else st = hk_tok_add_merge(t, m, cut, m + cut + 1, len - cut - 1, e);
    }
    if (st == HEARTH_OK) st = hk_tok_index_added(t, e);
    if (st != HEARTH_OK) {
        hk_tokenizer_free(t);
        return st;
    }
    static const char *const id_keys[3] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                           "tokenizer.ggml.padding_token_id"};
    int32_t *dst[3] = {&t->bos, &t->eos, &t->pad};
    for (int k = 0; k < 3; k++) {
        uint32_t id;
        if (gguf_get_u32(g, id_keys[k], &id) && id < (uint32_t)t->n_vocab) *dst[k] = (int32_t)id;
    }
    *out = t;
    return HEARTH_OK;
}

hearth_status hk_tokenizer_to_gguf(const hk_tokenizer *t, gguf_ctx *out, hearth_err *e) {
    hearth_err local;
    if (!e) e = &local;
    if (t->n_pre != 1)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "gguf: a pre-tokenizer of %d splits has no llama.cpp name", t->n_pre);
    size_t n = (size_t)t->n_vocab;
    char **strs = hu_calloc(n + t->n_merges + 1, sizeof *strs, e);
    int32_t *types = hu_malloc((uint64_t)n * sizeof *types + 1, e);
    hearth_status st = HEARTH_OK;
    if (!strs || !types) {
        st = e->code;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const hk_tok_entry *te = &t->tok[i];
        const char *bytes = t->pool ? t->pool + te->off : "";
        types[i] = te->type;
        if (te->type == HK_TOKEN_UNUSED) {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%zu]", i); /* llama.cpp's filler for unused ids */
            strs[i] = hu_strndup(pad, strlen(pad));
        } else if (te->type == HK_TOKEN_NORMAL && !(te->flags & HK_TF_LITERAL)) {
            strs[i] = hk_tok_to_bytelevel(t, bytes, te->len);
        } else {
            strs[i] = hu_strndup(bytes, te->len);
        }
        if (!strs[i]) {
            st = herr(e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
            goto done;
        }
    }
    for (size_t m = 0; m < t->n_merges; m++) {
        const hk_tok_entry *a = &t->tok[t->merges[2 * m]], *b = &t->tok[t->merges[2 * m + 1]];
        char *sa = hk_tok_to_bytelevel(t, t->pool + a->off, a->len);
        char *sb = hk_tok_to_bytelevel(t, t->pool + b->off, b->len);
        char *s = sa && sb ? malloc(strlen(sa) + strlen(sb) + 2) : NULL;
        if (s) sprintf(s, "%s %s", sa, sb);
        free(sa);
        free(sb);
        if (!s) {
            st = herr(e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
            goto done;
        }
        strs[n + m] = s;
    }
    st = gguf_set_str(out, "tokenizer.ggml.model", "gpt2");
    if (!st) st = gguf_set_str(out, "tokenizer.ggml.pre", hk_pre_gguf_name(t->pre[0]));
    if (!st) st = gguf_set_arr_str(out, "tokenizer.ggml.tokens", (const char *const *)strs, n);
    if (!st) st = gguf_set_arr(out, "tokenizer.ggml.token_type", GGUF_I32, types, n);
    if (!st) st = gguf_set_arr_str(out, "tokenizer.ggml.merges", (const char *const *)strs + n, t->n_merges);
    if (!st && t->bos >= 0) st = gguf_set_u32(out, "tokenizer.ggml.bos_token_id", (uint32_t)t->bos);
    if (!st && t->eos >= 0) st = gguf_set_u32(out, "tokenizer.ggml.eos_token_id", (uint32_t)t->eos);
    if (!st && t->pad >= 0) st = gguf_set_u32(out, "tokenizer.ggml.padding_token_id", (uint32_t)t->pad);
    if (!st) st = gguf_set_bool(out, "tokenizer.ggml.add_bos_token", t->add_bos);
    if (!st) st = gguf_set_str(out, KEY_NORMALIZER, t->nfc ? "NFC" : "none");
    if (!st) st = gguf_set_bool(out, KEY_IGNORE_MERGES, t->ignore_merges);
    if (st) herr(e, st, "gguf: cannot set the tokenizer keys");
done:
    if (strs)
        for (size_t i = 0; i < n + t->n_merges; i++) free(strs[i]);
    free(strs);
    free(types);
    return st;
}
