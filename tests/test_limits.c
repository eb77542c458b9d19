/* test_limits.c - allocation limits: sizes read from hostile files are refused before anything that large is allocated, and a context that cannot fit is refused with a clear message.
 *
 * The process runs under a 1.5 GiB address-space limit (RLIMIT_AS), so an allocation sized by an
 * untrusted number that slipped past its check would fail as HEARTH_ERR_NOMEM (or crash) instead
 * of quietly succeeding on a large machine: every hostile case here must fail as FORMAT or
 * TOO_LARGE. Under AddressSanitizer (make debug), which cannot run under RLIMIT_AS, ASan's own
 * max_allocation_size_mb plays that part. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "check.h"
#include "gguf.h"
#include "json.h"
#include "safetensors.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=1536"; }
#endif

/* A little-endian byte builder for hostile images. */
typedef struct {
    uint8_t b[512];
    size_t n;
} img;
static void u32(img *m, uint32_t v) { for (int i = 0; i < 4; i++) m->b[m->n++] = (uint8_t)(v >> (8 * i)); }
static void u64(img *m, uint64_t v) { for (int i = 0; i < 8; i++) m->b[m->n++] = (uint8_t)(v >> (8 * i)); }
static void str(img *m, const char *s) {
    u64(m, strlen(s));
    memcpy(m->b + m->n, s, strlen(s));
    m->n += strlen(s);
}
static void header(img *m, uint64_t n_tensors, uint64_t n_kv) {
    m->n = 0;
    memcpy(m->b, "GGUF", 4);
    m->n = 4;
    u32(m, 3);
    u64(m, n_tensors);
    u64(m, n_kv);
}

static void expect_refused(const char *what, img *m) {
    gguf_ctx *g = NULL;
    hearth_err e = {0};
    hearth_status st = gguf_read(m->b, m->n, &g, &e);
    CHECK(st == HEARTH_ERR_FORMAT || st == HEARTH_ERR_TOO_LARGE, "%s: status %s (%s)", what, hearth_status_name(st), e.msg);
    CHECK(g == NULL, "%s: a context came back", what);
    gguf_free(g);
}

static void test_caps(void) {
    hearth_err e = {0};
    CHECK(hu_malloc(HU_ALLOC_CAP + 1, &e) == NULL && e.code == HEARTH_ERR_TOO_LARGE, "hu_malloc above the cap: %s", e.msg);
    e = (hearth_err){0};
    CHECK(hu_calloc((uint64_t)1 << 62, 16, &e) == NULL && e.code == HEARTH_ERR_TOO_LARGE, "hu_calloc overflow: %s", e.msg);
    e = (hearth_err){0};
    void *p = hu_malloc((uint64_t)8 << 30, &e); /* under the cap, over the address-space limit */
    CHECK(p == NULL && e.code == HEARTH_ERR_NOMEM && strstr(e.msg, "out of memory"), "8 GiB under RLIMIT_AS: %s", e.msg);
    free(p);
    CHECK(hu_mem_total() > ((uint64_t)64 << 20), "hu_mem_total() = %llu", (unsigned long long)hu_mem_total());
}

static void test_gguf(void) {
    img m;
    header(&m, 0, (uint64_t)1 << 40);
    expect_refused("n_kv 2^40", &m);
    header(&m, (uint64_t)1 << 40, 0);
    expect_refused("n_tensors 2^40", &m);
    header(&m, 0, 1);
    str(&m, "a");
    u32(&m, GGUF_ARRAY);
    u32(&m, GGUF_U64);
    u64(&m, (uint64_t)1 << 40);
    expect_refused("u64 array of 2^40 elements", &m);
    header(&m, 0, 1);
    str(&m, "a");
    u32(&m, GGUF_ARRAY);
    u32(&m, GGUF_STRING);
    u64(&m, (uint64_t)1 << 36);
    str(&m, "x");
    expect_refused("string array of 2^36 elements", &m);
    header(&m, 0, 1);
    str(&m, "a");
    u32(&m, GGUF_STRING);
    u64(&m, (uint64_t)1 << 40);
    expect_refused("string of 2^40 bytes", &m);
    header(&m, 0, 1);
    u64(&m, (uint64_t)1 << 40); /* a key of 2^40 bytes */
    expect_refused("key of 2^40 bytes", &m);
    header(&m, 1, 0);
    str(&m, "t");
    u32(&m, 4);
    for (int i = 0; i < 4; i++) u64(&m, (uint64_t)1 << 20); /* 2^80 elements */
    u32(&m, 0);
    u64(&m, 0);
    expect_refused("tensor of 2^80 elements", &m);
}

