/* convert.c - maps Hugging Face names, shapes and configs of nemotron_h / llama / qwen2 / qwen3 to llama.cpp's GGUF. */
#include "convert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gguf.h"
#include "json.h"
#include "model.h"
#include "quant.h"
#include "safetensors.h"
#include "text.h"

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
} conv;

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
static const st_tensor *find(const conv *c, const char *rest) {
    char name[256];
    snprintf(name, sizeof name, "%s%s", c->prefix, rest);
    const st_tensor *t = st_find(c->st, name);
    if (!t && c->arch == HM_ARCH_NEMOTRON_H && strcmp(rest, "embeddings.weight") == 0) {
        snprintf(name, sizeof name, "%sembed_tokens.weight", c->prefix);
        t = st_find(c->st, name);
    }
    return t;
}

typedef enum { XF_NONE, XF_NEG_EXP, XF_PERMUTE_Q, XF_PERMUTE_K } xform;

/* Adds one tensor: reads it as f32, applies the transform, stores it as `type` with GGUF shape
 * ne = {ne0, ne1} (ne1 = 1 for vectors). */
static hearth_status add(conv *c, const st_tensor *t, const char *gguf_name, uint32_t type, uint64_t ne0, uint64_t ne1,
                         xform xf, hearth_err *e) {
    if (t->n_elems != ne0 * ne1)
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s' has %llu elements, expected %llu x %llu", t->name,
                    (unsigned long long)t->n_elems, (unsigned long long)ne0, (unsigned long long)ne1);
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
    const ht_type_info *ti = ht_type_get(type);
    if (ne0 % ti->block_size) type = HT_F16;
    uint64_t row_bytes;
    ht_row_bytes(type, ne0, &row_bytes);
    void *dst = f;
    if (type != HT_F32) {
        dst = pool_alloc(&c->pool, row_bytes * ne1, e);
        if (!dst) return e->code;
        for (uint64_t r = 0; r < ne1; r++) ht_quantize(type, f + r * ne0, (uint8_t *)dst + r * row_bytes, (int64_t)ne0);
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
    uint32_t type = HT_F32;
    if (matrix) {
        type = c->opts->type;
        if (type == HT_Q4_0 && strcmp(gguf_name, "output.weight") == 0) type = HT_Q8_0;
    }
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

/* Joins dir and name into buf. */
static const char *path_join(char *buf, size_t size, const char *dir, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

hearth_status hconv_convert(const char *hf_dir, const char *out_path, const hconv_options *opts, hearth_err *e) {
    char path[4096];
    char *cfg_text = NULL;
    size_t cfg_len = 0;
    conv c = {0};
    c.opts = opts;
    hearth_status st = hu_read_text(path_join(path, sizeof path, hf_dir, "config.json"), &cfg_text, &cfg_len, e);
    if (st) return st;
    json_value *cfg = json_parse(cfg_text, cfg_len, e);
    free(cfg_text);
    if (!cfg) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return herr(e, HEARTH_ERR_FORMAT, "%s: %s", path, msg);
    }
    c.cfg = cfg;
    const ht_type_info *ti = ht_type_get(opts->type);
    if (!ti || !(opts->type == HT_F32 || opts->type == HT_F16 || opts->type == HT_BF16 || opts->type == HT_Q8_0 || opts->type == HT_Q4_0))
        st = herr(e, HEARTH_ERR_UNSUPPORTED, "convert: output type %s is not supported", ti ? ti->name : "?");
    if (!st && !opts->vocab_only) st = st_open(hf_dir, &c.st, e);
    if (!st) st = detect_arch(&c, e);
    if (!st && !(c.out = gguf_new())) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
    if (!st) st = gguf_set_str(c.out, "general.architecture", hm_arch_name(c.arch));
    if (!st) {
        const char *slash = strrchr(hf_dir, '/');
        const char *name = slash && slash[1] ? slash + 1 : hf_dir;
        st = gguf_set_str(c.out, "general.name", name);
    }
    if (!st) st = gguf_set_u32(c.out, "general.file_type", opts->type == HT_Q4_0 ? 2 : opts->type == HT_Q8_0 ? 7 : opts->type == HT_F16 ? 1 : opts->type == HT_BF16 ? 32 : 0);
    if (!st) st = c.arch == HM_ARCH_NEMOTRON_H ? convert_nemotron_h(&c, e) : convert_dense(&c, e);
    if (!st) {
        int64_t vocab = 0;
        cfg_int(&c, &vocab, "vocab_size", NULL);
        st = htext_convert_vocab(hf_dir, cfg, (int)vocab, c.out, e);
    }
    if (!st) st = gguf_write_file(c.out, out_path, e);
    if (!st && !opts->quiet)
        fprintf(stderr, "wrote %s: %s, %llu tensors, weights %s\n", out_path, hm_arch_name(c.arch),
                (unsigned long long)c.out->n_tensors, ti->name);
    gguf_free(c.out);
    pool_free(&c.pool);
    st_free(c.st);
    json_free(cfg);
    return st;
}
