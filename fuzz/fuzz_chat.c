/* fuzz_chat.c - libFuzzer target: an arbitrary Jinja chat template rendered with arbitrary variables.
 *
 * Input: template source, then (after a NUL) the render context as JSON, e.g.
 * {"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true}. Without a
 * NUL, or when the JSON does not parse or is not an object, a fixed conversation is used. */
#include "chat.h"
#include "fuzz_common.h"

static const char DEFAULT_CTX[] =
    "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"2+2?\"},"
    " {\"role\": \"assistant\", \"content\": \"4\", \"reasoning_content\": \"easy\"}, {\"role\": \"user\", \"content\": \"<b>x</b>\"}],"
    " \"add_generation_prompt\": true, \"enable_thinking\": false, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\","
    " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\"}}}]}";

static json_value *default_ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    hearth_err e = {0};
    default_ctx = json_parse(DEFAULT_CTX, sizeof DEFAULT_CTX - 1, &e);
    if (!default_ctx) {
        fprintf(stderr, "fuzz_chat: default context: %s\n", e.msg);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t a, b;
    const uint8_t *ctx_text = fuzz_split(data, size, &a, &b);
    hearth_err e = {0};
    hc_template *t = hc_template_parse((const char *)data, a, &e);
    if (!t) {
        FUZZ_ASSERT(e.code == HEARTH_ERR_TEMPLATE && e.msg[0], "parse failed with status %d '%s'", e.code, e.msg);
        return 0;
    }
    json_value *ctx = b ? json_parse((const char *)ctx_text, b, &e) : NULL;
    char *out = NULL;
    size_t len = 0;
    const json_value *vars = ctx && ctx->type == JSON_OBJECT ? ctx : default_ctx; /* hc_render takes an object */
    hearth_status st = hc_render(t, vars, &out, &len, &e);
    if (st == HEARTH_OK) {
        FUZZ_ASSERT(out && out[len] == 0, "output not NUL-terminated");
        FUZZ_ASSERT(len <= ((size_t)64 << 20), "output of %zu bytes exceeds the 64 MiB bound", len);
    } else {
        FUZZ_ASSERT(out == NULL || st == HEARTH_OK, "failed render returned output");
        FUZZ_ASSERT(st == HEARTH_ERR_TEMPLATE || st == HEARTH_ERR_NOMEM, "render failed with status %d", st);
    }
    free(out);
    json_free(ctx);
    hc_template_free(t);
    return 0;
}
