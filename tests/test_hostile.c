/* test_hostile.c - broken and hostile model files, configs and checkpoints: a clear message and an error, never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "convert.h"
#include "gguf.h"
#include "model.h"
#include "quant.h"

static const char *shared_dir(void) { return getenv("HEARTH_SHARED") ? getenv("HEARTH_SHARED") : "../shared"; }
static const char *tmp_dir(void) { return getenv("HEARTH_TMP") ? getenv("HEARTH_TMP") : "/tmp"; }

static char *path_in_tmp(const char *name) {
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 1024, "%s/hostile-%s", tmp_dir(), name);
    return p;
}

/* Loads `path`; checks it fails with `want` and that the message contains `needle`. */
static void expect_load_error(const char *what, const char *path, hearth_status want, const char *needle) {
    hearth_model *m = NULL;
    char err[600] = "";
    hearth_status st = hearth_model_load(path, NULL, &m, err, sizeof err);
    CHECK(st == want, "%s: status %s, expected %s (%s)", what, hearth_status_name(st), hearth_status_name(want), err);
    CHECK(m == NULL, "%s: a model came back", what);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' does not mention '%s'", what, err, needle);
    hearth_model_free(m);
}

/* Rewrites the valid file `src` with one change: a key set to a string, a key dropped, or a
 * tensor dropped / retyped. */
typedef struct {
    const char *set_key, *set_value; /* string value to set */
    const char *drop_key;
    const char *drop_tensor;
    const char *retype_tensor;       /* give this tensor type Q3_K (not supported) with a 256-wide shape */
} edit;

