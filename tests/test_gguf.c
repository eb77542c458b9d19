/* test_gguf.c - GGUF write/read round trips (byte-identical rewrite) and hostile files: truncated, corrupt, overflowing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gguf.h"
#include "quant.h"

/* ---- helpers ---- */

static void tmp_path(char *buf, size_t n, const char *name) {
    const char *dir = getenv("HEARTH_TMP");
    snprintf(buf, n, "%s/test_gguf_%d_%s", dir && *dir ? dir : "/tmp", (int)getpid(), name);
}

/* Whole file into a heap buffer of exactly its size (so ASan sees any over-read). */
static uint8_t *slurp(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(sz > 0 ? (size_t)sz : 1);
    if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) *n = (size_t)sz;
    return p;
}

static bool file_exists(const char *path) { return access(path, F_OK) == 0; }

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A growable byte buffer for hand-made images. */
typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put_u8(buf *b, uint8_t v) { put(b, &v, 1); }
static void put_u32(buf *b, uint32_t v) {
    uint8_t x[4];
    for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}
static void put_u64(buf *b, uint64_t v) {
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 8);
}
static void put_str(buf *b, const char *s) {
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void put_hdr(buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    put(b, "GGUF", 4);
    put_u32(b, version);
    put_u64(b, n_tensors);
    put_u64(b, n_kv);
}
static void put_kv_u32(buf *b, const char *key, uint32_t v) {
    put_str(b, key);
    put_u32(b, GGUF_U32);
    put_u32(b, v);
}
static void put_tinfo(buf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off) {
    put_str(b, name);
    put_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) put_u64(b, ne[d]);
    put_u32(b, type);
    put_u64(b, off);
}
static void put_zeros(buf *b, size_t n) {
    for (size_t i = 0; i < n; i++) put_u8(b, 0);
}
static void put_pad(buf *b, size_t align) {
    while (b->n % align) put_u8(b, 0);
}

/* Parses a copy of img[0..n) that is exactly n bytes long. */
static hearth_status parse_exact(const uint8_t *img, size_t n, gguf_ctx **ctx, hearth_err *e) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, img, n);
    e->msg[0] = 0;
    hearth_status st = gguf_read(copy, n, ctx, e);
    /* the context points into its image: check and drop it before freeing the copy */
    if (*ctx) gguf_free(*ctx), *ctx = NULL;
    free(copy);
    return st;
}

/* The image must be refused with a message that names the problem (contains `keyword`). */
static void expect_fail(const char *what, const buf *b, const char *keyword) {
    gguf_ctx *ctx = (gguf_ctx *)1;
    hearth_err e = {0};
    uint8_t *copy = malloc(b->n ? b->n : 1);
    memcpy(copy, b->p, b->n);
    hearth_status st = gguf_read(copy, b->n, &ctx, &e);
    CHECK(st != HEARTH_OK && ctx == NULL, "%s: accepted (status %d)", what, st);
    CHECK(e.code == st && e.msg[0] && strstr(e.msg, keyword), "%s: message '%s' should mention '%s'", what, e.msg, keyword);
    if (getenv("HEARTH_VERBOSE")) printf("  %-45s -> [%s] %s\n", what, hearth_status_name(st), e.msg);
    if (st == HEARTH_OK) gguf_free(ctx);
    free(copy);
}

static void expect_ok(const char *what, const buf *b) {
    gguf_ctx *ctx = NULL;
    hearth_err e = {0};
    CHECK(parse_exact(b->p, b->n, &ctx, &e) == HEARTH_OK, "%s: %s", what, e.msg);
}

/* ---- deep comparison of two metadata entries ---- */

static bool kv_equal(const gguf_kv *a, const gguf_kv *b) {
    static const size_t size[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (strcmp(a->key, b->key) != 0 || a->type != b->type) return false;
    switch (a->type) {
    case GGUF_STRING:
        return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len + 1) == 0;
    case GGUF_ARRAY:
        if (a->arr_type != b->arr_type || a->n != b->n) return false;
        if (a->arr_type == GGUF_STRING) {
            for (uint64_t i = 0; i < a->n; i++) {
                if (a->str_lens[i] != b->str_lens[i] || memcmp(a->strs[i], b->strs[i], a->str_lens[i] + 1) != 0) return false;
            }
            return true;
        }
        return a->n == 0 || memcmp(a->arr, b->arr, a->n * size[a->arr_type]) == 0;
    case GGUF_BOOL:
        return a->v.b == b->v.b;
    case GGUF_F32:
    case GGUF_F64:
        return memcmp(&a->v.f64, &b->v.f64, 8) == 0;
    default:
        return a->v.u64 == b->v.u64;
    }
}

/* ---- the reference file ---- */

typedef struct {
    const char *name;
    uint32_t type, n_dims;
    uint64_t ne[4];
    uint8_t *data;
    uint64_t nbytes;
} tensor_spec;

