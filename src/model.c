/* model.c - reads hyperparameters and binds weights of a GGUF file for nemotron_h, llama, qwen2 and qwen3; repacks Q4_0 matrices of a copied file for the x86 kernels (AVX2, AVX-512). */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu_kernels.h"
#include "quant.h"

#define HM_COPY_MIN_BYTES (1ull << 30) /* smaller files: the copy costs load time and decode gains nothing measurable */

static const char *const arch_names[HM_ARCH_COUNT] = {"nemotron_h", "llama", "qwen2", "qwen3"};

const char *hm_arch_name(hm_arch a) { return (unsigned)a < HM_ARCH_COUNT ? arch_names[a] : "?"; }

int hm_arch_from_name(const char *name) {
    for (int i = 0; i < HM_ARCH_COUNT; i++)
        if (name && strcmp(name, arch_names[i]) == 0) return i;
    return -1;
}

/* "<arch>.<suffix>" */
static const char *akey(const hm_hparams *hp, const char *suffix, char *buf, size_t size) {
    snprintf(buf, size, "%s.%s", hm_arch_name(hp->arch), suffix);
    return buf;
}

/* Reads a positive integer key that must lie in [lo, hi]. */
static hearth_status get_int(const gguf_ctx *g, const hm_hparams *hp, const char *suffix, bool required, int lo,
                             int hi, int *out, hearth_err *e) {
    char k[128];
    int64_t v;
    akey(hp, suffix, k, sizeof k);
    const gguf_kv *kv = gguf_find(g, k);
    if (!kv) {
        if (required) return herr(e, HEARTH_ERR_FORMAT, "missing metadata key %s", k);
        return HEARTH_OK;
    }
    if (!gguf_get_i64(g, k, &v)) return herr(e, HEARTH_ERR_FORMAT, "metadata key %s is not an integer", k);
    if (v < lo || v > hi) return herr(e, HEARTH_ERR_FORMAT, "metadata key %s = %lld is out of range [%d, %d]", k, (long long)v, lo, hi);
    *out = (int)v;
    return HEARTH_OK;
}

/* Per-layer integer: the key may be a scalar (same for all layers) or an array of n_layer. */
static hearth_status get_layer_int(const gguf_ctx *g, const hm_hparams *hp, const char *suffix, int layer, int *out,
                                   hearth_err *e) {
    char k[128];
    akey(hp, suffix, k, sizeof k);
    const gguf_kv *kv = gguf_find(g, k);
    if (!kv) return herr(e, HEARTH_ERR_FORMAT, "missing metadata key %s", k);
    int64_t v;
    if (kv->type == GGUF_ARRAY) {
        if (kv->n != (uint64_t)hp->n_layer)
            return herr(e, HEARTH_ERR_FORMAT, "metadata array %s has %llu entries, expected %d", k,
                        (unsigned long long)kv->n, hp->n_layer);
        if (!gguf_arr_i64(kv, (uint64_t)layer, &v)) return herr(e, HEARTH_ERR_FORMAT, "metadata array %s is not integer", k);
    } else if (!gguf_get_i64(g, k, &v)) {
        return herr(e, HEARTH_ERR_FORMAT, "metadata key %s is not an integer", k);
    }
    if (v < 0 || v > (1 << 24)) return herr(e, HEARTH_ERR_FORMAT, "metadata %s[%d] = %lld is out of range", k, layer, (long long)v);
    *out = (int)v;
    return HEARTH_OK;
}

static hearth_status read_hparams(const gguf_ctx *g, hm_hparams *hp, hearth_err *e) {
    const char *arch = gguf_get_str(g, "general.architecture");
    if (!arch) return herr(e, HEARTH_ERR_FORMAT, "missing metadata key general.architecture");
    int a = hm_arch_from_name(arch);
    if (a < 0)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "unsupported architecture '%s' (hearth runs nemotron_h, llama, qwen2, qwen3)", arch);
    memset(hp, 0, sizeof *hp);
    hp->arch = (hm_arch)a;
    hearth_status st;
