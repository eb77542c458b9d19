/* gguf.c - GGUF v2/v3 reader (every count, length, shape and offset checked against the image) and writer. */
#include "gguf.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "quant.h"

/* Limits from the specification (keys) and from GGML (GGML_MAX_NAME = 64 with the NUL), so that
 * every file hearth accepts or writes also loads in llama.cpp. */
enum {
    GGUF_MAX_KEY_LEN = 65535,
    GGUF_MAX_NAME_LEN = 63,
    /* Smallest encodings, used to bound counts by the bytes left before anything is allocated:
     * a metadata entry is key length (8) + key (>= 1) + value type (4) + value (>= 1);
     * a tensor info is name length (8) + name (>= 1) + n_dims (4) + ne (>= 8) + type (4) + offset (8). */
    MIN_KV_BYTES = 14,
    MIN_TENSOR_INFO_BYTES = 33,
    N_VTYPES = GGUF_F64 + 1,
};

/* The context as allocated: the public struct plus the capacities of its growable arrays.
 * gguf_new and gguf_read allocate one of these; a gguf_ctx * points at its first member. */
typedef struct {
    gguf_ctx pub;
    uint64_t kv_cap;
    uint64_t tensor_cap;
} gguf_impl;

/* ---- value types ---- */

static const char *const k_vtype_names[N_VTYPES] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
};
/* Encoded size of a fixed-size value; 0 for string and array. */
static const uint8_t k_vtype_size[N_VTYPES] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *gguf_vtype_name(gguf_vtype t) { return (unsigned)t < N_VTYPES ? k_vtype_names[t] : "unknown"; }

static bool vt_uint(gguf_vtype t) { return t == GGUF_U8 || t == GGUF_U16 || t == GGUF_U32 || t == GGUF_U64; }
static bool vt_sint(gguf_vtype t) { return t == GGUF_I8 || t == GGUF_I16 || t == GGUF_I32 || t == GGUF_I64; }
static bool vt_float(gguf_vtype t) { return t == GGUF_F32 || t == GGUF_F64; }
/* Fixed-size types: every type except string and array. */
static bool vt_fixed(uint32_t t) { return t < N_VTYPES && k_vtype_size[t] != 0; }

/* ---- scalars as little-endian bytes (arrays keep this encoding in memory too) ---- */

static uint64_t load_le(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = n; i > 0; i--) v = (v << 8) | p[i - 1];
    return v;
}

static void store_le(uint8_t *p, uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Sign-extends the low `bytes` bytes of raw. */
static int64_t sign_extend(uint64_t raw, unsigned bytes) {
    if (bytes == 8) {
        int64_t v;
        memcpy(&v, &raw, 8);
        return v;
    }
    uint64_t m = (uint64_t)1 << (8 * bytes - 1);
    return (int64_t)(raw ^ m) - (int64_t)m;
}

/* Decodes one fixed-size value of type t from p into kv->v (widened). */
static void decode_scalar(gguf_vtype t, const uint8_t *p, gguf_kv *kv) {
    uint64_t raw = load_le(p, k_vtype_size[t]);
    if (vt_uint(t)) {
        kv->v.u64 = raw;
    } else if (vt_sint(t)) {
        kv->v.i64 = sign_extend(raw, k_vtype_size[t]);
    } else if (t == GGUF_F32) {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, 4);
        kv->v.f64 = f;
    } else if (t == GGUF_F64) {
        memcpy(&kv->v.f64, &raw, 8);
    } else {
        kv->v.b = raw != 0;
    }
}

/* Encodes kv->v as type t into out (k_vtype_size[t] bytes). */
static void encode_scalar(gguf_vtype t, const gguf_kv *kv, uint8_t *out) {
    uint64_t raw;
    if (vt_uint(t)) {
        raw = kv->v.u64;
    } else if (vt_sint(t)) {
        raw = (uint64_t)kv->v.i64;
    } else if (t == GGUF_F32) {
        float f = (float)kv->v.f64;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        raw = bits;
    } else if (t == GGUF_F64) {
        memcpy(&raw, &kv->v.f64, 8);
    } else {
        raw = kv->v.b ? 1 : 0;
    }
    store_le(out, raw, k_vtype_size[t]);
}

/* ---- context memory ---- */

/* Frees what a metadata entry owns. A string array's lengths, pointers and bytes are one block
 * whose base is str_lens (see str_block). */
static void kv_clear(gguf_kv *kv) {
    free(kv->key);
    free(kv->str);
    free(kv->arr);
    free(kv->str_lens);
    memset(kv, 0, sizeof *kv);
}

void gguf_free(gguf_ctx *ctx) {
    if (!ctx) return;
    for (uint64_t i = 0; i < ctx->n_kv; i++) kv_clear(&ctx->kv[i]);
    free(ctx->kv);
    for (uint64_t i = 0; i < ctx->n_tensors; i++) free(ctx->tensors[i].name);
    free(ctx->tensors);
    free((gguf_impl *)ctx);
}

static gguf_ctx *ctx_alloc(void) {
    gguf_impl *im = calloc(1, sizeof *im);
    if (!im) return NULL;
    im->pub.version = 3;
    im->pub.alignment = GGUF_DEFAULT_ALIGNMENT;
    return &im->pub;
}

/* Makes room for one more element in a growable array of `elem`-byte items (zero-filled). */
static hearth_status grow(void **arr, uint64_t *cap, uint64_t n, size_t elem, hearth_err *e) {
    if (n < *cap) return HEARTH_OK;
    uint64_t nc = *cap ? *cap * 2 : 16;
    if (nc > HU_ALLOC_CAP / elem) return herr(e, HEARTH_ERR_TOO_LARGE, "too many entries (%llu)", (unsigned long long)n);
    void *p = realloc(*arr, (size_t)(nc * elem));
    if (!p) return herr(e, HEARTH_ERR_NOMEM, "out of memory growing a table to %llu entries", (unsigned long long)nc);
    memset((uint8_t *)p + *cap * elem, 0, (size_t)((nc - *cap) * elem));
    *arr = p;
    *cap = nc;
    return HEARTH_OK;
}

/* Appends a zeroed entry; returns it or NULL (with *st set). */
static gguf_kv *push_kv(gguf_ctx *ctx, hearth_status *st, hearth_err *e) {
    gguf_impl *im = (gguf_impl *)ctx;
    *st = grow((void **)&ctx->kv, &im->kv_cap, ctx->n_kv, sizeof(gguf_kv), e);
    return *st ? NULL : &ctx->kv[ctx->n_kv++];
}