static tensor_spec k_tensors[] = {
    {"tok.f32", HT_F32, 2, {3, 5, 1, 1}, NULL, 0},
    {"w.q8_0", HT_Q8_0, 2, {64, 3, 1, 1}, NULL, 0},
    {"w.q4_0", HT_Q4_0, 3, {32, 1, 3, 1}, NULL, 0},
    {"w.f16", HT_F16, 1, {7, 1, 1, 1}, NULL, 0},
    {"w.bf16", HT_BF16, 4, {2, 3, 1, 5}, NULL, 0},
    {"w.i32", HT_I32, 1, {5, 1, 1, 1}, NULL, 0},
    {"blk.0.ffn_up.weight", HT_Q4_K, 2, {256, 2, 1, 1}, NULL, 0}, /* 288 bytes: the data ends mid-alignment */
};
#define N_TENSORS (sizeof k_tensors / sizeof k_tensors[0])
#define ALIGN 64

static const char *const k_strs[] = {"a", "", "na\xc3\xafve caf\xc3\xa9", "tab\tand\nnewline", "<|im_start|>"};

/* Builds the writer context: every value type, arrays of each, empty arrays, a replaced key. */
static gguf_ctx *build_ctx(void) {
    gguf_ctx *c = gguf_new();
    const uint8_t u8 = 200, b1 = 1;
    const int8_t i8 = -100;
    const uint16_t u16 = 60000;
    const int16_t i16 = -30000;
    const int64_t i64 = INT64_MIN;
    const double f64 = -1e300;
    hearth_status st = HEARTH_OK;
    st |= gguf_set_str(c, "general.architecture", "test");
    st |= gguf_set_u32(c, "general.alignment", ALIGN);
    st |= gguf_set_u32(c, "t.replaced", 1);
    st |= gguf_set_scalar(c, "t.u8", GGUF_U8, &u8);
    st |= gguf_set_scalar(c, "t.i8", GGUF_I8, &i8);
    st |= gguf_set_scalar(c, "t.u16", GGUF_U16, &u16);
    st |= gguf_set_scalar(c, "t.i16", GGUF_I16, &i16);
    st |= gguf_set_u32(c, "t.u32", 4000000000u);
    st |= gguf_set_i32(c, "t.i32", -2000000000);
    st |= gguf_set_f32(c, "t.f32", 3.25f);
    st |= gguf_set_bool(c, "t.bool", true);
    st |= gguf_set_scalar(c, "t.bool2", GGUF_BOOL, &b1);
    st |= gguf_set_str(c, "t.str", "hello, gguf");
    st |= gguf_set_str(c, "t.empty_str", "");
    st |= gguf_set_u64(c, "t.u64", ((uint64_t)1 << 63) + 5);
    st |= gguf_set_scalar(c, "t.i64", GGUF_I64, &i64);
    st |= gguf_set_scalar(c, "t.f64", GGUF_F64, &f64);
    const uint8_t a_u8[] = {1, 2, 255};
    const int8_t a_i8[] = {-128, 0, 127};
    const uint16_t a_u16[] = {0, 65535};
    const int16_t a_i16[] = {-1, -32768, 32767, 5};
    const uint32_t a_u32[] = {7, 0xffffffffu};
    const int32_t a_i32[] = {-5, 4, -3, 2, -1};
    const float a_f32[] = {1.5f, -2.25f, 1e-30f};
    const uint8_t a_bool[] = {1, 0, 1};
    const uint64_t a_u64[] = {UINT64_MAX, 0};
    const int64_t a_i64[] = {INT64_MIN, -1, INT64_MAX};
    const double a_f64[] = {0.1, -0.0};
    st |= gguf_set_arr(c, "a.u8", GGUF_U8, a_u8, 3);
    st |= gguf_set_arr(c, "a.i8", GGUF_I8, a_i8, 3);
    st |= gguf_set_arr(c, "a.u16", GGUF_U16, a_u16, 2);
    st |= gguf_set_arr(c, "a.i16", GGUF_I16, a_i16, 4);
    st |= gguf_set_arr(c, "a.u32", GGUF_U32, a_u32, 2);
    st |= gguf_set_arr(c, "a.i32", GGUF_I32, a_i32, 5);
    st |= gguf_set_arr(c, "a.f32", GGUF_F32, a_f32, 3);
    st |= gguf_set_arr(c, "a.bool", GGUF_BOOL, a_bool, 3);
    st |= gguf_set_arr(c, "a.u64", GGUF_U64, a_u64, 2);
    st |= gguf_set_arr(c, "a.i64", GGUF_I64, a_i64, 3);
    st |= gguf_set_arr(c, "a.f64", GGUF_F64, a_f64, 2);
    st |= gguf_set_arr_str(c, "a.str", k_strs, sizeof k_strs / sizeof k_strs[0]);
    st |= gguf_set_arr(c, "a.empty", GGUF_U32, NULL, 0);
    st |= gguf_set_arr_str(c, "a.empty_str", NULL, 0);
    st |= gguf_set_str(c, "t.replaced", "two"); /* replaces the u32, keeps its place */
    CHECK(st == HEARTH_OK, "setters failed");
    for (size_t i = 0; i < N_TENSORS; i++) {
        hearth_err e = {0};
        CHECK(gguf_add_tensor(c, k_tensors[i].name, k_tensors[i].type, k_tensors[i].n_dims, k_tensors[i].ne,
                              k_tensors[i].data, &e) == HEARTH_OK,
              "add %s: %s", k_tensors[i].name, e.msg);
    }
    return c;
}

