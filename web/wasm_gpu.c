/* wasm_gpu.c - the browser build's WebGPU engine: a model read from its header alone, the hg_session planner (src/webgpu/gpu.h) and chat text around it, for web/engine-gpu.js. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "hearth.h"
#include "model.h"
#include "session.h"
#include "util.h"
#include "webgpu/gpu.h"
#include "wasm_pack.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#else
#define EMSCRIPTEN_KEEPALIVE
#endif

#define HWG_API EMSCRIPTEN_KEEPALIVE

/* Loading, as web/engine-gpu.js does it:
 *   hwg_header(prefix)      until the header parses (JS reads a longer prefix while it does not)
 *   hwg_ranges()            the small tensors (norms, biases, conv, A, D) whose bytes the engine
 *                           converts itself: JS reads each file range into the heap block named
 *   hwg_open(device facts)  the model (matrices without their bytes), a session and the GPU plan;
 *                           JS then streams the matrices from storage into GPU buffers (loadPlan)
 * The weight matrices never enter the wasm heap. The CPU fallback needs them: when the device is
 * lost, JS reads the whole file into the heap and hwg_cpu_weights swaps the session onto a full
 * model before hg_gen_lost replays the conversation on the CPU. */
typedef struct {
    char err[512];
    gguf_ctx *gguf;           /* the parsed header until hwg_open hands it to the model */
    uint8_t *small;           /* bytes of the small tensors (the model's f32 copies are made from these) */
    uint8_t *stand_in;        /* one distinct non-NULL address per matrix (never read) */
    double *ranges;           /* [n_ranges][3]: file offset, bytes, heap address */
    int n_ranges;
    hearth_model *model;      /* header-only model: tokenizer, template, shapes, small tensors */
    hearth_model *cpu_model;  /* the full model, once the CPU fallback needed it */
    void *cpu_data;           /* its file image */
    hearth_session *session;
    hg_session *gs;
    /* generation in progress */
    hs_sampler_params sp;
    int max_tokens, n_generated, n_prompt, n_reused;
    bool ignore_eos, pending_unfed, done;
    char **stops;
    int n_stop;
    char *text;               /* produced, not yet returned */
    size_t text_len, text_cap;
    char *piece;              /* what the last call returns */
    size_t piece_len, piece_cap;
    /* the text of every token fed or pending: the conversation the session holds */
    char *chat;
    size_t chat_len, chat_cap;
    bool chat_valid;
    /* the step the planner asked for */
    const uint8_t *blob;
    size_t blob_len;
    int act_kind, wants_token, wants_logits, act_token;
} hwg_engine;

static int fail(hwg_engine *g, hearth_status st, const char *msg) {
    snprintf(g->err, sizeof g->err, "%s", msg);
    return (int)st;
}

static void free_stops(hwg_engine *g) {
    for (int i = 0; i < g->n_stop; i++) free(g->stops[i]);
    free(g->stops);
    g->stops = NULL;
    g->n_stop = 0;
}

HWG_API hwg_engine *hwg_new(void) { return calloc(1, sizeof(hwg_engine)); }
HWG_API const char *hwg_error(hwg_engine *g) { return g->err; }

HWG_API void hwg_unload(hwg_engine *g) {
    if (!g) return;
    hg_session_free(g->gs);
    hearth_session_free(g->session);
    hearth_model_free(g->model);
    hearth_model_free(g->cpu_model);
    gguf_free(g->gguf);
    free(g->cpu_data);
    free(g->small);
    free(g->stand_in);
    free(g->ranges);
    g->gs = NULL;
    g->session = NULL;
    g->model = g->cpu_model = NULL;
    g->gguf = NULL;
    g->cpu_data = NULL;
    g->small = g->stand_in = NULL;
    g->ranges = NULL;
    g->n_ranges = 0;
    g->chat_len = 0;
    g->chat_valid = true;
    g->pending_unfed = false;
    g->text_len = g->piece_len = 0;
}

HWG_API void hwg_free(hwg_engine *g) {
    if (!g) return;
    hwg_unload(g);
    free_stops(g);
    free(g->text);
    free(g->piece);
    free(g->chat);
    free(g);
}

