/* hearth.h - the public C API of hearth: load a model, open sessions on it, evaluate tokens.
 *
 * Usage:
 *
 *     hearth_model *model = NULL;
 *     char err[256];
 *     hearth_model_params mp = hearth_model_default_params();
 *     if (hearth_model_load("model.gguf", &mp, &model, err, sizeof err) != HEARTH_OK) {
 *         fprintf(stderr, "%s\n", err);
 *         return 1;
 *     }
 *     hearth_session_params sp = hearth_session_default_params();
 *     hearth_session *s = NULL;
 *     hearth_session_new(model, &sp, &s);
 *     int32_t prompt[] = {5, 17, 42};
 *     float *logits = malloc(sizeof(float) * hearth_model_n_vocab(model));
 *     hearth_session_eval(s, prompt, 3, logits, HEARTH_LOGITS_LAST);   // prefill
 *     ...pick a token t from logits...
 *     hearth_session_eval(s, &t, 1, logits, HEARTH_LOGITS_LAST);       // one decode step
 *     hearth_session_free(s);
 *     hearth_model_free(model);
 *
 * Ownership: a model is immutable once loaded and may back several sessions at once; it must
 * outlive them. A session owns its decode state (KV cache of attention layers, conv and SSM state
 * of Mamba-2 layers). Output buffers always belong to the caller. No function calls exit() or
 * abort(): every failure is a hearth_status, with a message in the `err` buffer given to the call
 * or in hearth_session_error().
 */
#ifndef HEARTH_H
#define HEARTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HEARTH_OK = 0,
    HEARTH_ERR_INVALID_ARG = 1,  /* a caller passed something impossible */
    HEARTH_ERR_IO = 2,           /* a file could not be opened, read or written */
    HEARTH_ERR_FORMAT = 3,       /* a file is malformed: truncated, out of bounds, inconsistent */
    HEARTH_ERR_UNSUPPORTED = 4,  /* well formed, but hearth does not support it (arch, type, ...) */
    HEARTH_ERR_NOMEM = 5,        /* an allocation failed */
    HEARTH_ERR_TOO_LARGE = 6,    /* a size read from a file exceeds what hearth will allocate */
    HEARTH_ERR_CONTEXT_FULL = 7, /* the session has no room for more tokens */
    HEARTH_ERR_TEMPLATE = 8,     /* a chat template failed to parse or run */
    HEARTH_ERR_INTERRUPTED = 9,  /* the caller asked to stop */
    HEARTH_ERR_BACKEND = 10,     /* a compute backend failed (device lost, ...) */
} hearth_status;

/* Stable lower-case name of a status ("ok", "format", ...); never NULL. */
const char *hearth_status_name(hearth_status s);

typedef struct hearth_model hearth_model;
typedef struct hearth_session hearth_session;

/* ---- models ---------------------------------------------------------------------------- */

/* How hearth_model_load holds the weights (native builds; wasm always reads into its heap). */
typedef enum {
    HEARTH_WEIGHTS_AUTO = 0, /* the environment variable HEARTH_WEIGHTS (mmap|copy) if set, else copy
                                when the file is >= 1 GiB and at most half of the available memory
                                and the system has transparent huge pages */
    HEARTH_WEIGHTS_MMAP = 1, /* map the file: instant load, pages shared with the page cache */
    HEARTH_WEIGHTS_COPY = 2, /* read into private memory on transparent huge pages: slower load,
                                faster decode of large models (fewer TLB misses per token) */
} hearth_weights_mode;

typedef struct {
    int n_threads;      /* CPU threads for compute; 0 = pick automatically */
    bool check_tensors; /* verify every tensor's data lies inside the file (always on) */
    hearth_weights_mode weights; /* see hearth_weights_mode; 0 = auto */
} hearth_model_params;

hearth_model_params hearth_model_default_params(void);

/* Loads a GGUF file. Natively the file is memory-mapped or copied to huge pages as
 * params->weights says (weights are views into that memory).
 * On failure *out is NULL and `err` (may be NULL) holds a message naming the problem. */
hearth_status hearth_model_load(const char *path, const hearth_model_params *params,
                                hearth_model **out, char *err, size_t err_size);

