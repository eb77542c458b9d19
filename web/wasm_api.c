/* wasm_api.c - the C side of the browser build: a small handle-based ABI over hearth.h for web/engine.js. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hearth.h"
#include "wasm_pack.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#else
#define EMSCRIPTEN_KEEPALIVE
#endif

#define HW_API EMSCRIPTEN_KEEPALIVE

/* Everything one JS engine object needs, so nothing lives in globals. Results of a call are kept
 * here and read by JS right after the call (text, ids, piece, state blob); JS never frees them. */
typedef struct {
    hearth_model *model;
    void *model_data; /* the GGUF image, owned here; hearth_model borrows it */
    hearth_session *session;
    char err[512];
    int32_t *ids; /* tokens of the last hw_generate_begin prompt [cap_ids] */
    size_t cap_ids;
    char *text; /* last saved state [text_len] */
    size_t text_len, text_cap;
    char piece[4096]; /* last generated piece [piece_len] */
    size_t piece_len;
    int32_t token;
    int done;
    int n_reused; /* prompt tokens the session already held at the last begin */
    char **stops; /* owned copies of the stop strings of the generation in progress */
    size_t n_stop;
} hw_engine;

static int fail(hw_engine *e, hearth_status st, const char *msg) {
    strncpy(e->err, msg, sizeof e->err - 1);
    e->err[sizeof e->err - 1] = 0;
    return (int)st;
}

static int reserve_text(hw_engine *e, size_t n) {
    if (n <= e->text_cap) return 1;
    char *p = realloc(e->text, n);
    if (!p) return 0;
    e->text = p;
    e->text_cap = n;
    return 1;
}

static int reserve_ids(hw_engine *e, size_t n) {
    if (n <= e->cap_ids) return 1;
    int32_t *p = realloc(e->ids, n * sizeof *p);
    if (!p) return 0;
    e->ids = p;
    e->cap_ids = n;
    return 1;
}

static void free_stops(hw_engine *e) {
    for (size_t i = 0; i < e->n_stop; i++) free(e->stops[i]);
    free(e->stops);
    e->stops = NULL;
    e->n_stop = 0;
}

HW_API hw_engine *hw_new(void) { return calloc(1, sizeof(hw_engine)); }

HW_API void hw_unload(hw_engine *e) {
    if (!e) return;
    hearth_session_free(e->session);
    hearth_model_free(e->model);
    free(e->model_data);
    e->session = NULL;
    e->model = NULL;
    e->model_data = NULL;
}

HW_API void hw_free(hw_engine *e) {
    if (!e) return;
    hw_unload(e);
    free_stops(e);
    free(e->ids);
    free(e->text);
    free(e);
}

HW_API const char *hw_error(hw_engine *e) { return e->err; }

/* Loads a GGUF image. `data` was allocated with malloc by the caller; ownership passes to `e` in
 * every case (it is freed here on failure). Opens one session with n_ctx (0 = default). */
HW_API int hw_load(hw_engine *e, void *data, size_t size, int n_threads, int n_ctx, uint32_t seed) {
    hw_unload(e);
    e->err[0] = 0;
    e->model_data = data;
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = n_threads;
    hearth_status st = hearth_model_load_memory(data, size, &mp, &e->model, e->err, sizeof e->err);
    if (st == HEARTH_OK) {
        hearth_session_params sp = hearth_session_default_params();
        sp.n_ctx = n_ctx;
        sp.seed = seed;
        st = hearth_session_new(e->model, &sp, &e->session, e->err, sizeof e->err);
    }
    if (st != HEARTH_OK) hw_unload(e);
    return (int)st;
}