static gguf_tensor *push_tensor(gguf_ctx *ctx, hearth_status *st, hearth_err *e) {
    gguf_impl *im = (gguf_impl *)ctx;
    *st = grow((void **)&ctx->tensors, &im->tensor_cap, ctx->n_tensors, sizeof(gguf_tensor), e);
    return *st ? NULL : &ctx->tensors[ctx->n_tensors++];
}

/* One allocation for a string array of n strings with `chars` bytes in all (NULs included):
 * [n uint64 lengths][n pointers][bytes]. Sets kv->n, kv->str_lens (the owner) and kv->strs;
 * returns where the bytes go, or NULL. */
static char *str_block(gguf_kv *kv, uint64_t n, uint64_t chars, hearth_err *e) {
    uint64_t per, head, total;
    if (!hu_add(sizeof(uint64_t), sizeof(char *), &per) || !hu_mul(n, per, &head) || !hu_add(head, chars, &total)) {
        herr(e, HEARTH_ERR_TOO_LARGE, "string array of %llu elements is too large", (unsigned long long)n);
        return NULL;
    }
    uint8_t *m = hu_malloc(total, e);
    if (!m) return NULL;
    kv->n = n;
    kv->str_lens = (uint64_t *)m;
    kv->strs = (char **)(m + n * sizeof(uint64_t));
    return (char *)(m + head);
}

/* ---- shapes (shared by reader and writer) ---- */

static uint64_t align_up(uint64_t x, uint64_t alignment, bool *ok) {
    uint64_t y;
    if (!hu_add(x, alignment - 1, &y)) {
        *ok = false;
        return 0;
    }
    return y & ~(alignment - 1);
}

static bool is_pow2(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* Checks a tensor's type and shape and computes its byte size. `code` is the status to report
 * (FORMAT for a file, INVALID_ARG for a caller). */
static hearth_status tensor_size(const char *name, uint32_t type, const uint64_t ne[GGUF_MAX_DIMS], uint64_t *nbytes,
                                 hearth_status code, hearth_err *e) {
    const ht_type_info *ti = ht_type_get(type);
    if (!ti) return herr(e, code, "tensor '%s': unknown type id %u", name, type);
    for (int d = 0; d < GGUF_MAX_DIMS; d++) {
        if (ne[d] == 0) return herr(e, code, "tensor '%s': ne[%d] = 0 (empty tensors are not supported)", name, d);
    }
    if (ne[0] % ti->block_size != 0) {
        return herr(e, code, "tensor '%s': ne[0] = %llu is not a multiple of the %s block size %u", name,
                    (unsigned long long)ne[0], ti->name, ti->block_size);
    }
    uint64_t n_el = ne[0], bytes;
    bool ok = ht_row_bytes(type, ne[0], &bytes);
    for (int d = 1; d < GGUF_MAX_DIMS; d++) ok = ok && hu_mul(n_el, ne[d], &n_el) && hu_mul(bytes, ne[d], &bytes);
    if (!ok || n_el > (uint64_t)INT64_MAX) {
        return herr(e, code, "tensor '%s': shape [%llu, %llu, %llu, %llu] of %s overflows (element count or byte size)",
                    name, (unsigned long long)ne[0], (unsigned long long)ne[1], (unsigned long long)ne[2],
                    (unsigned long long)ne[3], ti->name);
    }
    *nbytes = bytes;
    return HEARTH_OK;
}

/* ---- duplicate detection: sort the names, compare neighbours (n log n) ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Finds a name that occurs twice among the n names at base + i*stride (each a char * field).
 * Returns HEARTH_OK and *dup = NULL when all differ. */
static hearth_status find_duplicate(const void *base, size_t stride, uint64_t n, const char **dup, hearth_err *e) {
    *dup = NULL;
    if (n < 2) return HEARTH_OK;
    const char **names = hu_malloc(n * sizeof(char *), e);
    if (!names) return e ? e->code : HEARTH_ERR_NOMEM;
    for (uint64_t i = 0; i < n; i++) memcpy(&names[i], (const uint8_t *)base + i * stride, sizeof(char *));
    qsort(names, (size_t)n, sizeof(char *), cmp_str);
    for (uint64_t i = 1; i < n && !*dup; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) *dup = names[i];
    }
    free(names);
    return HEARTH_OK;
}

/* ---- reading ---- */

typedef struct {
    const uint8_t *data;
    uint64_t size;
    uint64_t pos;
    hearth_err *e;
    uint64_t file_size; /* header-only reads: the whole file's size (data beyond `size` is absent) */
} reader;

static uint64_t left(const reader *r) { return r->size - r->pos; }

static bool take(reader *r, uint64_t n, const uint8_t **p) {
    if (n > left(r)) return false;
    *p = r->data + r->pos;
    r->pos += n;
    return true;
}

static bool get_u32(reader *r, uint32_t *v) {
    const uint8_t *p = NULL;
    if (!take(r, 4, &p)) return false;
    *v = (uint32_t)load_le(p, 4);
    return true;
}

static bool get_u64(reader *r, uint64_t *v) {
    const uint8_t *p = NULL;
    if (!take(r, 8, &p)) return false;
    *v = load_le(p, 8);
    return true;
}