static void test_safetensors_json(void) {
    uint8_t st[16] = {0};
    for (int i = 0; i < 8; i++) st[i] = (uint8_t)((((uint64_t)1 << 40) >> (8 * i)) & 0xff);
    memcpy(st + 8, "{}      ", 8);
    st_set *set = calloc(1, sizeof *set);
    hearth_err e = {0};
    hearth_status s = st_parse(set, st, sizeof st, &e);
    CHECK(s == HEARTH_ERR_FORMAT || s == HEARTH_ERR_TOO_LARGE, "safetensors header of 2^40 bytes: %s (%s)", hearth_status_name(s), e.msg);
    st_free(set);
    static const char big[] = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1099511627776, 1099511627776], \"data_offsets\": [0, 4]}}";
    uint8_t img2[256] = {0};
    img2[0] = (uint8_t)(sizeof big - 1);
    memcpy(img2 + 8, big, sizeof big - 1);
    set = calloc(1, sizeof *set);
    s = st_parse(set, img2, 8 + sizeof big - 1 + 4, &e);
    CHECK(s == HEARTH_ERR_FORMAT || s == HEARTH_ERR_TOO_LARGE, "safetensors shape of 2^80 elements: %s (%s)", hearth_status_name(s), e.msg);
    st_free(set);
    /* JSON: 100,000 nested arrays stop at the nesting limit, not in the allocator */
    size_t n = 100000;
    char *deep = malloc(n);
    memset(deep, '[', n);
    json_value *v = json_parse(deep, n, &e);
    CHECK(v == NULL && strstr(e.msg, "nest"), "deep JSON: %s", e.msg);
    json_free(v);
    free(deep);
}

static void test_context(const char *model_path) {
    hearth_model *m = NULL;
    char err[512] = "";
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 1;
    if (hearth_model_load(model_path, &mp, &m, err, sizeof err) != HEARTH_OK) {
        CHECK(0, "load %s: %s", model_path, err);
        return;
    }
    hearth_session *s = NULL;
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = 1 << 24; /* 64 GiB of KV cache for the demo model: more than any test machine has */
    hearth_status st = hearth_session_new(m, &sp, &s, err, sizeof err);
    CHECK(st == HEARTH_ERR_TOO_LARGE && s == NULL && strstr(err, "GiB") && strstr(err, "smaller context"),
          "n_ctx 2^24: %s: %s", hearth_status_name(st), err);
#ifndef UNDER_ASAN
    sp.n_ctx = 1 << 20; /* 4 GiB: fits the machine, not this process's 1.5 GiB address space */
    st = hearth_session_new(m, &sp, &s, err, sizeof err);
    CHECK((st == HEARTH_ERR_NOMEM || st == HEARTH_ERR_TOO_LARGE) && s == NULL && strstr(err, "bytes"), "n_ctx 2^20 under RLIMIT_AS: %s: %s",
          hearth_status_name(st), err);
    hearth_session_free(s);
    s = NULL;
#endif
    sp.n_ctx = 64; /* and the model still serves a session that fits */
    st = hearth_session_new(m, &sp, &s, err, sizeof err);
    CHECK(st == HEARTH_OK, "n_ctx 64: %s", err);
    if (st == HEARTH_OK) {
        float *logits = malloc(sizeof(float) * (size_t)hearth_model_n_vocab(m));
        int32_t t = 1;
        CHECK(hearth_session_eval(s, &t, 1, logits, HEARTH_LOGITS_LAST) == HEARTH_OK, "eval: %s", hearth_session_error(s));
        free(logits);
    }
    hearth_session_free(s);
    hearth_model_free(m);
}

int main(void) {
#ifndef UNDER_ASAN
    struct rlimit rl = {(rlim_t)3 << 29, (rlim_t)3 << 29}; /* 1.5 GiB */
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit");
#endif
    test_caps();
    test_gguf();
    test_safetensors_json();
    const char *model = getenv("HEARTH_DEMO_MODEL") ? getenv("HEARTH_DEMO_MODEL") : "models/demo-q8_0.gguf";
    test_context(model);
    return check_summary("limits");
}