HW_API int hw_n_vocab(hw_engine *e) { return e->model ? hearth_model_n_vocab(e->model) : 0; }
HW_API int hw_n_ctx_train(hw_engine *e) { return e->model ? hearth_model_n_ctx_train(e->model) : 0; }
HW_API const char *hw_arch(hw_engine *e) { return e->model ? hearth_model_arch(e->model) : ""; }
HW_API int hw_n_past(hw_engine *e) { return e->session ? hearth_session_n_past(e->session) : 0; }
HW_API int hw_n_reused(hw_engine *e) { return e->n_reused; }
/* 1 while the conversation is inside a reasoning block: right after hw_chat_begin, whether the reply starts with reasoning. */
HW_API int hw_chat_reasoning(hw_engine *e) { return e->session && hearth_session_chat_reasoning(e->session); }

HW_API const char *hw_text(hw_engine *e) { return e->text; }
HW_API size_t hw_text_len(hw_engine *e) { return e->text_len; }

/* Sets the stop strings ("s1\0s2\0...", copied here) and the sampling parameters of a generation. */
static int gen_params(hw_engine *e, hearth_gen_params *gp, int max_tokens, float temperature, int top_k, float top_p,
                      float min_p, float repetition_penalty, const char *stops_packed, int n_stop) {
    free_stops(e);
    int copied;
    const bool ok = hw_unpack_strings(stops_packed, n_stop, &e->stops, &copied);
    e->n_stop = (size_t)copied;
    if (!ok) return fail(e, HEARTH_ERR_NOMEM, "out of memory");
    *gp = hearth_gen_default_params();
    gp->max_tokens = max_tokens;
    gp->temperature = temperature;
    gp->top_k = top_k;
    gp->top_p = top_p;
    gp->min_p = min_p;
    gp->repetition_penalty = repetition_penalty;
    gp->stop = (const char *const *)e->stops;
    gp->n_stop = e->n_stop;
    return HEARTH_OK;
}

/* Prompt tokens of the last begin that the session already held (not evaluated again). */
static void count_reused(hw_engine *e) {
    hearth_stats st;
    hearth_session_stats(e->session, &st);
    int held = hearth_session_n_past(e->session) - st.n_prefill;
    e->n_reused = held > 0 ? held : 0;
}

/* Continues the conversation: `n_msgs` messages packed as "role\0content\0role\0content\0...",
 * rendered with the model's chat template; what the session already holds is not evaluated
 * again (hearth_session_chat_begin). thinking: -1 template default, 0 off, 1 on. */
HW_API int hw_chat_begin(hw_engine *e, const char *packed, int n_msgs, int thinking, int max_tokens, float temperature,
                         int top_k, float top_p, float min_p, float repetition_penalty, const char *stops_packed,
                         int n_stop) {
    if (!e->session) return fail(e, HEARTH_ERR_INVALID_ARG, "no model loaded");
    if (n_msgs <= 0 || n_msgs > 100000) return fail(e, HEARTH_ERR_INVALID_ARG, "bad message count");
    e->err[0] = 0;
    e->done = 0;
    hearth_gen_params gp;
    int st = gen_params(e, &gp, max_tokens, temperature, top_k, top_p, min_p, repetition_penalty, stops_packed, n_stop);
    if (st != HEARTH_OK) return st;
    hearth_message *msgs = hw_unpack_messages(packed, n_msgs);
    if (!msgs) return fail(e, HEARTH_ERR_NOMEM, "out of memory");
    hearth_chat_options co = hearth_chat_default_options();
    co.enable_thinking = thinking;
    st = hearth_session_chat_begin(e->session, msgs, (size_t)n_msgs, &co, &gp);
    free(msgs);
    if (st != HEARTH_OK) return fail(e, st, hearth_session_error(e->session));
    count_reused(e);
    return HEARTH_OK;
}

