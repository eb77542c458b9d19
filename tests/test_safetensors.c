/* test_safetensors.c - tests of the safetensors reader: fixtures, index sharding, hostile and truncated files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "quant.h"
#include "safetensors.h"

static const char *shared_dir(void) {
    const char *s = getenv("HEARTH_SHARED");
    return s ? s : "../shared";
}

/* Builds a safetensors image: 8-byte length, header, then `data`. Caller frees. */
static uint8_t *image(const char *header, const void *data, size_t data_len, size_t *size) {
    size_t h = strlen(header);
    *size = 8 + h + data_len;
    uint8_t *b = malloc(*size);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    if (data_len) memcpy(b + 8 + h, data, data_len);
    return b;
}

static bool write_file(const char *dir, const char *name, const void *data, size_t size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

static void remove_file(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static int argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

static void test_golden(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/nemotron_h_tiny/golden.safetensors", shared_dir());
    st_set *s = NULL;
    hearth_err e = {0};
    CHECK(st_open(path, &s, &e) == HEARTH_OK, "%s: %s", path, e.msg);
    if (!s) return;
    CHECK(s->n_files == 1 && s->n_tensors == 9, "9 tensors in 1 file, got %zu", s->n_tensors);
    const st_tensor *tok = st_find(s, "tokens_2");
    CHECK(tok && tok->type == HT_I32 && strcmp(tok->dtype, "I32") == 0 && tok->n_dims == 1 && tok->shape[0] == 37 &&
              tok->n_elems == 37 && tok->nbytes == 148,
          "tokens_2 is I32 [37]");
    const st_tensor *lg = st_find(s, "logits_2");
    CHECK(lg && lg->type == HT_F32 && lg->n_dims == 2 && lg->shape[0] == 37 && lg->shape[1] == 512 &&
              lg->n_elems == 37 * 512 && lg->nbytes == 37 * 512 * 4,
          "logits_2 is F32 [37, 512]");
    float tmp[4];
    CHECK(tok && !st_to_f32(tok, tmp), "st_to_f32 refuses I32");
    int32_t t0 = 0;
    if (tok) memcpy(&t0, tok->data, 4);
    CHECK(t0 >= 0 && t0 < 512, "tokens_2[0] = %d is a token id", t0);
    /* the greedy tokens are the argmax of the logits that chose them */
    const st_tensor *g = st_find(s, "greedy_2"), *gl = st_find(s, "greedy_logits_2");
    CHECK(g && gl && g->n_elems == 16 && gl->n_elems == 16 * 512, "greedy_2 and greedy_logits_2");
    if (g && gl && g->n_elems == 16 && gl->n_elems == 16 * 512) {
        float *x = malloc(gl->n_elems * sizeof(float));
        CHECK(st_to_f32(gl, x), "st_to_f32 F32");
        int bad = 0;
        for (int k = 0; k < 16; k++) {
            int32_t want;
            memcpy(&want, g->data + 4 * k, 4);
            bad += argmax(x + 512 * k, 512) != want;
        }
        CHECK(bad == 0, "%d greedy tokens are not the argmax of their logits", bad);
        free(x);
    }
    CHECK(st_find(s, "nope") == NULL && st_find(s, "") == NULL && st_find(NULL, "x") == NULL, "st_find misses");
    for (size_t i = 0; i < s->n_tensors; i++) CHECK(st_find(s, s->tensors[i].name) == &s->tensors[i], "find each");
    st_free(s);
}

static void test_model(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/nemotron_h_tiny", shared_dir()); /* a folder */
    st_set *s = NULL;
    hearth_err e = {0};
    CHECK(st_open(path, &s, &e) == HEARTH_OK, "%s: %s", path, e.msg);
    if (!s) return;
    CHECK(s->n_tensors == 49, "49 tensors (__metadata__ is not one), got %zu", s->n_tensors);
    const st_tensor *emb = st_find(s, "backbone.embeddings.weight");
    CHECK(emb && emb->type == HT_BF16 && strcmp(emb->dtype, "BF16") == 0 && emb->n_dims == 2 && emb->shape[0] == 512 &&
              emb->shape[1] == 64 && emb->nbytes == 512 * 64 * 2,
          "embeddings BF16 [512, 64]");
    const st_tensor *conv = st_find(s, "backbone.layers.0.mixer.conv1d.weight");
    CHECK(conv && conv->n_dims == 3 && conv->shape[0] == 192 && conv->shape[1] == 1 && conv->shape[2] == 4,
          "conv1d.weight [192, 1, 4]");
    const st_tensor *alog = st_find(s, "backbone.layers.5.mixer.A_log");
    CHECK(alog && alog->n_dims == 1 && alog->shape[0] == 8, "A_log [8]");
    if (emb) {
        float *x = malloc(emb->n_elems * sizeof(float));
        CHECK(st_to_f32(emb, x), "st_to_f32 BF16");
        int bad = 0;
        for (uint64_t i = 0; i < emb->n_elems; i += 101) {
            uint16_t h;
            memcpy(&h, emb->data + 2 * i, 2);
            uint32_t u = (uint32_t)h << 16;
            float f;
            memcpy(&f, &u, 4);
            bad += x[i] != f || !isfinite(x[i]);
        }
        CHECK(bad == 0, "%d BF16 values differ", bad);
        free(x);
    }
    for (size_t i = 1; i < s->n_tensors; i++)
        CHECK(strcmp(s->tensors[i - 1].name, s->tensors[i].name) < 0, "tensors sorted by name");
    st_free(s);
}

/* Two shards: a F32 [2,3] and b F16 [4] in the first; c BF16 [2] and d F64 [1] in the second. */
static void write_shards(const char *dir) {
    float a[6] = {1, 2, 3, 4, 5, 6};
    uint16_t b[4];
    for (int i = 0; i < 4; i++) b[i] = hu_f32_to_f16(0.5f * (float)i - 1);
    uint8_t d1[24 + 8];
    memcpy(d1, a, 24);
    memcpy(d1 + 24, b, 8);
    size_t n;
    uint8_t *img = image("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                         "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]}}  ",
                         d1, sizeof d1, &n);
    CHECK(write_file(dir, "model-00001-of-00002.safetensors", img, n), "write shard 1");
    free(img);
    uint8_t d2[4 + 8];
    uint16_t c[2] = {hu_f32_to_bf16(3.0f), hu_f32_to_bf16(-0.25f)};
    double d = 2.5;
    memcpy(d2, c, 4);
    memcpy(d2 + 4, &d, 8);
    img = image("{\"__metadata__\":{\"format\":\"pt\"},\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]}}",
                d2, sizeof d2, &n);
    CHECK(write_file(dir, "model-00002-of-00002.safetensors", img, n), "write shard 2");
    free(img);
}