static void make_tensor_data(void) {
    uint64_t seed = 1;
    for (size_t i = 0; i < N_TENSORS; i++) {
        tensor_spec *t = &k_tensors[i];
        uint64_t row;
        ht_row_bytes(t->type, t->ne[0], &row);
        t->nbytes = row * t->ne[1] * t->ne[2] * t->ne[3];
        t->data = malloc(t->nbytes);
        for (uint64_t j = 0; j < t->nbytes; j++) t->data[j] = (uint8_t)rng_next(&seed);
    }
}

static void check_getters(const gguf_ctx *c) {
    uint32_t u32 = 0;
    int64_t i64 = 0;
    float f = 0;
    bool b = false;
    double d = 0;
    CHECK(gguf_get_u32(c, "t.u8", &u32) && u32 == 200, "u8 as u32");
    CHECK(!gguf_get_u32(c, "t.i8", &u32), "negative i8 does not fit u32");
    CHECK(gguf_get_i64(c, "t.i8", &i64) && i64 == -100, "i8 as i64");
    CHECK(gguf_get_i64(c, "t.i16", &i64) && i64 == -30000, "i16 as i64");
    CHECK(gguf_get_u32(c, "t.u32", &u32) && u32 == 4000000000u, "u32");
    CHECK(gguf_get_i64(c, "t.i32", &i64) && i64 == -2000000000, "i32 as i64");
    CHECK(!gguf_get_i64(c, "t.u64", &i64), "u64 above INT64_MAX does not fit i64");
    CHECK(!gguf_get_u32(c, "t.u64", &u32), "u64 does not fit u32");
    CHECK(gguf_get_i64(c, "t.i64", &i64) && i64 == INT64_MIN, "i64 min");
    CHECK(gguf_get_f32(c, "t.f32", &f) && f == 3.25f, "f32");
    CHECK(gguf_get_f32(c, "t.f64", &f) && f == -INFINITY, "f64 -1e300 as f32 is -inf");
    CHECK(!gguf_get_f32(c, "t.u32", &f) && !gguf_get_u32(c, "t.f32", &u32), "no int/float mixing");
    CHECK(gguf_get_bool(c, "t.bool", &b) && b, "bool");
    CHECK(!gguf_get_bool(c, "t.u8", &b), "u8 is not bool");
    CHECK(gguf_get_str(c, "t.str") && strcmp(gguf_get_str(c, "t.str"), "hello, gguf") == 0, "str");
    CHECK(gguf_get_str(c, "t.replaced") && strcmp(gguf_get_str(c, "t.replaced"), "two") == 0, "replaced key");
    CHECK(gguf_get_str(c, "t.u8") == NULL && gguf_get_str(c, "missing") == NULL, "str of non-string / missing");
    CHECK(!gguf_get_u32(c, "missing", &u32), "missing key");
    const gguf_kv *kv = gguf_find(c, "a.i16");
    CHECK(kv && gguf_arr_i64(kv, 1, &i64) && i64 == -32768, "i16 array element");
    CHECK(kv && !gguf_arr_i64(kv, 4, &i64), "index past the end");
    CHECK(kv && !gguf_arr_f64(kv, 0, &d), "int array is not float");
    kv = gguf_find(c, "a.u64");
    CHECK(kv && !gguf_arr_i64(kv, 0, &i64) && gguf_arr_i64(kv, 1, &i64) && i64 == 0, "u64 array elements");
    kv = gguf_find(c, "a.f32");
    CHECK(kv && gguf_arr_f64(kv, 1, &d) && d == -2.25, "f32 array element");
    kv = gguf_find(c, "a.str");
    CHECK(kv && !gguf_arr_i64(kv, 0, &i64), "string array is not integer");
    CHECK(kv && kv->n == 5 && strcmp(kv->strs[2], k_strs[2]) == 0 && kv->str_lens[1] == 0, "string array");
    CHECK(!gguf_arr_i64(NULL, 0, &i64), "NULL kv");
}

/* Every metadata entry and tensor of `got` equals the writer's `want`; tensor data equals the specs. */
static void compare_ctx(const gguf_ctx *want, const gguf_ctx *got) {
    CHECK(got->version == 3, "version %u", got->version);
    CHECK(got->alignment == ALIGN, "alignment %llu", (unsigned long long)got->alignment);
    CHECK(got->data_offset % ALIGN == 0, "data offset %llu aligned", (unsigned long long)got->data_offset);
    CHECK(got->n_kv == want->n_kv, "n_kv %llu vs %llu", (unsigned long long)got->n_kv, (unsigned long long)want->n_kv);
    for (uint64_t i = 0; i < got->n_kv && i < want->n_kv; i++) {
        CHECK(kv_equal(&got->kv[i], &want->kv[i]), "kv #%llu '%s' differs", (unsigned long long)i, want->kv[i].key);
    }
    CHECK(got->n_tensors == N_TENSORS, "n_tensors %llu", (unsigned long long)got->n_tensors);
    uint64_t expect_off = 0;
    for (uint64_t i = 0; i < got->n_tensors && i < N_TENSORS; i++) {
        const gguf_tensor *t = &got->tensors[i];
        const tensor_spec *s = &k_tensors[i];
        CHECK(strcmp(t->name, s->name) == 0 && t->type == s->type && t->n_dims == s->n_dims, "tensor %llu header",
              (unsigned long long)i);
        CHECK(memcmp(t->ne, s->ne, sizeof t->ne) == 0, "tensor %s shape", s->name);
        CHECK(t->nbytes == s->nbytes, "tensor %s nbytes %llu", s->name, (unsigned long long)t->nbytes);
        CHECK(t->offset == expect_off, "tensor %s offset %llu, want %llu (add order, aligned)", s->name,
              (unsigned long long)t->offset, (unsigned long long)expect_off);
        CHECK(t->offset == want->tensors[i].offset, "writer and reader agree on %s's offset", s->name);
        CHECK(memcmp(t->data, s->data, s->nbytes) == 0, "tensor %s data", s->name);
        CHECK(gguf_find_tensor(got, s->name) == t, "find_tensor(%s)", s->name);
        expect_off = (t->offset + t->nbytes + ALIGN - 1) / ALIGN * ALIGN;
    }
    CHECK(gguf_find_tensor(got, "nope") == NULL, "find_tensor of a missing name");
}

