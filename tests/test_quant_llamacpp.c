/* test_quant_llamacpp.c - hearth's quantisation against llama.cpp's own code: every block type byte for byte, and whole q4_k_m / q5_k_m / q6_k files (type mix and bytes) against llama_model_quantize.
 *
 * llama.cpp is the build node-llama-cpp ships (make deps installs it), opened with dlopen:
 * libggml-base for ggml_quantize_chunk and dequantize_row_*, libllama for llama_model_quantize
 * (what the llama-quantize tool runs). HEARTH_LLAMA_LIB_DIR overrides where they are looked for.
 */
#include <dlfcn.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "convert.h"
#include "gguf.h"
#include "quant.h"
#include "safetensors.h"

static const char *shared_dir(void) {
    const char *s = getenv("HEARTH_SHARED");
    return s ? s : "../shared";
}
static const char *tmp_dir(void) {
    const char *s = getenv("HEARTH_TMP");
    return s ? s : "/tmp";
}

/* ---- the library ---- */

typedef size_t (*quantize_chunk_fn)(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row,
                                    const float *imatrix);
typedef void (*dequantize_row_fn)(const void *src, float *dst, int64_t n);
/* llama_model_quantize_params is passed through untouched but for its two leading int32 fields
 * (nthread, ftype), which every llama.cpp version has kept first; 256 bytes hold any version. */
typedef struct {
    int32_t nthread, ftype;
    unsigned char rest[248];
} quantize_params;
typedef quantize_params (*default_params_fn)(void);
typedef uint32_t (*model_quantize_fn)(const char *in, const char *out, const quantize_params *p);
typedef void (*log_cb)(int level, const char *text, void *user);
typedef void (*log_set_fn)(log_cb cb, void *user);

static struct {
    void *base, *llama;
    quantize_chunk_fn quantize_chunk;
    default_params_fn default_params;
    model_quantize_fn model_quantize;
} L;

static void quiet_log(int level, const char *text, void *user) {
    (void)level, (void)text, (void)user;
}

/* Opens libggml-base and libllama from `dir`; false (and nothing held) when either is missing. */
static bool open_in(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/libggml-base.so", dir);
    void *base = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    glob_t g = {0};
    snprintf(path, sizeof path, "%s/libllama*.so", dir);
    void *llama = base && glob(path, 0, NULL, &g) == 0 && g.gl_pathc ? dlopen(g.gl_pathv[0], RTLD_NOW | RTLD_LOCAL) : NULL;
    globfree(&g);
    if (!base || !llama) {
        if (llama) dlclose(llama);
        if (base) dlclose(base);
        return false;
    }
    L.base = base;
    L.llama = llama;
    return true;
}

static bool open_llamacpp(void) {
    const char *dir = getenv("HEARTH_LLAMA_LIB_DIR");
    bool ok = dir ? open_in(dir) : false;
#if defined(__x86_64__)
    if (!ok && !dir) ok = open_in("node_modules/@node-llama-cpp/linux-x64/bins/linux-x64");
#elif defined(__aarch64__)
    if (!ok && !dir) ok = open_in("node_modules/@node-llama-cpp/linux-arm64/bins/linux-arm64");
#endif
    CHECK(ok, "llama.cpp libraries not found (run `make deps`, or set HEARTH_LLAMA_LIB_DIR): %s", dlerror());
    if (!ok) return false;
    L.quantize_chunk = (quantize_chunk_fn)dlsym(L.base, "ggml_quantize_chunk");
    L.default_params = (default_params_fn)dlsym(L.llama, "llama_model_quantize_default_params");
    L.model_quantize = (model_quantize_fn)dlsym(L.llama, "llama_model_quantize");
    log_set_fn log_set = (log_set_fn)dlsym(L.llama, "llama_log_set");
    CHECK(L.quantize_chunk && L.default_params && L.model_quantize && log_set, "llama.cpp symbols missing");
    if (log_set) log_set(quiet_log, NULL);
    return L.quantize_chunk && L.default_params && L.model_quantize;
}