#define TRY(x) do { if ((st = (x)) != HEARTH_OK) return st; } while (0)
    TRY(get_int(g, hp, "block_count", true, 1, HM_MAX_LAYERS, &hp->n_layer, e));
    TRY(get_int(g, hp, "embedding_length", true, 1, 1 << 20, &hp->n_embd, e));
    hp->n_ctx_train = 4096;
    {
        char k[128];
        int64_t v;
        if (gguf_get_i64(g, akey(hp, "context_length", k, sizeof k), &v) && v > 0)
            hp->n_ctx_train = v > (1 << 24) ? (1 << 24) : (int)v;
    }
    TRY(get_int(g, hp, "attention.head_count", true, 1, 1 << 16, &hp->n_head, e));
    {
        char k[128];
        float eps = 0;
        if (!gguf_get_f32(g, akey(hp, "attention.layer_norm_rms_epsilon", k, sizeof k), &eps))
            return herr(e, HEARTH_ERR_FORMAT, "missing metadata key %s", k);
        if (!(eps > 0 && eps < 1)) return herr(e, HEARTH_ERR_FORMAT, "%s = %g is out of range", k, eps);
        hp->rms_eps = eps;
        hp->rope_base = 10000.0f;
        float base;
        if (gguf_get_f32(g, akey(hp, "rope.freq_base", k, sizeof k), &base)) hp->rope_base = base;
    }
    hp->head_dim = hp->n_embd / hp->n_head;
    TRY(get_int(g, hp, "attention.key_length", false, 1, 1 << 16, &hp->head_dim, e));
    hp->rope_neox = hp->arch == HM_ARCH_QWEN2 || hp->arch == HM_ARCH_QWEN3;

    if (hp->arch == HM_ARCH_NEMOTRON_H) {
        TRY(get_int(g, hp, "ssm.conv_kernel", true, 1, 64, &hp->ssm_d_conv, e));
        TRY(get_int(g, hp, "ssm.state_size", true, 1, 1 << 12, &hp->ssm_d_state, e));
        TRY(get_int(g, hp, "ssm.group_count", true, 1, 1 << 12, &hp->ssm_n_group, e));
        TRY(get_int(g, hp, "ssm.inner_size", true, 1, 1 << 20, &hp->ssm_d_inner, e));
        TRY(get_int(g, hp, "ssm.time_step_rank", true, 1, 1 << 16, &hp->ssm_n_head, e));
        if (hp->ssm_d_inner % hp->ssm_n_head || hp->ssm_n_head % hp->ssm_n_group || hp->ssm_d_inner % hp->ssm_n_group)
            return herr(e, HEARTH_ERR_FORMAT, "ssm sizes do not divide: inner %d, heads %d, groups %d", hp->ssm_d_inner,
                        hp->ssm_n_head, hp->ssm_n_group);
        hp->ssm_head_dim = hp->ssm_d_inner / hp->ssm_n_head;
        for (int l = 0; l < hp->n_layer; l++) {
            int kv, ff;
            TRY(get_layer_int(g, hp, "attention.head_count_kv", l, &kv, e));
            TRY(get_layer_int(g, hp, "feed_forward_length", l, &ff, e));
            if (kv == 0 && ff == 0) {
                hp->kind[l] = HM_LAYER_MAMBA;
            } else if (ff == 0) {
                hp->kind[l] = HM_LAYER_ATTN;
                if (hp->n_head_kv && hp->n_head_kv != kv)
                    return herr(e, HEARTH_ERR_UNSUPPORTED, "attention layers with different kv head counts");
                hp->n_head_kv = kv;
            } else {
                hp->kind[l] = HM_LAYER_MLP;
                if (hp->n_ff && hp->n_ff != ff) return herr(e, HEARTH_ERR_UNSUPPORTED, "MLP layers with different widths");
                hp->n_ff = ff;
            }
        }
    } else {
        TRY(get_layer_int(g, hp, "attention.head_count_kv", 0, &hp->n_head_kv, e));
        TRY(get_layer_int(g, hp, "feed_forward_length", 0, &hp->n_ff, e));
        for (int l = 0; l < hp->n_layer; l++) hp->kind[l] = HM_LAYER_DENSE;
    }
    if (hp->n_head_kv && (hp->n_head % hp->n_head_kv))
        return herr(e, HEARTH_ERR_FORMAT, "head_count %d is not a multiple of head_count_kv %d", hp->n_head, hp->n_head_kv);
    if (hp->rope_neox || hp->arch == HM_ARCH_LLAMA) {
        if (hp->head_dim % 2) return herr(e, HEARTH_ERR_FORMAT, "rotary head_dim %d is odd", hp->head_dim);
    }
#undef TRY
    return HEARTH_OK;
}

