/* test_weights_copy.c - a model copied to huge pages holds the file's bytes (Q4_0 matrices repacked for AVX-512 read back as them) and computes the same logits as the mapped one. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu_kernels.h"
#include "hearth.h"
#include "model.h"
#include "quant.h"
#include "util.h"

/* Loads `path` with the given weights mode and number of threads; NULL (and a failed check) on error. */
static hearth_model *load(const char *path, hearth_weights_mode mode) {
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 2;
    mp.weights = mode;
    hearth_model *m = NULL;
    char err[600];
    CHECK(hearth_model_load(path, &mp, &m, err, sizeof err) == HEARTH_OK, "load %s (mode %d): %s", path, (int)mode, err);
    return m;
}

/* Logits of the last token after evaluating `tokens` (caller frees). */
static float *last_logits(hearth_model *m, const int32_t *tokens, int n) {
    const int V = hearth_model_n_vocab(m);
    float *logits = calloc((size_t)V, sizeof(float));
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = 64;
    hearth_session *s = NULL;
    char err[600];
    CHECK(hearth_session_new(m, &sp, &s, err, sizeof err) == HEARTH_OK, "session: %s", err);
    if (s) CHECK(hearth_session_eval(s, tokens, n, logits, HEARTH_LOGITS_LAST) == HEARTH_OK, "eval: %s", hearth_session_error(s));
    hearth_session_free(s);
    return logits;
}

/* The copy holds the file's bytes, except the matrices repacked into the x16 layout, whose rows
 * read back as the mapped model's. Returns how many matrices were repacked; *n_q4_0 = how many are Q4_0. */
static int check_copy_bytes(hearth_model *mapped, hearth_model *copied, int *n_q4_0) {
    static hm_weight *wm[HM_MAX_MATMUL_WEIGHTS], *wc[HM_MAX_MATMUL_WEIGHTS];
    const int n = hm_matmul_weights(mapped, wm);
    hm_matmul_weights(copied, wc);
    uint8_t *bytes = malloc(copied->file.size);
    memcpy(bytes, copied->file.data, copied->file.size);
    int repacked = 0, bad_rows = 0, mapped_repacked = 0;
    *n_q4_0 = 0;
    for (int i = 0; i < n; i++) {
        *n_q4_0 += wm[i]->data && wm[i]->type == HT_Q4_0;
        mapped_repacked += wm[i]->layout != HM_LAYOUT_ROWS;
        if (wc[i]->layout != HM_LAYOUT_Q4_0_X16 || wm[i]->layout != HM_LAYOUT_ROWS) continue;
        repacked++;
        uint8_t *row = malloc(wc[i]->row_bytes);
        for (uint64_t r = 0; r < wc[i]->ne[1]; r++)
            if (memcmp(hm_weight_row(wc[i], r, row), hm_weight_row(wm[i], r, NULL), wc[i]->row_bytes) != 0) bad_rows++;
        free(row);
        const size_t off = (size_t)((const uint8_t *)wc[i]->data - copied->file.data);
        memcpy(bytes + off, (const uint8_t *)wm[i]->data, wc[i]->ne[1] * wc[i]->row_bytes); /* as the file has it */
    }
    CHECK(mapped_repacked == 0, "%d matrices of a mapped file were repacked", mapped_repacked);
    CHECK(bad_rows == 0, "%d rows of repacked matrices differ from the file's", bad_rows);
    CHECK(!memcmp(mapped->file.data, bytes, mapped->file.size), "the copy differs from the file outside the repacked matrices");
    free(bytes);
    return repacked;
}