/* Parses the header from the first `avail` bytes of a file of `file_size` bytes. */
HWG_API int hwg_header(hwg_engine *g, const uint8_t *prefix, size_t avail, double file_size) {
    hwg_unload(g);
    hearth_err e = {0};
    hearth_status st = gguf_read_header(prefix, avail, (uint64_t)file_size, &g->gguf, &e);
    return st == HEARTH_OK ? HEARTH_OK : fail(g, st, e.msg);
}

/* The matrices: hearth binds them as views and the GPU reads them from the file (model.c bind()). */
static bool is_matrix(const char *name) {
    static const char *const whole[] = {"token_embd.weight", "output.weight"};
    static const char *const layer[] = {"attn_q.weight",  "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                        "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", "ssm_in.weight",
                                        "ssm_out.weight"};
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++)
        if (strcmp(name, whole[i]) == 0) return true;
    if (strncmp(name, "blk.", 4) != 0) return false;
    const char *dot = strchr(name + 4, '.');
    if (!dot) return false;
    for (size_t i = 0; i < sizeof layer / sizeof *layer; i++)
        if (strcmp(dot + 1, layer[i]) == 0) return true;
    return false;
}

/* Lists the file ranges of every tensor that is not a matrix and allocates one heap block for them.
 * Returns their count; the table is at hwg_ranges_table ([i][3]: offset, bytes, heap address). */
HWG_API int hwg_ranges(hwg_engine *g) {
    if (!g->gguf) return -fail(g, HEARTH_ERR_INVALID_ARG, "no header parsed");
    uint64_t total = 0;
    int n = 0;
    for (uint64_t i = 0; i < g->gguf->n_tensors; i++) {
        const gguf_tensor *t = &g->gguf->tensors[i];
        if (is_matrix(t->name)) continue;
        total += (t->nbytes + 15) & ~(uint64_t)15;
        n++;
    }
    if (total > (512u << 20)) return -fail(g, HEARTH_ERR_TOO_LARGE, "the model's small tensors take more than 512 MiB");
    free(g->small);
    free(g->ranges);
    g->small = malloc(total ? (size_t)total : 1);
    g->ranges = malloc(sizeof(double) * 3 * (size_t)(n ? n : 1));
    if (!g->small || !g->ranges) return -fail(g, HEARTH_ERR_NOMEM, "out of memory");
    uint64_t at = 0;
    int k = 0;
    for (uint64_t i = 0; i < g->gguf->n_tensors; i++) {
        const gguf_tensor *t = &g->gguf->tensors[i];
        if (is_matrix(t->name)) continue;
        g->ranges[3 * k] = (double)(g->gguf->data_offset + t->offset);
        g->ranges[3 * k + 1] = (double)t->nbytes;
        g->ranges[3 * k + 2] = (double)(uintptr_t)(g->small + at);
        at += (t->nbytes + 15) & ~(uint64_t)15;
        k++;
    }
    g->n_ranges = n;
    return n;
}

HWG_API double *hwg_ranges_table(hwg_engine *g) { return g->ranges; }

/* Builds the model (small tensors from the block JS filled, matrices as stand-in addresses), a
 * session, and the GPU plan for a device with these facts. */