/* Binds a 1-D or 2-D weight and checks its shape: ne0 x ne1 (ne1 = 1 for vectors). */
static hearth_status bind(const gguf_ctx *g, const char *name, uint64_t ne0, uint64_t ne1, bool required, hm_weight *w,
                          hearth_err *e) {
    memset(w, 0, sizeof *w);
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) return required ? herr(e, HEARTH_ERR_FORMAT, "missing tensor '%s'", name) : HEARTH_OK;
    const ht_type_info *ti = ht_type_get(t->type);
    if (!ti || !ti->supported)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tensor '%s' has type %s (id %u), which hearth does not support", name,
                    ti ? ti->name : "unknown", t->type);
    uint64_t n_elems = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; /* checked by gguf_read */
    bool ok = t->ne[0] == ne0 && n_elems == ne0 * ne1;
    if (!ok)
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s' has shape {%llu, %llu, %llu, %llu}, expected {%llu, %llu}", name,
                    (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
                    (unsigned long long)t->ne[3], (unsigned long long)ne0, (unsigned long long)ne1);
    w->type = t->type;
    memcpy(w->ne, t->ne, sizeof w->ne);
    w->data = t->data;
    w->name = t->name;
    ht_row_bytes(t->type, t->ne[0], &w->row_bytes);
    return HEARTH_OK;
}

/* Binds a small tensor and converts it to an f32 array the model owns (*out stays NULL when
 * absent and optional). */
static hearth_status bind_f32(hearth_model *m, const char *name, uint64_t ne0, uint64_t ne1, bool required, float **out,
                              hearth_err *e) {
    hm_weight w;
    *out = NULL;
    hearth_status st = bind(m->gguf, name, ne0, ne1, required, &w, e);
    if (st != HEARTH_OK || !w.data) return st;
    float *f = hu_calloc(ne0 * ne1, sizeof(float), e);
    if (!f) return e ? e->code : HEARTH_ERR_NOMEM;
    if (m->n_owned == m->cap_owned) {
        int cap = m->cap_owned ? 2 * m->cap_owned : 64;
        float **nb = realloc(m->owned, sizeof(float *) * (size_t)cap);
        if (!nb) {
            free(f);
            return herr(e, HEARTH_ERR_NOMEM, "out of memory");
        }
        m->owned = nb;
        m->cap_owned = cap;
    }
    m->owned[m->n_owned++] = f;
    for (uint64_t r = 0; r < ne1; r++)
        ht_dequantize(w.type, (const uint8_t *)w.data + r * w.row_bytes, f + r * ne0, (int64_t)ne0);
    *out = f;
    return HEARTH_OK;
}

