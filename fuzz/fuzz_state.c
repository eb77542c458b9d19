/* fuzz_state.c - libFuzzer target: arbitrary bytes restored as a saved session state (browsers keep these in OPFS), then the session evaluates and saves again.
 *
 * The model is the tiny seed model fuzz/seeds.mjs writes (build/fuzz/seeds/model/nemotron-micro-q8_0.gguf,
 * or $HEARTH_FUZZ_MODEL): every byte of a state of it can be mutated at useful speed. */
#include "fuzz_common.h"
#include "hearth.h"

static hearth_model *model;
static hearth_session *sess;
static float *logits;

/* Saves the session's state as seed file dir/name. */
static void save_seed(const char *dir, const char *name) {
    size_t len = 0;
    hearth_session_save(sess, NULL, 0, &len);
    uint8_t *buf = malloc(len);
    hearth_session_save(sess, buf, len, &len);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(buf, 1, len, f);
        fclose(f);
    }
    free(buf);
}

/* With $HEARTH_FUZZ_STATE_SEEDS set: writes states to start from (empty, after a chat turn, after
 * raw tokens) into that folder. */
static void write_seeds(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return;
    save_seed(dir, "empty");
    hearth_message msg = {"user", "Hello there"};
    hearth_chat_options co = hearth_chat_default_options();
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = 4;
    if (hearth_session_chat_begin(sess, &msg, 1, &co, &gp) == HEARTH_OK) {
        char piece[64];
        size_t n;
        int32_t t;
        bool done = false;
        while (!done && hearth_session_generate_next(sess, piece, sizeof piece, &n, &t, &done) == HEARTH_OK) {
        }
    }
    save_seed(dir, "chat");
    int32_t toks[3] = {5, 6, 7};
    hearth_session_eval(sess, toks, 3, logits, HEARTH_LOGITS_LAST);
    save_seed(dir, "raw");
    hearth_session_reset(sess);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *path = getenv("HEARTH_FUZZ_MODEL");
    if (!path) path = "build/fuzz/seeds/model/nemotron-micro-q8_0.gguf";
    char err[256];
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 1;
    if (hearth_model_load(path, &mp, &model, err, sizeof err) != HEARTH_OK) {
        fprintf(stderr, "fuzz_state: %s: %s (run fuzz/seeds.mjs first)\n", path, err);
        exit(1);
    }
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = 64;
    if (hearth_session_new(model, &sp, &sess, err, sizeof err) != HEARTH_OK) {
        fprintf(stderr, "fuzz_state: session: %s\n", err);
        exit(1);
    }
    logits = malloc(sizeof(float) * (size_t)hearth_model_n_vocab(model));
    const char *seeds = getenv("HEARTH_FUZZ_STATE_SEEDS");
    if (seeds) write_seeds(seeds);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hearth_session_reset(sess);
    if (hearth_session_load(sess, data, size) != HEARTH_OK) {
        FUZZ_ASSERT(hearth_session_error(sess)[0] != 0, "a failed restore has no message");
        return 0;
    }
    /* A restored state saves back at the same size, and that saving restores and saves identically
     * (padding and flag bytes are normalised, so the first save may differ from the input). */
    size_t len = 0;
    hearth_session_save(sess, NULL, 0, &len);
    FUZZ_ASSERT(len == size, "restored state saves as %zu bytes, not %zu", len, size);
    uint8_t *a = malloc(len), *b = malloc(len);
    FUZZ_ASSERT(hearth_session_save(sess, a, len, &len) == HEARTH_OK, "save");
    hearth_session_reset(sess);
    FUZZ_ASSERT(hearth_session_load(sess, a, len) == HEARTH_OK, "a saved state does not restore: %s", hearth_session_error(sess));
    FUZZ_ASSERT(hearth_session_save(sess, b, len, &len) == HEARTH_OK && memcmp(a, b, len) == 0, "save/restore/save differs");
    free(a);
    free(b);
    int32_t tok = 1;
    if (hearth_session_n_past(sess) < 64) (void)hearth_session_eval(sess, &tok, 1, logits, HEARTH_LOGITS_LAST);
    hearth_message msg = {"user", "hi"};
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = 2;
    hearth_chat_options co = hearth_chat_default_options();
    if (hearth_session_chat_begin(sess, &msg, 1, &co, &gp) == HEARTH_OK) {
        char piece[64];
        size_t n;
        int32_t t;
        bool done = false;
        for (int i = 0; i < 3 && !done; i++)
            if (hearth_session_generate_next(sess, piece, sizeof piece, &n, &t, &done) != HEARTH_OK) break;
    }
    return 0;
}
