/* convert.c - maps Hugging Face names, shapes and configs of nemotron_h / llama / qwen2 / qwen3 to llama.cpp's GGUF. */
#include "convert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "gguf.h"
#include "json.h"
#include "model.h"
#include "quant.h"
#include "safetensors.h"
#include "text.h"
#include "threadpool.h"

/* Everything the converter allocates for tensor data, freed after the file is written. */
typedef struct {
    void **bufs;
    size_t n, cap;
} conv_pool;

static void *pool_alloc(conv_pool *p, uint64_t bytes, hearth_err *e) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        void **nb = realloc(p->bufs, cap * sizeof *nb);
        if (!nb) {
            herr(e, HEARTH_ERR_NOMEM, "out of memory");
            return NULL;
        }
        p->bufs = nb;
        p->cap = cap;
    }
    void *b = hu_malloc(bytes, e);
    if (b) p->bufs[p->n++] = b;
    return b;
}

static void pool_free(conv_pool *p) {
    for (size_t i = 0; i < p->n; i++) free(p->bufs[i]);
    free(p->bufs);
}

/* A tensor of a random-weights file: how to draw its values (the producer runs at write time). */
typedef struct {
    uint32_t type;
    uint64_t ne0, ne1;
    int xf; /* xform */
} rand_spec;

/* What a converter needs while it runs. */
typedef struct {
    const hconv_options *opts;
    const json_value *cfg;
    st_set *st;
    gguf_ctx *out;
    conv_pool pool;
    hm_arch arch;
    const char *prefix; /* "backbone." / "model." */
    int n_layer;
    bool random;        /* hconv_random_weights: tensors come from synth_tensor and the RNG */
    st_tensor synth;    /* random mode: the tensor find() made up last */
    char synth_name[256];
    rand_spec *specs;   /* random mode: one per GGUF tensor, in table order */
    size_t n_specs, cap_specs;
    htp_pool *threads;  /* threads that quantise a tensor's rows */
    /* the *_M mix (matrix_type): attention layers, attn_v / ffn_down tensors added so far, and
     * whether the embedding doubles as the LM head (no output.weight) */
    int n_attn_v, i_attn_v, i_ffn_down;
    bool tied, gqa;
} conv;

static const st_tensor *synth_tensor(conv *c, const char *rest);

/* Reads an integer config value under any of the given keys (aliases), in order. */
static bool cfg_int(const conv *c, int64_t *out, const char *k1, const char *k2) {
    if (json_get_int(c->cfg, k1, out)) return true;
    return k2 && json_get_int(c->cfg, k2, out);
}

static hearth_status need_int(const conv *c, int64_t *out, const char *k1, const char *k2, hearth_err *e) {
    if (cfg_int(c, out, k1, k2) && *out > 0 && *out < (1 << 30)) return HEARTH_OK;
    return herr(e, HEARTH_ERR_FORMAT, "config.json: missing or invalid key '%s'", k1);
}

static hearth_status set_arch_u32(conv *c, const char *suffix, uint32_t v) {
    char k[128];
    snprintf(k, sizeof k, "%s.%s", hm_arch_name(c->arch), suffix);
    return gguf_set_u32(c->out, k, v);
}

static hearth_status set_arch_f32(conv *c, const char *suffix, float v) {
    char k[128];
    snprintf(k, sizeof k, "%s.%s", hm_arch_name(c->arch), suffix);
    return gguf_set_f32(c->out, k, v);
}

/* Finds a checkpoint tensor by its name without the model prefix. */
static const st_tensor *find(conv *c, const char *rest) {
    if (c->random) return synth_tensor(c, rest);
    char name[256];
    snprintf(name, sizeof name, "%s%s", c->prefix, rest);
    const st_tensor *t = st_find(c->st, name);
    if (!t && c->arch == HM_ARCH_NEMOTRON_H && strcmp(rest, "embeddings.weight") == 0) {
        snprintf(name, sizeof name, "%sembed_tokens.weight", c->prefix);
        t = st_find(c->st, name);
    }
    return t;
}

/* ---- which type a tensor gets (the rules are stated in convert.h) ---- */

/* The type stored for rows of ne0 values when `t` asks for whole blocks that ne0 is not made
 * of: llama.cpp's fallback (tensor_type_fallback in llama-quant.cpp) for the k-quants, F16
 * for everything else and for rows that are not even a multiple of 32. */
static uint32_t fit_type(uint32_t t, uint64_t ne0) {
    if (ne0 % ht_type_get(t)->block_size == 0) return t;
    switch (t) {
    case HT_Q4_K: t = HT_Q5_0; break;
    case HT_Q5_K: t = HT_Q5_1; break;
    case HT_Q6_K: t = HT_Q8_0; break;
    default: return HT_F16;
    }
    return ne0 % ht_type_get(t)->block_size ? HT_F16 : t;
}

/* llama.cpp's use_more_bits: layer i of n gets the higher type in the first and last eighth of
 * the layers and in every third layer between them. */
static bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* The type of the 2-D weight matrix `name` (GGUF name) with rows of ne0 values. Called once per
 * matrix in file order, which is layer order (it counts the attn_v and ffn_down tensors). */