/* Truncation at every byte: a prefix parses only when it still holds all tensor data. */
static void check_truncations(const uint8_t *img, size_t size, const gguf_ctx *full) {
    const gguf_tensor *last = &full->tensors[full->n_tensors - 1];
    const size_t need = (size_t)(full->data_offset + last->offset + last->nbytes);
    CHECK(need < size, "the last tensor is followed by padding (%zu < %zu)", need, size);
    int wrong_status = 0, bad_msg = 0;
    size_t first_bad = 0;
    for (size_t len = 0; len <= size; len++) {
        gguf_ctx *ctx = NULL;
        hearth_err e = {0};
        hearth_status st = parse_exact(img, len, &ctx, &e);
        bool want_ok = len >= need;
        if ((st == HEARTH_OK) != want_ok || (!want_ok && st != HEARTH_ERR_FORMAT)) {
            if (!wrong_status++) first_bad = len;
        } else if (!want_ok && !(strstr(e.msg, "truncated") || strstr(e.msg, "past end of file"))) {
            if (!bad_msg++) fprintf(stderr, "  prefix %zu: '%s'\n", len, e.msg);
        }
    }
    CHECK(wrong_status == 0, "%d prefixes gave the wrong status, first at length %zu", wrong_status, first_bad);
    CHECK(bad_msg == 0, "%d truncation messages do not say 'truncated' or 'past end of file'", bad_msg);

    /* a few section boundaries, message by message */
    static const struct {
        size_t len;
        const char *kw;
    } at[] = {{0, "magic"}, {3, "magic"}, {4, "version"}, {8, "n_tensors"}, {16, "n_kv"}, {24, "n_kv = "}, {30, "n_kv = "}};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        gguf_ctx *ctx = NULL;
        hearth_err e = {0};
        parse_exact(img, at[i].len, &ctx, &e);
        CHECK(strstr(e.msg, at[i].kw) != NULL, "prefix %zu: '%s' should mention '%s'", at[i].len, e.msg, at[i].kw);
    }
    gguf_ctx *ctx = NULL;
    hearth_err e = {0};
    parse_exact(img, (size_t)full->data_offset - 1, &ctx, &e);
    CHECK(strstr(e.msg, "data section") != NULL, "cut before the data section: '%s'", e.msg);
    parse_exact(img, need - 1, &ctx, &e);
    CHECK(strstr(e.msg, "tensor 'blk.0.ffn_up.weight': data [offset") && strstr(e.msg, "extends past end of file"),
          "cut inside the last tensor: '%s'", e.msg);
}

/* Random byte corruption of the metadata area: any outcome but a crash or a silent over-read
 * (ASan) is fine; a refusal must carry a message. */
static void check_corruption(const uint8_t *img, size_t size, size_t meta_end) {
    uint64_t seed = 99;
    uint8_t *copy = malloc(size);
    int no_msg = 0, accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(copy, img, size);
        int flips = 1 + (int)(rng_next(&seed) % 3);
        for (int k = 0; k < flips; k++) {
            size_t pos = (size_t)(rng_next(&seed) % meta_end);
            uint64_t r = rng_next(&seed);
            copy[pos] = (r & 0x100) ? (uint8_t)r : (uint8_t)(copy[pos] ^ (1u << (r % 8)));
        }
        gguf_ctx *ctx = NULL;
        hearth_err e = {0};
        hearth_status st = gguf_read(copy, size, &ctx, &e);
        if (st == HEARTH_OK) {
            accepted++;
            /* whatever was accepted must be in bounds */
            for (uint64_t i = 0; i < ctx->n_tensors; i++) {
                const gguf_tensor *t = &ctx->tensors[i];
                if (t->data < copy || t->data + t->nbytes > copy + size) no_msg++;
            }
            gguf_free(ctx);
        } else if (!e.msg[0]) {
            no_msg++;
        }
    }
    CHECK(no_msg == 0, "corruption: %d refusals without a message or accepted out-of-bounds tensors", no_msg);
    CHECK(accepted < 20000, "corruption: everything accepted (%d)", accepted);
    free(copy);
}