/* "file truncated: <what> at byte P needs N bytes, M left" */
static hearth_status truncated(reader *r, uint64_t need, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static hearth_status truncated(reader *r, uint64_t need, const char *fmt, ...) {
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return herr(r->e, HEARTH_ERR_FORMAT, "file truncated: %s at byte %llu needs %llu bytes, %llu left", what,
                (unsigned long long)r->pos, (unsigned long long)need, (unsigned long long)left(r));
}

/* Strings are read in place (no copy); the caller formats the message only on failure. */
typedef enum { STR_OK, STR_NO_LEN, STR_TOO_LONG } str_result;

static str_result get_str(reader *r, const uint8_t **s, uint64_t *len) {
    if (!get_u64(r, len)) return STR_NO_LEN;
    if (*len > left(r)) return STR_TOO_LONG;
    *s = r->data + r->pos;
    r->pos += *len;
    return STR_OK;
}

static hearth_status str_fail(reader *r, str_result res, uint64_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static hearth_status str_fail(reader *r, str_result res, uint64_t len, const char *fmt, ...) {
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (res == STR_NO_LEN) return truncated(r, 8, "length of %s", what);
    return herr(r->e, HEARTH_ERR_FORMAT,
                "%s: string length %llu at byte %llu exceeds the %llu bytes left (file truncated or corrupt)", what,
                (unsigned long long)len, (unsigned long long)r->pos - 8, (unsigned long long)left(r));
}

/* Copies a key or tensor name out of the file after checking it is usable as a C string. */
static hearth_status read_name(reader *r, char **out, uint64_t max_len, const char *kind, uint64_t index) {
    const uint8_t *s = NULL;
    uint64_t len = 0;
    str_result res = get_str(r, &s, &len);
    if (res != STR_OK) return str_fail(r, res, len, "%s #%llu", kind, (unsigned long long)index);
    if (len == 0) return herr(r->e, HEARTH_ERR_FORMAT, "%s #%llu is empty", kind, (unsigned long long)index);
    if (len > max_len) {
        return herr(r->e, HEARTH_ERR_FORMAT, "%s #%llu is %llu bytes long (at most %llu allowed)", kind,
                    (unsigned long long)index, (unsigned long long)len, (unsigned long long)max_len);
    }
    if (memchr(s, 0, (size_t)len)) {
        return herr(r->e, HEARTH_ERR_FORMAT, "%s #%llu contains a NUL byte", kind, (unsigned long long)index);
    }
    *out = hu_strndup((const char *)s, (size_t)len);
    return *out ? HEARTH_OK : herr(r->e, HEARTH_ERR_NOMEM, "out of memory reading %s #%llu", kind, (unsigned long long)index);
}

static hearth_status check_bools(reader *r, const gguf_kv *kv, const uint8_t *p, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) {
        if (p[i] > 1) {
            return herr(r->e, HEARTH_ERR_FORMAT, "key '%s': bool value %u at byte %llu is not 0 or 1", kv->key, p[i],
                        (unsigned long long)(p + i - r->data));
        }
    }
    return HEARTH_OK;
}

/* An array of strings: a first pass checks every length against the bytes left and adds them up,
 * a second copies them into one block (a 131072-entry vocabulary is one allocation). */
static hearth_status read_str_array(reader *r, gguf_kv *kv, uint64_t n) {
    const uint64_t start = r->pos;
    uint64_t chars = 0;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *s = NULL;
        uint64_t len = 0;
        str_result res = get_str(r, &s, &len);
        if (res != STR_OK) return str_fail(r, res, len, "element %llu of key '%s'", (unsigned long long)i, kv->key);
        chars += len + 1; /* bounded by the image size plus n: cannot overflow */
    }
    char *dst = str_block(kv, n, chars, r->e);
    if (!dst) return r->e ? r->e->code : HEARTH_ERR_NOMEM;
    r->pos = start;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *s = NULL;
        uint64_t len = 0;
        get_str(r, &s, &len); /* checked by the first pass */
        memcpy(dst, s, (size_t)len);
        dst[len] = 0;
        kv->strs[i] = dst;
        kv->str_lens[i] = len;
        dst += len + 1;
    }
    return HEARTH_OK;
}

static hearth_status read_array(reader *r, gguf_kv *kv) {
    uint32_t et;
    uint64_t n;
    if (!get_u32(r, &et)) return truncated(r, 4, "element type of array '%s'", kv->key);
    if (et == GGUF_ARRAY) return herr(r->e, HEARTH_ERR_UNSUPPORTED, "key '%s': nested arrays are not supported", kv->key);
    if (et >= N_VTYPES) return herr(r->e, HEARTH_ERR_FORMAT, "key '%s': unknown array element type %u", kv->key, et);
    if (!get_u64(r, &n)) return truncated(r, 8, "element count of array '%s'", kv->key);
    kv->arr_type = (gguf_vtype)et;
    const uint64_t min_elem = et == GGUF_STRING ? 8 : k_vtype_size[et];
    if (n > left(r) / min_elem) {
        return herr(r->e, HEARTH_ERR_FORMAT,
                    "key '%s': array count %llu of %s cannot fit in the %llu bytes left (file truncated or corrupt)",
                    kv->key, (unsigned long long)n, k_vtype_names[et], (unsigned long long)left(r));
    }
    if (et == GGUF_STRING) return read_str_array(r, kv, n);
    const uint8_t *p = NULL;
    take(r, n * min_elem, &p); /* fits: checked above */
    if (et == GGUF_BOOL) {
        hearth_status st = check_bools(r, kv, p, n);
        if (st) return st;
    }
    kv->arr = hu_malloc(n * min_elem, r->e);
    if (!kv->arr) return r->e ? r->e->code : HEARTH_ERR_NOMEM;
    memcpy(kv->arr, p, (size_t)(n * min_elem));
    kv->n = n;
    return HEARTH_OK;
}

static hearth_status read_kv(reader *r, gguf_kv *kv, uint64_t index) {
    hearth_status st = read_name(r, &kv->key, GGUF_MAX_KEY_LEN, "key of metadata entry", index);
    if (st) return st;
    uint32_t type;
    if (!get_u32(r, &type)) return truncated(r, 4, "value type of key '%s'", kv->key);
    if (type >= N_VTYPES) return herr(r->e, HEARTH_ERR_FORMAT, "key '%s': unknown value type %u", kv->key, type);
    kv->type = (gguf_vtype)type;
    if (type == GGUF_ARRAY) return read_array(r, kv);
    if (type == GGUF_STRING) {
        const uint8_t *s = NULL;
        uint64_t len = 0;
        str_result res = get_str(r, &s, &len);
        if (res != STR_OK) return str_fail(r, res, len, "value of key '%s'", kv->key);
        kv->str = hu_malloc(len + 1, r->e);
        if (!kv->str) return r->e ? r->e->code : HEARTH_ERR_NOMEM;
        memcpy(kv->str, s, (size_t)len);
        kv->str[len] = 0;
        kv->str_len = len;
        return HEARTH_OK;
    }
    const uint8_t *p = NULL;
    if (!take(r, k_vtype_size[type], &p)) return truncated(r, k_vtype_size[type], "%s value of key '%s'", k_vtype_names[type], kv->key);
    if (type == GGUF_BOOL) {
        st = check_bools(r, kv, p, 1);
        if (st) return st;
    }
    decode_scalar(kv->type, p, kv);
    return HEARTH_OK;
}