HWG_API int hwg_open(hwg_engine *g, int n_threads, int n_ctx, uint32_t seed, double max_binding, double max_buffer,
                     uint32_t max_wg, uint32_t max_storage, int subgroups, uint32_t subgroup_min, int dot4) {
    if (!g->gguf || !g->small) return fail(g, HEARTH_ERR_INVALID_ARG, "hwg_open before hwg_ranges");
    g->stand_in = malloc((size_t)g->gguf->n_tensors + 1);
    if (!g->stand_in) return fail(g, HEARTH_ERR_NOMEM, "out of memory");
    int k = 0;
    for (uint64_t i = 0; i < g->gguf->n_tensors; i++) {
        gguf_tensor *t = &g->gguf->tensors[i];
        t->data = is_matrix(t->name) ? g->stand_in + i : (const uint8_t *)(uintptr_t)g->ranges[3 * k++ + 2];
    }
    hearth_err e = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = n_threads;
    gguf_ctx *gc = g->gguf;
    g->gguf = NULL; /* the model owns it now, also on failure */
    hearth_status st = hm_model_from_gguf(gc, &mp, &g->model, &e);
    if (st != HEARTH_OK) return fail(g, st, e.msg);
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = n_ctx;
    sp.seed = seed;
    st = hearth_session_new(g->model, &sp, &g->session, g->err, sizeof g->err);
    if (st != HEARTH_OK) return (int)st;
    hg_device dev = hg_device_default();
    dev.max_binding = (uint64_t)max_binding;
    dev.max_buffer = (uint64_t)max_buffer;
    dev.max_wg = max_wg;
    dev.max_storage = max_storage;
    dev.subgroups = subgroups != 0;
    dev.subgroup_min = subgroup_min;
    dev.dot4 = dot4 != 0;
    hg_options o = hg_default_options();
    st = hg_session_new(g->session, &dev, &o, &g->gs, &e);
    if (st != HEARTH_OK) return fail(g, st, e.msg);
    g->chat_valid = true;
    return HEARTH_OK;
}

HWG_API const uint8_t *hwg_plan(hwg_engine *g) {
    size_t len = 0;
    return g->gs ? hg_session_plan(g->gs, &len) : NULL;
}
HWG_API size_t hwg_plan_len(hwg_engine *g) {
    size_t len = 0;
    if (g->gs) hg_session_plan(g->gs, &len);
    return len;
}

HWG_API int hwg_n_vocab(hwg_engine *g) { return g->model ? hearth_model_n_vocab(g->model) : 0; }
HWG_API int hwg_n_ctx_train(hwg_engine *g) { return g->model ? hearth_model_n_ctx_train(g->model) : 0; }
HWG_API const char *hwg_arch(hwg_engine *g) { return g->model ? hearth_model_arch(g->model) : ""; }
HWG_API int hwg_n_past(hwg_engine *g) { return g->gs ? hg_session_n_past(g->gs) : 0; }
HWG_API int hwg_on_gpu(hwg_engine *g) { return g->gs && hg_session_on_gpu(g->gs); }
HWG_API int hwg_n_prompt(hwg_engine *g) { return g->n_prompt; }
HWG_API int hwg_n_reused(hwg_engine *g) { return g->n_reused; }
/* As hw_chat_reasoning: 1 while the conversation the engine holds is inside a reasoning block. */
HWG_API int hwg_chat_reasoning(hwg_engine *g) { return g->chat_valid && hearth_chat_in_reasoning(g->chat, g->chat_len); }
HWG_API int hwg_n_generated(hwg_engine *g) { return g->n_generated; }
/* True while the CPU fallback would need the full weights first (hwg_cpu_weights). */
HWG_API int hwg_needs_cpu_weights(hwg_engine *g) { return g->model && !g->cpu_model; }

/* The CPU fallback's weights: the whole GGUF image (malloc'ed by the caller; owned here from now
 * on, freed here on failure). The session moves onto this model; the header-only model stays for
 * the plan, which borrows it. */
HWG_API int hwg_cpu_weights(hwg_engine *g, void *data, size_t size, int n_threads) {
    if (!g->session) {
        free(data);
        return fail(g, HEARTH_ERR_INVALID_ARG, "no model loaded");
    }
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = n_threads;
    hearth_model *m = NULL;
    hearth_status st = hearth_model_load_memory(data, size, &mp, &m, g->err, sizeof g->err);
    if (st == HEARTH_OK && (m->hp.n_vocab != g->model->hp.n_vocab || m->hp.n_layer != g->model->hp.n_layer ||
                            m->hp.n_embd != g->model->hp.n_embd)) {
        hearth_model_free(m);
        st = (hearth_status)fail(g, HEARTH_ERR_FORMAT, "the model file changed since it was loaded");
    }
    if (st != HEARTH_OK) {
        free(data);
        return (int)st;
    }
    g->cpu_model = m;
    g->cpu_data = data;
    g->session->model = m; /* same shapes: the session's state and scratch fit it unchanged */
    return HEARTH_OK;
}