/* Starts generating after a raw text prompt (special tokens parsed), from an empty session. */
HW_API int hw_generate_begin(hw_engine *e, const char *prompt, size_t len, int max_tokens, float temperature,
                             int top_k, float top_p, float min_p, float repetition_penalty, const char *stops_packed,
                             int n_stop) {
    if (!e->session) return fail(e, HEARTH_ERR_INVALID_ARG, "no model loaded");
    e->err[0] = 0;
    e->done = 0;
    hearth_gen_params gp;
    int st = gen_params(e, &gp, max_tokens, temperature, top_k, top_p, min_p, repetition_penalty, stops_packed, n_stop);
    if (st != HEARTH_OK) return st;
    size_t n = 0;
    st = hearth_tokenize(e->model, prompt, len, true, e->ids, e->cap_ids, &n);
    if ((st == HEARTH_OK || st == HEARTH_ERR_INVALID_ARG) && n > e->cap_ids) { /* that call only sized */
        if (!reserve_ids(e, n)) return fail(e, HEARTH_ERR_NOMEM, "out of memory");
        st = hearth_tokenize(e->model, prompt, len, true, e->ids, e->cap_ids, &n);
    }
    if (st != HEARTH_OK) return fail(e, st, "tokenizing the prompt failed");
    if (n == 0) return fail(e, HEARTH_ERR_INVALID_ARG, "empty prompt");
    hearth_session_reset(e->session);
    st = hearth_session_generate_begin(e->session, e->ids, (int)n, &gp);
    if (st != HEARTH_OK) return fail(e, st, hearth_session_error(e->session));
    e->n_reused = 0;
    return HEARTH_OK;
}

/* One step: the piece is at hw_piece / hw_piece_len, the sampled id at hw_token, hw_done says whether
 * the generation ended. */
HW_API int hw_generate_next(hw_engine *e) {
    if (!e->session) return fail(e, HEARTH_ERR_INVALID_ARG, "no model loaded");
    bool done = false;
    e->piece_len = 0;
    e->token = -1;
    hearth_status st =
        hearth_session_generate_next(e->session, e->piece, sizeof e->piece, &e->piece_len, &e->token, &done);
    if (e->piece_len > sizeof e->piece) e->piece_len = 0;
    e->done = done;
    if (st != HEARTH_OK) return fail(e, st, hearth_session_error(e->session));
    return HEARTH_OK;
}

HW_API const char *hw_piece(hw_engine *e) { return e->piece; }
HW_API size_t hw_piece_len(hw_engine *e) { return e->piece_len; }
HW_API int32_t hw_token(hw_engine *e) { return e->token; }
HW_API int hw_done(hw_engine *e) { return e->done; }

/* Writes [n_prefill, n_decode, prefill_seconds, decode_seconds] into out[4]. */
HW_API void hw_stats(hw_engine *e, double *out) {
    hearth_stats s = {0};
    if (e->session) hearth_session_stats(e->session, &s);
    out[0] = s.n_prefill;
    out[1] = s.n_decode;
    out[2] = s.prefill_seconds;
    out[3] = s.decode_seconds;
}

HW_API void hw_reset(hw_engine *e) {
    if (e->session) hearth_session_reset(e->session);
}

/* Serialises the session; the bytes are at hw_text / hw_text_len. */
HW_API int hw_save(hw_engine *e) {
    if (!e->session) return fail(e, HEARTH_ERR_INVALID_ARG, "no model loaded");
    size_t len = 0;
    hearth_status st = hearth_session_save(e->session, NULL, 0, &len);
    if (st != HEARTH_OK && st != HEARTH_ERR_INVALID_ARG) return fail(e, st, hearth_session_error(e->session));
    if (!reserve_text(e, len ? len : 1)) return fail(e, HEARTH_ERR_NOMEM, "out of memory");
    st = hearth_session_save(e->session, e->text, e->text_cap, &len);
    if (st != HEARTH_OK) return fail(e, st, hearth_session_error(e->session));
    e->text_len = len;
    return HEARTH_OK;
}

HW_API int hw_restore(hw_engine *e, const void *buf, size_t size) {
    if (!e->session) return fail(e, HEARTH_ERR_INVALID_ARG, "no model loaded");
    hearth_status st = hearth_session_load(e->session, buf, size);
    if (st != HEARTH_OK) return fail(e, st, hearth_session_error(e->session));
    return HEARTH_OK;
}