static hearth_status read_tensor_info(reader *r, gguf_tensor *t, uint64_t index) {
    hearth_status st = read_name(r, &t->name, GGUF_MAX_NAME_LEN, "name of tensor", index);
    if (st) return st;
    if (!get_u32(r, &t->n_dims)) return truncated(r, 4, "n_dims of tensor '%s'", t->name);
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS) {
        return herr(r->e, HEARTH_ERR_FORMAT, "tensor '%s': n_dims = %u (must be 1..%d)", t->name, t->n_dims, GGUF_MAX_DIMS);
    }
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims && !get_u64(r, &t->ne[d])) return truncated(r, 8, "ne[%u] of tensor '%s'", d, t->name);
    }
    if (!get_u32(r, &t->type)) return truncated(r, 4, "type of tensor '%s'", t->name);
    if (!get_u64(r, &t->offset)) return truncated(r, 8, "offset of tensor '%s'", t->name);
    if (!ht_type_get(t->type)) return herr(r->e, HEARTH_ERR_UNSUPPORTED, "tensor '%s': unknown type id %u", t->name, t->type);
    return tensor_size(t->name, t->type, t->ne, &t->nbytes, HEARTH_ERR_FORMAT, r->e);
}

/* general.alignment, when present, must be a u32 power of two. `code` is the status to report. */
static hearth_status key_alignment(const gguf_ctx *ctx, uint64_t *out, hearth_status code, hearth_err *e) {
    const gguf_kv *kv = gguf_find(ctx, "general.alignment");
    *out = GGUF_DEFAULT_ALIGNMENT;
    if (!kv) return HEARTH_OK;
    if (kv->type != GGUF_U32) {
        return herr(e, code, "general.alignment has type %s, expected u32", gguf_vtype_name(kv->type));
    }
    if (!is_pow2(kv->v.u64)) {
        return herr(e, code, "general.alignment = %llu is not a nonzero power of two", (unsigned long long)kv->v.u64);
    }
    *out = kv->v.u64;
    return HEARTH_OK;
}

static hearth_status parse(reader *r, gguf_ctx *ctx) {
    hearth_err *e = r->e;
    const uint8_t *magic;
    if (!take(r, 4, &magic)) return truncated(r, 4, "GGUF magic");
    if (memcmp(magic, "GGUF", 4) != 0) {
        return herr(e, HEARTH_ERR_FORMAT, "bad magic %02x %02x %02x %02x (expected \"GGUF\"): not a GGUF file", magic[0],
                    magic[1], magic[2], magic[3]);
    }
    uint32_t version;
    if (!get_u32(r, &version)) return truncated(r, 4, "version");
    if (version != 2 && version != 3) {
        if ((version & 0xffff) == 0 && (version == 0x02000000u || version == 0x03000000u)) {
            return herr(e, HEARTH_ERR_UNSUPPORTED, "big-endian GGUF files are not supported (version field %08x)", version);
        }
        return herr(e, HEARTH_ERR_UNSUPPORTED, "GGUF version %u is not supported (hearth reads versions 2 and 3)", version);
    }
    ctx->version = version;
    uint64_t n_tensors, n_kv;
    if (!get_u64(r, &n_tensors)) return truncated(r, 8, "n_tensors");
    if (!get_u64(r, &n_kv)) return truncated(r, 8, "n_kv");
    if (n_kv > left(r) / MIN_KV_BYTES) {
        return herr(e, HEARTH_ERR_FORMAT,
                    "n_kv = %llu metadata entries cannot fit in the %llu bytes after the header (file truncated or corrupt)",
                    (unsigned long long)n_kv, (unsigned long long)left(r));
    }
    if (n_tensors > left(r) / MIN_TENSOR_INFO_BYTES) {
        return herr(e, HEARTH_ERR_FORMAT,
                    "n_tensors = %llu tensor infos cannot fit in the %llu bytes after the header (file truncated or corrupt)",
                    (unsigned long long)n_tensors, (unsigned long long)left(r));
    }

    hearth_status st;
    for (uint64_t i = 0; i < n_kv; i++) {
        gguf_kv *kv = push_kv(ctx, &st, e);
        if (!kv || (st = read_kv(r, kv, i))) return st;
    }
    const char *dup;
    if ((st = find_duplicate(ctx->kv, sizeof(gguf_kv), ctx->n_kv, &dup, e))) return st;
    if (dup) return herr(e, HEARTH_ERR_FORMAT, "duplicate metadata key '%s'", dup);
    if ((st = key_alignment(ctx, &ctx->alignment, HEARTH_ERR_FORMAT, e))) return st;

    if (n_tensors > left(r) / MIN_TENSOR_INFO_BYTES) {
        return herr(e, HEARTH_ERR_FORMAT,
                    "n_tensors = %llu tensor infos cannot fit in the %llu bytes left at byte %llu (file truncated or corrupt)",
                    (unsigned long long)n_tensors, (unsigned long long)left(r), (unsigned long long)r->pos);
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        gguf_tensor *t = push_tensor(ctx, &st, e);
        if (!t || (st = read_tensor_info(r, t, i))) return st;
    }
    if ((st = find_duplicate(ctx->tensors, sizeof(gguf_tensor), ctx->n_tensors, &dup, e))) return st;
    if (dup) return herr(e, HEARTH_ERR_FORMAT, "duplicate tensor name '%s'", dup);

    bool ok = true;
    ctx->data_offset = align_up(r->pos, ctx->alignment, &ok);
    if (n_tensors == 0) return HEARTH_OK; /* nothing refers to the data section, which may be absent */
    const uint64_t file_size = r->file_size ? r->file_size : r->size;
    if (!ok || ctx->data_offset > file_size) {
        return herr(e, HEARTH_ERR_FORMAT, "file truncated: data section at byte %llu starts past end of file (size %llu)",
                    (unsigned long long)ctx->data_offset, (unsigned long long)file_size);
    }
    const uint64_t room = file_size - ctx->data_offset;
    for (uint64_t i = 0; i < ctx->n_tensors; i++) {
        gguf_tensor *t = &ctx->tensors[i];
        if (t->offset % ctx->alignment != 0) {
            return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': offset %llu is misaligned (not a multiple of the alignment %llu)",
                        t->name, (unsigned long long)t->offset, (unsigned long long)ctx->alignment);
        }
        uint64_t end;
        if (!hu_add(t->offset, t->nbytes, &end) || end > room) {
            return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': data [offset %llu, %llu bytes] extends past end of file (size %llu)",
                        t->name, (unsigned long long)t->offset, (unsigned long long)t->nbytes, (unsigned long long)file_size);
        }
        t->data = r->file_size ? NULL : r->data + ctx->data_offset + t->offset;
    }
    return HEARTH_OK;
}

