/* test_weights_copy.c - a model copied to huge pages holds the file's exact bytes and computes the same logits as the mapped one. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hearth.h"
#include "model.h"
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

int main(void) {
    const char *path = getenv("HEARTH_DEMO_MODEL") ? getenv("HEARTH_DEMO_MODEL") : "models/demo-q8_0.gguf";
    hearth_model *mapped = load(path, HEARTH_WEIGHTS_MMAP);
    hearth_model *copied = load(path, HEARTH_WEIGHTS_COPY);
    if (!mapped || !copied) return check_summary("weights_copy");

    CHECK(!strcmp(hearth_model_weights(mapped), "mmap"), "mapped model reports %s", hearth_model_weights(mapped));
    CHECK(!strcmp(hearth_model_weights(copied), "copy"), "copied model reports %s", hearth_model_weights(copied));
    CHECK(mapped->file.size == copied->file.size && mapped->file.size == hu_file_size(path), "sizes %zu, %zu, file %llu",
          mapped->file.size, copied->file.size, (unsigned long long)hu_file_size(path));
    CHECK(!memcmp(mapped->file.data, copied->file.data, mapped->file.size), "the copy differs from the file");
    CHECK(((uintptr_t)copied->file.data & ((2u << 20) - 1)) == 0, "the copy does not start on a 2 MiB boundary");
    /* weights are views into the copy, not into some mapping of the file */
    const uint8_t *w = copied->output.data;
    CHECK(w >= copied->file.data && w < copied->file.data + copied->file.size, "output.weight points outside the copy");

    const int32_t tokens[] = {1, 17, 42, 5, 99, 3, 250, 7};
    const int n = (int)(sizeof tokens / sizeof tokens[0]), V = hearth_model_n_vocab(mapped);
    float *a = last_logits(mapped, tokens, n), *b = last_logits(copied, tokens, n);
    CHECK(a && b && !memcmp(a, b, sizeof(float) * (size_t)V), "logits differ between the mapped and the copied model");
    int nonzero = 0;
    for (int i = 0; a && i < V; i++) nonzero += a[i] != 0.0f;
    CHECK(nonzero > V / 2, "only %d of %d logits are non-zero", nonzero, V);
    free(a);
    free(b);
    hearth_model_free(mapped);
    hearth_model_free(copied);

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