static void chat_append(hwg_engine *g, int32_t tok) {
    if (!g->chat_valid) return;
    size_t len;
    const char *t = hm_token_text(g->model, tok, &len);
    if (!hu_grow(&g->chat, &g->chat_cap, g->chat_len + len)) {
        g->chat_valid = false;
        return;
    }
    memcpy(g->chat + g->chat_len, t, len);
    g->chat_len += len;
}

static void forget_all(hwg_engine *g) {
    hg_session_reset(g->gs);
    g->chat_len = 0;
    g->chat_valid = true;
    g->pending_unfed = false;
}

HWG_API void hwg_reset(hwg_engine *g) {
    if (g->gs) forget_all(g);
}

static int arm(hwg_engine *g, int max_tokens, float temperature, int top_k, float top_p, float min_p,
               float repetition_penalty, const char *stops_packed, int n_stop) {
    free_stops(g);
    g->text_len = g->piece_len = 0;
    g->done = false;
    g->n_generated = g->n_prompt = g->n_reused = 0;
    if (!hw_unpack_strings(stops_packed, n_stop, &g->stops, &g->n_stop)) return fail(g, HEARTH_ERR_NOMEM, "out of memory");
    g->sp = (hs_sampler_params){temperature, top_k, top_p, min_p, repetition_penalty};
    g->max_tokens = max_tokens;
    return HEARTH_OK;
}

/* Queues `ids` after what the session holds and starts generating (max_tokens clamped to the context). */
static int begin_ids(hwg_engine *g, const int32_t *ids, int n) {
    if (n <= 0) return fail(g, HEARTH_ERR_INVALID_ARG, "generation needs at least one new token to feed");
    const int n_ctx = g->session->n_ctx;
    const int held = hg_session_n_past(g->gs) + (g->pending_unfed ? 1 : 0);
    if (held + n + 1 > n_ctx) {
        char msg[160];
        snprintf(msg, sizeof msg, "the conversation needs %d tokens but the context holds %d", held + n, n_ctx);
        return fail(g, HEARTH_ERR_CONTEXT_FULL, msg);
    }
    int max = g->max_tokens < n_ctx - held - n + 1 ? g->max_tokens : n_ctx - held - n + 1;
    if (max < 1) max = 1;
    hearth_err e = {0};
    hearth_status st = hg_gen_begin(g->gs, ids, n, &g->sp, max, &e);
    if (st != HEARTH_OK) return fail(g, st, e.msg);
    g->max_tokens = max;
    g->pending_unfed = false; /* hg_gen_begin queued it first */
    for (int i = 0; i < n; i++) chat_append(g, ids[i]);
    g->n_prompt = n;
    return HEARTH_OK;
}

static int tokenize(hwg_engine *g, const char *text, size_t len, int32_t **ids, int *n) {
    size_t cnt = 0;
    *ids = NULL;
    hearth_status st = hearth_tokenize(g->model, text, len, true, NULL, 0, &cnt);
    if (st == HEARTH_OK) *ids = malloc(sizeof(int32_t) * (cnt ? cnt : 1));
    if (st == HEARTH_OK && !*ids) st = HEARTH_ERR_NOMEM;
    if (st == HEARTH_OK) st = hearth_tokenize(g->model, text, len, true, *ids, cnt, &cnt);
    if (st != HEARTH_OK) {
        free(*ids);
        *ids = NULL;
        return fail(g, st, "cannot tokenize the prompt");
    }
    *n = (int)cnt;
    return HEARTH_OK;
}

/* The chat turn, as hearth_session_chat_begin does it on the CPU: render the messages ("role\0content\0..."),
 * feed only the text the session has not seen, start over when earlier text changed. */