static hearth_status read_image(const uint8_t *data, size_t size, uint64_t file_size, gguf_ctx **out, hearth_err *e) {
    if (!out) return herr(e, HEARTH_ERR_INVALID_ARG, "gguf_read: out is NULL");
    *out = NULL;
    if (!data && size) return herr(e, HEARTH_ERR_INVALID_ARG, "gguf_read: data is NULL");
    gguf_ctx *ctx = ctx_alloc();
    if (!ctx) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    reader r = {data, size, 0, e, file_size};
    hearth_status st = parse(&r, ctx);
    if (st) {
        gguf_free(ctx);
        return st;
    }
    *out = ctx;
    return HEARTH_OK;
}

hearth_status gguf_read(const uint8_t *data, size_t size, gguf_ctx **out, hearth_err *e) {
    return read_image(data, size, 0, out, e);
}

hearth_status gguf_read_header(const uint8_t *data, size_t size, uint64_t file_size, gguf_ctx **out, hearth_err *e) {
    if (file_size < size) return herr(e, HEARTH_ERR_INVALID_ARG, "gguf_read_header: file_size is smaller than the header bytes");
    return read_image(data, size, file_size ? file_size : 1, out, e);
}

/* ---- lookup and typed getters ---- */

const gguf_kv *gguf_find(const gguf_ctx *ctx, const char *key) {
    if (!ctx || !key) return NULL;
    for (uint64_t i = 0; i < ctx->n_kv; i++) {
        if (strcmp(ctx->kv[i].key, key) == 0) return &ctx->kv[i];
    }
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_ctx *ctx, const char *name) {
    if (!ctx || !name) return NULL;
    for (uint64_t i = 0; i < ctx->n_tensors; i++) {
        if (strcmp(ctx->tensors[i].name, name) == 0) return &ctx->tensors[i];
    }
    return NULL;
}

/* An integer value: *s when *is_signed, else *u. False for non-integer types. */
static bool int_value(gguf_vtype t, const gguf_kv *v, bool *is_signed, uint64_t *u, int64_t *s) {
    if (vt_uint(t)) {
        *is_signed = false;
        *u = v->v.u64;
        return true;
    }
    if (vt_sint(t)) {
        *is_signed = true;
        *s = v->v.i64;
        return true;
    }
    return false;
}

static bool to_i64(gguf_vtype t, const gguf_kv *v, int64_t *out) {
    bool sg;
    uint64_t u;
    int64_t s;
    if (!int_value(t, v, &sg, &u, &s)) return false;
    if (sg) {
        *out = s;
        return true;
    }
    if (u > (uint64_t)INT64_MAX) return false;
    *out = (int64_t)u;
    return true;
}

bool gguf_get_u32(const gguf_ctx *ctx, const char *key, uint32_t *out) {
    const gguf_kv *kv = gguf_find(ctx, key);
    bool sg;
    uint64_t u;
    int64_t s;
    if (!kv || !int_value(kv->type, kv, &sg, &u, &s)) return false;
    if (sg) {
        if (s < 0) return false;
        u = (uint64_t)s;
    }
    if (u > UINT32_MAX) return false;
    *out = (uint32_t)u;
    return true;
}

bool gguf_get_i64(const gguf_ctx *ctx, const char *key, int64_t *out) {
    const gguf_kv *kv = gguf_find(ctx, key);
    return kv && to_i64(kv->type, kv, out);
}

bool gguf_get_f32(const gguf_ctx *ctx, const char *key, float *out) {
    const gguf_kv *kv = gguf_find(ctx, key);
    if (!kv || !vt_float(kv->type)) return false;
    double v = kv->v.f64;
    *out = v > FLT_MAX ? INFINITY : v < -FLT_MAX ? -INFINITY : (float)v; /* f64 beyond f32 range: +-inf */
    return true;
}

bool gguf_get_bool(const gguf_ctx *ctx, const char *key, bool *out) {
    const gguf_kv *kv = gguf_find(ctx, key);
    if (!kv || kv->type != GGUF_BOOL) return false;
    *out = kv->v.b;
    return true;
}

const char *gguf_get_str(const gguf_ctx *ctx, const char *key) {
    const gguf_kv *kv = gguf_find(ctx, key);
    return kv && kv->type == GGUF_STRING ? kv->str : NULL;
}

/* Element i of a fixed-size array, decoded into a scratch entry. */
static bool arr_elem(const gguf_kv *kv, uint64_t i, gguf_kv *tmp) {
    if (!kv || kv->type != GGUF_ARRAY || !vt_fixed(kv->arr_type) || i >= kv->n) return false;
    memset(tmp, 0, sizeof *tmp);
    decode_scalar(kv->arr_type, (const uint8_t *)kv->arr + i * k_vtype_size[kv->arr_type], tmp);
    return true;
}

bool gguf_arr_i64(const gguf_kv *kv, uint64_t i, int64_t *out) {
    gguf_kv tmp;
    return arr_elem(kv, i, &tmp) && to_i64(kv->arr_type, &tmp, out);
}

bool gguf_arr_f64(const gguf_kv *kv, uint64_t i, double *out) {
    gguf_kv tmp;
    if (!arr_elem(kv, i, &tmp) || !vt_float(kv->arr_type)) return false;
    *out = tmp.v.f64;
    return true;
}

/* ---- building a context ---- */

gguf_ctx *gguf_new(void) { return ctx_alloc(); }

/* Does an integer held in kv->v fit the declared type t? (So writing it loses nothing.) */
static bool int_fits(gguf_vtype t, const gguf_kv *kv) {
    unsigned bits = 8u * k_vtype_size[t];
    if (vt_uint(t)) return bits == 64 || kv->v.u64 < ((uint64_t)1 << bits);
    int64_t lim = bits == 64 ? 0 : (int64_t)1 << (bits - 1);
    return bits == 64 || (kv->v.i64 >= -lim && kv->v.i64 < lim);
}