static void write_index(const char *dir, const char *weight_map) {
    char text[1024];
    snprintf(text, sizeof text, "{\"metadata\": {\"total_size\": 44}, \"weight_map\": {%s}}", weight_map);
    CHECK(write_file(dir, "model.safetensors.index.json", text, strlen(text)), "write index");
}

static const char good_map[] = "\"a\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\","
                               "\"b\": \"model-00001-of-00002.safetensors\", \"d\": \"model-00002-of-00002.safetensors\"";

static void check_shard_set(const st_set *s) {
    CHECK(s->n_files == 2 && s->n_tensors == 4, "2 files (each shard once), 4 tensors: %zu, %zu", s->n_files,
          s->n_tensors);
    float x[6];
    const st_tensor *t = st_find(s, "a");
    CHECK(t && t->shape[0] == 2 && t->shape[1] == 3 && st_to_f32(t, x) && x[0] == 1 && x[5] == 6, "a F32");
    t = st_find(s, "b");
    CHECK(t && t->type == HT_F16 && st_to_f32(t, x) && x[0] == -1 && x[3] == 0.5f, "b F16");
    t = st_find(s, "c");
    CHECK(t && t->type == HT_BF16 && st_to_f32(t, x) && x[0] == 3 && x[1] == -0.25f, "c BF16");
    t = st_find(s, "d");
    CHECK(t && t->type == HT_F64 && st_to_f32(t, x) && x[0] == 2.5f, "d F64");
}

/* Expects st_open(path) to fail with `code` and a message containing both needles. */
static void expect_open_fail(const char *path, hearth_status code, const char *needle1, const char *needle2,
                             const char *what) {
    st_set *s = (st_set *)1;
    hearth_err e = {0};
    hearth_status st = st_open(path, &s, &e);
    CHECK(st == code && s == NULL, "%s: status %d (want %d)", what, st, code);
    CHECK(e.msg[0] && strstr(e.msg, needle1) && (!needle2 || strstr(e.msg, needle2)), "%s: message '%s'", what,
          e.msg);
}