/* Loads `path` mapped and copied: same bytes (check_copy_bytes), same logits bit for bit. */
static void compare_modes(const char *path) {
    hearth_model *mapped = load(path, HEARTH_WEIGHTS_MMAP);
    hearth_model *copied = load(path, HEARTH_WEIGHTS_COPY);
    if (!mapped || !copied) {
        hearth_model_free(mapped);
        hearth_model_free(copied);
        return;
    }
    CHECK(!strcmp(hearth_model_weights(mapped), "mmap"), "mapped model reports %s", hearth_model_weights(mapped));
    CHECK(!strcmp(hearth_model_weights(copied), "copy"), "copied model reports %s", hearth_model_weights(copied));
    CHECK(mapped->file.size == copied->file.size && mapped->file.size == hu_file_size(path), "sizes %zu, %zu, file %llu",
          mapped->file.size, copied->file.size, (unsigned long long)hu_file_size(path));
    /* Q4_0 matrices are repacked in a copy exactly when the picked kernel table wants it; never in a mapping */
    hk_kernels kt;
    int q4_0;
    const int repacked = check_copy_bytes(mapped, copied, &q4_0);
    CHECK(repacked == (hk_pick(&kt)->repack_q4_0 ? q4_0 : 0), "%s: %d matrices repacked of %d Q4_0 (%s table)", path,
          repacked, q4_0, kt.name);
    CHECK(((uintptr_t)copied->file.data & ((2u << 20) - 1)) == 0, "the copy does not start on a 2 MiB boundary");
    /* weights are views into the copy, not into some mapping of the file */
    const uint8_t *w = copied->output.data;
    CHECK(w >= copied->file.data && w < copied->file.data + copied->file.size, "output.weight points outside the copy");

    const int32_t tokens[] = {1, 17, 42, 5, 99, 3, 250, 7};
    const int n = (int)(sizeof tokens / sizeof tokens[0]), V = hearth_model_n_vocab(mapped);
    float *a = last_logits(mapped, tokens, n), *b = last_logits(copied, tokens, n);
    CHECK(a && b && !memcmp(a, b, sizeof(float) * (size_t)V), "%s: logits differ between the mapped and the copied model", path);
    int nonzero = 0;
    for (int i = 0; a && i < V; i++) nonzero += a[i] != 0.0f;
    CHECK(nonzero > V / 2, "only %d of %d logits are non-zero", nonzero, V);
    free(a);
    free(b);
    hearth_model_free(mapped);
    hearth_model_free(copied);
}

int main(void) {
    const char *path = getenv("HEARTH_DEMO_MODEL") ? getenv("HEARTH_DEMO_MODEL") : "models/demo-q8_0.gguf";
    compare_modes(path);
    compare_modes("models/demo-q4_0.gguf"); /* repacked on AVX-512 machines */

    /* auto mode follows $HEARTH_WEIGHTS; without it a small file (< 1 GiB) stays mapped */
    setenv("HEARTH_WEIGHTS", "copy", 1);
    hearth_model *m = load(path, HEARTH_WEIGHTS_AUTO);
    CHECK(m && !strcmp(hearth_model_weights(m), "copy"), "HEARTH_WEIGHTS=copy gave %s", m ? hearth_model_weights(m) : "-");
    hearth_model_free(m);
    setenv("HEARTH_WEIGHTS", "mmap", 1);
    m = load(path, HEARTH_WEIGHTS_AUTO);
    CHECK(m && !strcmp(hearth_model_weights(m), "mmap"), "HEARTH_WEIGHTS=mmap gave %s", m ? hearth_model_weights(m) : "-");
    hearth_model_free(m);
    setenv("HEARTH_WEIGHTS", "mmap", 1); /* an explicit mode wins over the environment */
    m = load(path, HEARTH_WEIGHTS_COPY);
    CHECK(m && !strcmp(hearth_model_weights(m), "copy"), "explicit copy under HEARTH_WEIGHTS=mmap gave %s",
          m ? hearth_model_weights(m) : "-");
    hearth_model_free(m);
    unsetenv("HEARTH_WEIGHTS");
    if (hu_file_size(path) < (1ull << 30)) {
        m = load(path, HEARTH_WEIGHTS_AUTO);
        CHECK(m && !strcmp(hearth_model_weights(m), "mmap"), "auto on a %llu-byte file gave %s",
              (unsigned long long)hu_file_size(path), m ? hearth_model_weights(m) : "-");
        hearth_model_free(m);
    }

    /* a missing file fails the same way in both modes */
    hearth_model_params mp = hearth_model_default_params();
    mp.weights = HEARTH_WEIGHTS_COPY;
    char err[600] = "";
    m = NULL;
    CHECK(hearth_model_load("tests/no-such-model.gguf", &mp, &m, err, sizeof err) == HEARTH_ERR_IO && !m,
          "copying a missing file: %s", err);
    return check_summary("weights_copy");
}