static uint32_t matrix_type(conv *c, const char *name, uint64_t ne0) {
    const uint32_t base = c->opts->type;
    const bool kquant = base == HT_Q4_K || base == HT_Q5_K || base == HT_Q6_K;
    const bool mix = c->opts->mix == HCONV_MIX_M;
    const bool output = !strcmp(name, "output.weight");
    const bool head = output || (c->tied && !strcmp(name, "token_embd.weight"));
    const bool attn_v = strstr(name, "attn_v.weight") != NULL, ffn_down = strstr(name, "ffn_down") != NULL;
    uint32_t t = base;
    if (kquant && head) {
        t = ne0 % HT_QK_K ? HT_Q8_0 : HT_Q6_K;
    } else if (base == HT_Q4_0 && output) { /* hearth's q4_0 rule predates the k-quants: untied heads only */
        t = HT_Q8_0;
    } else if (mix && attn_v) {
        if (use_more_bits(c->i_attn_v, c->n_attn_v)) t = HT_Q6_K;
        /* llama.cpp's 70B rule: 8 query heads share each kv head, so attn_v is small */
        else if (c->arch == HM_ARCH_LLAMA && c->n_layer == 80 && c->gqa) t = HT_Q5_K;
    } else if (mix && ffn_down) {
        if (use_more_bits(c->i_ffn_down, c->n_layer)) t = HT_Q6_K;
    }
    c->i_attn_v += attn_v;
    c->i_ffn_down += ffn_down;
    return fit_type(t, ne0);
}

/* Quantises rows [ith, ith + nth, ...) of a tensor on one thread of the pool. */
typedef struct {
    uint32_t type;
    const float *src;
    uint8_t *dst;
    uint64_t ne0, ne1, row_bytes;
} quant_job;

static void quant_rows(void *arg, int ith, int nth) {
    const quant_job *j = arg;
    for (uint64_t r = (uint64_t)ith; r < j->ne1; r += (uint64_t)nth)
        ht_quantize(j->type, j->src + r * j->ne0, j->dst + r * j->row_bytes, (int64_t)j->ne0);
}

typedef enum { XF_NONE, XF_NEG_EXP, XF_PERMUTE_Q, XF_PERMUTE_K } xform;

/* Adds one tensor: reads it as f32, applies the transform, stores it as `type` with GGUF shape
 * ne = {ne0, ne1} (ne1 = 1 for vectors). */
static hearth_status add(conv *c, const st_tensor *t, const char *gguf_name, uint32_t type, uint64_t ne0, uint64_t ne1,
                         xform xf, hearth_err *e) {
    if (t->n_elems != ne0 * ne1)
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s' has %llu elements, expected %llu x %llu", t->name,
                    (unsigned long long)t->n_elems, (unsigned long long)ne0, (unsigned long long)ne1);
    type = fit_type(type, ne0);
    if (c->random) {
        if (c->n_specs == c->cap_specs) {
            size_t cap = c->cap_specs ? 2 * c->cap_specs : 256;
            rand_spec *ns = realloc(c->specs, cap * sizeof *ns);
            if (!ns) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
            c->specs = ns;
            c->cap_specs = cap;
        }
        c->specs[c->n_specs++] = (rand_spec){type, ne0, ne1, (int)xf};
        uint64_t ne[2] = {ne0, ne1};
        return gguf_add_tensor_deferred(c->out, gguf_name, type, ne1 > 1 ? 2 : 1, ne, e);
    }
    float *f = pool_alloc(&c->pool, t->n_elems * sizeof(float), e);
    if (!f) return e->code;
    if (!st_to_f32(t, f)) return herr(e, HEARTH_ERR_UNSUPPORTED, "tensor '%s' has dtype %s, which hearth cannot convert", t->name, t->dtype);
    if (xf == XF_NEG_EXP) {
        for (uint64_t i = 0; i < t->n_elems; i++) f[i] = -expf(f[i]);
    } else if (xf == XF_PERMUTE_Q || xf == XF_PERMUTE_K) {
        /* llama.cpp's llama layout: within each head, HF rows [first half | second half] become
         * interleaved pairs, so that "normal" rope (adjacent pairs) equals HF's rotate_half. */
        int64_t n_heads = 0;
        cfg_int(c, &n_heads, xf == XF_PERMUTE_Q ? "num_attention_heads" : "num_key_value_heads", NULL);
        if (xf == XF_PERMUTE_K && n_heads <= 0) cfg_int(c, &n_heads, "num_attention_heads", NULL);
        if (n_heads <= 0 || ne1 % (uint64_t)n_heads || (ne1 / (uint64_t)n_heads) % 2)
            return herr(e, HEARTH_ERR_FORMAT, "cannot permute '%s' into %lld heads", t->name, (long long)n_heads);
        const uint64_t hd = ne1 / (uint64_t)n_heads, half = hd / 2;
        float *tmp = pool_alloc(&c->pool, t->n_elems * sizeof(float), e);
        if (!tmp) return e->code;
        for (uint64_t h = 0; h < (uint64_t)n_heads; h++)
            for (uint64_t r = 0; r < hd; r++) {
                uint64_t src = h * hd + r, dst = h * hd + (r % half) * 2 + r / half;
                memcpy(tmp + dst * ne0, f + src * ne0, ne0 * sizeof(float));
            }
        f = tmp;
    }
    uint64_t row_bytes;
    ht_row_bytes(type, ne0, &row_bytes);
    void *dst = f;
    if (type != HT_F32) {
        dst = pool_alloc(&c->pool, row_bytes * ne1, e);
        if (!dst) return e->code;
        quant_job j = {type, f, dst, ne0, ne1, row_bytes};
        htp_run(ne1 > 1 ? c->threads : NULL, quant_rows, &j);
    }
    uint64_t ne[2] = {ne0, ne1};
    return gguf_add_tensor(c->out, gguf_name, type, ne1 > 1 ? 2 : 1, ne, dst, e);
}