static void test_round_trip(void) {
    char p1[512], p2[512], p3[512];
    tmp_path(p1, sizeof p1, "a.gguf");
    tmp_path(p2, sizeof p2, "b.gguf");
    tmp_path(p3, sizeof p3, "c.gguf");
    make_tensor_data();
    gguf_ctx *w = build_ctx();
    check_getters(w);
    hearth_err e = {0};
    CHECK(gguf_write_file(w, p1, &e) == HEARTH_OK, "write %s: %s", p1, e.msg);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", p1);
    CHECK(!file_exists(tmp), "no .tmp left behind");

    size_t size = 0;
    uint8_t *img = slurp(p1, &size);
    CHECK(img != NULL && size > 0, "read back %s", p1);
    if (!img) return;
    CHECK(size % ALIGN == 0, "file size %zu is padded to the alignment", size);
    gguf_ctx *r = NULL;
    CHECK(gguf_read(img, size, &r, &e) == HEARTH_OK, "read: %s", e.msg);
    if (r) {
        compare_ctx(w, r);
        check_getters(r);

        /* rewrite through a fresh context: identical bytes */
        gguf_ctx *w2 = gguf_new();
        CHECK(gguf_copy_kv(w2, r) == HEARTH_OK, "copy_kv");
        CHECK(w2->alignment == ALIGN, "copy_kv carries general.alignment into ctx->alignment");
        for (uint64_t i = 0; i < r->n_tensors; i++) {
            const gguf_tensor *t = &r->tensors[i];
            CHECK(gguf_add_tensor(w2, t->name, t->type, t->n_dims, t->ne, t->data, &e) == HEARTH_OK, "re-add: %s", e.msg);
        }
        CHECK(gguf_write_file(w2, p2, &e) == HEARTH_OK, "write %s: %s", p2, e.msg);
        size_t size2 = 0;
        uint8_t *img2 = slurp(p2, &size2);
        CHECK(img2 && size2 == size && memcmp(img, img2, size) == 0, "rewritten file is byte-identical (%zu vs %zu bytes)",
              size2, size);
        free(img2);
        gguf_free(w2);

        /* writing the read context itself gives the same bytes too */
        CHECK(gguf_write_file(r, p3, &e) == HEARTH_OK, "write read ctx: %s", e.msg);
        uint8_t *img3 = slurp(p3, &size2);
        CHECK(img3 && size2 == size && memcmp(img, img3, size) == 0, "read ctx written again is byte-identical");
        free(img3);

        size_t meta_end = (size_t)r->data_offset;
        check_truncations(img, size, r);
        check_corruption(img, size, meta_end);
        gguf_free(r);
    }
    free(img);
    gguf_free(w);
    remove(p1);
    remove(p2);
    remove(p3);
    for (size_t i = 0; i < N_TENSORS; i++) free(k_tensors[i].data);
}

/* A 131072-entry vocabulary: one string array, written and read back. */
static void test_big_vocab(void) {
    enum { N = 131072 };
    char path[512];
    tmp_path(path, sizeof path, "vocab.gguf");
    char **strs = malloc(N * sizeof(char *));
    for (int i = 0; i < N; i++) {
        strs[i] = malloc(16);
        snprintf(strs[i], 16, "tok%d", i);
    }
    gguf_ctx *w = gguf_new();
    CHECK(gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)strs, N) == HEARTH_OK, "set vocab");
    hearth_err e = {0};
    CHECK(gguf_write_file(w, path, &e) == HEARTH_OK, "write vocab: %s", e.msg);
    size_t size = 0;
    uint8_t *img = slurp(path, &size);
    gguf_ctx *r = NULL;
    double t0 = hu_now();
    CHECK(img && gguf_read(img, size, &r, &e) == HEARTH_OK, "read vocab: %s", e.msg);
    double dt = hu_now() - t0;
    const gguf_kv *kv = r ? gguf_find(r, "tokenizer.ggml.tokens") : NULL;
    int bad = 0;
    for (int i = 0; kv && i < N; i++) bad += strcmp(kv->strs[i], strs[i]) != 0 || kv->str_lens[i] != strlen(strs[i]);
    CHECK(kv && kv->n == N && bad == 0, "vocab round trip (%d wrong)", bad);
    if (getenv("HEARTH_VERBOSE")) printf("  parsed a %d-string vocabulary (%zu bytes) in %.2f ms\n", N, size, dt * 1e3);
    CHECK(r && r->n_tensors == 0 && r->alignment == GGUF_DEFAULT_ALIGNMENT, "no tensors, default alignment");
    gguf_free(r);
    gguf_free(w);
    free(img);
    for (int i = 0; i < N; i++) free(strs[i]);
    free(strs);
    remove(path);
}

/* ---- hand-made hostile images ---- */

static const uint64_t k_ne8[] = {8};

/* A small valid image: one kv, one f32 tensor of 8 values; `align` is written as general.alignment. */
static void valid_image(buf *b, uint32_t align) {
    const bool is_pow2 = align && !(align & (align - 1));
    put_hdr(b, 3, 1, 1);
    put_kv_u32(b, "general.alignment", align);
    put_tinfo(b, "t", 1, k_ne8, HT_F32, 0);
    put_pad(b, is_pow2 ? align : 32);
    put_zeros(b, 32);
}

/* One tensor `name` with the given shape/type/offset after a default-aligned header; 64 data bytes. */
static void tensor_image(buf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off) {
    put_hdr(b, 3, 1, 0);
    put_tinfo(b, name, n_dims, ne, type, off);
    put_pad(b, 32);
    put_zeros(b, 64);
}

