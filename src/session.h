/* session.h - a session's decode state (KV cache, conv and SSM state), its scratch and its generation state. */
#ifndef HEARTH_SESSION_H
#define HEARTH_SESSION_H

#include "model.h"
#include "sampler.h"

typedef struct {
    float *k, *v;      /* attention layers: [n_ctx][n_kv*hd] */
    float *conv;       /* Mamba layers: [d_conv-1][conv_dim], raw xBC rows, oldest first */
    float *ssm;        /* Mamba layers: [H][P][N] */
} hm_layer_state;

/* Generation in progress (hearth_session_generate_*). */
typedef struct {
    bool active;
    hearth_gen_params params;
    char **stop;          /* owned copies of the stop strings */
    size_t n_stop;
    int n_generated;
    int32_t pending;      /* sampled token not yet fed to the model, or -1 */
    char *text;           /* bytes produced but not yet returned (held for UTF-8 / stop strings) */
    size_t text_len, text_cap;
    float *logits;        /* [n_vocab] of the last evaluated position */
    void *scratch;        /* sampler scratch */
} hm_gen;

struct hearth_session {
    const hearth_model *model;
    int n_ctx;
    int n_past;
    int32_t *tokens;        /* [n_ctx] history */
    hm_layer_state *layers; /* [n_layer] */
    int ssm_chunk;          /* chunk length of the Mamba-2 prefill; 1 = token-by-token recurrence */
    struct hcpu_ctx *cpu;   /* CPU backend: thread pool, kernels, scratch (cpu.h); made by the first eval */
    float *decode_scratch;  /* forward.c's buffers for one token, kept between decode steps; or NULL */
    hs_rng rng;
    uint64_t seed;
    hm_gen gen;
    bool chat_valid;        /* chat_text is exactly the text of `tokens` (false after raw-token feeding) */
    char *chat_text;        /* text fed through chat_begin and generation */
    size_t chat_len, chat_cap;
    hearth_stats stats;
    char err[512];
};

/* Runs the model over T tokens at positions n_past.. and appends them (forward.c). logits gets
 * [T][n_vocab] (mode ALL) or [n_vocab] (mode LAST), nothing for NONE. */
hearth_status hm_forward(hearth_session *s, const int32_t *tokens, int T, float *logits, hearth_logits_mode mode,
                         hearth_err *e);

/* Generation state (generate.c). */
void hm_gen_clear(hearth_session *s);
/* Appends bytes to chat_text (when it is tracked). */
void hm_chat_text_append(hearth_session *s, const char *bytes, size_t n);

/* Sets the Mamba-2 prefill chunk length (tests compare chunked and recurrent prefill). */
void hm_session_set_ssm_chunk(hearth_session *s, int chunk);

#endif