/* Adds tensor `rest` of the checkpoint (must exist unless optional) as `gguf_name`. The GGUF
 * shape is the reverse of the torch shape, collapsed to 2-D. */
static hearth_status add_named(conv *c, const char *rest, const char *gguf_name, bool matrix, bool optional, xform xf,
                               hearth_err *e) {
    const st_tensor *t = find(c, rest);
    if (!t) {
        if (optional) return HEARTH_OK;
        return herr(e, HEARTH_ERR_FORMAT, "checkpoint has no tensor '%s%s'", c->prefix, rest);
    }
    if (t->n_dims == 0) return herr(e, HEARTH_ERR_FORMAT, "tensor '%s' is a scalar", t->name);
    uint64_t ne0 = t->shape[t->n_dims - 1], ne1 = t->n_elems / (ne0 ? ne0 : 1);
    const uint32_t type = matrix ? matrix_type(c, gguf_name, ne0) : HT_F32;
    return add(c, t, gguf_name, type, ne0, ne1, xf, e);
}

static hearth_status layer_pattern(conv *c, char *kinds, hearth_err *e) {
    const json_value *list = json_get(c->cfg, "layers_block_type");
    const char *pattern = json_get_string(c->cfg, "hybrid_override_pattern");
    int n = 0;
    if (list && list->type == JSON_ARRAY) {
        if (list->len > HM_MAX_LAYERS) return herr(e, HEARTH_ERR_FORMAT, "config.json: too many layers (%zu)", list->len);
        for (size_t i = 0; i < list->len; i++) {
            const json_value *v = json_at(list, i);
            const char *s = v && v->type == JSON_STRING ? v->str : "";
            if (!strcmp(s, "mamba") || !strcmp(s, "linear_attention")) kinds[n++] = 'M';
            else if (!strcmp(s, "attention") || !strcmp(s, "full_attention")) kinds[n++] = '*';
            else if (!strcmp(s, "mlp")) kinds[n++] = '-';
            else if (!strcmp(s, "moe")) return herr(e, HEARTH_ERR_UNSUPPORTED, "MoE layers (nemotron_h_moe) are not supported");
            else return herr(e, HEARTH_ERR_FORMAT, "config.json: unknown layer type '%s' in layers_block_type", s);
        }
    } else if (pattern) {
        for (const char *p = pattern; *p; p++) {
            if (n >= HM_MAX_LAYERS) return herr(e, HEARTH_ERR_FORMAT, "config.json: hybrid_override_pattern is too long");
            if (*p == 'M' || *p == '*' || *p == '-') kinds[n++] = *p;
            else if (*p == 'E') return herr(e, HEARTH_ERR_UNSUPPORTED, "MoE layers (nemotron_h_moe) are not supported");
            else return herr(e, HEARTH_ERR_FORMAT, "config.json: unknown character '%c' in hybrid_override_pattern", *p);
        }
    } else {
        return herr(e, HEARTH_ERR_FORMAT, "config.json: missing key 'hybrid_override_pattern' (or 'layers_block_type')");
    }
    if (n == 0) return herr(e, HEARTH_ERR_FORMAT, "config.json: the layer pattern is empty");
    c->n_layer = n;
    return HEARTH_OK;
}