HWG_API int hwg_chat_begin(hwg_engine *g, const char *packed, int n_msgs, int thinking, int max_tokens,
                           float temperature, int top_k, float top_p, float min_p, float repetition_penalty,
                           const char *stops_packed, int n_stop) {
    if (!g->gs) return fail(g, HEARTH_ERR_INVALID_ARG, "no model loaded");
    if (n_msgs <= 0 || n_msgs > 100000) return fail(g, HEARTH_ERR_INVALID_ARG, "bad message count");
    g->err[0] = 0;
    int st = arm(g, max_tokens, temperature, top_k, top_p, min_p, repetition_penalty, stops_packed, n_stop);
    if (st != HEARTH_OK) return st;
    hearth_message *msgs = hw_unpack_messages(packed, n_msgs);
    if (!msgs) return fail(g, HEARTH_ERR_NOMEM, "out of memory");
    hearth_chat_options co = hearth_chat_default_options();
    co.enable_thinking = thinking;
    size_t len = 0;
    st = hearth_chat_render(g->model, msgs, (size_t)n_msgs, &co, NULL, 0, &len, g->err, sizeof g->err);
    char *text = st == HEARTH_OK ? malloc(len + 1) : NULL;
    if (st == HEARTH_OK && !text) st = fail(g, HEARTH_ERR_NOMEM, "out of memory");
    if (st == HEARTH_OK) st = hearth_chat_render(g->model, msgs, (size_t)n_msgs, &co, text, len + 1, &len, g->err, sizeof g->err);
    free(msgs);
    if (st != HEARTH_OK) {
        free(text);
        return st;
    }
    size_t from = 0;
    if (g->chat_valid && g->chat_len <= len && (g->chat_len == 0 || memcmp(g->chat, text, g->chat_len) == 0))
        from = g->chat_len;
    else
        forget_all(g);
    const int held = hg_session_n_past(g->gs) + (g->pending_unfed ? 1 : 0);
    int32_t *ids;
    int n = 0;
    st = tokenize(g, text + from, len - from, &ids, &n);
    free(text);
    if (st != HEARTH_OK) return st;
    st = begin_ids(g, ids, n);
    free(ids);
    g->n_reused = held;
    return st;
}

/* A raw text prompt (special tokens parsed), from an empty session. */
HWG_API int hwg_generate_begin(hwg_engine *g, const char *prompt, size_t len, int max_tokens, float temperature,
                               int top_k, float top_p, float min_p, float repetition_penalty, const char *stops_packed,
                               int n_stop) {
    if (!g->gs) return fail(g, HEARTH_ERR_INVALID_ARG, "no model loaded");
    g->err[0] = 0;
    int st = arm(g, max_tokens, temperature, top_k, top_p, min_p, repetition_penalty, stops_packed, n_stop);
    if (st != HEARTH_OK) return st;
    int32_t *ids;
    int n = 0;
    if ((st = tokenize(g, prompt, len, &ids, &n)) != HEARTH_OK) return st;
    forget_all(g);
    g->chat_valid = false; /* raw text: the next chat turn starts over */
    st = begin_ids(g, ids, n);
    free(ids);
    return st;
}

/* ---- the planner as web/gpu/driver.js calls it ---------------------------------------------- */

/* hg_gen_next: 0 run (blob at hwg_blob), 1 token computed on the CPU (hwg_act_token), 2 done. */
HWG_API int hwg_next(hwg_engine *g) {
    hg_action a;
    hearth_err e = {0};
    hearth_status st = hg_gen_next(g->gs, &a, &e);
    if (st != HEARTH_OK) return -fail(g, st, e.msg);
    g->act_kind = (int)a.kind;
    g->blob = a.blob;
    g->blob_len = a.len;
    g->wants_token = a.wants_token;
    g->wants_logits = a.wants_logits;
    g->act_token = a.token;
    return g->act_kind;
}
HWG_API const uint8_t *hwg_blob(hwg_engine *g) { return g->blob; }
HWG_API size_t hwg_blob_len(hwg_engine *g) { return g->blob_len; }
HWG_API int hwg_wants_token(hwg_engine *g) { return g->wants_token; }
HWG_API int hwg_wants_logits(hwg_engine *g) { return g->wants_logits; }
HWG_API int32_t hwg_act_token(hwg_engine *g) { return g->act_token; }