/* Loads a GGUF image already in memory. `data` is borrowed: it must stay valid and unchanged
 * until hearth_model_free(). */
hearth_status hearth_model_load_memory(const void *data, size_t size, const hearth_model_params *params,
                                       hearth_model **out, char *err, size_t err_size);

/* Frees a model (NULL is fine). All its sessions must be freed first. */
void hearth_model_free(hearth_model *model);

/* How the loaded model holds its weights: "mmap", "copy" (huge pages) or "memory" (a caller's
 * buffer, or the wasm heap); never NULL. */
const char *hearth_model_weights(const hearth_model *model);
int hearth_model_n_vocab(const hearth_model *model);
int hearth_model_n_ctx_train(const hearth_model *model);
/* Architecture name as in GGUF general.architecture ("nemotron_h", "llama", ...). Borrowed,
 * valid until hearth_model_free. */
const char *hearth_model_arch(const hearth_model *model);

/* ---- sessions --------------------------------------------------------------------------- */

typedef struct {
    int n_ctx;     /* most tokens the session holds; 0 = min(model's trained context, 4096) */
    uint64_t seed; /* sampler RNG seed */
} hearth_session_params;

hearth_session_params hearth_session_default_params(void);

/* Creates a session on `model` (borrowed; must outlive the session). Caller frees with
 * hearth_session_free. */
hearth_status hearth_session_new(const hearth_model *model, const hearth_session_params *params,
                                 hearth_session **out, char *err, size_t err_size);
void hearth_session_free(hearth_session *s);

/* Message of the last failed call on this session; "" if none. Borrowed, valid until the next call. */
const char *hearth_session_error(const hearth_session *s);

typedef enum {
    HEARTH_LOGITS_NONE = 0, /* compute state only */
    HEARTH_LOGITS_LAST = 1, /* logits: [n_vocab] for the last token */
    HEARTH_LOGITS_ALL = 2,  /* logits: [n_tokens, n_vocab], row t after tokens[0..t] */
} hearth_logits_mode;

/* Appends n tokens to the session (a prompt in one call is a prefill; one token is a decode
 * step) and writes the requested logits into the caller's buffer. */
hearth_status hearth_session_eval(hearth_session *s, const int32_t *tokens, int n, float *logits,
                                  hearth_logits_mode mode);

/* Tokens held so far. */
int hearth_session_n_past(const hearth_session *s);
/* Reseeds the sampler: what it draws from here on is what a session made with this seed draws. */
void hearth_session_set_seed(hearth_session *s, uint64_t seed);
/* Most tokens the session holds (its n_ctx, after the default was applied). */
int hearth_session_n_ctx(const hearth_session *s);
/* Forgets every token: back to an empty state. */
void hearth_session_reset(hearth_session *s);


/* ---- text: tokenizer and chat template (both read from the GGUF) ------------------------- */

/* Encodes UTF-8 text to token ids. With parse_special, special-token text such as
 * "<|im_start|>" becomes its id; otherwise it is encoded as plain text. No BOS is added.
 * Writes at most `max` ids to `ids` (may be NULL to size) and the full count to *n_ids;
 * returns HEARTH_ERR_INVALID_ARG when `max` was too small. */
hearth_status hearth_tokenize(const hearth_model *model, const char *text, size_t len, bool parse_special,
                              int32_t *ids, size_t max, size_t *n_ids);

/* The bytes of one token's text (may be part of a UTF-8 character). Same sizing rule: *len gets
 * the full length; the bytes are written only when they fit in `size`. Not NUL-terminated. */
hearth_status hearth_token_to_piece(const hearth_model *model, int32_t id, char *buf, size_t size, size_t *len);

typedef struct {
    const char *role;    /* "system", "user", "assistant", "tool" */
    const char *content; /* UTF-8 */
} hearth_message;

typedef struct {
    bool add_generation_prompt; /* end with the assistant header (default true) */
    int enable_thinking;        /* -1 = template default, 0 = off, 1 = on */
} hearth_chat_options;

hearth_chat_options hearth_chat_default_options(void);