static hearth_status convert_nemotron_h(conv *c, hearth_err *e) {
    char kinds[HM_MAX_LAYERS + 1] = {0};
    hearth_status st = layer_pattern(c, kinds, e);
    if (st) return st;
    int64_t E, n_head, n_kv = 0, hd = 0, ff = 0, mh, mhd, N, G, K = 4, ctx = 0;
    if ((st = need_int(c, &E, "hidden_size", NULL, e)) || (st = need_int(c, &n_head, "num_attention_heads", NULL, e)) ||
        (st = need_int(c, &mh, "mamba_num_heads", NULL, e)) || (st = need_int(c, &mhd, "mamba_head_dim", NULL, e)) ||
        (st = need_int(c, &N, "ssm_state_size", NULL, e)) || (st = need_int(c, &G, "n_groups", "mamba_n_groups", e)))
        return st;
    cfg_int(c, &K, "conv_kernel", "mamba_d_conv");
    cfg_int(c, &ctx, "max_position_embeddings", NULL);
    bool has_attn = strchr(kinds, '*') != NULL, has_mlp = strchr(kinds, '-') != NULL;
    for (const char *k = kinds; *k; k++) c->n_attn_v += *k == '*';
    if (has_attn) {
        if ((st = need_int(c, &n_kv, "num_key_value_heads", NULL, e))) return st;
        if (!cfg_int(c, &hd, "head_dim", "attention_head_dim")) hd = E / n_head;
    }
    if (has_mlp && (st = need_int(c, &ff, "intermediate_size", NULL, e))) return st;
    double eps = 1e-5;
    if (!json_get_number(c->cfg, "layer_norm_epsilon", &eps)) json_get_number(c->cfg, "rms_norm_eps", &eps);
    const int L = c->n_layer;
    uint32_t kv_arr[HM_MAX_LAYERS], ff_arr[HM_MAX_LAYERS];
    for (int l = 0; l < L; l++) {
        kv_arr[l] = kinds[l] == '*' ? (uint32_t)n_kv : 0;
        ff_arr[l] = kinds[l] == '-' ? (uint32_t)ff : 0;
    }
    if ((st = set_arch_u32(c, "block_count", (uint32_t)L)) || (st = set_arch_u32(c, "embedding_length", (uint32_t)E)) ||
        (st = set_arch_u32(c, "context_length", ctx > 0 ? (uint32_t)ctx : 1u << 20)) ||
        (st = set_arch_u32(c, "attention.head_count", (uint32_t)n_head)) ||
        (st = set_arch_u32(c, "attention.key_length", (uint32_t)(hd ? hd : 128))) ||
        (st = set_arch_u32(c, "attention.value_length", (uint32_t)(hd ? hd : 128))) ||
        (st = set_arch_f32(c, "attention.layer_norm_rms_epsilon", (float)eps)) ||
        (st = set_arch_f32(c, "attention.layer_norm_epsilon", (float)eps)) ||
        (st = set_arch_u32(c, "ssm.conv_kernel", (uint32_t)K)) || (st = set_arch_u32(c, "ssm.state_size", (uint32_t)N)) ||
        (st = set_arch_u32(c, "ssm.group_count", (uint32_t)G)) ||
        (st = set_arch_u32(c, "ssm.inner_size", (uint32_t)(mh * mhd))) ||
        (st = set_arch_u32(c, "ssm.time_step_rank", (uint32_t)mh)) ||
        (st = gguf_set_bool(c->out, "nemotron_h.rope.scaling.finetuned", false)) ||
        (st = gguf_set_arr(c->out, "nemotron_h.attention.head_count_kv", GGUF_U32, kv_arr, (uint64_t)L)) ||
        (st = gguf_set_arr(c->out, "nemotron_h.feed_forward_length", GGUF_U32, ff_arr, (uint64_t)L)))
        return st ? st : herr(e, HEARTH_ERR_NOMEM, "out of memory");
    if (c->opts->vocab_only) return HEARTH_OK;

    if ((st = add_named(c, "embeddings.weight", "token_embd.weight", true, false, XF_NONE, e))) return st;
    char hf[128], gg[128];
#define ADD(hfname, ggname, matrix, xf)                                               \
    do {                                                                             \
        snprintf(hf, sizeof hf, "layers.%d.%s", l, hfname);                          \
        snprintf(gg, sizeof gg, "blk.%d.%s", l, ggname);                             \
        if ((st = add_named(c, hf, gg, matrix, false, xf, e))) return st;            \
    } while (0)
    for (int l = 0; l < L; l++) {
        ADD("norm.weight", "attn_norm.weight", false, XF_NONE);
        if (kinds[l] == 'M') {
            ADD("mixer.in_proj.weight", "ssm_in.weight", true, XF_NONE);
            ADD("mixer.conv1d.weight", "ssm_conv1d.weight", false, XF_NONE);
            ADD("mixer.conv1d.bias", "ssm_conv1d.bias", false, XF_NONE);
            ADD("mixer.dt_bias", "ssm_dt.bias", false, XF_NONE);
            ADD("mixer.out_proj.weight", "ssm_out.weight", true, XF_NONE);
            /* A and D are {1, H}; the gated norm weight is {d_inner/G, G} */
            snprintf(hf, sizeof hf, "layers.%d.mixer.A_log", l);
            const st_tensor *t = find(c, hf);
            if (!t) return herr(e, HEARTH_ERR_FORMAT, "checkpoint has no tensor '%s%s'", c->prefix, hf);
            snprintf(gg, sizeof gg, "blk.%d.ssm_a", l);
            if ((st = add(c, t, gg, HT_F32, 1, (uint64_t)mh, XF_NEG_EXP, e))) return st;
            snprintf(hf, sizeof hf, "layers.%d.mixer.D", l);
            if (!(t = find(c, hf))) return herr(e, HEARTH_ERR_FORMAT, "checkpoint has no tensor '%s%s'", c->prefix, hf);
            snprintf(gg, sizeof gg, "blk.%d.ssm_d", l);
            if ((st = add(c, t, gg, HT_F32, 1, (uint64_t)mh, XF_NONE, e))) return st;
            snprintf(hf, sizeof hf, "layers.%d.mixer.norm.weight", l);
            if (!(t = find(c, hf))) return herr(e, HEARTH_ERR_FORMAT, "checkpoint has no tensor '%s%s'", c->prefix, hf);
            snprintf(gg, sizeof gg, "blk.%d.ssm_norm.weight", l);
            if ((st = add(c, t, gg, HT_F32, (uint64_t)(mh * mhd / G), (uint64_t)G, XF_NONE, e))) return st;
        } else if (kinds[l] == '*') {
            ADD("mixer.q_proj.weight", "attn_q.weight", true, XF_NONE);
            ADD("mixer.k_proj.weight", "attn_k.weight", true, XF_NONE);
            ADD("mixer.v_proj.weight", "attn_v.weight", true, XF_NONE);
            ADD("mixer.o_proj.weight", "attn_output.weight", true, XF_NONE);
        } else {
            ADD("mixer.up_proj.weight", "ffn_up.weight", true, XF_NONE);
            ADD("mixer.down_proj.weight", "ffn_down.weight", true, XF_NONE);
        }
    }
#undef ADD
    if ((st = add_named(c, "norm_f.weight", "output_norm.weight", false, false, XF_NONE, e))) return st;
    const char *saved = c->prefix;
    c->prefix = "";
    st = add_named(c, "lm_head.weight", "output.weight", true, false, XF_NONE, e);
    c->prefix = saved;
    return st;
}