static hearth_status bind_layers(hearth_model *m, hearth_err *e) {
    const hm_hparams *hp = &m->hp;
    const uint64_t E = (uint64_t)hp->n_embd, hd = (uint64_t)hp->head_dim;
    const uint64_t q_dim = (uint64_t)hp->n_head * hd, kv_dim = (uint64_t)hp->n_head_kv * hd;
    hearth_status st;
    char n[96];
#define TRY(x) do { if ((st = (x)) != HEARTH_OK) return st; } while (0)
#define NAME(l, s) (snprintf(n, sizeof n, "blk.%d.%s", (l), (s)), n)
    for (int l = 0; l < hp->n_layer; l++) {
        hm_layer *L = &m->layers[l];
        L->kind = hp->kind[l];
        TRY(bind_f32(m, NAME(l, "attn_norm.weight"), E, 1, true, &L->attn_norm, e));
        if (L->kind == HM_LAYER_ATTN || L->kind == HM_LAYER_DENSE) {
            TRY(bind(m->gguf, NAME(l, "attn_q.weight"), E, q_dim, true, &L->wq, e));
            TRY(bind(m->gguf, NAME(l, "attn_k.weight"), E, kv_dim, true, &L->wk, e));
            TRY(bind(m->gguf, NAME(l, "attn_v.weight"), E, kv_dim, true, &L->wv, e));
            TRY(bind(m->gguf, NAME(l, "attn_output.weight"), q_dim, E, true, &L->wo, e));
            TRY(bind_f32(m, NAME(l, "attn_q.bias"), q_dim, 1, false, &L->bq, e));
            TRY(bind_f32(m, NAME(l, "attn_k.bias"), kv_dim, 1, false, &L->bk, e));
            TRY(bind_f32(m, NAME(l, "attn_v.bias"), kv_dim, 1, false, &L->bv, e));
            TRY(bind_f32(m, NAME(l, "attn_q_norm.weight"), hd, 1, hp->arch == HM_ARCH_QWEN3, &L->q_norm, e));
            TRY(bind_f32(m, NAME(l, "attn_k_norm.weight"), hd, 1, hp->arch == HM_ARCH_QWEN3, &L->k_norm, e));
        }
        if (L->kind == HM_LAYER_DENSE) {
            TRY(bind_f32(m, NAME(l, "ffn_norm.weight"), E, 1, true, &L->ffn_norm, e));
            TRY(bind(m->gguf, NAME(l, "ffn_gate.weight"), E, (uint64_t)hp->n_ff, true, &L->ffn_gate, e));
        }
        if (L->kind == HM_LAYER_DENSE || L->kind == HM_LAYER_MLP) {
            TRY(bind(m->gguf, NAME(l, "ffn_up.weight"), E, (uint64_t)hp->n_ff, true, &L->ffn_up, e));
            TRY(bind(m->gguf, NAME(l, "ffn_down.weight"), (uint64_t)hp->n_ff, E, true, &L->ffn_down, e));
        }
        if (L->kind == HM_LAYER_MAMBA) {
            const uint64_t H = (uint64_t)hp->ssm_n_head, DI = (uint64_t)hp->ssm_d_inner;
            const uint64_t conv_dim = (uint64_t)hm_ssm_conv_dim(hp);
            TRY(bind(m->gguf, NAME(l, "ssm_in.weight"), E, DI + conv_dim + H, true, &L->ssm_in, e));
            TRY(bind(m->gguf, NAME(l, "ssm_out.weight"), DI, E, true, &L->ssm_out, e));
            TRY(bind_f32(m, NAME(l, "ssm_conv1d.weight"), (uint64_t)hp->ssm_d_conv, conv_dim, true, &L->ssm_conv, e));
            TRY(bind_f32(m, NAME(l, "ssm_conv1d.bias"), conv_dim, 1, true, &L->ssm_conv_b, e));
            TRY(bind_f32(m, NAME(l, "ssm_dt.bias"), H, 1, true, &L->ssm_dt_b, e));
            TRY(bind_f32(m, NAME(l, "ssm_a"), 1, H, true, &L->ssm_a, e));
            TRY(bind_f32(m, NAME(l, "ssm_d"), 1, H, true, &L->ssm_d, e));
            TRY(bind_f32(m, NAME(l, "ssm_norm.weight"), DI / (uint64_t)hp->ssm_n_group, (uint64_t)hp->ssm_n_group, true,
                         &L->ssm_norm, e));
        }
    }
#undef NAME
#undef TRY
    return HEARTH_OK;
}

const uint8_t *hm_weight_row(const hm_weight *w, uint64_t r, uint8_t *buf) {
    if (w->layout == HM_LAYOUT_ROWS) return (const uint8_t *)w->data + r * w->row_bytes;
    hk_q4_0_blocks_x16(w->data, w->row_bytes, w->ne[1], r, 0, w->row_bytes / 18, buf);
    return buf;
}

void hm_weight_dequantize_row(const hm_weight *w, uint64_t r, float *out) {
    if (w->layout == HM_LAYOUT_ROWS) {
        ht_dequantize(w->type, (const uint8_t *)w->data + r * w->row_bytes, out, (int64_t)w->ne[0]);
        return;
    }
    enum { CHUNK = 16 }; /* Q4_0 blocks rebuilt at a time (dequantising is per value: chunks change nothing) */
    uint8_t blk[CHUNK * 18];
    const size_t nb = w->row_bytes / 18;
    for (size_t b = 0; b < nb; b += CHUNK) {
        const size_t n = nb - b < CHUNK ? nb - b : CHUNK;
        hk_q4_0_blocks_x16(w->data, w->row_bytes, w->ne[1], r, b, n, blk);
        ht_dequantize(HT_Q4_0, blk, out + b * HK_QK, (int64_t)(n * HK_QK));
    }
}

int hm_matmul_weights(hearth_model *m, hm_weight **ws) {
    int n = 0;
    for (int l = 0; l < m->hp.n_layer; l++) {
        hm_layer *L = &m->layers[l];
        hm_weight *lw[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->ffn_gate, &L->ffn_up, &L->ffn_down, &L->ssm_in, &L->ssm_out};
        for (size_t i = 0; i < sizeof lw / sizeof lw[0]; i++) ws[n++] = lw[i];
    }
    ws[n++] = &m->output;
    return n;
}

/* Whether ws[i]'s bytes were already seen in ws[0..i-1] (a file may point two tensors at the same bytes). */
static bool seen_before(hm_weight *const *ws, int i) {
    for (int k = 0; k < i; k++)
        if (ws[k]->data == ws[i]->data) return true;
    return false;
}