/* Is v (held widened in a double) exactly an f32? NaN counts as one. */
static bool f32_exact(double v) {
    if (v != v || v == INFINITY || v == -INFINITY) return true;
    return v >= -FLT_MAX && v <= FLT_MAX && (double)(float)v == v;
}

/* Deep-copies src's value (not its key) into dst after checking it can be written. */
static hearth_status kv_clone_value(gguf_kv *dst, const gguf_kv *src) {
    const gguf_vtype t = src->type;
    dst->type = t;
    if ((unsigned)t >= N_VTYPES) return HEARTH_ERR_INVALID_ARG;
    if (vt_fixed(t)) {
        if ((vt_uint(t) || vt_sint(t)) && !int_fits(t, src)) return HEARTH_ERR_INVALID_ARG;
        if (t == GGUF_F32 && !f32_exact(src->v.f64)) return HEARTH_ERR_INVALID_ARG;
        dst->v = src->v;
        return HEARTH_OK;
    }
    if (t == GGUF_STRING) {
        if (!src->str) return HEARTH_ERR_INVALID_ARG;
        dst->str = hu_strndup(src->str, (size_t)src->str_len);
        dst->str_len = src->str_len;
        return dst->str ? HEARTH_OK : HEARTH_ERR_NOMEM;
    }
    /* array */
    const gguf_vtype et = src->arr_type;
    const uint64_t n = src->n;
    dst->arr_type = et;
    if ((unsigned)et >= N_VTYPES || et == GGUF_ARRAY) return HEARTH_ERR_INVALID_ARG;
    if (et == GGUF_STRING) {
        if (n && !src->strs) return HEARTH_ERR_INVALID_ARG;
        uint64_t chars = 0;
        for (uint64_t i = 0; i < n; i++) {
            if (!src->strs[i]) return HEARTH_ERR_INVALID_ARG;
            uint64_t len = src->str_lens ? src->str_lens[i] : strlen(src->strs[i]);
            if (!hu_add(chars, len + 1, &chars)) return HEARTH_ERR_TOO_LARGE;
        }
        char *p = str_block(dst, n, chars, NULL);
        if (!p) return HEARTH_ERR_NOMEM;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t len = src->str_lens ? src->str_lens[i] : strlen(src->strs[i]);
            memcpy(p, src->strs[i], (size_t)len);
            p[len] = 0;
            dst->strs[i] = p;
            dst->str_lens[i] = len;
            p += len + 1;
        }
        return HEARTH_OK;
    }
    uint64_t bytes;
    if (!hu_mul(n, k_vtype_size[et], &bytes)) return HEARTH_ERR_TOO_LARGE;
    if (n && !src->arr) return HEARTH_ERR_INVALID_ARG;
    if (et == GGUF_BOOL) {
        for (uint64_t i = 0; i < n; i++) {
            if (((const uint8_t *)src->arr)[i] > 1) return HEARTH_ERR_INVALID_ARG;
        }
    }
    dst->arr = hu_malloc(bytes, NULL);
    if (!dst->arr) return HEARTH_ERR_NOMEM;
    if (bytes) memcpy(dst->arr, src->arr, (size_t)bytes);
    dst->n = n;
    return HEARTH_OK;
}

/* Lays the tensors out back to back from tensor `from` on, each at the next multiple of the
 * alignment. False if an offset would overflow. */
static bool assign_offsets(gguf_ctx *ctx, uint64_t from) {
    bool ok = true;
    for (uint64_t i = from; i < ctx->n_tensors; i++) {
        uint64_t off = 0;
        if (i > 0) {
            const gguf_tensor *p = &ctx->tensors[i - 1];
            uint64_t end;
            ok = ok && hu_add(p->offset, p->nbytes, &end);
            off = ok ? align_up(end, ctx->alignment, &ok) : 0;
        }
        ctx->tensors[i].offset = off;
    }
    return ok;
}

hearth_status gguf_set_kv(gguf_ctx *ctx, const gguf_kv *src) {
    if (!ctx || !src || !src->key) return HEARTH_ERR_INVALID_ARG;
    size_t klen = strlen(src->key);
    if (klen == 0 || klen > GGUF_MAX_KEY_LEN) return HEARTH_ERR_INVALID_ARG;
    const bool is_alignment = strcmp(src->key, "general.alignment") == 0;
    if (is_alignment && (src->type != GGUF_U32 || !is_pow2(src->v.u64) || src->v.u64 > UINT32_MAX)) {
        return HEARTH_ERR_INVALID_ARG;
    }
    gguf_kv tmp = {0};
    hearth_status st = kv_clone_value(&tmp, src);
    if (st) {
        kv_clear(&tmp);
        return st;
    }
    /* src may be an entry of ctx itself: it is only read above, before the slot changes */
    gguf_kv *slot = (gguf_kv *)gguf_find(ctx, src->key);
    if (slot) {
        tmp.key = slot->key;
        slot->key = NULL;
        kv_clear(slot);
        *slot = tmp;
    } else {
        tmp.key = hu_strndup(src->key, klen);
        slot = tmp.key ? push_kv(ctx, &st, NULL) : NULL;
        if (!slot) {
            kv_clear(&tmp);
            return HEARTH_ERR_NOMEM;
        }
        *slot = tmp;
    }
    if (is_alignment) {
        ctx->alignment = slot->v.u64;
        if (!assign_offsets(ctx, 0)) return HEARTH_ERR_TOO_LARGE;
    }
    return HEARTH_OK;
}

