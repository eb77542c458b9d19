/* chat_api.c - hearth_chat_render: the model's chat template (tokenizer.chat_template) applied to messages. */
#include <stdio.h>
#include <stdlib.h>

#include "chat.h"
#include "model.h"
#include "tokenizer.h"

/* Text of a special token id for the template's bos_token / eos_token variables ("" if none). */
static const char *special_text(const hearth_model *m, int32_t id, char *buf, size_t size) {
    size_t len = 0;
    const char *s = id >= 0 && m->tokenizer ? hk_token_bytes(m->tokenizer, id, &len) : NULL;
    snprintf(buf, size, "%.*s", (int)(s ? len : 0), s ? s : "");
    return buf;
}

hearth_status hearth_chat_render(const hearth_model *m, const hearth_message *msgs, size_t n_msgs,
                                 const hearth_chat_options *opts, char *out, size_t size, size_t *len, char *err,
                                 size_t err_size) {
    *len = 0;
    if (!m->chat_template) {
        if (err && err_size) snprintf(err, err_size, "the model has no chat template (tokenizer.chat_template)");
        return HEARTH_ERR_UNSUPPORTED;
    }
    hearth_chat_options o = opts ? *opts : hearth_chat_default_options();
    char bos[128], eos[128];
    special_text(m, m->tokenizer ? hk_tokenizer_bos(m->tokenizer) : -1, bos, sizeof bos);
    special_text(m, m->tokenizer ? hk_tokenizer_eos(m->tokenizer) : -1, eos, sizeof eos);
    hearth_err e = {0};
    char *text = NULL;
    size_t n = 0;
    hearth_status st = hc_render_messages(m->chat_template, msgs, n_msgs, &o, bos, eos, &text, &n, &e);
    if (st != HEARTH_OK) {
        if (err && err_size) snprintf(err, err_size, "chat template: %s", e.msg);
        return st;
    }
    *len = n;
    if (out && n + 1 <= size) {
        memcpy(out, text, n);
        out[n] = 0;
    }
    free(text);
    return HEARTH_OK;
}