static hearth_status convert_dense(conv *c, hearth_err *e) {
    int64_t E, L, n_head, n_kv, ff, hd, ctx = 4096;
    hearth_status st;
    if ((st = need_int(c, &E, "hidden_size", NULL, e)) || (st = need_int(c, &L, "num_hidden_layers", NULL, e)) ||
        (st = need_int(c, &n_head, "num_attention_heads", NULL, e)) || (st = need_int(c, &ff, "intermediate_size", NULL, e)))
        return st;
    if (L > HM_MAX_LAYERS) return herr(e, HEARTH_ERR_FORMAT, "config.json: too many layers (%lld)", (long long)L);
    if (!cfg_int(c, &n_kv, "num_key_value_heads", NULL)) n_kv = n_head;
    if (!cfg_int(c, &hd, "head_dim", NULL) || hd <= 0) hd = E / n_head;
    cfg_int(c, &ctx, "max_position_embeddings", NULL);
    double eps = 1e-6, theta = 10000.0;
    json_get_number(c->cfg, "rms_norm_eps", &eps);
    if (!json_get_number(c->cfg, "rope_theta", &theta)) json_get_number(json_get(c->cfg, "rope_parameters"), "rope_theta", &theta);
    bool tied = false;
    json_get_bool(c->cfg, "tie_word_embeddings", &tied);
    c->n_layer = (int)L;
    c->n_attn_v = (int)L;
    c->tied = tied;
    c->gqa = n_kv != n_head;
    if ((st = set_arch_u32(c, "block_count", (uint32_t)L)) || (st = set_arch_u32(c, "embedding_length", (uint32_t)E)) ||
        (st = set_arch_u32(c, "context_length", (uint32_t)ctx)) || (st = set_arch_u32(c, "feed_forward_length", (uint32_t)ff)) ||
        (st = set_arch_u32(c, "attention.head_count", (uint32_t)n_head)) ||
        (st = set_arch_u32(c, "attention.head_count_kv", (uint32_t)n_kv)) ||
        (st = set_arch_u32(c, "attention.key_length", (uint32_t)hd)) ||
        (st = set_arch_u32(c, "attention.value_length", (uint32_t)hd)) ||
        (st = set_arch_u32(c, "rope.dimension_count", (uint32_t)hd)) ||
        (st = set_arch_f32(c, "rope.freq_base", (float)theta)) ||
        (st = set_arch_f32(c, "attention.layer_norm_rms_epsilon", (float)eps)))
        return st;
    if (c->opts->vocab_only) return HEARTH_OK;
    if ((st = add_named(c, "embed_tokens.weight", "token_embd.weight", true, false, XF_NONE, e))) return st;
    const bool llama = c->arch == HM_ARCH_LLAMA, qwen3 = c->arch == HM_ARCH_QWEN3;
    char hf[128], gg[128];
#define ADD(hfname, ggname, matrix, optional, xf)                                     \
    do {                                                                             \
        snprintf(hf, sizeof hf, "layers.%d.%s", l, hfname);                          \
        snprintf(gg, sizeof gg, "blk.%d.%s", l, ggname);                             \
        if ((st = add_named(c, hf, gg, matrix, optional, xf, e))) return st;         \
    } while (0)
    for (int l = 0; l < L; l++) {
        ADD("input_layernorm.weight", "attn_norm.weight", false, false, XF_NONE);
        ADD("self_attn.q_proj.weight", "attn_q.weight", true, false, llama ? XF_PERMUTE_Q : XF_NONE);
        ADD("self_attn.k_proj.weight", "attn_k.weight", true, false, llama ? XF_PERMUTE_K : XF_NONE);
        ADD("self_attn.v_proj.weight", "attn_v.weight", true, false, XF_NONE);
        ADD("self_attn.o_proj.weight", "attn_output.weight", true, false, XF_NONE);
        ADD("self_attn.q_proj.bias", "attn_q.bias", false, true, llama ? XF_PERMUTE_Q : XF_NONE);
        ADD("self_attn.k_proj.bias", "attn_k.bias", false, true, llama ? XF_PERMUTE_K : XF_NONE);
        ADD("self_attn.v_proj.bias", "attn_v.bias", false, true, XF_NONE);
        ADD("self_attn.q_norm.weight", "attn_q_norm.weight", false, !qwen3, XF_NONE);
        ADD("self_attn.k_norm.weight", "attn_k_norm.weight", false, !qwen3, XF_NONE);
        ADD("post_attention_layernorm.weight", "ffn_norm.weight", false, false, XF_NONE);
        ADD("mlp.gate_proj.weight", "ffn_gate.weight", true, false, XF_NONE);
        ADD("mlp.up_proj.weight", "ffn_up.weight", true, false, XF_NONE);
        ADD("mlp.down_proj.weight", "ffn_down.weight", true, false, XF_NONE);
    }
#undef ADD
    if ((st = add_named(c, "norm.weight", "output_norm.weight", false, false, XF_NONE, e))) return st;
    if (tied) return HEARTH_OK;
    const char *saved = c->prefix;
    c->prefix = "";
    st = add_named(c, "lm_head.weight", "output.weight", true, false, XF_NONE, e);
    c->prefix = saved;
    return st;
}

