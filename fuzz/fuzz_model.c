/* fuzz_model.c - libFuzzer target: a whole model file from memory (hparams, weights, tokenizer, template), then a session on it that evaluates, tokenizes, renders and generates. */
#include "fuzz_common.h"
#include "hearth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hearth_model *m = NULL;
    char err[256] = "";
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 1;
    if (hearth_model_load_memory(data, size, &mp, &m, err, sizeof err) != HEARTH_OK) {
        FUZZ_ASSERT(m == NULL, "a failed load returned a model");
        FUZZ_ASSERT(err[0] != 0, "a failed load has no message");
        return 0;
    }
    const int V = hearth_model_n_vocab(m);
    FUZZ_ASSERT(V > 0, "n_vocab %d", V);
    (void)hearth_model_arch(m);
    (void)hearth_model_n_ctx_train(m);

    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = 16;
    hearth_session *s = NULL;
    if (hearth_session_new(m, &sp, &s, err, sizeof err) == HEARTH_OK) {
        float *logits = malloc(sizeof(float) * (size_t)V);
        int32_t toks[3] = {0, V - 1, V / 2};
        (void)hearth_session_eval(s, toks, 3, logits, HEARTH_LOGITS_LAST);
        int32_t bad = V;
        FUZZ_ASSERT(hearth_session_eval(s, &bad, 1, logits, HEARTH_LOGITS_LAST) != HEARTH_OK, "token id n_vocab accepted");
        hearth_session_reset(s);

        /* text: tokenizer and chat template from the file */
        static const char text[] = "Hi <|im_start|>user\n\xe2\x82\xac\xf0\x9f\x98\x80 <think> 42";
        int32_t ids[128];
        size_t n = 0;
        if (hearth_tokenize(m, text, sizeof text - 1, true, ids, 128, &n) == HEARTH_OK) {
            for (size_t i = 0; i < n; i++) {
                FUZZ_ASSERT(ids[i] >= 0 && ids[i] < V, "tokenize gave id %d of %d", ids[i], V);
                char piece[64];
                size_t len;
                (void)hearth_token_to_piece(m, ids[i], piece, sizeof piece, &len);
            }
        }
        hearth_message msgs[2] = {{"system", "Be brief."}, {"user", "Hello"}};
        hearth_chat_options co = hearth_chat_default_options();
        size_t need = 0;
        (void)hearth_chat_render(m, msgs, 2, &co, NULL, 0, &need, err, sizeof err);

        /* a few tokens of generation through the chat path */
        hearth_gen_params gp = hearth_gen_default_params();
        gp.max_tokens = 3;
        gp.temperature = 0;
        if (hearth_session_chat_begin(s, msgs, 2, &co, &gp) == HEARTH_OK) {
            bool done = false;
            for (int i = 0; i < 4 && !done; i++) {
                char piece[64];
                size_t len;
                int32_t t;
                if (hearth_session_generate_next(s, piece, sizeof piece, &len, &t, &done) != HEARTH_OK) break;
            }
        }
        free(logits);
        hearth_session_free(s);
    }
    hearth_model_free(m);
    return 0;
}