/* Renders messages with the model's chat template (tokenizer.chat_template). Output sizing as
 * above: *len is the full length without the NUL; the text and a NUL are written only when
 * len + 1 <= size. HEARTH_ERR_TEMPLATE with a message when the template cannot be run. */
hearth_status hearth_chat_render(const hearth_model *model, const hearth_message *msgs, size_t n_msgs,
                                 const hearth_chat_options *opts, char *out, size_t size, size_t *len,
                                 char *err, size_t err_size);

/* True when text[0..len) ends inside a reasoning block: its last "<think>" comes after its last
 * "</think>". A conversation rendered that way (a template that opens the block for the model)
 * makes the generated text start with reasoning and close it with "</think>". */
bool hearth_chat_in_reasoning(const char *text, size_t len);

/* ---- generation ------------------------------------------------------------------------- */

typedef struct {
    int max_tokens;           /* stop after this many generated tokens (default 256) */
    float temperature;        /* <= 0: greedy (default 0.7) */
    int top_k;                /* 0 = off (default 40) */
    float top_p;              /* 1 = off (default 0.95) */
    float min_p;              /* 0 = off (default 0.05) */
    float repetition_penalty; /* 1 = off (default 1.0); Hugging Face semantics */
    const char *const *stop;  /* stop strings (copied by generate_begin); may be NULL */
    size_t n_stop;
    bool ignore_eos;          /* keep going past end-of-generation tokens (default false) */
} hearth_gen_params;

hearth_gen_params hearth_gen_default_params(void);

/* Starts a generation: appends `tokens` to the session (prefill) and arms the sampler. To
 * continue a conversation, pass only the tokens the session does not hold yet. */
hearth_status hearth_session_generate_begin(hearth_session *s, const int32_t *tokens, int n,
                                            const hearth_gen_params *params);

/* Produces the next piece of text. Writes complete UTF-8 only (a character split across tokens
 * is held back until it is whole); *len may be 0. *token gets the sampled id (-1 when none).
 * *done becomes true at an end-of-generation token, a stop string (not included in the text),
 * or max_tokens; the end-of-generation token itself is fed to the session so that the next turn
 * continues after it. */
hearth_status hearth_session_generate_next(hearth_session *s, char *piece, size_t size, size_t *len,
                                           int32_t *token, bool *done);

/* Continues a conversation: renders `msgs` with the model's chat template, feeds only the text
 * the session has not seen yet (the whole rendering when earlier text changed, e.g. a template
 * that rewrites history), then arms generation as hearth_session_generate_begin does. The
 * session remembers the text it was fed, so turn 2 prefills only its own tokens. */
hearth_status hearth_session_chat_begin(hearth_session *s, const hearth_message *msgs, size_t n_msgs,
                                        const hearth_chat_options *chat_opts, const hearth_gen_params *params);

/* hearth_chat_in_reasoning of the text the session holds (the rendered conversation fed by
 * chat_begin and what was generated since): right after chat_begin, whether the reply starts
 * inside the reasoning block. False when the session's text is unknown (raw tokens were fed). */
bool hearth_session_chat_reasoning(const hearth_session *s);

/* Counters of the session since it was created or reset. */
typedef struct {
    int n_prefill;         /* tokens fed by the last generate_begin */
    int n_decode;          /* tokens generated since the last generate_begin */
    double prefill_seconds;
    double decode_seconds;
} hearth_stats;

void hearth_session_stats(const hearth_session *s, hearth_stats *out);

/* Tokens held by the session (its history). Same sizing rule as hearth_tokenize. */
hearth_status hearth_session_tokens(const hearth_session *s, int32_t *ids, size_t max, size_t *n);

/* ---- state save and restore -------------------------------------------------------------- */

/* Serialises the session (tokens, KV cache, conv and SSM state, sampler RNG) into `buf`.
 * Same sizing rule: *len gets the size needed; written only when it fits. */
hearth_status hearth_session_save(const hearth_session *s, void *buf, size_t size, size_t *len);
/* Restores a state written by hearth_session_save for the same model. */
hearth_status hearth_session_load(hearth_session *s, const void *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