static void test_hostile(void) {
    buf b = {0};
#define RESET() (b.n = 0)

    RESET(), valid_image(&b, 32);
    expect_ok("baseline image", &b);
    RESET(), valid_image(&b, 64);
    expect_ok("baseline image, alignment 64", &b);
    RESET(), put_hdr(&b, 2, 0, 1), put_kv_u32(&b, "k", 1);
    expect_ok("version 2, no tensors, no data section", &b);

    RESET(), valid_image(&b, 32), b.p[3] = 'X';
    expect_fail("bad magic", &b, "magic");
    gguf_ctx *none = NULL;
    CHECK(gguf_read(b.p, b.n, &none, NULL) == HEARTH_ERR_FORMAT && none == NULL, "a NULL hearth_err is fine");
    RESET(), valid_image(&b, 32), b.p[4] = 1;
    expect_fail("version 1", &b, "version 1");
    RESET(), valid_image(&b, 32), b.p[4] = 4;
    expect_fail("version 4", &b, "version 4");
    RESET(), valid_image(&b, 32), b.p[4] = 0, b.p[7] = 3;
    expect_fail("big-endian", &b, "big-endian");

    RESET(), put_hdr(&b, 3, 0, (uint64_t)1 << 63), put_zeros(&b, 100);
    expect_fail("n_kv = 2^63", &b, "n_kv = 9223372036854775808");
    RESET(), put_hdr(&b, 3, (uint64_t)1 << 63, 0), put_zeros(&b, 100);
    expect_fail("n_tensors = 2^63", &b, "n_tensors = 9223372036854775808");
    RESET(), put_hdr(&b, 3, 0, UINT64_MAX), put_zeros(&b, 100);
    expect_fail("n_kv = 2^64-1", &b, "n_kv");
    /* n_tensors that fits the header check but not what is left after the metadata */
    RESET(), put_hdr(&b, 3, 2, 1), put_str(&b, "k"), put_u32(&b, GGUF_STRING), put_u64(&b, 40), put_zeros(&b, 40 + 33);
    expect_fail("n_tensors vs bytes after metadata", &b, "n_tensors = 2");

    RESET(), put_hdr(&b, 3, 0, 1), put_u64(&b, (uint64_t)1 << 63), put(&b, "abc", 3), put_zeros(&b, 16);
    expect_fail("key length 2^63", &b, "string length 9223372036854775808");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_STRING), put_u64(&b, (uint64_t)1 << 63), put_zeros(&b, 16);
    expect_fail("string value length 2^63", &b, "string length 9223372036854775808");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_ARRAY), put_u32(&b, GGUF_U8),
        put_u64(&b, (uint64_t)1 << 62), put_zeros(&b, 16);
    expect_fail("array count 2^62 of u8", &b, "array count 4611686018427387904");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_ARRAY), put_u32(&b, GGUF_U64),
        put_u64(&b, (uint64_t)1 << 62), put_zeros(&b, 16);
    expect_fail("array count 2^62 of u64 (count * 8 overflows)", &b, "array count");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_ARRAY), put_u32(&b, GGUF_STRING),
        put_u64(&b, (uint64_t)1 << 62), put_zeros(&b, 16);
    expect_fail("array count 2^62 of string", &b, "array count");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_ARRAY), put_u32(&b, GGUF_STRING), put_u64(&b, 2),
        put_str(&b, "ok"), put_u64(&b, 1000), put(&b, "short", 5);
    expect_fail("string array element past the end", &b, "element 1 of key 'k'");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_ARRAY), put_u32(&b, GGUF_ARRAY), put_u32(&b, GGUF_U8),
        put_u64(&b, 1), put_u64(&b, 1), put_u8(&b, 0);
    expect_fail("nested array", &b, "nested");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, 13), put_zeros(&b, 8);
    expect_fail("unknown value type", &b, "unknown value type 13");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_ARRAY), put_u32(&b, 77), put_u64(&b, 1), put_zeros(&b, 8);
    expect_fail("unknown array element type", &b, "unknown array element type 77");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_BOOL), put_u8(&b, 2);
    expect_fail("bool 2", &b, "bool");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "k"), put_u32(&b, GGUF_ARRAY), put_u32(&b, GGUF_BOOL), put_u64(&b, 2),
        put_u8(&b, 1), put_u8(&b, 7);
    expect_fail("bool array with 7", &b, "bool");
    RESET(), put_hdr(&b, 3, 0, 2), put_kv_u32(&b, "dup", 1), put_kv_u32(&b, "dup", 2);
    expect_fail("duplicate key", &b, "duplicate metadata key 'dup'");
    RESET(), put_hdr(&b, 3, 0, 1), put_kv_u32(&b, "", 1);
    expect_fail("empty key", &b, "empty");
    RESET(), put_hdr(&b, 3, 0, 1), put_u64(&b, 3), put(&b, "a\0b", 3), put_u32(&b, GGUF_U8), put_u8(&b, 0);
    expect_fail("key with NUL", &b, "NUL");

    RESET(), valid_image(&b, 0);
    expect_fail("alignment 0", &b, "general.alignment = 0");
    RESET(), valid_image(&b, 3);
    expect_fail("alignment 3", &b, "general.alignment = 3");
    RESET(), put_hdr(&b, 3, 0, 1), put_str(&b, "general.alignment"), put_u32(&b, GGUF_U64), put_u64(&b, 32);
    expect_fail("alignment as u64", &b, "general.alignment has type u64");

    RESET(), tensor_image(&b, "t", 1, k_ne8, HT_F32, 64);
    expect_fail("offset past the end", &b, "tensor 't': data [offset 64, 32 bytes] extends past end of file");
    RESET(), tensor_image(&b, "t", 1, k_ne8, HT_F32, (uint64_t)-32);
    expect_fail("offset + size wraps around", &b, "extends past end of file");
    RESET(), tensor_image(&b, "t", 1, k_ne8, HT_F32, 4);
    expect_fail("misaligned offset", &b, "misaligned");
    const uint64_t big2[] = {(uint64_t)1 << 62, 8};
    RESET(), tensor_image(&b, "t", 2, big2, HT_F32, 0);
    expect_fail("byte size overflows", &b, "overflows");
    const uint64_t big4[] = {(uint64_t)1 << 20, (uint64_t)1 << 20, (uint64_t)1 << 20, (uint64_t)1 << 20};
    RESET(), tensor_image(&b, "t", 4, big4, HT_Q8_0, 0);
    expect_fail("element count overflows", &b, "overflows");
    const uint64_t huge1[] = {(uint64_t)1 << 40};
    RESET(), tensor_image(&b, "t", 1, huge1, HT_F32, 0);
    expect_fail("huge but representable tensor", &b, "extends past end of file");
    RESET(), tensor_image(&b, "blk.0.attn_q.weight", 1, k_ne8, 99, 0);
    expect_fail("unknown type id 99", &b, "tensor 'blk.0.attn_q.weight': unknown type id 99");
    RESET(), tensor_image(&b, "t", 1, k_ne8, 4, 0);
    expect_fail("retired type id 4", &b, "unknown type id 4");
    const uint64_t ne5[] = {8, 1, 1, 1, 1};
    RESET(), tensor_image(&b, "t", 5, ne5, HT_F32, 0);
    expect_fail("n_dims = 5", &b, "n_dims = 5");
    RESET(), tensor_image(&b, "t", 0, k_ne8, HT_F32, 0);
    expect_fail("n_dims = 0", &b, "n_dims = 0");
    const uint64_t ne0[] = {8, 0};
    RESET(), tensor_image(&b, "t", 2, ne0, HT_F32, 0);
    expect_fail("ne = 0", &b, "ne[1] = 0");
    const uint64_t ne33[] = {33};
    RESET(), tensor_image(&b, "t", 1, ne33, HT_Q4_0, 0);
    expect_fail("ragged q4_0 row", &b, "block size 32");
    RESET(), put_hdr(&b, 3, 2, 0), put_tinfo(&b, "same", 1, k_ne8, HT_F32, 0), put_tinfo(&b, "same", 1, k_ne8, HT_F32, 32),
        put_pad(&b, 32), put_zeros(&b, 64);
    expect_fail("duplicate tensor name", &b, "duplicate tensor name 'same'");
    char long_name[65];
    memset(long_name, 'x', 64);
    long_name[64] = 0;
    RESET(), tensor_image(&b, long_name, 1, k_ne8, HT_F32, 0);
    expect_fail("64-byte tensor name", &b, "64 bytes long");
    RESET(), put_hdr(&b, 3, 1, 0), put_tinfo(&b, "t", 1, k_ne8, HT_F32, 0);
    expect_fail("no data section", &b, "data section");
    free(b.p);
