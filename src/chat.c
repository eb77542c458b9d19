/* chat.c - chat templates: the public side of the Jinja interpreter (parse, render, render a conversation). */
#include "chat.h"

#include <stdlib.h>
#include <string.h>

#include "jinja.h"

/* Largest template source accepted (real chat templates are a few KiB to ~100 KiB). */
#define HC_MAX_TEMPLATE ((size_t)16 << 20)

struct hc_template {
    jinja_arena arena; /* the normalised source and the syntax tree */
    const char *src;
    size_t len;
    const jnode *root;
};

hearth_chat_options hearth_chat_default_options(void) {
    hearth_chat_options o;
    o.add_generation_prompt = true;
    o.enable_thinking = -1;
    return o;
}

/* Index just past the last occurrence of tag in text[0..len), or 0 when there is none. */
static size_t after_last(const char *text, size_t len, const char *tag) {
    const size_t n = strlen(tag);
    for (size_t i = len; i >= n; i--)
        if (memcmp(text + i - n, tag, n) == 0) return i;
    return 0;
}

bool hearth_chat_in_reasoning(const char *text, size_t len) {
    if (!text) return false;
    const size_t open = after_last(text, len, "<think>");
    return open > 0 && open > after_last(text, len, "</think>");
}

hc_template *hc_template_parse(const char *src, size_t len, hearth_err *e) {
    if (!src && len) {
        herr(e, HEARTH_ERR_INVALID_ARG, "template source is NULL");
        return NULL;
    }
    if (len > HC_MAX_TEMPLATE) {
        herr(e, HEARTH_ERR_TOO_LARGE, "chat template of %zu bytes is larger than %zu", len, HC_MAX_TEMPLATE);
        return NULL;
    }
    hc_template *t = calloc(1, sizeof *t);
    if (!t) {
        herr(e, HEARTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    t->arena.cap = JINJA_MAX_MEMORY;
    char *norm = jinja_normalize(&t->arena, src ? src : "", len, &t->len);
    if (!norm) {
        herr(e, HEARTH_ERR_NOMEM, "out of memory");
        hc_template_free(t);
        return NULL;
    }
    t->src = norm;
    t->root = jinja_parse(&t->arena, t->src, t->len, e);
    if (!t->root) {
        hc_template_free(t);
        return NULL;
    }
    return t;
}

void hc_template_free(hc_template *t) {
    if (!t) return;
    jinja_arena_free(&t->arena);
    free(t);
}

hearth_status hc_render(const hc_template *t, const json_value *context, char **out, size_t *out_len, hearth_err *e) {
    if (!out || !out_len) return herr(e, HEARTH_ERR_INVALID_ARG, "hc_render: out and out_len are required");
    *out = NULL;
    *out_len = 0;
    if (!t) return herr(e, HEARTH_ERR_INVALID_ARG, "hc_render: no template");
    if (context && context->type != JSON_OBJECT)
        return herr(e, HEARTH_ERR_INVALID_ARG, "hc_render: the context must be a JSON object");
    jinja_arena mem = {0};
    mem.cap = JINJA_MAX_MEMORY;
    hearth_err local;
    jinja_ctx c = {0};
    c.mem = &mem;
    c.src = t->src;
    c.src_len = t->len;
    c.e = e ? e : &local;
    hearth_status st;
    if (context && !jinja_from_json(&c, context, &c.globals, 0)) st = c.e->code;
    else st = jinja_render(&c, t->root, out, out_len);
    jinja_arena_free(&mem);
    return st;
}

/* The JSON object {"role": ..., "content": ...} for one message; strings are borrowed. */
static void message_json(const hearth_message *m, json_value *obj, json_value items[2], char *keys[2]) {
    static const char role_key[] = "role", content_key[] = "content";
    keys[0] = (char *)role_key;
    keys[1] = (char *)content_key;
    const char *content = m->content ? m->content : "";
    items[0].type = JSON_STRING;
    items[0].str = (char *)m->role;
    items[0].len = strlen(m->role);
    items[1].type = JSON_STRING;
    items[1].str = (char *)content;
    items[1].len = strlen(content);
    obj->type = JSON_OBJECT;
    obj->len = 2;
    obj->items = items;
    obj->keys = keys;
}

hearth_status hc_render_messages(const char *template_src, const hearth_message *msgs, size_t n,
                                 const hearth_chat_options *opts, const char *bos_token, const char *eos_token,
                                 char **out, size_t *out_len, hearth_err *e) {
    if (!out || !out_len) return herr(e, HEARTH_ERR_INVALID_ARG, "hc_render_messages: out and out_len are required");
    *out = NULL;
    *out_len = 0;
    if (!template_src) return herr(e, HEARTH_ERR_INVALID_ARG, "no chat template");
    if (n && !msgs) return herr(e, HEARTH_ERR_INVALID_ARG, "messages are NULL");
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role) return herr(e, HEARTH_ERR_INVALID_ARG, "message %zu has no role", i);
    hearth_chat_options o = opts ? *opts : hearth_chat_default_options();

    hc_template *t = hc_template_parse(template_src, strlen(template_src), e);
    if (!t) return e ? e->code : HEARTH_ERR_TEMPLATE;

    /* the context as a JSON tree whose strings borrow the caller's */
    json_value *objs = calloc(n ? n : 1, sizeof *objs);
    json_value *items = calloc(n ? 2 * n : 1, sizeof *items);
    char **keys = calloc(n ? 2 * n : 1, sizeof *keys);
    hearth_status st;
    if (!objs || !items || !keys) {
        st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < n; i++) message_json(&msgs[i], &objs[i], &items[2 * i], &keys[2 * i]);
        json_value top_items[7];
        char *top_keys[7];
        size_t k = 0;
        memset(top_items, 0, sizeof top_items);
        top_keys[k] = (char *)"messages";
        top_items[k].type = JSON_ARRAY;
        top_items[k].len = n;
        top_items[k++].items = objs;
        /* transformers always passes tools and documents, None when there are none */
        top_keys[k] = (char *)"tools";
        top_items[k++].type = JSON_NULL;
        top_keys[k] = (char *)"documents";
        top_items[k++].type = JSON_NULL;
        top_keys[k] = (char *)"add_generation_prompt";
        top_items[k].type = JSON_BOOL;
        top_items[k++].boolean = o.add_generation_prompt;
        if (o.enable_thinking == 0 || o.enable_thinking == 1) {
            top_keys[k] = (char *)"enable_thinking";
            top_items[k].type = JSON_BOOL;
            top_items[k++].boolean = o.enable_thinking == 1;
        }
        const char *tok[2] = {bos_token, eos_token};
        const char *tok_key[2] = {"bos_token", "eos_token"};
        for (int j = 0; j < 2; j++) {
            if (!tok[j]) continue;
            top_keys[k] = (char *)tok_key[j];
            top_items[k].type = JSON_STRING;
            top_items[k].str = (char *)tok[j];
            top_items[k++].len = strlen(tok[j]);
        }
        json_value ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.type = JSON_OBJECT;
        ctx.len = k;
        ctx.items = top_items;
        ctx.keys = top_keys;
        st = hc_render(t, &ctx, out, out_len, e);
    }
    free(objs);
    free(items);
    free(keys);
    hc_template_free(t);
    return st;
}
