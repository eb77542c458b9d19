/* fuzz_gguf.c - libFuzzer target: arbitrary bytes through the GGUF reader, its typed getters, and the GGUF vocabulary reader. */
#include "fuzz_common.h"
#include "gguf.h"
#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_ctx *g = NULL;
    hearth_err e = {0};
    if (gguf_read(data, size, &g, &e) != HEARTH_OK) {
        FUZZ_ASSERT(g == NULL, "a failed read returned a context");
        FUZZ_ASSERT(e.msg[0] != 0, "a failed read has no message");
        return 0;
    }
    /* Every getter on every key: the reader promised consistent types and counts. */
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        const char *k = kv->key;
        uint32_t u32;
        int64_t i64;
        float f;
        bool b;
        (void)gguf_get_u32(g, k, &u32);
        (void)gguf_get_i64(g, k, &i64);
        (void)gguf_get_f32(g, k, &f);
        (void)gguf_get_bool(g, k, &b);
        const char *s = gguf_get_str(g, k);
        if (s) FUZZ_ASSERT(strlen(s) <= kv->str_len, "string longer than its length");
        FUZZ_ASSERT(gguf_find(g, k) != NULL, "key %s not found", k);
        if (kv->type == GGUF_ARRAY) {
            uint64_t n = kv->n < 64 ? kv->n : 64; /* the first and the last few elements */
            for (uint64_t j = 0; j < kv->n; j = j + 1 == n && kv->n > 2 * n ? kv->n - n : j + 1) {
                double d;
                (void)gguf_arr_i64(kv, j, &i64);
                (void)gguf_arr_f64(kv, j, &d);
                if (kv->arr_type == GGUF_STRING) FUZZ_ASSERT(kv->strs[j] != NULL, "string element %llu is NULL", (unsigned long long)j);
            }
            FUZZ_ASSERT(!gguf_arr_i64(kv, kv->n, &i64), "element n of an array is readable");
        }
        (void)gguf_vtype_name(kv->type);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        FUZZ_ASSERT(t->data >= data && t->nbytes <= size && (size_t)(t->data - data) <= size - t->nbytes,
                    "tensor %s lies outside the file", t->name);
        if (t->nbytes) { /* touch the first and last byte: ASan checks they are inside the input */
            volatile uint8_t x = t->data[0] ^ t->data[t->nbytes - 1];
            (void)x;
        }
        FUZZ_ASSERT(gguf_find_tensor(g, t->name) != NULL, "tensor %s not found", t->name);
    }
    /* The vocabulary reader over whatever keys the file has. */
    hk_tokenizer *tok = NULL;
    if (hk_tokenizer_from_gguf(g, &tok, &e) == HEARTH_OK) {
        int32_t ids[64];
        size_t n = 0;
        static const char text[] = "Hello, world! <|im_start|>user\n\xc3\xa9t\xc3\xa9 123";
        (void)hk_tokenizer_encode(tok, text, sizeof text - 1, true, ids, 64, &n, &e);
        char out[512];
        size_t len;
        if (n <= 64) (void)hk_tokenizer_decode(tok, ids, n, false, out, sizeof out, &len);
        hk_tokenizer_free(tok);
    }
    gguf_free(g);
    return 0;
}