static void test_sharded(const char *dir) {
    write_shards(dir);
    write_index(dir, good_map);
    st_set *s = NULL;
    hearth_err e = {0};
    CHECK(st_open(dir, &s, &e) == HEARTH_OK, "sharded folder: %s", e.msg);
    if (s) check_shard_set(s);
    st_free(s);
    char index[1024];
    snprintf(index, sizeof index, "%s/model.safetensors.index.json", dir);
    s = NULL;
    CHECK(st_open(index, &s, &e) == HEARTH_OK, "index path: %s", e.msg);
    if (s) check_shard_set(s);
    st_free(s);

    write_index(dir, "\"a\": \"../model-00001-of-00002.safetensors\"");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "shard name", "'a'", "shard name with ../");
    write_index(dir, "\"a\": \"sub/model-00001-of-00002.safetensors\"");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "shard name", NULL, "shard name with /");
    write_index(dir, "\"a\": \"/etc/passwd\"");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "shard name", NULL, "absolute shard name");
    write_index(dir, "\"a\": \"..\"");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "shard name", NULL, "shard name ..");
    write_index(dir, "\"a\": 5");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "shard name", NULL, "shard name not a string");
    write_index(dir, "\"a\": \"missing.safetensors\"");
    expect_open_fail(dir, HEARTH_ERR_IO, "missing.safetensors", NULL, "missing shard");
    write_index(dir, "\"zz\": \"model-00001-of-00002.safetensors\"");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "'zz'", "model-00001-of-00002.safetensors", "tensor not in shard");
    write_index(dir, "\"a\": \"model-00002-of-00002.safetensors\", \"c\": \"model-00001-of-00002.safetensors\"");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "is not in shard", NULL, "tensor in the other shard");
    write_index(dir, "");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "weight_map", NULL, "empty weight_map");
    CHECK(write_file(dir, "model.safetensors.index.json", "{\"weight_map\": [", 16), "write index");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "model.safetensors.index.json", "byte", "index with bad JSON");

    /* the same tensor in two shards */
    size_t n;
    float v = 1;
    uint8_t *img = image("{\"c\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", &v, 4, &n);
    CHECK(write_file(dir, "dup.safetensors", img, n), "write dup");
    free(img);
    write_index(dir, "\"a\": \"model-00002-of-00002.safetensors\", \"c\": \"dup.safetensors\"");
    expect_open_fail(dir, HEARTH_ERR_FORMAT, "'c'", "twice", "tensor in two shards");
    remove_file(dir, "dup.safetensors");
    remove_file(dir, "model.safetensors.index.json");
    expect_open_fail(dir, HEARTH_ERR_IO, "model.safetensors", NULL, "folder without a model");
    remove_file(dir, "model-00001-of-00002.safetensors");
    remove_file(dir, "model-00002-of-00002.safetensors");
}

/* Expects st_parse on the image to fail with `code` and a message containing `needle`. */
static void expect_parse_fail(const uint8_t *img, size_t n, hearth_status code, const char *needle, const char *what) {
    st_set *s = calloc(1, sizeof *s);
    hearth_err e = {0};
    hearth_status st = st_parse(s, img, n, &e);
    CHECK(st == code, "%s: status %d (want %d), '%s'", what, st, code, e.msg);
    CHECK(e.msg[0] && strstr(e.msg, needle), "%s: message '%s' lacks '%s'", what, e.msg, needle);
    CHECK(s->n_tensors == 0, "%s: no tensors left behind", what);
    st_free(s);
}

static void expect_header_fail(const char *header, size_t data_len, hearth_status code, const char *needle,
                               const char *what) {
    uint8_t data[64] = {0};
    size_t n;
    uint8_t *img = image(header, data, data_len, &n);
    expect_parse_fail(img, n, code, needle, what);
    free(img);
}