/* ---- block types, row by row ---- */

static const uint32_t k_types[] = {HT_Q8_0, HT_Q4_0, HT_Q4_1, HT_Q5_0, HT_Q5_1, HT_Q4_K, HT_Q5_K, HT_Q6_K};
enum { N_TYPES = sizeof k_types / sizeof k_types[0] };

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static float rng_uniform(uint64_t *s) { return (float)((double)(rng_next(s) >> 11) * 0x1p-53 * 2.0 - 1.0); }
static float rng_normal(uint64_t *s) {
    double u = ((double)(rng_next(s) >> 11) + 0.5) * 0x1p-53, v = (double)(rng_next(s) >> 11) * 0x1p-53;
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

/* Values that reach every branch of the quantisers, in super-blocks of 256: Gaussian rows at
 * scales 1e-6 .. 1e3 (f16 scales from subnormal to large), outliers, all-zero, constant,
 * all-positive and all-negative blocks, a block with one non-zero value, uniform noise. */
static void make_values(float *x, int n_sb, uint64_t seed) {
    for (int b = 0; b < n_sb; b++) {
        float *y = x + 256 * b;
        const float scale = powf(10.0f, (float)(b % 10) - 6.0f);
        for (int i = 0; i < 256; i++) y[i] = rng_normal(&seed) * scale;
        switch (b % 9) {
        case 1: y[b % 256] = 30 * scale; break;
        case 2: memset(y, 0, 256 * sizeof(float)); break;
        case 3: for (int i = 0; i < 256; i++) y[i] = 0.75f * scale; break;
        case 4: for (int i = 0; i < 256; i++) y[i] = fabsf(y[i]) + 0.5f * scale; break;
        case 5: for (int i = 0; i < 256; i++) y[i] = -fabsf(y[i]); break;
        case 6: memset(y, 0, 256 * sizeof(float)); y[100] = -scale; break;
        case 7: for (int i = 0; i < 256; i++) y[i] = rng_uniform(&seed) * scale; break;
        default: break;
        }
    }
}

/* Quantises x (n values, a multiple of 256) with hearth and with llama.cpp; the blocks must be
 * identical, and dequantising llama.cpp's bytes must give identical floats. */
static void compare_rows(const char *what, const float *x, int64_t n) {
    for (int t = 0; t < N_TYPES; t++) {
        const uint32_t type = k_types[t];
        const ht_type_info *ti = ht_type_get(type);
        uint64_t bytes;
        ht_row_bytes(type, (uint64_t)n, &bytes);
        uint8_t *ours = malloc(bytes), *theirs = malloc(bytes);
        float *yo = malloc(sizeof(float) * (size_t)n), *yt = malloc(sizeof(float) * (size_t)n);
        ht_quantize(type, x, ours, n);
        size_t got = L.quantize_chunk((int)type, x, theirs, 0, 1, n, NULL);
        int bad = 0, first = -1;
        for (uint64_t b = 0; b < bytes / ti->type_size; b++) {
            if (memcmp(ours + b * ti->type_size, theirs + b * ti->type_size, ti->type_size)) {
                if (first < 0) first = (int)b;
                bad++;
            }
        }
        CHECK(got == bytes && bad == 0, "%s %s: %d of %llu blocks differ from llama.cpp's (first %d)", what, ti->name, bad,
              (unsigned long long)(bytes / ti->type_size), first);
        char sym[64];
        snprintf(sym, sizeof sym, "dequantize_row_%s", ti->name);
        dequantize_row_fn deq = (dequantize_row_fn)dlsym(L.base, sym);
        CHECK(deq != NULL, "%s missing", sym);
        if (deq) {
            ht_dequantize(type, theirs, yo, n);
            deq(theirs, yt, n);
            CHECK(memcmp(yo, yt, sizeof(float) * (size_t)n) == 0, "%s %s: dequantised values differ from llama.cpp's", what,
                  ti->name);
            /* arbitrary bytes too: the layout, not only what a quantiser writes (NaN = NaN here) */
            uint64_t s = 99 + t;
            for (uint64_t i = 0; i < bytes; i++) theirs[i] = (uint8_t)rng_next(&s);
            ht_dequantize(type, theirs, yo, n);
            deq(theirs, yt, n);
            int diff = 0;
            for (int64_t i = 0; i < n; i++) diff += !(yo[i] == yt[i] || (isnan(yo[i]) && isnan(yt[i])));
            CHECK(diff == 0, "%s %s: dequantising random bytes: %d values differ from llama.cpp's", what, ti->name, diff);
        }
        free(ours);
        free(theirs);
        free(yo);
        free(yt);
    }
}

static void test_rows_random(void) {
    enum { N_SB = 90 };
    float *x = malloc(sizeof(float) * 256 * N_SB);
    make_values(x, N_SB, 12345);
    compare_rows("random", x, 256 * N_SB);
    free(x);
}

/* The fixtures' trained-at-init weights, every 2-D tensor flattened into rows of 256. */
static void test_rows_fixtures(void) {
    const char *fixtures[] = {"nemotron_h_tiny", "llama_tiny", "qwen2_tiny", "qwen3_tiny"};
    for (int f = 0; f < 4; f++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/fixtures/%s", shared_dir(), fixtures[f]);
        st_set *st = NULL;
        hearth_err e = {0};
        CHECK(st_open(dir, &st, &e) == HEARTH_OK, "%s: %s", fixtures[f], e.msg);
        if (!st) continue;
        uint64_t total = 0;
        for (size_t i = 0; i < st->n_tensors; i++)
            if (st->tensors[i].n_dims == 2) total += st->tensors[i].n_elems;
        float *x = malloc(sizeof(float) * total), *p = x;
        for (size_t i = 0; i < st->n_tensors; i++) {
            if (st->tensors[i].n_dims != 2) continue;
            CHECK(st_to_f32(&st->tensors[i], p), "%s: %s", fixtures[f], st->tensors[i].name);
            p += st->tensors[i].n_elems;
        }
        compare_rows(fixtures[f], x, (int64_t)(total / 256 * 256));
        free(x);
        st_free(st);
    }
}

/* ---- whole files: hearth convert vs llama_model_quantize of hearth's f32 file ---- */

typedef struct {
    hu_file f;
    gguf_ctx *g;
} gguf_file;

static bool open_gguf(const char *path, gguf_file *out) {
    hearth_err e = {0};
    memset(out, 0, sizeof *out);
    if (hu_file_map(path, &out->f, &e) || gguf_read(out->f.data, out->f.size, &out->g, &e)) {
        CHECK(false, "%s: %s", path, e.msg);
        hu_file_unmap(&out->f);
        return false;
    }
    return true;
}

static void close_gguf(gguf_file *f) {
    gguf_free(f->g);
    hu_file_unmap(&f->f);
}

/* The type mix of a file as "q4_K x24, q6_K x5, ...". */
static void type_mix(const gguf_ctx *g, char *buf, size_t size) {
    int count[HT_TYPE_COUNT] = {0};
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].type < HT_TYPE_COUNT) count[g->tensors[i].type]++;
    size_t n = 0;
    buf[0] = 0;
    for (int t = 0; t < HT_TYPE_COUNT && n < size; t++)
        if (count[t]) n += (size_t)snprintf(buf + n, size - n, "%s%s x%d", n ? ", " : "", ht_type_get((uint32_t)t)->name, count[t]);
}

