/* model.h - the loaded model: hyperparameters per architecture and weights bound from a GGUF file. */
#ifndef HEARTH_MODEL_H
#define HEARTH_MODEL_H

#include "gguf.h"
#include "util.h"

#define HM_MAX_LAYERS 256

typedef enum { HM_ARCH_NEMOTRON_H, HM_ARCH_LLAMA, HM_ARCH_QWEN2, HM_ARCH_QWEN3, HM_ARCH_COUNT } hm_arch;

typedef enum {
    HM_LAYER_MAMBA, /* nemotron_h: norm -> Mamba-2 mixer -> residual */
    HM_LAYER_ATTN,  /* nemotron_h: norm -> attention -> residual */
    HM_LAYER_MLP,   /* nemotron_h: norm -> relu² MLP -> residual */
    HM_LAYER_DENSE, /* llama/qwen: norm -> attention -> residual; norm -> SwiGLU MLP -> residual */
} hm_layer_kind;

/* GGUF general.architecture string of an arch, and back (-1 when unknown). */
const char *hm_arch_name(hm_arch a);
int hm_arch_from_name(const char *name);

typedef struct {
    hm_arch arch;
    int n_vocab;
    int n_embd;
    int n_layer;
    int n_ctx_train;
    float rms_eps;
    /* attention (per layer where it differs: nemotron_h has attention in a few layers only) */
    int n_head;
    int n_head_kv;   /* of the attention layers */
    int head_dim;    /* attention.key_length; also value length */
    float rope_base; /* llama/qwen */
    bool rope_neox;  /* qwen: rotate (i, i+d/2); llama GGUF: rotate (2i, 2i+1) */
    int n_ff;        /* MLP hidden size */
    /* Mamba-2 (nemotron_h) */
    int ssm_d_conv;   /* conv kernel width (4) */
    int ssm_d_state;  /* N (128) */
    int ssm_n_group;  /* G (8) */
    int ssm_d_inner;  /* H * P (7680) */
    int ssm_n_head;   /* H (96) */
    int ssm_head_dim; /* P (80) */
    hm_layer_kind kind[HM_MAX_LAYERS];
} hm_hparams;

static inline int hm_ssm_conv_dim(const hm_hparams *hp) { return hp->ssm_d_inner + 2 * hp->ssm_n_group * hp->ssm_d_state; }

/* How a weight's rows lie in memory. */
typedef enum {
    HM_LAYOUT_ROWS = 0, /* as in the file: row r at data + r * row_bytes */
    HM_LAYOUT_Q4_0_X16, /* Q4_0 repacked at load into groups of 16 interleaved rows (cpu_kernels.h) */
} hm_layout;

/* A weight: a view into the model file (quantised or float), ne[0] = row length. Read rows
 * through hm_weight_row unless the layout is known to be HM_LAYOUT_ROWS. */
typedef struct {
    uint32_t type;
    uint64_t ne[GGUF_MAX_DIMS];
    const void *data;
    uint64_t row_bytes;
    const char *name;
    hm_layout layout;
} hm_weight;

/* The matrices the forward pass multiplies by, layer by layer, then the LM head (entries may be
 * unbound: data NULL); ws has room for HM_MAX_MATMUL_WEIGHTS. Returns the count. */
#define HM_MAX_MATMUL_WEIGHTS (HM_MAX_LAYERS * 9 + 1)
struct hearth_model;
int hm_matmul_weights(struct hearth_model *m, hm_weight **ws);

/* Row r of w in row layout (row_bytes bytes): a pointer into w->data when w is in HM_LAYOUT_ROWS,
 * else rebuilt into buf (row_bytes bytes, the caller's) and buf returned. */
const uint8_t *hm_weight_row(const hm_weight *w, uint64_t r, uint8_t *buf);
/* Row r of w as ne[0] floats in out, in either layout (no allocation). */
void hm_weight_dequantize_row(const hm_weight *w, uint64_t r, float *out);

/* Small parameters are converted to f32 at load and owned by the model. */
typedef struct {
    hm_layer_kind kind;
    float *attn_norm;                 /* [n_embd] (the block norm of every nemotron_h layer) */
    hm_weight wq, wk, wv, wo;         /* [n_head*hd, n_embd], [n_kv*hd, n_embd] x2, [n_embd, n_head*hd] */
    float *bq, *bk, *bv;              /* qwen2 biases, or NULL */
    float *q_norm, *k_norm;           /* qwen3 per-head RMSNorm weights [hd], or NULL */
    float *ffn_norm;                  /* llama/qwen second norm [n_embd] */
    hm_weight ffn_gate, ffn_up, ffn_down; /* [n_ff, n_embd], [n_ff, n_embd], [n_embd, n_ff] */
    hm_weight ssm_in;                 /* [d_inner + conv_dim + H, n_embd]: rows z | xBC | dt */
    hm_weight ssm_out;                /* [n_embd, d_inner] */
    float *ssm_conv;                  /* [conv_dim][d_conv]: tap d_conv-1 multiplies the current token */
    float *ssm_conv_b;                /* [conv_dim] */
    float *ssm_dt_b;                  /* [H] */
    float *ssm_a;                     /* [H], A = -exp(A_log) */
    float *ssm_d;                     /* [H] */
    float *ssm_norm;                  /* [d_inner], gated group norm weight */
} hm_layer;

struct hearth_model {
    hm_hparams hp;
    hm_layer layers[HM_MAX_LAYERS];
    hm_weight tok_embd;   /* [n_vocab, n_embd] */
    hm_weight output;     /* [n_vocab, n_embd]; = tok_embd when tied */
    float *output_norm;   /* [n_embd] */
    gguf_ctx *gguf;
    hu_file file;         /* mapping when loaded from a path */
    void *tokenizer;      /* hk_tokenizer *, or NULL when the file's vocabulary is missing or unusable */
    char tok_err[600];    /* why tokenizer is NULL */
    char *chat_template;  /* tokenizer.chat_template, or NULL */
    int32_t eos_ids[8];   /* end-of-generation ids */
    int n_eos;
    int n_threads;
    float **owned;        /* f32 arrays to free */
    int n_owned, cap_owned;
};

/* Builds a model from a parsed GGUF (takes ownership of `g`; on failure frees it). */
hearth_status hm_model_from_gguf(gguf_ctx *g, const hearth_model_params *params, hearth_model **out, hearth_err *e);

/* Tokenizer and chat template of the file (text.c): attach reads them from the GGUF if present. */
hearth_status hm_tokenizer_attach(hearth_model *m, hearth_err *e);
void hm_tokenizer_release(hearth_model *m);

/* Bytes of token `id` (borrowed from the model; may be part of a UTF-8 character). */
const char *hm_token_text(const hearth_model *m, int32_t id, size_t *len);
bool hm_is_eos(const hearth_model *m, int32_t id);
/* Why the model cannot tokenize text ("" when it can). Borrowed. */
const char *hm_tokenizer_error(const hearth_model *m);

/* Bytes of KV cache and recurrent state a session with n_ctx tokens needs. */
uint64_t hm_state_bytes(const hm_hparams *hp, int n_ctx);

#endif