static hearth_status detect_arch(conv *c, hearth_err *e) {
    const char *mt = json_get_string(c->cfg, "model_type");
    if (!mt) return herr(e, HEARTH_ERR_FORMAT, "config.json: missing key 'model_type'");
    int a = hm_arch_from_name(mt);
    if (a < 0) return herr(e, HEARTH_ERR_UNSUPPORTED, "config.json: unsupported architecture '%s' (hearth converts nemotron_h, llama, qwen2, qwen3)", mt);
    c->arch = (hm_arch)a;
    c->prefix = "model.";
    if (c->arch == HM_ARCH_NEMOTRON_H && c->st) {
        bool backbone = false;
        for (size_t i = 0; i < c->st->n_tensors; i++)
            if (strncmp(c->st->tensors[i].name, "backbone.", 9) == 0) backbone = true;
        if (backbone) c->prefix = "backbone.";
    }
    return HEARTH_OK;
}

/* ---- random weights: the checkpoint's tensor names and shapes, made up from the config ---- */

/* The made-up tensor `rest` with torch shape [d0] / [d0, d1] / [d0, d1, d2] (0 = no such dim). */
static const st_tensor *synth(conv *c, const char *rest, int64_t d0, int64_t d1, int64_t d2) {
    snprintf(c->synth_name, sizeof c->synth_name, "%s%s", c->prefix, rest);
    st_tensor *t = &c->synth;
    memset(t, 0, sizeof *t);
    t->name = c->synth_name;
    t->type = HT_F32;
    memcpy(t->dtype, "F32", 4);
    t->n_dims = d2 ? 3 : d1 ? 2 : 1;
    t->shape[0] = (uint64_t)d0;
    t->shape[1] = (uint64_t)d1;
    t->shape[2] = (uint64_t)d2;
    t->n_elems = (uint64_t)d0 * (uint64_t)(d1 ? d1 : 1) * (uint64_t)(d2 ? d2 : 1);
    return t;
}

static int64_t cfg_or(const conv *c, const char *k1, const char *k2, int64_t dflt) {
    int64_t v;
    return cfg_int(c, &v, k1, k2) && v > 0 && v < (1 << 30) ? v : dflt;
}

/* Shape of checkpoint tensor `rest` (name without the model prefix) as the config implies it;
 * NULL for a tensor this architecture does not have. */