static const struct {
    const char *name;
    int llama_ftype; /* llama.cpp's LLAMA_FTYPE_MOSTLY_* */
} k_formats[] = {{"q4_k_m", 15}, {"q5_k_m", 17}, {"q6_k", 18}};

/* model: a fixture folder (random = false) or a config for random weights. */
static void compare_file(const char *label, const char *model, bool random) {
    char f32[1200], ours[1200], theirs[1200];
    snprintf(f32, sizeof f32, "%s/kq-%s-f32.gguf", tmp_dir(), label);
    hconv_options o = {.quiet = true, .seed = 7};
    hearth_err e = {0};
    hearth_status st = random ? hconv_random_weights(model, f32, &o, &e) : hconv_convert(model, f32, &o, &e);
    CHECK(st == HEARTH_OK, "%s f32: %s", label, e.msg);
    if (st) return;
    for (size_t k = 0; k < sizeof k_formats / sizeof k_formats[0]; k++) {
        snprintf(ours, sizeof ours, "%s/kq-%s-%s.gguf", tmp_dir(), label, k_formats[k].name);
        snprintf(theirs, sizeof theirs, "%s/kq-%s-%s-llamacpp.gguf", tmp_dir(), label, k_formats[k].name);
        CHECK(hconv_parse_type(k_formats[k].name, &o.type, &o.mix), "parse %s", k_formats[k].name);
        st = random ? hconv_random_weights(model, ours, &o, &e) : hconv_convert(model, ours, &o, &e);
        CHECK(st == HEARTH_OK, "%s %s: %s", label, k_formats[k].name, e.msg);
        quantize_params p = L.default_params();
        p.nthread = 1;
        p.ftype = k_formats[k].llama_ftype;
        uint32_t rc = L.model_quantize(f32, theirs, &p);
        CHECK(rc == 0, "%s %s: llama_model_quantize failed (%u)", label, k_formats[k].name, rc);
        gguf_file a, b;
        if (st || rc || !open_gguf(ours, &a)) continue;
        if (!open_gguf(theirs, &b)) {
            close_gguf(&a);
            continue;
        }
        int wrong_type = 0, wrong_bytes = 0;
        CHECK(a.g->n_tensors == b.g->n_tensors, "%s %s: %llu tensors vs llama.cpp's %llu", label, k_formats[k].name,
              (unsigned long long)a.g->n_tensors, (unsigned long long)b.g->n_tensors);
        for (uint64_t i = 0; i < a.g->n_tensors; i++) {
            const gguf_tensor *ta = &a.g->tensors[i], *tb = gguf_find_tensor(b.g, ta->name);
            if (!tb || ta->type != tb->type) {
                if (wrong_type++ < 3)
                    fprintf(stderr, "  %s %s: %s is %s, llama.cpp made %s\n", label, k_formats[k].name, ta->name,
                            ht_type_get(ta->type)->name, tb ? ht_type_get(tb->type)->name : "nothing");
                continue;
            }
            wrong_bytes += ta->nbytes != tb->nbytes || memcmp(ta->data, tb->data, ta->nbytes) != 0;
        }
        char mix[256];
        type_mix(a.g, mix, sizeof mix);
        printf("%-16s %-7s %s\n", label, k_formats[k].name, mix);
        CHECK(wrong_type == 0, "%s %s: %d tensors got another type than llama.cpp gives them", label, k_formats[k].name,
              wrong_type);
        CHECK(wrong_bytes == 0, "%s %s: %d tensors differ from llama.cpp's bytes", label, k_formats[k].name, wrong_bytes);
        close_gguf(&a);
        close_gguf(&b);
    }
}

static void test_files(void) {
    const char *fixtures[] = {"nemotron_h_tiny", "llama_tiny", "qwen2_tiny", "qwen3_tiny"};
    for (int f = 0; f < 4; f++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/fixtures/%s", shared_dir(), fixtures[f]);
        compare_file(fixtures[f], dir, false);
    }
    /* models whose rows are multiples of 256, so that the k-quants themselves apply */
    const char *configs[] = {"llama_k", "qwen3_k", "nemotron_h_k"};
    for (int c = 0; c < 3; c++) {
        char cfg[256];
        snprintf(cfg, sizeof cfg, "tests/data/kquant/%s.config.json", configs[c]);
        compare_file(configs[c], cfg, true);
    }
}

int main(void) {
    if (open_llamacpp()) {
        test_rows_random();
        test_rows_fixtures();
        test_files();
    }
    return check_summary("quant_llamacpp");
}