/* hg_gen_result: returns the new token, -1 for a prompt-only step, < -1 on error (-2 - status). */
HWG_API int32_t hwg_result(hwg_engine *g, int32_t token, const float *logits) {
    int32_t out = -1;
    hearth_err e = {0};
    hearth_status st = hg_gen_result(g->gs, token, logits, &out, &e);
    if (st != HEARTH_OK) return -2 - fail(g, st, e.msg);
    return out;
}

/* hg_gen_lost: the CPU rebuilds the state (needs hwg_cpu_weights first when loaded for the GPU). */
HWG_API int hwg_lost(hwg_engine *g) {
    if (hwg_needs_cpu_weights(g)) return fail(g, HEARTH_ERR_INVALID_ARG, "the CPU fallback has no weights");
    hearth_err e = {0};
    hearth_status st = hg_gen_lost(g->gs, &e);
    return st == HEARTH_OK ? HEARTH_OK : fail(g, st, e.msg);
}

/* ---- text: whole UTF-8 pieces, stop strings, end of turn (as generate.c) ------------------- */

static size_t utf8_complete(const char *text, size_t n) {
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)text[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0) return n;
    unsigned char lead = (unsigned char)text[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return back + 1 >= need ? n : i - 1;
}

static size_t stop_holdback(const hwg_engine *g, size_t n) {
    size_t hold = 0;
    for (int k = 0; k < g->n_stop; k++) {
        size_t sl = strlen(g->stops[k]);
        for (size_t l = sl > 0 ? sl - 1 : 0; l > hold; l--)
            if (l <= n && memcmp(g->text + n - l, g->stops[k], l) == 0) {
                hold = l;
                break;
            }
    }
    return hold;
}

static int emit(hwg_engine *g, size_t n) {
    if (!hu_grow(&g->piece, &g->piece_cap, n + 1)) return fail(g, HEARTH_ERR_NOMEM, "out of memory");
    memcpy(g->piece, g->text, n);
    memmove(g->text, g->text + n, g->text_len - n);
    g->text_len -= n;
    g->piece_len = n;
    return HEARTH_OK;
}

/* A token the planner produced: its text goes to hwg_piece (held back while it may be the start
 * of a stop string or of a UTF-8 character); hwg_done says the turn is over. */
HWG_API int hwg_token(hwg_engine *g, int32_t tok) {
    g->piece_len = 0;
    if (g->done) return HEARTH_OK;
    g->n_generated++;
    g->pending_unfed = true; /* the planner feeds it with the next step or the next turn */
    chat_append(g, tok);
    bool finished = false;
    if (!g->ignore_eos && hm_is_eos(g->model, tok)) {
        finished = true;
    } else {
        size_t tl;
        const char *t = hm_token_text(g->model, tok, &tl);
        if (!hu_grow(&g->text, &g->text_cap, g->text_len + tl)) return fail(g, HEARTH_ERR_NOMEM, "out of memory");
        memcpy(g->text + g->text_len, t, tl);
        g->text_len += tl;
        for (int k = 0; k < g->n_stop; k++) {
            size_t sl = strlen(g->stops[k]);
            char *hit = sl ? memmem(g->text, g->text_len, g->stops[k], sl) : NULL;
            if (hit) {
                g->text_len = (size_t)(hit - g->text);
                finished = true;
            }
        }
        if (g->n_generated >= g->max_tokens) finished = true;
    }
    if (finished) {
        g->done = true;
        return emit(g, g->text_len);
    }
    size_t ready = utf8_complete(g->text, g->text_len);
    return emit(g, ready - stop_holdback(g, ready));
}

/* The planner said done (max_tokens): whatever text is held. */
HWG_API int hwg_finish(hwg_engine *g) {
    g->done = true;
    return emit(g, g->text_len);
}

HWG_API const char *hwg_piece(hwg_engine *g) { return g->piece; }
HWG_API size_t hwg_piece_len(hwg_engine *g) { return g->piece_len; }
HWG_API int hwg_done(hwg_engine *g) { return g->done; }