hearth_status gguf_set_scalar(gguf_ctx *ctx, const char *key, gguf_vtype type, const void *value) {
    if (!vt_fixed(type) || !value) return HEARTH_ERR_INVALID_ARG;
    if (type == GGUF_BOOL && *(const uint8_t *)value > 1) return HEARTH_ERR_INVALID_ARG;
    gguf_kv kv = {.key = (char *)key, .type = type};
    decode_scalar(type, value, &kv);
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_set_u32(gguf_ctx *ctx, const char *key, uint32_t v) {
    gguf_kv kv = {.key = (char *)key, .type = GGUF_U32, .v.u64 = v};
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_set_i32(gguf_ctx *ctx, const char *key, int32_t v) {
    gguf_kv kv = {.key = (char *)key, .type = GGUF_I32, .v.i64 = v};
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_set_u64(gguf_ctx *ctx, const char *key, uint64_t v) {
    gguf_kv kv = {.key = (char *)key, .type = GGUF_U64, .v.u64 = v};
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_set_f32(gguf_ctx *ctx, const char *key, float v) {
    gguf_kv kv = {.key = (char *)key, .type = GGUF_F32, .v.f64 = v};
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_set_bool(gguf_ctx *ctx, const char *key, bool v) {
    gguf_kv kv = {.key = (char *)key, .type = GGUF_BOOL, .v.b = v};
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_set_str(gguf_ctx *ctx, const char *key, const char *v) {
    if (!v) return HEARTH_ERR_INVALID_ARG;
    gguf_kv kv = {.key = (char *)key, .type = GGUF_STRING, .str = (char *)v, .str_len = strlen(v)};
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_set_arr(gguf_ctx *ctx, const char *key, gguf_vtype arr_type, const void *data, uint64_t n) {
    if (!vt_fixed(arr_type)) return HEARTH_ERR_INVALID_ARG;
    gguf_kv kv = {.key = (char *)key, .type = GGUF_ARRAY, .arr_type = arr_type, .n = n, .arr = (void *)data};
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_set_arr_str(gguf_ctx *ctx, const char *key, const char *const *strs, uint64_t n) {
    gguf_kv kv = {.key = (char *)key, .type = GGUF_ARRAY, .arr_type = GGUF_STRING, .n = n, .strs = (char **)strs};
    return gguf_set_kv(ctx, &kv);
}

hearth_status gguf_copy_kv(gguf_ctx *ctx, const gguf_ctx *src) {
    if (!ctx || !src) return HEARTH_ERR_INVALID_ARG;
    for (uint64_t i = 0; i < src->n_kv; i++) {
        hearth_status st = gguf_set_kv(ctx, &src->kv[i]);
        if (st) return st;
    }
    return HEARTH_OK;
}

/* gguf_add_tensor, and gguf_add_tensor_deferred when data is NULL */
static hearth_status add_tensor(gguf_ctx *ctx, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne,
                                const void *data, hearth_err *e) {
    if (!ctx || !name || !ne) return herr(e, HEARTH_ERR_INVALID_ARG, "gguf_add_tensor: NULL argument");
    size_t len = strlen(name);
    if (len == 0 || len > GGUF_MAX_NAME_LEN) {
        return herr(e, HEARTH_ERR_INVALID_ARG, "tensor name '%s' is %zu bytes long (must be 1..%u)", name, len, GGUF_MAX_NAME_LEN);
    }
    if (gguf_find_tensor(ctx, name)) return herr(e, HEARTH_ERR_INVALID_ARG, "duplicate tensor name '%s'", name);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS) {
        return herr(e, HEARTH_ERR_INVALID_ARG, "tensor '%s': n_dims = %u (must be 1..%d)", name, n_dims, GGUF_MAX_DIMS);
    }
    uint64_t shape[GGUF_MAX_DIMS] = {1, 1, 1, 1}, nbytes;
    memcpy(shape, ne, n_dims * sizeof(uint64_t));
    hearth_status st = tensor_size(name, type, shape, &nbytes, HEARTH_ERR_INVALID_ARG, e);
    if (st) return st;
    char *copy = hu_strndup(name, len);
    gguf_tensor *t = copy ? push_tensor(ctx, &st, e) : NULL;
    if (!t) {
        free(copy);
        return copy ? st : herr(e, HEARTH_ERR_NOMEM, "out of memory adding tensor '%s'", name);
    }
    *t = (gguf_tensor){.name = copy, .type = type, .n_dims = n_dims, .nbytes = nbytes, .data = data};
    memcpy(t->ne, shape, sizeof shape);
    if (!assign_offsets(ctx, ctx->n_tensors - 1)) {
        free(t->name);
        ctx->n_tensors--;
        return herr(e, HEARTH_ERR_TOO_LARGE, "tensor '%s': data offset overflows 64 bits", name);
    }
    return HEARTH_OK;
}

hearth_status gguf_add_tensor(gguf_ctx *ctx, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne,
                              const void *data, hearth_err *e) {
    if (!data) return herr(e, HEARTH_ERR_INVALID_ARG, "gguf_add_tensor: NULL argument");
    return add_tensor(ctx, name, type, n_dims, ne, data, e);
}

hearth_status gguf_add_tensor_deferred(gguf_ctx *ctx, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne,
                                       hearth_err *e) {
    return add_tensor(ctx, name, type, n_dims, ne, NULL, e);
}

/* ---- writing ---- */

typedef struct {
    FILE *f;
    uint64_t pos;
    int err; /* errno of the first failure, or -1 for a short write without errno; 0 = fine */
} writer;

static void w_bytes(writer *w, const void *p, uint64_t n) {
    if (w->err || n == 0) return;
    errno = 0;
    if (fwrite(p, 1, (size_t)n, w->f) != n) {
        w->err = errno ? errno : -1;
        return;
    }
    w->pos += n;
}

static void w_u32(writer *w, uint32_t v) {
    uint8_t b[4];
    store_le(b, v, 4);
    w_bytes(w, b, 4);
}

static void w_u64(writer *w, uint64_t v) {
    uint8_t b[8];
    store_le(b, v, 8);
    w_bytes(w, b, 8);
}

static void w_str(writer *w, const char *s, uint64_t len) {
    w_u64(w, len);
    w_bytes(w, s, len);
}

/* Zero bytes up to the next multiple of the alignment (a power of two). */
static void w_pad(writer *w, uint64_t alignment) {
    static const uint8_t zeros[256];
    uint64_t n = (alignment - (w->pos & (alignment - 1))) & (alignment - 1);
    while (n > 0 && !w->err) {
        uint64_t k = n < sizeof zeros ? n : sizeof zeros;
        w_bytes(w, zeros, k);
        n -= k;
    }
}

static void w_kv(writer *w, const gguf_kv *kv) {
    uint8_t b[8];
    w_str(w, kv->key, strlen(kv->key));
    w_u32(w, (uint32_t)kv->type);
    if (kv->type == GGUF_STRING) {
        w_str(w, kv->str, kv->str_len);
    } else if (kv->type == GGUF_ARRAY) {
        w_u32(w, (uint32_t)kv->arr_type);
        w_u64(w, kv->n);
        if (kv->arr_type == GGUF_STRING) {
            for (uint64_t i = 0; i < kv->n; i++) w_str(w, kv->strs[i], kv->str_lens[i]);
        } else {
            w_bytes(w, kv->arr, kv->n * k_vtype_size[kv->arr_type]);
        }
    } else {
        encode_scalar(kv->type, kv, b);
        w_bytes(w, b, k_vtype_size[kv->type]);
    }
}

/* Checks what gguf_write_file relies on, for contexts that were edited by hand: value types,
 * the alignment agreeing with general.alignment, tensor data present. */
static hearth_status check_writable(const gguf_ctx *ctx, uint64_t *alignment, bool need_data, hearth_err *e) {
    for (uint64_t i = 0; i < ctx->n_kv; i++) {
        const gguf_kv *kv = &ctx->kv[i];
        bool ok = kv->key && (unsigned)kv->type < N_VTYPES;
        if (ok && kv->type == GGUF_STRING) ok = kv->str != NULL;
        if (ok && kv->type == GGUF_ARRAY) {
            ok = (unsigned)kv->arr_type < N_VTYPES && kv->arr_type != GGUF_ARRAY &&
                 (kv->arr_type == GGUF_STRING ? (kv->strs && kv->str_lens) || kv->n == 0 : kv->arr || kv->n == 0);
        }
        if (!ok) return herr(e, HEARTH_ERR_INVALID_ARG, "metadata entry #%llu is malformed", (unsigned long long)i);
    }
    hearth_status st = key_alignment(ctx, alignment, HEARTH_ERR_INVALID_ARG, e);
    if (st) return st;
    if (ctx->alignment != *alignment) {
        return herr(e, HEARTH_ERR_INVALID_ARG,
                    "ctx->alignment = %llu disagrees with general.alignment (%llu); set the key with gguf_set_u32",
                    (unsigned long long)ctx->alignment, (unsigned long long)*alignment);
    }
    for (uint64_t i = 0; i < ctx->n_tensors; i++) {
        const gguf_tensor *t = &ctx->tensors[i];
        uint64_t nbytes;
        if (!t->name || (need_data && !t->data))
            return herr(e, HEARTH_ERR_INVALID_ARG, "tensor #%llu has no name or data", (unsigned long long)i);
        if ((st = tensor_size(t->name, t->type, t->ne, &nbytes, HEARTH_ERR_INVALID_ARG, e))) return st;
        if (nbytes != t->nbytes) return herr(e, HEARTH_ERR_INVALID_ARG, "tensor '%s': nbytes disagrees with its shape", t->name);
    }
    return HEARTH_OK;
}

/* Writes ctx; tensors without data come from produce() through one buffer of the largest such
 * tensor's size (produce is NULL for gguf_write_file, which requires every tensor's data). */
static hearth_status write_file(const gguf_ctx *ctx, const char *path, gguf_tensor_producer produce, void *user,
                                hearth_err *e) {
    if (!ctx || !path) return herr(e, HEARTH_ERR_INVALID_ARG, "gguf_write_file: NULL argument");
    uint64_t alignment, buf_size = 0;
    hearth_status st = check_writable(ctx, &alignment, produce == NULL, e);
    if (st) return st;
    for (uint64_t i = 0; i < ctx->n_tensors; i++)
        if (!ctx->tensors[i].data && ctx->tensors[i].nbytes > buf_size) buf_size = ctx->tensors[i].nbytes;
    uint8_t *buf = NULL;
    if (buf_size && !(buf = hu_malloc(buf_size, e))) return e ? e->code : HEARTH_ERR_NOMEM;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        free(buf);
        return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    writer w = {fopen(tmp, "wb"), 0, 0};
    if (!w.f) {
        st = herr(e, HEARTH_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        free(buf);
        return st;
    }
    w_bytes(&w, "GGUF", 4);
    w_u32(&w, 3);
    w_u64(&w, ctx->n_tensors);
    w_u64(&w, ctx->n_kv);
    for (uint64_t i = 0; i < ctx->n_kv; i++) w_kv(&w, &ctx->kv[i]);
    /* offsets are laid out afresh, back to back in table order: a context read from a file with
     * gaps or another order is written compactly */
    uint64_t off = 0;
    bool ok = true;
    for (uint64_t i = 0; i < ctx->n_tensors && ok; i++) {
        const gguf_tensor *t = &ctx->tensors[i];
        w_str(&w, t->name, strlen(t->name));
        w_u32(&w, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) w_u64(&w, t->ne[d]);
        w_u32(&w, t->type);
        w_u64(&w, off);
        uint64_t end;
        ok = hu_add(off, t->nbytes, &end);
        off = ok ? align_up(end, alignment, &ok) : 0;
    }
    w_pad(&w, alignment);
    hearth_status pst = HEARTH_OK;
    for (uint64_t i = 0; i < ctx->n_tensors && ok && !pst && !w.err; i++) {
        const gguf_tensor *t = &ctx->tensors[i];
        const void *data = t->data;
        if (!data) {
            pst = produce(user, i, t, buf, e);
            data = buf;
        }
        if (!pst) w_bytes(&w, data, t->nbytes);
        w_pad(&w, alignment);
    }
    free(buf);
    if (fclose(w.f) != 0 && !w.err) w.err = errno ? errno : -1;
    if (pst) {
        st = pst; /* the producer's error, already in e */
    } else if (!ok) {
        st = herr(e, HEARTH_ERR_TOO_LARGE, "%s: tensor data offsets overflow 64 bits", path);
    } else if (w.err) {
        st = herr(e, HEARTH_ERR_IO, "cannot write %s: %s", tmp, w.err > 0 ? strerror(w.err) : "short write");
    } else if (rename(tmp, path) != 0) {
        st = herr(e, HEARTH_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    }
    if (st) remove(tmp);
    free(tmp);
    return st;
}

hearth_status gguf_write_file(const gguf_ctx *ctx, const char *path, hearth_err *e) {
    return write_file(ctx, path, NULL, NULL, e);
}

hearth_status gguf_write_file_cb(const gguf_ctx *ctx, const char *path, gguf_tensor_producer produce, void *user,
                                 hearth_err *e) {
    if (!produce) return herr(e, HEARTH_ERR_INVALID_ARG, "gguf_write_file_cb: NULL producer");
    return write_file(ctx, path, produce, user, e);
}