static const st_tensor *synth_tensor(conv *c, const char *rest) {
    const int64_t E = cfg_or(c, "hidden_size", NULL, 1), V = cfg_or(c, "vocab_size", NULL, 1);
    const int64_t nh = cfg_or(c, "num_attention_heads", NULL, 1), nkv = cfg_or(c, "num_key_value_heads", NULL, nh);
    const int64_t hd = cfg_or(c, "head_dim", c->arch == HM_ARCH_NEMOTRON_H ? "attention_head_dim" : NULL, E / nh);
    const int64_t ff = cfg_or(c, "intermediate_size", NULL, 1);
    if (!strcmp(rest, "embeddings.weight") || !strcmp(rest, "embed_tokens.weight") || !strcmp(rest, "lm_head.weight"))
        return synth(c, rest, V, E, 0);
    if (!strcmp(rest, "norm_f.weight") || !strcmp(rest, "norm.weight")) return synth(c, rest, E, 0, 0);
    int l, n = 0;
    if (sscanf(rest, "layers.%d.%n", &l, &n) != 1 || n == 0) return NULL;
    const char *s = rest + n;
    if (c->arch == HM_ARCH_NEMOTRON_H) {
        const int64_t H = cfg_or(c, "mamba_num_heads", NULL, 1), P = cfg_or(c, "mamba_head_dim", NULL, 1);
        const int64_t N = cfg_or(c, "ssm_state_size", NULL, 1), G = cfg_or(c, "n_groups", "mamba_n_groups", 1);
        const int64_t K = cfg_or(c, "conv_kernel", "mamba_d_conv", 4), DI = H * P, CD = DI + 2 * G * N;
        if (!strcmp(s, "norm.weight")) return synth(c, rest, E, 0, 0);
        if (!strcmp(s, "mixer.in_proj.weight")) return synth(c, rest, DI + CD + H, E, 0);
        if (!strcmp(s, "mixer.conv1d.weight")) return synth(c, rest, CD, 1, K);
        if (!strcmp(s, "mixer.conv1d.bias")) return synth(c, rest, CD, 0, 0);
        if (!strcmp(s, "mixer.dt_bias") || !strcmp(s, "mixer.A_log") || !strcmp(s, "mixer.D")) return synth(c, rest, H, 0, 0);
        if (!strcmp(s, "mixer.out_proj.weight")) return synth(c, rest, E, DI, 0);
        if (!strcmp(s, "mixer.norm.weight")) return synth(c, rest, DI, 0, 0);
        if (!strcmp(s, "mixer.q_proj.weight")) return synth(c, rest, nh * hd, E, 0);
        if (!strcmp(s, "mixer.k_proj.weight") || !strcmp(s, "mixer.v_proj.weight")) return synth(c, rest, nkv * hd, E, 0);
        if (!strcmp(s, "mixer.o_proj.weight")) return synth(c, rest, E, nh * hd, 0);
        if (!strcmp(s, "mixer.up_proj.weight")) return synth(c, rest, ff, E, 0);
        if (!strcmp(s, "mixer.down_proj.weight")) return synth(c, rest, E, ff, 0);
        return NULL;
    }
    bool bias = c->arch == HM_ARCH_QWEN2;
    json_get_bool(c->cfg, "attention_bias", &bias);
    if (!strcmp(s, "input_layernorm.weight") || !strcmp(s, "post_attention_layernorm.weight")) return synth(c, rest, E, 0, 0);
    if (!strcmp(s, "self_attn.q_proj.weight")) return synth(c, rest, nh * hd, E, 0);
    if (!strcmp(s, "self_attn.k_proj.weight") || !strcmp(s, "self_attn.v_proj.weight")) return synth(c, rest, nkv * hd, E, 0);
    if (!strcmp(s, "self_attn.o_proj.weight")) return synth(c, rest, E, nh * hd, 0);
    if (bias && !strcmp(s, "self_attn.q_proj.bias")) return synth(c, rest, nh * hd, 0, 0);
    if (bias && (!strcmp(s, "self_attn.k_proj.bias") || !strcmp(s, "self_attn.v_proj.bias"))) return synth(c, rest, nkv * hd, 0, 0);
    if (c->arch == HM_ARCH_QWEN3 && (!strcmp(s, "self_attn.q_norm.weight") || !strcmp(s, "self_attn.k_norm.weight")))
        return synth(c, rest, hd, 0, 0);
    if (!strcmp(s, "mlp.gate_proj.weight") || !strcmp(s, "mlp.up_proj.weight")) return synth(c, rest, ff, E, 0);
    if (!strcmp(s, "mlp.down_proj.weight")) return synth(c, rest, E, ff, 0);
    return NULL;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* One random-weights tensor, its rows spread over the threads of a pool. */
typedef struct {
    const rand_spec *sp;
    const char *name;
    uint8_t *dst;
    uint64_t row_bytes, seed;
    float **rows; /* per-thread row buffers [ne0] */
} rand_job;

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rand_rows(void *arg, int ith, int nth) {
    const rand_job *j = arg;
    const rand_spec *sp = j->sp;
    const char *nm = j->name;
    float *row = j->rows[ith];
    /* what the tensor holds decides its distribution; u is uniform in [0, 1) */
    enum { MATRIX, ONE, A, DT_BIAS, CONV, SMALL } kind = MATRIX;
    if (ends_with(nm, "ssm_a")) kind = A;
    else if (ends_with(nm, "ssm_d") || ends_with(nm, "norm.weight")) kind = ONE;
    else if (ends_with(nm, "ssm_dt.bias")) kind = DT_BIAS;
    else if (strstr(nm, "ssm_conv1d")) kind = CONV;
    else if (ends_with(nm, ".bias")) kind = SMALL;
    const float conv_scale = kind == CONV && ends_with(nm, ".weight") ? 1.0f / sqrtf((float)sp->ne0) : 0.5f;
    const float mat_scale = 0.02f * 1.7320508f; /* uniform in +-a has std a / sqrt(3) */
    for (uint64_t r = (uint64_t)ith; r < sp->ne1; r += (uint64_t)nth) {
        uint64_t st = mix64(j->seed ^ mix64(r + 1));
        for (uint64_t i = 0; i < sp->ne0; i++) {
            st += 0x9e3779b97f4a7c15ull;
            const float u = (float)(mix64(st) >> 40) * (1.0f / 16777216.0f);
            float v;
            switch (kind) {
            case ONE: v = 1.0f; break;
            case A: v = -(1.0f + 15.0f * u); break;               /* A = -exp(A_log), A_log = log U[1, 16] */
            case DT_BIAS: {
                const float dt = expf(logf(1e-3f) + u * (logf(0.1f) - logf(1e-3f)));
                v = dt + logf(-expm1f(-dt)); /* softplus(v) = dt */
                break;
            }
            case CONV: v = (2.0f * u - 1.0f) * conv_scale; break;
            case SMALL: v = (2.0f * u - 1.0f) * 0.02f; break;
            default: v = (2.0f * u - 1.0f) * mat_scale; break;
            }
            row[i] = v;
        }
        ht_quantize(sp->type, row, j->dst + r * j->row_bytes, (int64_t)sp->ne0);
    }
}

typedef struct {
    conv *c;
    htp_pool *pool;
    float **rows;
} rand_ctx;

static hearth_status produce_random(void *user, uint64_t index, const gguf_tensor *t, void *dst, hearth_err *e) {
    rand_ctx *rc = user;
    conv *c = rc->c;
    if (index >= c->n_specs) return herr(e, HEARTH_ERR_INVALID_ARG, "no recipe for tensor '%s'", t->name);
    const rand_spec *sp = &c->specs[index];
    rand_job j = {sp, t->name, dst, 0, mix64(c->opts->seed * 0x9e3779b97f4a7c15ull + index + 1), rc->rows};
    ht_row_bytes(sp->type, sp->ne0, &j.row_bytes);
    const int nth = htp_threads(rc->pool);
    for (int i = 0; i < nth; i++) {
        free(rc->rows[i]);
        if (!(rc->rows[i] = hu_malloc(sp->ne0 * sizeof(float), e))) return e ? e->code : HEARTH_ERR_NOMEM;
    }
    htp_run(rc->pool, rand_rows, &j);
    if (!c->opts->quiet && sp->ne1 > 1)
        fprintf(stderr, "\r  %llu/%zu %s        ", (unsigned long long)index + 1, c->n_specs, t->name);
    return HEARTH_OK;
}

/* ---- entry points ---- */

/* The output formats: a name for `hearth convert --type`, the matrices' type, the mix, and the
 * general.file_type llama.cpp writes for it (its llama_ftype). */
static const struct {
    const char *name;
    uint32_t type;
    hconv_mix mix;
    uint32_t file_type;
} k_formats[] = {
    {"f32", HT_F32, HCONV_MIX_NONE, 0},      {"f16", HT_F16, HCONV_MIX_NONE, 1},
    {"bf16", HT_BF16, HCONV_MIX_NONE, 32},   {"q8_0", HT_Q8_0, HCONV_MIX_NONE, 7},
    {"q4_0", HT_Q4_0, HCONV_MIX_NONE, 2},    {"q6_k", HT_Q6_K, HCONV_MIX_NONE, 18},
    {"q5_k_m", HT_Q5_K, HCONV_MIX_M, 17},    {"q4_k_m", HT_Q4_K, HCONV_MIX_M, 15},
};
enum { N_FORMATS = sizeof k_formats / sizeof k_formats[0] };

static int find_format(uint32_t type, hconv_mix mix) {
    for (int i = 0; i < N_FORMATS; i++)
        if (k_formats[i].type == type && k_formats[i].mix == mix) return i;
    return -1;
}

bool hconv_parse_type(const char *name, uint32_t *type, hconv_mix *mix) {
    for (int i = 0; name && i < N_FORMATS; i++) {
        if (strcasecmp(name, k_formats[i].name)) continue;
        *type = k_formats[i].type;
        *mix = k_formats[i].mix;
        return true;
    }
    return false;
}

/* Converts the config at cfg_path (and, unless random, the checkpoint in dir) to out_path. */
static hearth_status convert(const char *dir, const char *cfg_path, const char *name, const char *out_path,
                             const hconv_options *opts, bool random, hearth_err *e) {
    char *cfg_text = NULL;
    size_t cfg_len = 0;
    conv c = {0};
    c.opts = opts;
    c.random = random;
    const int fmt = find_format(opts->type, opts->mix);
    if (fmt < 0) {
        const ht_type_info *ti = ht_type_get(opts->type);
        return herr(e, HEARTH_ERR_UNSUPPORTED, "convert: output type %s%s is not supported", ti ? ti->name : "?",
                    opts->mix == HCONV_MIX_M ? " (mix _m)" : "");
    }
    hearth_status st = hu_read_text(cfg_path, &cfg_text, &cfg_len, e);
    if (st) return st;
    json_value *cfg = json_parse(cfg_text, cfg_len, e);
    free(cfg_text);
    if (!cfg) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return herr(e, HEARTH_ERR_FORMAT, "%s: %s", cfg_path, msg);
    }
    c.cfg = cfg;
    if (random && cfg_or(&c, "vocab_size", NULL, 0) <= 0)
        st = herr(e, HEARTH_ERR_FORMAT, "%s: missing or invalid key 'vocab_size'", cfg_path);
    if (!st && !opts->vocab_only && !random) st = st_open(dir, &c.st, e);
    if (!st) st = detect_arch(&c, e);
    if (!st && !(c.out = gguf_new())) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
    if (!st) st = gguf_set_str(c.out, "general.architecture", hm_arch_name(c.arch));
    if (!st) st = gguf_set_str(c.out, "general.name", name);
    if (!st) st = gguf_set_u32(c.out, "general.file_type", k_formats[fmt].file_type);
    /* the GGUF spec asks quantised files for the block-format version (2 since May 2023) */
    if (!st && ht_type_get(opts->type)->block_size > 1) st = gguf_set_u32(c.out, "general.quantization_version", 2);
    if (!st && !(c.threads = htp_new(0))) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
    if (!st) st = c.arch == HM_ARCH_NEMOTRON_H ? convert_nemotron_h(&c, e) : convert_dense(&c, e);
    if (!st) {
        int64_t vocab = 0;
        cfg_int(&c, &vocab, "vocab_size", NULL);
        st = htext_convert_vocab(dir, cfg, (int)vocab, c.out, e);
    }
    if (!st && !random) st = gguf_write_file(c.out, out_path, e);
    if (!st && random) {
        rand_ctx rc = {&c, c.threads, NULL};
        rc.rows = rc.pool ? calloc((size_t)htp_threads(rc.pool), sizeof(float *)) : NULL;
        if (!rc.rows) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
        if (!st) st = gguf_write_file_cb(c.out, out_path, produce_random, &rc, e);
        if (!opts->quiet) fputc('\n', stderr);
        for (int i = 0; rc.rows && i < htp_threads(rc.pool); i++) free(rc.rows[i]);
        free(rc.rows);
    }
    if (!st && !opts->quiet)
        fprintf(stderr, "wrote %s: %s, %llu tensors, weights %s%s\n", out_path, hm_arch_name(c.arch),
                (unsigned long long)c.out->n_tensors, k_formats[fmt].name, random ? " (random values)" : "");
    htp_free(c.threads);
    gguf_free(c.out);
    pool_free(&c.pool);
    free(c.specs);
    st_free(c.st);
    json_free(cfg);
    return st;
}

hearth_status hconv_convert(const char *hf_dir, const char *out_path, const hconv_options *opts, hearth_err *e) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", hf_dir);
    const char *slash = strrchr(hf_dir, '/');
    const char *name = slash && slash[1] ? slash + 1 : hf_dir;
    return convert(hf_dir, path, name, out_path, opts, false, e);
}

hearth_status hconv_random_weights(const char *config_path, const char *out_path, const hconv_options *opts, hearth_err *e) {
    char dir[4096], name[256];
    const char *slash = strrchr(config_path, '/');
    if (slash) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - config_path), config_path);
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    snprintf(name, sizeof name, "random-%s", slash ? slash + 1 : config_path);
    char *dot = strstr(name, ".config.json");
    if (!dot) dot = strstr(name, ".json");
    if (dot) *dot = 0;
    return convert(dir, config_path, name, out_path, opts, true, e);
}
