/* wasm_bench.c - `hearth bench`'s timed run (token-id prefill, then greedy decode) exported from the wasm build for tools/bench/browser.mjs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hearth.h"
#include "util.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#define HB_API EMSCRIPTEN_KEEPALIVE
#else
#define HB_API
#endif

/* One model, one session and the logits buffer of the bench; nothing global. */
typedef struct {
    void *data; /* the GGUF image (malloc'ed by the caller, owned here) */
    hearth_model *model;
    hearth_session *session;
    float *logits; /* [n_vocab] */
    int n_vocab;
    char err[512];
} hb_bench;

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

/* Frees everything (NULL is fine). */
HB_API void hb_close(hb_bench *b) {
    if (!b) return;
    hearth_session_free(b->session);
    hearth_model_free(b->model);
    free(b->data);
    free(b->logits);
    free(b);
}

/* Message of the last failure; "" if none. Borrowed, valid until the next call. */
HB_API const char *hb_error(const hb_bench *b) { return b->err; }
HB_API int hb_n_vocab(const hb_bench *b) { return b->n_vocab; }
HB_API const char *hb_arch(const hb_bench *b) { return b->model ? hearth_model_arch(b->model) : ""; }

/* Loads a GGUF image (`data`, malloc'ed; ownership passes here in every case) with n_threads and
 * opens a session of n_ctx tokens. Returns NULL only when out of memory; otherwise check
 * hb_n_vocab() > 0, and hb_error() on failure; free with hb_close(). */
HB_API hb_bench *hb_open(void *data, size_t size, int n_threads, int n_ctx) {
    hb_bench *b = calloc(1, sizeof *b);
    if (!b) {
        free(data);
        return NULL;
    }
    b->data = data;
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = n_threads;
    if (hearth_model_load_memory(data, size, &mp, &b->model, b->err, sizeof b->err) != HEARTH_OK) return b;
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = n_ctx;
    if (hearth_session_new(b->model, &sp, &b->session, b->err, sizeof b->err) != HEARTH_OK) return b;
    const int V = hearth_model_n_vocab(b->model);
    b->logits = malloc(sizeof(float) * (size_t)V);
    if (!b->logits) {
        strcpy(b->err, "out of memory for the logits");
        return b;
    }
    b->n_vocab = V;
    return b;
}

/* One run as cli/bench.c times it: reset, prefill the n_prompt tokens in one call (logits of the
 * last), then n_gen greedy steps of one token each. out[0], out[1]: wall seconds of the prefill
 * and of the decode steps; generated[n_gen] (caller's, may be NULL): the greedy tokens fed back.
 * Returns a hearth_status (0 = OK). */
HB_API int hb_run(hb_bench *b, const int32_t *prompt, int n_prompt, int n_gen, double *out, int32_t *generated) {
    if (!b->n_vocab) return HEARTH_ERR_INVALID_ARG;
    hearth_session_reset(b->session);
    const double t0 = hu_now();
    hearth_status st = hearth_session_eval(b->session, prompt, n_prompt, b->logits, HEARTH_LOGITS_LAST);
    const double t1 = hu_now();
    for (int i = 0; st == HEARTH_OK && i < n_gen; i++) {
        int32_t tok = argmax(b->logits, b->n_vocab);
        if (generated) generated[i] = tok;
        st = hearth_session_eval(b->session, &tok, 1, b->logits, HEARTH_LOGITS_LAST);
    }
    out[0] = t1 - t0;
    out[1] = hu_now() - t1;
    if (st != HEARTH_OK) {
        strncpy(b->err, hearth_session_error(b->session), sizeof b->err - 1);
        b->err[sizeof b->err - 1] = 0;
    }
    return (int)st;
}