#undef RESET
}

/* ---- writer-side checks ---- */

static void test_writer_errors(void) {
    gguf_ctx *c = gguf_new();
    float data[64] = {0};
    const uint64_t ne[] = {8, 2};
    hearth_err e = {0};
    CHECK(c->version == 3 && c->alignment == GGUF_DEFAULT_ALIGNMENT && c->n_kv == 0 && c->n_tensors == 0, "gguf_new defaults");
    CHECK(gguf_add_tensor(c, "a", HT_F32, 2, ne, data, &e) == HEARTH_OK, "add a");
    CHECK(gguf_add_tensor(c, "a", HT_F32, 2, ne, data, &e) == HEARTH_ERR_INVALID_ARG && strstr(e.msg, "duplicate"),
          "duplicate tensor refused: %s", e.msg);
    const uint64_t ne33[] = {33};
    CHECK(gguf_add_tensor(c, "r", HT_Q8_0, 1, ne33, data, &e) == HEARTH_ERR_INVALID_ARG && strstr(e.msg, "block size"),
          "ragged refused: %s", e.msg);
    CHECK(gguf_add_tensor(c, "u", 99, 1, ne, data, &e) == HEARTH_ERR_INVALID_ARG && strstr(e.msg, "unknown type id 99"),
          "unknown type refused: %s", e.msg);
    CHECK(gguf_add_tensor(c, "d", HT_F32, 5, ne, data, &e) == HEARTH_ERR_INVALID_ARG && strstr(e.msg, "n_dims"),
          "n_dims 5 refused: %s", e.msg);
    CHECK(gguf_add_tensor(c, "n", HT_F32, 1, ne, NULL, &e) == HEARTH_ERR_INVALID_ARG, "NULL data refused");
    CHECK(gguf_add_tensor(c, "b", HT_F32, 1, ne, data, &e) == HEARTH_OK && c->tensors[1].offset == 64,
          "second tensor at 64 (64 bytes, aligned to 32)");
    CHECK(gguf_add_tensor(c, "c", HT_F32, 1, ne, data, &e) == HEARTH_OK && c->tensors[2].offset == 96, "third at 96");
    CHECK(gguf_set_u32(c, "general.alignment", 128) == HEARTH_OK && c->alignment == 128 && c->tensors[1].offset == 128 &&
              c->tensors[2].offset == 256,
          "changing the alignment re-lays the tensors");
    CHECK(gguf_set_u32(c, "general.alignment", 3) == HEARTH_ERR_INVALID_ARG, "alignment 3 refused");
    CHECK(gguf_set_u32(c, "general.alignment", 0) == HEARTH_ERR_INVALID_ARG, "alignment 0 refused");
    CHECK(gguf_set_u64(c, "general.alignment", 64) == HEARTH_ERR_INVALID_ARG, "alignment as u64 refused");
    CHECK(c->alignment == 128, "failed setters leave the alignment alone");
    const uint8_t two = 2;
    const uint8_t bools[] = {0, 5};
    CHECK(gguf_set_scalar(c, "b", GGUF_BOOL, &two) == HEARTH_ERR_INVALID_ARG, "bool 2 refused");
    CHECK(gguf_set_arr(c, "b", GGUF_BOOL, bools, 2) == HEARTH_ERR_INVALID_ARG, "bool array with 5 refused");
    CHECK(gguf_set_arr(c, "b", GGUF_STRING, bools, 2) == HEARTH_ERR_INVALID_ARG, "set_arr of strings refused");
    CHECK(gguf_set_arr(c, "b", GGUF_ARRAY, bools, 2) == HEARTH_ERR_INVALID_ARG, "nested array refused");
    CHECK(gguf_set_scalar(c, "s", GGUF_STRING, "x") == HEARTH_ERR_INVALID_ARG, "set_scalar of a string refused");
    CHECK(gguf_set_u32(c, "", 1) == HEARTH_ERR_INVALID_ARG && gguf_set_u32(c, NULL, 1) == HEARTH_ERR_INVALID_ARG, "bad keys");
    gguf_kv out_of_range = {.key = "x", .type = GGUF_U8, .v.u64 = 256};
    CHECK(gguf_set_kv(c, &out_of_range) == HEARTH_ERR_INVALID_ARG, "u8 = 256 refused");
    gguf_kv neg = {.key = "x", .type = GGUF_I16, .v.i64 = -32769};
    CHECK(gguf_set_kv(c, &neg) == HEARTH_ERR_INVALID_ARG, "i16 = -32769 refused");
    gguf_kv not_f32 = {.key = "x", .type = GGUF_F32, .v.f64 = 0.1};
    CHECK(gguf_set_kv(c, &not_f32) == HEARTH_ERR_INVALID_ARG, "f32 entry holding a non-f32 double refused");
    CHECK(gguf_find(c, "b") == NULL && gguf_find(c, "x") == NULL, "refused keys were not added");

    /* replacing a key with itself (src inside ctx) */
    CHECK(gguf_set_str(c, "s", "value") == HEARTH_OK, "set s");
    CHECK(gguf_set_kv(c, gguf_find(c, "s")) == HEARTH_OK && strcmp(gguf_get_str(c, "s"), "value") == 0, "self-replace");

    /* a directory that does not exist: IO error, nothing left behind */
    char path[600];
    tmp_path(path, sizeof path, "no/such/dir/x.gguf");
    CHECK(gguf_write_file(c, path, &e) == HEARTH_ERR_IO && e.msg[0], "write into a missing directory: %s", e.msg);
    /* alignment edited by hand without the key */
    c->alignment = 16;
    char ok_path[512];
    tmp_path(ok_path, sizeof ok_path, "w.gguf");
    CHECK(gguf_write_file(c, ok_path, &e) == HEARTH_ERR_INVALID_ARG && strstr(e.msg, "alignment"), "ctx->alignment mismatch: %s",
          e.msg);
    CHECK(!file_exists(ok_path), "nothing written on refusal");
    c->alignment = 128;
    CHECK(gguf_write_file(c, ok_path, &e) == HEARTH_OK, "write: %s", e.msg);
    size_t size = 0;
    uint8_t *img = slurp(ok_path, &size);
    gguf_ctx *r = NULL;
    CHECK(img && gguf_read(img, size, &r, &e) == HEARTH_OK && r->alignment == 128 && r->tensors[2].offset == 256 &&
              r->data_offset % 128 == 0,
          "read back with alignment 128: %s", e.msg);
    gguf_free(r);
    free(img);
    remove(ok_path);
    gguf_free(c);
    gguf_free(NULL);

    CHECK(gguf_read(NULL, 0, &r, &e) != HEARTH_OK && r == NULL, "empty image refused");
}

int main(void) {
    test_round_trip();
    test_big_vocab();
    test_hostile();
    test_writer_errors();
    return check_summary("test_gguf");
}
