/* fuzz_tokenizer_json.c - libFuzzer target: an arbitrary tokenizer.json (and tokenizer_config.json after a NUL) built into a tokenizer that then encodes, decodes and writes GGUF keys. */
#include "fuzz_common.h"
#include "gguf.h"
#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t a, b;
    const uint8_t *cfg = fuzz_split(data, size, &a, &b);
    hk_tokenizer *t = NULL;
    hearth_err e = {0};
    if (hk_tokenizer_from_json((const char *)data, a, &t, &e) != HEARTH_OK) {
        FUZZ_ASSERT(t == NULL && e.msg[0], "a failed build returned a tokenizer or no message");
        return 0;
    }
    if (b) (void)hk_tokenizer_apply_config(t, (const char *)cfg, b, &e);
    static const char text[] = "Hello world! <|im_start|>user\n  \t\xc3\xa9\xcc\x81 1234 don't <think>\xff\xfe";
    for (int special = 0; special < 2; special++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (hk_tokenizer_encode_alloc(t, text, sizeof text - 1, special, &ids, &n, &e) == HEARTH_OK) {
            for (size_t i = 0; i < n; i++)
                FUZZ_ASSERT(ids[i] >= 0 && ids[i] < hk_tokenizer_n_vocab(t), "id %d out of range", ids[i]);
            size_t len = 0;
            char out[4096];
            (void)hk_tokenizer_decode(t, ids, n, special, out, sizeof out, &len);
        }
        free(ids);
    }
    (void)hk_tokenizer_find(t, "Hello", 5);
    (void)hk_tokenizer_pre_name(t);
    gguf_ctx *g = gguf_new();
    if (g && hk_tokenizer_to_gguf(t, g, &e) == HEARTH_OK) { /* and back: the GGUF keys must load */
        hk_tokenizer *t2 = NULL;
        hearth_status st = hk_tokenizer_from_gguf(g, &t2, &e);
        FUZZ_ASSERT(st == HEARTH_OK, "keys written by to_gguf do not load: %s", e.msg);
        FUZZ_ASSERT(hk_tokenizer_n_vocab(t2) == hk_tokenizer_n_vocab(t), "vocab size changed through GGUF");
        hk_tokenizer_free(t2);
    }
    gguf_free(g);
    hk_tokenizer_free(t);
    return 0;
}