static void rewrite(const char *src, const char *dst, const edit *ed) {
    FILE *f = fopen(src, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *img = malloc((size_t)n);
    CHECK(fread(img, 1, (size_t)n, f) == (size_t)n, "read %s", src);
    fclose(f);
    gguf_ctx *in = NULL, *out = gguf_new();
    hearth_err e = {0};
    CHECK(gguf_read(img, (size_t)n, &in, &e) == HEARTH_OK, "parse %s: %s", src, e.msg);
    for (uint64_t i = 0; i < in->n_kv; i++)
        if (!ed->drop_key || strcmp(in->kv[i].key, ed->drop_key)) gguf_set_kv(out, &in->kv[i]);
    if (ed->set_key) gguf_set_str(out, ed->set_key, ed->set_value);
    static uint8_t zeros[144 * 8];
    for (uint64_t i = 0; i < in->n_tensors; i++) {
        const gguf_tensor *t = &in->tensors[i];
        if (ed->drop_tensor && !strcmp(t->name, ed->drop_tensor)) continue;
        if (ed->retype_tensor && !strcmp(t->name, ed->retype_tensor)) {
            uint64_t ne[2] = {256, 8};
            gguf_add_tensor(out, t->name, HT_Q3_K, 2, ne, zeros, &e);
            continue;
        }
        gguf_add_tensor(out, t->name, t->type, t->n_dims, t->ne, t->data, &e);
    }
    CHECK(gguf_write_file(out, dst, &e) == HEARTH_OK, "write %s: %s", dst, e.msg);
    gguf_free(in);
    gguf_free(out);
    free(img);
}

static void truncate_copy(const char *src, const char *dst, long size) {
    FILE *f = fopen(src, "rb"), *g = fopen(dst, "wb");
    for (long i = 0; i < size; i++) fputc(fgetc(f), g);
    fclose(f);
    fclose(g);
}

static void test_gguf_models(const char *good) {
    rewrite(good, path_in_tmp("arch.gguf"), &(edit){.set_key = "general.architecture", .set_value = "mamba9"});
    expect_load_error("unknown architecture", path_in_tmp("arch.gguf"), HEARTH_ERR_UNSUPPORTED, "'mamba9'");
    rewrite(good, path_in_tmp("nokey.gguf"), &(edit){.drop_key = "nemotron_h.block_count"});
    expect_load_error("missing key", path_in_tmp("nokey.gguf"), HEARTH_ERR_FORMAT, "nemotron_h.block_count");
    rewrite(good, path_in_tmp("notensor.gguf"), &(edit){.drop_tensor = "blk.0.ssm_in.weight"});
    expect_load_error("missing tensor", path_in_tmp("notensor.gguf"), HEARTH_ERR_FORMAT, "blk.0.ssm_in.weight");
    rewrite(good, path_in_tmp("shape.gguf"), &(edit){.retype_tensor = "blk.1.ffn_up.weight"});
    expect_load_error("unsupported tensor type", path_in_tmp("shape.gguf"), HEARTH_ERR_UNSUPPORTED, "q3_K");
    expect_load_error("unsupported tensor type names the tensor", path_in_tmp("shape.gguf"), HEARTH_ERR_UNSUPPORTED,
                      "'blk.1.ffn_up.weight'");
    rewrite(good, path_in_tmp("vocabless.gguf"), &(edit){.drop_key = "tokenizer.ggml.tokens"});
    {
        hearth_model *m = NULL;
        char err[600];
        CHECK(hearth_model_load(path_in_tmp("vocabless.gguf"), NULL, &m, err, sizeof err) == HEARTH_OK,
              "a file without vocabulary still loads for token-id use: %s", err);
        size_t n = 0;
        CHECK(m && hearth_tokenize(m, "hi", 2, true, NULL, 0, &n) == HEARTH_ERR_UNSUPPORTED,
              "tokenizing without a vocabulary is refused");
        CHECK(m && strstr(hm_tokenizer_error(m), "no vocabulary"), "and says why");
        hearth_model_free(m);
    }
    /* truncated at every section boundary, and inside the data */
    FILE *f = fopen(good, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *img = malloc((size_t)size);
    CHECK(fread(img, 1, (size_t)size, f) == (size_t)size, "read");
    fclose(f);
    gguf_ctx *g = NULL;
    gguf_read(img, (size_t)size, &g, NULL);
    long cuts[] = {0, 3, 4, 8, 16, 24, 100, (long)g->data_offset - 1, (long)g->data_offset, (long)g->data_offset + 1, size / 2,
                   size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        truncate_copy(good, path_in_tmp("trunc.gguf"), cuts[i]);
        char what[64];
        snprintf(what, sizeof what, "truncated at %ld of %ld", cuts[i], size);
        hearth_model *m = NULL;
        char err[600] = "";
        hearth_status st = hearth_model_load(path_in_tmp("trunc.gguf"), NULL, &m, err, sizeof err);
        CHECK(st == HEARTH_ERR_FORMAT, "%s: status %s (%s)", what, hearth_status_name(st), err);
        CHECK(strstr(err, "truncated") || strstr(err, "past end") || strstr(err, "too small") || strstr(err, "magic"),
              "%s: message '%s' does not say the file is short", what, err);
        hearth_model_free(m);
    }
    gguf_free(g);
    free(img);
}

/* A checkpoint folder in tmp: the fixture's files, with config.json replaced by `config`. */
static const char *make_checkpoint(const char *name, const char *config, const char *safetensors_bytes, size_t st_len) {
    char *dir = path_in_tmp(name);
    mkdir(dir, 0755);
    char p[1200], src[1200];
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = fopen(p, "w");
    fputs(config, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    unlink(p);
    if (safetensors_bytes) {
        f = fopen(p, "wb");
        fwrite(safetensors_bytes, 1, st_len, f);
        fclose(f);
    } else {
        snprintf(src, sizeof src, "%s/fixtures/nemotron_h_tiny/model.safetensors", shared_dir());
        if (src[0] != '/') {
            char cwd[1024];
            snprintf(src, sizeof src, "%s/%s/fixtures/nemotron_h_tiny/model.safetensors", getcwd(cwd, sizeof cwd), shared_dir());
        }
        CHECK(symlink(src, p) == 0, "symlink %s", src);
    }
    return dir;
}

static void expect_convert_error(const char *what, const char *dir, hearth_status want, const char *needle) {
    hearth_err e = {0};
    hconv_options o = {.type = HT_F32, .quiet = true};
    hearth_status st = hconv_convert(dir, path_in_tmp("out.gguf"), &o, &e);
    CHECK(st == want, "%s: status %s, expected %s (%s)", what, hearth_status_name(st), hearth_status_name(want), e.msg);
    CHECK(strstr(e.msg, needle) != NULL, "%s: message '%s' does not mention '%s'", what, e.msg, needle);
}

static void test_checkpoints(void) {
    char p[1200];
    snprintf(p, sizeof p, "%s/fixtures/nemotron_h_tiny/config.json", shared_dir());
    char *cfg = NULL;
    size_t len;
    CHECK(hu_read_text(p, &cfg, &len, NULL) == HEARTH_OK, "read %s", p);
    if (!cfg) return;
    /* a config without hidden_size */
    char *no_hidden = strdup(cfg);
    char *k = strstr(no_hidden, "\"hidden_size\"");
    memcpy(k, "\"hidden_sizX\"", 13);
    expect_convert_error("config without hidden_size", make_checkpoint("nohidden", no_hidden, NULL, 0), HEARTH_ERR_FORMAT,
                         "hidden_size");
    /* an architecture hearth does not know */
    char *arch = strdup(cfg);
    k = strstr(arch, "\"nemotron_h\"");
    memcpy(k, "\"gpt_neox__\"", 12);
    expect_convert_error("unknown model_type", make_checkpoint("arch", arch, NULL, 0), HEARTH_ERR_UNSUPPORTED, "gpt_neox__");
    /* a safetensors header longer than the file */
    char st_bytes[64] = {0};
    uint64_t hl = 1000000;
    memcpy(st_bytes, &hl, 8);
    memcpy(st_bytes + 8, "{\"a\":", 5);
    expect_convert_error("safetensors header past the end", make_checkpoint("sthdr", cfg, st_bytes, sizeof st_bytes),
                         HEARTH_ERR_FORMAT, "header");
    /* not JSON at all */
    expect_convert_error("config that is not JSON", make_checkpoint("notjson", "{\"model_type\": ", NULL, 0), HEARTH_ERR_FORMAT,
                         "config.json");
    free(no_hidden);
    free(arch);
    free(cfg);
}

int main(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fixtures/nemotron_h_tiny", shared_dir());
    hearth_err e = {0};
    hconv_options o = {.type = HT_F32, .quiet = true};
    char good[1024];
    snprintf(good, sizeof good, "%s", path_in_tmp("good.gguf"));
    CHECK(hconv_convert(dir, good, &o, &e) == HEARTH_OK, "convert: %s", e.msg);
    test_gguf_models(good);
    test_checkpoints();
    return check_summary("hostile");
}