static void test_hostile(const char *dir) {
    const hearth_status F = HEARTH_ERR_FORMAT;
    uint8_t small[7] = {0};
    expect_parse_fail(small, sizeof small, F, "too small", "7-byte file");
    uint8_t hdr[8 + 10] = {0xe8, 0x03}; /* says 1000 header bytes, has 10 */
    expect_parse_fail(hdr, sizeof hdr, F, "header length 1000", "header length > file");
    uint8_t big[8 + 10] = {0, 0, 0, 0, 0, 0, 0, 0x80}; /* 2^63 */
    expect_parse_fail(big, sizeof big, F, "header length 9223372036854775808", "header length 2^63");
    uint8_t ones[8 + 10];
    memset(ones, 0xff, sizeof ones);
    expect_parse_fail(ones, sizeof ones, F, "header length", "header length 2^64-1");

    expect_header_fail("{\"a\": {\"dtype\": \"F32\",", 0, F, "json", "truncated JSON header");
    expect_header_fail("{\"a\" 1}", 0, F, "byte 5", "bad JSON header names the offset");
    expect_header_fail("[1, 2]", 0, F, "not a JSON object", "array header");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, F, "past the end",
                       "data_offsets past end");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, F, "'w'",
                       "message names the tensor");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, F, "begin after end",
                       "begin > end");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24, F, "need 24",
                       "shape/bytes mismatch");
    expect_header_fail("{\"w\":{\"dtype\":\"BF16\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,8]}}", 8, F,
                       "shape product overflows", "shape product overflow");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8, F,
                       "byte size overflows", "byte size overflow");
    expect_header_fail("{\"w\":{\"dtype\":\"Q9_X\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8, HEARTH_ERR_UNSUPPORTED,
                       "unknown dtype 'Q9_X'", "unknown dtype");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 8, F, "shape[0]",
                       "negative dim");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 8, F, "shape[0]",
                       "fractional dim");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, F, "data_offsets",
                       "three offsets");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]}}", 8, F, "data_offsets",
                       "fractional offset");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e300]}}", 8, F, "data_offsets",
                       "offset beyond 2^64");
    expect_header_fail("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 8, F, "missing dtype", "no dtype");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 8, F, "shape", "no shape");
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 8, F, "data_offsets", "no offsets");
    expect_header_fail("{\"w\":[1]}", 8, F, "not an object", "entry not an object");
    expect_header_fail("{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 8,
                       HEARTH_ERR_UNSUPPORTED, "dimensions", "nine dims");
    expect_header_fail("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                       "\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                       8, F, "appears twice", "duplicate name");

    /* accepted oddities: scalars, empty tensors, dtypes hearth has no type for */
    uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t n;
    uint8_t *img = image("{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                         "\"z\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[8,8]},"
                         "\"u\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
                         data, 8, &n);
    st_set *s = calloc(1, sizeof *s);
    hearth_err e = {0};
    CHECK(st_parse(s, img, n, &e) == HEARTH_OK, "odd but valid: %s", e.msg);
    const st_tensor *t = st_find(s, "s");
    CHECK(t && t->n_dims == 0 && t->n_elems == 1 && t->nbytes == 4, "scalar");
    t = st_find(s, "z");
    CHECK(t && t->n_elems == 0 && t->nbytes == 0, "empty tensor");
    t = st_find(s, "u");
    CHECK(t && t->type == -1 && strcmp(t->dtype, "U8") == 0 && t->data[0] == 5, "U8 has no ht_type");
    float f;
    CHECK(t && !st_to_f32(t, &f), "st_to_f32 refuses U8");
    /* a failed parse leaves the set as it was */
    uint8_t *bad = image("{\"q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                         "\"r\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,40]}}",
                         data, 8, &n);
    CHECK(st_parse(s, bad, n, &e) == HEARTH_ERR_FORMAT && s->n_tensors == 3 && !st_find(s, "q"), "rollback");
    free(bad);
    /* the same names again: duplicates across calls */
    size_t n2;
    uint8_t *again = image("{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", data, 8, &n2);
    CHECK(st_parse(s, again, n2, &e) == HEARTH_ERR_FORMAT && strstr(e.msg, "'s' appears twice") && s->n_tensors == 3,
          "duplicate across files: '%s'", e.msg);
    free(again);
    st_free(s);
    free(img); /* after the set whose views point into it */

    /* every truncation of a valid file fails cleanly */
    size_t full;
    uint8_t *good = image("{\"__metadata__\":{\"k\":\"v\"},\"s\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                          data, 8, &full);
    int fails = 0;
    for (size_t len = 0; len < full; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, good, len);
        s = calloc(1, sizeof *s);
        e.msg[0] = 0;
        if (st_parse(s, cut, len, &e) == HEARTH_OK || !e.msg[0]) fails++;
        st_free(s);
        free(cut);
    }
    CHECK(fails == 0, "%d truncations did not fail cleanly", fails);
    free(good);

    /* through st_open the message names the file */
    uint8_t *h = image("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", data, 8, &n);
    CHECK(write_file(dir, "hostile.safetensors", h, n), "write hostile");
    free(h);
    char path[1024];
    snprintf(path, sizeof path, "%s/hostile.safetensors", dir);
    expect_open_fail(path, F, "hostile.safetensors", "'w'", "st_open names the file and tensor");
    remove_file(dir, "hostile.safetensors");
    snprintf(path, sizeof path, "%s/does-not-exist.safetensors", dir);
    expect_open_fail(path, HEARTH_ERR_IO, "does-not-exist", NULL, "missing file");
}

int main(void) {
    const char *tmp = getenv("HEARTH_TMP");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/test_safetensors_%d", tmp ? tmp : "/tmp", (int)getpid());
    mkdir(dir, 0700);
    test_golden();
    test_model();
    test_sharded(dir);
    test_hostile(dir);
    rmdir(dir);
    return check_summary("safetensors");
}