/* Repacks the Q4_0 matrices into the x16 layout (cpu_kernels.h) in place, when the kernel table this
 * machine picks wants it (AVX2 and AVX-512: their kernels then load each block of 16 rows as it
 * stands instead of gathering and transposing it at every token). The caller has made the model's own
 * copy of the file (hu_file_copy) writable, so the repack costs no memory beyond 16 rows of
 * scratch. A model on
 * a file mapping (HEARTH_WEIGHTS=mmap, files under 1 GiB, little free memory) is not repacked: the
 * mapping's pages belong to the page cache, and repacking would need a private copy of every
 * Q4_0 matrix (the memory the mapping was chosen to save) and a read of the whole file at load;
 * those models keep the row layout and its kernel. Without scratch memory nothing is repacked. */
static void repack_q4_0(hearth_model *m) {
    hk_kernels kt;
    if (!hk_pick(&kt)->repack_q4_0) return;
    hm_weight *ws[HM_MAX_MATMUL_WEIGHTS];
    const int n = hm_matmul_weights(m, ws);
    size_t tmp_bytes = 0;
    for (int i = 0; i < n; i++)
        if (ws[i]->data && ws[i]->type == HT_Q4_0 && HK_X16 * ws[i]->row_bytes > tmp_bytes) tmp_bytes = HK_X16 * ws[i]->row_bytes;
    uint8_t *tmp = tmp_bytes ? malloc(tmp_bytes) : NULL;
    if (!tmp) return;
    for (int i = 0; i < n; i++) {
        hm_weight *w = ws[i];
        if (!w->data || w->type != HT_Q4_0 || seen_before(ws, i)) continue;
        hk_q4_0_pack_x16((uint8_t *)(uintptr_t)w->data, w->row_bytes, w->ne[1], tmp);
        for (int k = i; k < n; k++) /* every view of these bytes that reads them as this matrix */
            if (ws[k]->data == w->data && ws[k]->type == HT_Q4_0 && ws[k]->row_bytes == w->row_bytes && ws[k]->ne[1] == w->ne[1])
                ws[k]->layout = HM_LAYOUT_Q4_0_X16;
    }
    if (m->tok_embd.data == m->output.data && m->tok_embd.type == m->output.type) m->tok_embd.layout = m->output.layout; /* tied */
    free(tmp);
}

void hearth_model_free(hearth_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    hm_tokenizer_release(m);
    free(m->chat_template);
    gguf_free(m->gguf);
    hu_file_unmap(&m->file);
    free(m);
}

hearth_status hm_model_from_gguf(gguf_ctx *g, const hearth_model_params *params, hearth_model **out, hearth_err *e) {
    *out = NULL;
    hearth_model *m = calloc(1, sizeof *m);
    if (!m) {
        gguf_free(g);
        return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    }
    m->gguf = g;
    m->n_threads = params ? params->n_threads : 0;
    hearth_status st = read_hparams(g, &m->hp, e);
    if (st == HEARTH_OK) {
        const gguf_tensor *te = gguf_find_tensor(g, "token_embd.weight");
        if (!te) st = herr(e, HEARTH_ERR_FORMAT, "missing tensor 'token_embd.weight'");
        else if (te->n_dims != 2 || te->ne[1] > (1u << 24) || te->ne[1] == 0)
            st = herr(e, HEARTH_ERR_FORMAT, "tensor 'token_embd.weight' has a bad shape");
        else m->hp.n_vocab = (int)te->ne[1];
    }
    const uint64_t E = (uint64_t)m->hp.n_embd, V = (uint64_t)m->hp.n_vocab;
    if (st == HEARTH_OK) st = bind(g, "token_embd.weight", E, V, true, &m->tok_embd, e);
    if (st == HEARTH_OK) st = bind(g, "output.weight", E, V, false, &m->output, e);
    if (st == HEARTH_OK && !m->output.data) m->output = m->tok_embd; /* tied */
    if (st == HEARTH_OK) st = bind_f32(m, "output_norm.weight", E, 1, true, &m->output_norm, e);
    if (st == HEARTH_OK) st = bind_layers(m, e);
    if (st == HEARTH_OK) st = hm_tokenizer_attach(m, e);
    if (st != HEARTH_OK) {
        hearth_model_free(m);
        return st;
    }
    *out = m;
    return HEARTH_OK;
}

hearth_model_params hearth_model_default_params(void) {
    hearth_model_params p = {0};
    p.check_tensors = true;
    return p;
}

static void copy_err(const hearth_err *e, char *err, size_t err_size) {
    if (err && err_size) snprintf(err, err_size, "%s", e->msg);
}

hearth_status hearth_model_load_memory(const void *data, size_t size, const hearth_model_params *params,
                                       hearth_model **out, char *err, size_t err_size) {
    hearth_err e = {0};
    gguf_ctx *g = NULL;
    *out = NULL;
    hearth_status st = gguf_read(data, size, &g, &e);
    if (st == HEARTH_OK) st = hm_model_from_gguf(g, params, out, &e);
    if (st != HEARTH_OK) copy_err(&e, err, err_size);
    return st;
}

/* Copy (huge pages) or map: the caller's choice, else $HEARTH_WEIGHTS, else copy when the file is large
 * enough for TLB misses to cost bandwidth, small enough to leave most of the memory free, and the
 * system has transparent huge pages (a copy on small pages loads slower and decodes no faster). */
static hearth_weights_mode pick_weights_mode(const hearth_model_params *params, const char *path) {
    hearth_weights_mode m = params ? params->weights : HEARTH_WEIGHTS_AUTO;
    if (m != HEARTH_WEIGHTS_AUTO) return m;
    const char *env = getenv("HEARTH_WEIGHTS");
    if (env && !strcmp(env, "mmap")) return HEARTH_WEIGHTS_MMAP;
    if (env && !strcmp(env, "copy")) return HEARTH_WEIGHTS_COPY;
    const uint64_t size = hu_file_size(path), avail = hu_mem_available();
    return size >= HM_COPY_MIN_BYTES && size <= avail / 2 && hu_huge_pages_available() ? HEARTH_WEIGHTS_COPY
                                                                                           : HEARTH_WEIGHTS_MMAP;
}

hearth_status hearth_model_load(const char *path, const hearth_model_params *params, hearth_model **out, char *err,
                                size_t err_size) {
    hearth_err e = {0};
    hu_file f;
    *out = NULL;
    const hearth_weights_mode wm = pick_weights_mode(params, path);
    hearth_status st = wm == HEARTH_WEIGHTS_COPY ? hu_file_copy(path, &f, &e) : hu_file_map(path, &f, &e);
    if (st == HEARTH_ERR_NOMEM && wm == HEARTH_WEIGHTS_COPY && !(params && params->weights == HEARTH_WEIGHTS_COPY))
        st = hu_file_map(path, &f, &e); /* chosen automatically: mapping needs no memory of its own */
    if (st != HEARTH_OK) {
        copy_err(&e, err, err_size);
        return st;
    }
    st = hearth_model_load_memory(f.data, f.size, params, out, err, err_size);
    if (st != HEARTH_OK) {
        /* prefix the path so the user knows which file */
        if (err && err_size) {
            char tmp[600];
            snprintf(tmp, sizeof tmp, "%s: %s", path, err);
            snprintf(err, err_size, "%s", tmp);
        }
        hu_file_unmap(&f);
        return st;
    }
    (*out)->file = f;
    if (hu_file_writable(&(*out)->file, true)) { /* a private copy (hu_file_copy): repack it in place */
        repack_q4_0(*out);
        hu_file_writable(&(*out)->file, false);
    }
    return HEARTH_OK;
}

const char *hearth_model_weights(const hearth_model *m) {
    return m->file.map_base_ ? "copy" : m->file.mapped_ ? "mmap" : "memory";
}

int hearth_model_n_vocab(const hearth_model *m) { return m->hp.n_vocab; }
int hearth_model_n_ctx_train(const hearth_model *m) { return m->hp.n_ctx_train; }
const char *hearth_model_arch(const hearth_model *m) { return hm_arch_name(m->hp.arch); }

uint64_t hm_state_bytes(const hm_hparams *hp, int n_ctx) {
    uint64_t total = 0;
    for (int l = 0; l < hp->n_layer; l++) {
        if (hp->kind[l] == HM_LAYER_ATTN || hp->kind[l] == HM_LAYER_DENSE)
            total += 2ull * (uint64_t)n_ctx * (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim * sizeof(float);
        if (hp->kind[l] == HM_LAYER_MAMBA)
            total += ((uint64_t)(hp->ssm_d_conv - 1) * (uint64_t)hm_ssm_conv_dim(hp) +
                      (uint64_t)hp->ssm_d_inner * (uint64_t)hp->ssm_d_state) * sizeof(float);
    }
    return total;
}
