/* hg_model.c - a hearth_model on the GPU: where every weight and activation lives, and the forward pass + sampling of one step as dispatches. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gguf.h"
#include "quant.h"
#include "webgpu/gpu.h"
#include "webgpu/hg_internal.h"

typedef struct {
    hm_layer_kind kind;
    hg_ref attn_norm, ffn_norm;
    hg_weight wq, wk, wv, wo;
    hg_weight wqkv;   /* q, k and v as one matrix when they share a type (then wq/wk/wv are unused) */
    bool q8_attn, q8_ffn, q8_ssm_out; /* the matmuls after the block norm / ffn norm / gated norm read Q8 */
    hg_weight ffn_gate, ffn_up, ffn_down;
    hg_weight ssm_in, ssm_out;
    hg_ref conv_w;    /* taps [CD][K], then bias [CD] */
    hg_ref hv;        /* dt_bias | A | D, [3][H] */
    hg_ref ssm_norm;  /* [DI] */
    hg_ref attn_aux;  /* q|k|v biases, q_norm [hd], k_norm [hd] (what the layer has) */
    hg_attn_shape attn;
    hg_ref conv_state, ssm_state; /* [K-1][CD], [H][N][P] */
    hg_ref kc, vc;                /* [n_ctx][kvd] */
} gpu_layer;

struct hg_model {
    const hearth_model *m;
    hg_ctx *g;
    hg_options o;
    hg_weight tok_embd, output;
    hg_ref output_norm;
    hg_ref rope; /* [n_ctx][hd/2][cos, sin] or the dummy */
    gpu_layer *layers;
    /* activations: [max_batch][width] each */
    hg_ref tokens, hist, x, u, proj, aux, y, gout, dtl, sl, logits, cand_a, cand_b, bits;
    hg_ref q8; /* Q8 copy of the current matmul input */
    hg_ref no_q8; /* a zero-size scratch: an act that needs no Q8 copy */
    hg_ref attn_part; /* split attention's partial sums */
    bool q8_head;
    uint32_t w_proj, w_aux;
    hg_ssm_shape ssm;
    const uint8_t *plan;
    size_t plan_len;
};

hg_options hg_default_options(void) {
    hg_options o = {0};
    o.n_ctx = 4096;
    o.max_batch = 64;
    o.logits_rows = 1;
    o.ssd_chunk = 64;
    return o;
}

/* File offset of a weight's bytes: the GGUF data section + the tensor's offset. */
static hearth_status weight_file(hg_model *gm, const hm_weight *w, uint64_t *off, hearth_err *e) {
    const gguf_tensor *t = gguf_find_tensor(gm->m->gguf, w->name);
    if (!t) return herr(e, HEARTH_ERR_FORMAT, "tensor '%s' is not in the file", w->name ? w->name : "?");
    *off = gm->m->gguf->data_offset + t->offset;
    return HEARTH_OK;
}

static hearth_status place_weight(hg_model *gm, const hm_weight *w, hg_weight *out, hearth_err *e) {
    uint64_t off = 0;
    hearth_status st = weight_file(gm, w, &off, e);
    if (st != HEARTH_OK) return st;
    return hg_place_weight(gm->g, w->type, (int64_t)w->ne[0], (int64_t)(w->ne[1] * w->ne[2] * w->ne[3]), off, NULL,
                           gm->o.max_part, out, e);
}

static hg_ref place_f32(hg_model *gm, const float *v, uint64_t n) { return hg_place_data(gm->g, v, 4 * n); }

/* Weights whose matmuls read x as Q8 blocks (Q8_0 weights read f32 x, dequantised in the kernel). */
static bool is_quant(uint32_t type) { return type == HT_Q4_0; }

static hearth_status place_layer(hg_model *gm, int l, hearth_err *e) {
    const hm_hparams *hp = &gm->m->hp;
    const hm_layer *L = &gm->m->layers[l];
    gpu_layer *G = &gm->layers[l];
    hearth_status st = HEARTH_OK;
#define TRY(x) do { if ((st = (x)) != HEARTH_OK) return st; } while (0)
    G->kind = L->kind;
    G->attn_norm = place_f32(gm, L->attn_norm, (uint64_t)hp->n_embd);
    const uint64_t kvd = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
    if (L->kind == HM_LAYER_ATTN || L->kind == HM_LAYER_DENSE) {
        if (L->wq.type == L->wk.type && L->wq.type == L->wv.type) { /* one matmul for q, k and v */
            const hm_weight *w3[3] = {&L->wq, &L->wk, &L->wv};
            int64_t rows[3];
            uint64_t offs[3];
            for (int i = 0; i < 3; i++) {
                rows[i] = (int64_t)(w3[i]->ne[1] * w3[i]->ne[2] * w3[i]->ne[3]);
                TRY(weight_file(gm, w3[i], &offs[i], e));
            }
            TRY(hg_place_weight_concat(gm->g, L->wq.type, (int64_t)L->wq.ne[0], 3, rows, offs, NULL, gm->o.max_part,
                                       &G->wqkv, e));
        } else {
            TRY(place_weight(gm, &L->wq, &G->wq, e));
            TRY(place_weight(gm, &L->wk, &G->wk, e));
            TRY(place_weight(gm, &L->wv, &G->wv, e));
        }
        TRY(place_weight(gm, &L->wo, &G->wo, e));
        G->q8_attn = is_quant(L->wq.type) || is_quant(L->wk.type) || is_quant(L->wv.type);
        const int hd = hp->head_dim;
        const uint32_t qd = (uint32_t)(hp->n_head * hd), stride = qd + 2 * (uint32_t)kvd;
        hg_attn_shape *a = &G->attn;
        a->nh = hp->n_head;
        a->nkv = hp->n_head_kv;
        a->hd = hd;
        a->rope = hp->arch == HM_ARCH_NEMOTRON_H ? 0 : (hp->rope_neox ? 2 : 1);
        a->bias = L->bq || L->bk || L->bv;
        a->qk_norm = L->q_norm && L->k_norm;
        a->eps = hp->rms_eps;
        const uint64_t n_aux = stride + 2ull * (uint64_t)hd;
        float *aux = calloc(n_aux, sizeof(float));
        if (!aux) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
        if (L->bq) memcpy(aux, L->bq, sizeof(float) * qd);
        if (L->bk) memcpy(aux + qd, L->bk, sizeof(float) * kvd);
        if (L->bv) memcpy(aux + qd + kvd, L->bv, sizeof(float) * kvd);
        if (a->qk_norm) {
            memcpy(aux + stride, L->q_norm, sizeof(float) * (size_t)hd);
            memcpy(aux + stride + hd, L->k_norm, sizeof(float) * (size_t)hd);
        }
        a->bias_off = 0;
        a->qn_off = stride;
        a->kn_off = stride + (uint32_t)hd;
        G->attn_aux = (a->bias || a->qk_norm) ? place_f32(gm, aux, n_aux) : hg_dummy(gm->g);
        free(aux);
        G->kc = hg_buffer(gm->g, 4ull * (uint64_t)gm->o.n_ctx * kvd, "k cache");
        G->vc = hg_buffer(gm->g, 4ull * (uint64_t)gm->o.n_ctx * kvd, "v cache");
    }
    if (L->kind == HM_LAYER_DENSE) {
        G->ffn_norm = place_f32(gm, L->ffn_norm, (uint64_t)hp->n_embd);
        TRY(place_weight(gm, &L->ffn_gate, &G->ffn_gate, e));
    }
    if (L->kind == HM_LAYER_DENSE || L->kind == HM_LAYER_MLP) {
        TRY(place_weight(gm, &L->ffn_up, &G->ffn_up, e));
        TRY(place_weight(gm, &L->ffn_down, &G->ffn_down, e));
        G->q8_ffn = is_quant(L->ffn_up.type) || (L->ffn_gate.data && is_quant(L->ffn_gate.type));
        if (L->kind == HM_LAYER_MLP) G->q8_attn = G->q8_ffn; /* nemotron_h: the block norm feeds the MLP */
    }
    if (L->kind == HM_LAYER_MAMBA) {
        const uint64_t H = (uint64_t)hp->ssm_n_head, CD = (uint64_t)hm_ssm_conv_dim(hp), K = (uint64_t)hp->ssm_d_conv;
        TRY(place_weight(gm, &L->ssm_in, &G->ssm_in, e));
        TRY(place_weight(gm, &L->ssm_out, &G->ssm_out, e));
        G->q8_attn = is_quant(L->ssm_in.type);
        G->q8_ssm_out = is_quant(L->ssm_out.type);
        float *cw = malloc(sizeof(float) * (size_t)(CD * K + CD)), *hv = malloc(sizeof(float) * 3 * (size_t)H);
        if (!cw || !hv) {
            free(cw);
            free(hv);
            return herr(e, HEARTH_ERR_NOMEM, "out of memory");
        }
        memcpy(cw, L->ssm_conv, sizeof(float) * (size_t)(CD * K));
        memcpy(cw + CD * K, L->ssm_conv_b, sizeof(float) * (size_t)CD);
        memcpy(hv, L->ssm_dt_b, sizeof(float) * (size_t)H);
        memcpy(hv + H, L->ssm_a, sizeof(float) * (size_t)H);
        memcpy(hv + 2 * H, L->ssm_d, sizeof(float) * (size_t)H);
        G->conv_w = place_f32(gm, cw, CD * K + CD);
        G->hv = place_f32(gm, hv, 3 * H);
        free(cw);
        free(hv);
        G->ssm_norm = place_f32(gm, L->ssm_norm, (uint64_t)hp->ssm_d_inner);
        G->conv_state = hg_buffer(gm->g, 4 * (K - 1) * CD, "conv state");
        G->ssm_state = hg_buffer(gm->g, 4ull * (uint64_t)hp->ssm_d_inner * (uint64_t)hp->ssm_d_state, "ssm state");
    }
#undef TRY
    return HEARTH_OK;
}

static uint64_t umax(uint64_t a, uint64_t b) { return a > b ? a : b; }

hearth_status hg_model_new(const hearth_model *m, const hg_device *dev, const hg_options *opts, hg_model **out,
                           hearth_err *e) {
    *out = NULL;
    hg_options o = opts ? *opts : hg_default_options();
    const hm_hparams *hp = &m->hp;
    if (o.n_ctx < 1 || o.max_batch < 1 || o.max_batch > 4096 || o.logits_rows < 1 || o.logits_rows > o.max_batch)
        return herr(e, HEARTH_ERR_INVALID_ARG, "bad GPU plan options (n_ctx %d, max_batch %d, logits_rows %d)", o.n_ctx,
                    o.max_batch, o.logits_rows);
    if (o.ssd_chunk < 1) o.ssd_chunk = 1;
    if (o.ssd_chunk > 64) o.ssd_chunk = 64;
    if (hp->arch != HM_ARCH_NEMOTRON_H && (hp->head_dim > 512 || hp->head_dim < 1))
        return herr(e, HEARTH_ERR_UNSUPPORTED, "head_dim %d: the WebGPU kernels take at most 512", hp->head_dim);
    if (hp->head_dim > 256 && hp->n_head_kv)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "head_dim %d: the WebGPU attention kernel takes at most 256", hp->head_dim);
    if (hp->arch == HM_ARCH_NEMOTRON_H && hp->ssm_d_conv > 17)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "conv kernel %d: the WebGPU kernel takes at most 17", hp->ssm_d_conv);
    hg_model *gm = calloc(1, sizeof *gm);
    if (!gm) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    gm->m = m;
    gm->o = o;
    hearth_status st = hg_ctx_new(dev, &gm->g, e);
    if (st == HEARTH_OK) {
        gm->layers = calloc((size_t)hp->n_layer, sizeof *gm->layers);
        if (!gm->layers) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
    }
    if (st == HEARTH_OK) st = place_weight(gm, &m->tok_embd, &gm->tok_embd, e);
    if (st == HEARTH_OK) {
        if (m->output.data == m->tok_embd.data) gm->output = gm->tok_embd; /* tied */
        else st = place_weight(gm, &m->output, &gm->output, e);
    }
    if (st == HEARTH_OK) gm->output_norm = place_f32(gm, m->output_norm, (uint64_t)hp->n_embd);
    gm->q8_head = is_quant(m->output.type);
    for (int l = 0; st == HEARTH_OK && l < hp->n_layer; l++) st = place_layer(gm, l, e);
    if (st != HEARTH_OK) {
        hg_model_free(gm);
        return st;
    }
    /* activations, sized for max_batch tokens */
    const uint64_t Tm = (uint64_t)o.max_batch, E = (uint64_t)hp->n_embd, V = (uint64_t)hp->n_vocab;
    const uint64_t kvd = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim, qd = (uint64_t)hp->n_head * (uint64_t)hp->head_dim;
    uint64_t wp = umax(qd + 2 * kvd, (uint64_t)hp->n_ff), wa = qd;
    if (hp->arch == HM_ARCH_NEMOTRON_H) {
        const uint64_t DI = (uint64_t)hp->ssm_d_inner, CD = (uint64_t)hm_ssm_conv_dim(hp), H = (uint64_t)hp->ssm_n_head;
        wp = umax(wp, DI + CD + H);
        wa = umax(wa, CD);
        gm->ssm = (hg_ssm_shape){hp->ssm_n_head, hp->ssm_head_dim, hp->ssm_n_group, hp->ssm_d_state, hp->ssm_d_inner};
        gm->y = hg_buffer(gm->g, 4 * Tm * DI, "ssm y");
        gm->gout = hg_buffer(gm->g, 4 * Tm * DI, "gated");
        gm->dtl = hg_buffer(gm->g, 8 * Tm * H, "dt lam");
        const uint64_t nc = o.ssd_chunk > 1 ? (Tm + (uint64_t)o.ssd_chunk - 1) / (uint64_t)o.ssd_chunk : 1;
        gm->sl = hg_buffer(gm->g, 4 * nc * DI * (uint64_t)hp->ssm_d_state, "chunk states");
    }
    gm->w_proj = (uint32_t)wp;
    gm->w_aux = (uint32_t)wa;
    {
        uint64_t n_in = umax(umax(E, qd), (uint64_t)hp->n_ff);
        if (hp->arch == HM_ARCH_NEMOTRON_H) n_in = umax(n_in, (uint64_t)hp->ssm_d_inner);
        gm->q8 = hg_buffer(gm->g, hg_q8_bytes((int)Tm, (int)((n_in + 31) / 32 * 32)), "q8 activations");
    }
    gm->no_q8 = (hg_ref){0, 0, 0};
    /* split attention's partial sums: for up to 8 queries, or 1 when that is too big to bind, or none */
    gm->attn_part = hg_dummy(gm->g);
    if (hp->n_head_kv) {
        uint64_t part = hg_attn_part_bytes(o.max_batch, o.n_ctx, hp->n_head, hp->head_dim);
        if (part > gm->g->dev.max_binding) part = hg_attn_part_bytes(1, o.n_ctx, hp->n_head, hp->head_dim);
        if (part <= gm->g->dev.max_binding) gm->attn_part = hg_buffer(gm->g, part, "attention parts");
    }
    gm->tokens = hg_buffer(gm->g, 4 * Tm, "tokens");
    gm->hist = hg_buffer(gm->g, 4 * ((uint64_t)o.n_ctx + 1), "history");
    gm->x = hg_buffer(gm->g, 4 * Tm * E, "x");
    gm->u = hg_buffer(gm->g, 4 * Tm * E, "u");
    gm->proj = hg_buffer(gm->g, 4 * Tm * wp, "proj");
    gm->aux = hg_buffer(gm->g, 4 * Tm * wa, "aux");
    gm->logits = hg_buffer(gm->g, 4 * (uint64_t)o.logits_rows * V, "logits");
    gm->cand_a = hg_buffer(gm->g, hg_sample_scratch_bytes((int)V, HG_MAX_TOP_K), "candidates a");
    gm->cand_b = hg_buffer(gm->g, hg_sample_scratch_bytes((int)V, HG_MAX_TOP_K), "candidates b");
    gm->bits = hg_buffer(gm->g, 4 * ((V + 31) / 32), "token bits");
    gm->rope = hg_dummy(gm->g);
    if (hp->arch != HM_ARCH_NEMOTRON_H) {
        const uint64_t n = (uint64_t)o.n_ctx * (uint64_t)hp->head_dim;
        float *t = malloc(sizeof(float) * (size_t)n);
        if (!t) st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
        else {
            hg_rope_table(t, o.n_ctx, hp->head_dim, hp->rope_base);
            gm->rope = hg_buffer_data(gm->g, t, 4 * n, "rope");
            free(t);
        }
    }
    /* every binding must fit the device */
    const hg_ref check[] = {gm->proj, gm->aux, gm->logits, gm->sl, gm->x};
    for (size_t i = 0; st == HEARTH_OK && i < sizeof check / sizeof check[0]; i++)
        if (check[i].size > gm->g->dev.max_binding)
            st = herr(e, HEARTH_ERR_TOO_LARGE, "an activation buffer of %llu bytes exceeds the GPU's binding limit; lower max_batch",
                      (unsigned long long)check[i].size);
    if (st == HEARTH_OK) {
        gm->plan = hg_finish_plan(gm->g, &gm->plan_len);
        if (!gm->plan || hg_ctx_failed(gm->g)) st = herr(e, HEARTH_ERR_NOMEM, "out of memory building the GPU plan");
    }
    if (st != HEARTH_OK) {
        hg_model_free(gm);
        return st;
    }
    *out = gm;
    return HEARTH_OK;
}

void hg_model_free(hg_model *gm) {
    if (!gm) return;
    hg_ctx_free(gm->g);
    free(gm->layers);
    free(gm);
}

const uint8_t *hg_model_plan(const hg_model *gm, size_t *len) {
    *len = gm->plan_len;
    return gm->plan;
}

const hg_options *hg_model_options(const hg_model *gm) { return &gm->o; }

/* ---- one step -------------------------------------------------------------------------------- */

/* The block's normed input, with its Q8 copy when the next matmuls read Q8. */
static hg_act norm_act(hg_model *gm, hg_ref w, bool q8, int T) {
    const hm_hparams *hp = &gm->m->hp;
    const uint32_t E = (uint32_t)hp->n_embd;
    hg_act u = hg_act_of(hg_v(gm->u, 0, E), T, (int)E, q8 ? gm->q8 : gm->no_q8);
    hg_op_rmsnorm_act(gm->g, hg_v(gm->x, 0, E), w, (int)E, T, hp->rms_eps, &u);
    u.q8 = gm->q8; /* a matmul that still needs Q8 quantises into the scratch itself */
    return u;
}

static void mamba_block(hg_model *gm, const gpu_layer *G, hg_act *u, int T) {
    const hm_hparams *hp = &gm->m->hp;
    const uint32_t E = (uint32_t)hp->n_embd, DI = (uint32_t)hp->ssm_d_inner, CD = (uint32_t)hm_ssm_conv_dim(hp);
    const uint32_t IN = DI + CD + (uint32_t)hp->ssm_n_head;
    hg_ctx *g = gm->g;
    hg_op_matmul(g, &G->ssm_in, u, hg_v(gm->proj, 0, IN), HG_EPI_STORE);
    hg_op_conv_silu(g, hg_v(gm->proj, DI, IN), T, (int)CD, hp->ssm_d_conv, G->conv_w, G->conv_state, hg_v(gm->aux, 0, CD));
    hg_op_ssm(g, &gm->ssm, T, gm->o.ssd_chunk, hg_v(gm->aux, 0, CD), hg_v(gm->proj, DI + CD, IN), G->hv, G->ssm_state,
              gm->dtl, gm->sl, hg_v(gm->y, 0, DI));
    hg_act o = hg_act_of(hg_v(gm->gout, 0, DI), T, (int)DI, G->q8_ssm_out ? gm->q8 : gm->no_q8);
    hg_op_gated_norm_act(g, hg_v(gm->y, 0, DI), hg_v(gm->proj, 0, IN), G->ssm_norm, (int)DI, hp->ssm_n_group, T, hp->rms_eps, &o);
    o.q8 = gm->q8;
    hg_op_matmul(g, &G->ssm_out, &o, hg_v(gm->x, 0, E), HG_EPI_ADD);
}

static void attention_block(hg_model *gm, const gpu_layer *G, hg_act *u, int T, int p0) {
    const hm_hparams *hp = &gm->m->hp;
    const uint32_t E = (uint32_t)hp->n_embd, qd = (uint32_t)(hp->n_head * hp->head_dim);
    const uint32_t kvd = (uint32_t)(hp->n_head_kv * hp->head_dim), S = qd + 2 * kvd;
    hg_ctx *g = gm->g;
    if (G->wqkv.n_parts) {
        hg_op_matmul(g, &G->wqkv, u, hg_v(gm->proj, 0, S), HG_EPI_STORE);
    } else {
        hg_op_matmul(g, &G->wq, u, hg_v(gm->proj, 0, S), HG_EPI_STORE);
        hg_op_matmul(g, &G->wk, u, hg_v(gm->proj, qd, S), HG_EPI_STORE);
        hg_op_matmul(g, &G->wv, u, hg_v(gm->proj, qd + kvd, S), HG_EPI_STORE);
    }
    hg_op_attn_prep(g, &G->attn, T, p0, gm->proj, G->attn_aux, gm->rope, G->kc, G->vc);
    hg_op_attention(g, &G->attn, T, p0, hg_v(gm->proj, 0, S), G->kc, G->vc, gm->attn_part, hg_v(gm->aux, 0, qd));
    hg_act a = hg_act_of(hg_v(gm->aux, 0, qd), T, (int)qd, gm->q8);
    hg_op_matmul(g, &G->wo, &a, hg_v(gm->x, 0, E), HG_EPI_ADD);
}

static void mlp_block(hg_model *gm, const gpu_layer *G, hg_act *u, int T) {
    const hm_hparams *hp = &gm->m->hp;
    const uint32_t E = (uint32_t)hp->n_embd, F = (uint32_t)hp->n_ff;
    hg_ctx *g = gm->g;
    if (G->ffn_gate.n_parts) {
        hg_op_matmul(g, &G->ffn_gate, u, hg_v(gm->proj, 0, F), HG_EPI_STORE);
        hg_op_matmul(g, &G->ffn_up, u, hg_v(gm->proj, 0, F), HG_EPI_SWIGLU);
    } else {
        hg_op_matmul(g, &G->ffn_up, u, hg_v(gm->proj, 0, F), HG_EPI_RELU2);
    }
    hg_act h = hg_act_of(hg_v(gm->proj, 0, F), T, (int)F, gm->q8);
    hg_op_matmul(g, &G->ffn_down, &h, hg_v(gm->x, 0, E), HG_EPI_ADD);
}

hearth_status hg_model_step(hg_model *gm, const int32_t *tokens, int T, int pos, const hg_step_opts *so,
                            const uint8_t **blob, size_t *len, hearth_err *e) {
    const hm_hparams *hp = &gm->m->hp;
    const uint32_t E = (uint32_t)hp->n_embd, V = (uint32_t)hp->n_vocab;
    hg_ctx *g = gm->g;
    *blob = NULL;
    *len = 0;
    if (T < 1 || T > gm->o.max_batch) return herr(e, HEARTH_ERR_INVALID_ARG, "a GPU step takes 1..%d tokens, not %d", gm->o.max_batch, T);
    if (!tokens && T != 1) return herr(e, HEARTH_ERR_INVALID_ARG, "only one token can come from the previous step's sampler");
    if (pos < 0 || pos + T > gm->o.n_ctx)
        return herr(e, HEARTH_ERR_CONTEXT_FULL, "context full: %d tokens held + %d new > n_ctx %d", pos, T, gm->o.n_ctx);
    if (so->logits == HEARTH_LOGITS_ALL && T > gm->o.logits_rows)
        return herr(e, HEARTH_ERR_INVALID_ARG, "the GPU plan returns at most %d rows of logits", gm->o.logits_rows);
    if (so->sample && so->logits == HEARTH_LOGITS_ALL)
        return herr(e, HEARTH_ERR_INVALID_ARG, "a GPU step samples from the last row only (logits mode LAST)");
    if (so->sample && !hg_sampling_on_gpu(&so->sampling, (int)V))
        return herr(e, HEARTH_ERR_UNSUPPORTED, "these sampling parameters do not run on the GPU");
    for (int t = 0; tokens && t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= hp->n_vocab)
            return herr(e, HEARTH_ERR_INVALID_ARG, "token id %d is outside the vocabulary (0..%d)", tokens[t], hp->n_vocab - 1);

    hg_step_begin(g);
    if (so->reset) {
        for (int l = 0; l < hp->n_layer; l++)
            if (gm->layers[l].kind == HM_LAYER_MAMBA) {
                hg_clear(g, gm->layers[l].conv_state);
                hg_clear(g, gm->layers[l].ssm_state);
            }
    }
    if (tokens) {
        hg_write(g, gm->tokens, 0, tokens, 4u * (uint32_t)T);
        hg_write(g, gm->hist, 4ull * (uint64_t)pos, tokens, 4u * (uint32_t)T);
    }
    hg_op_embed(g, &gm->tok_embd, gm->tokens, 0, T, hg_v(gm->x, 0, E));
    for (int l = 0; l < hp->n_layer; l++) {
        const gpu_layer *G = &gm->layers[l];
        hg_act u = norm_act(gm, G->attn_norm, G->q8_attn, T);
        switch (G->kind) {
        case HM_LAYER_MAMBA: mamba_block(gm, G, &u, T); break;
        case HM_LAYER_ATTN: attention_block(gm, G, &u, T, pos); break;
        case HM_LAYER_MLP: mlp_block(gm, G, &u, T); break;
        case HM_LAYER_DENSE: {
            attention_block(gm, G, &u, T, pos);
            hg_act f = norm_act(gm, G->ffn_norm, G->q8_ffn, T);
            mlp_block(gm, G, &f, T);
            break;
        }
        }
    }
    const bool want = so->logits != HEARTH_LOGITS_NONE || so->sample;
    if (want) {
        const int first = so->logits == HEARTH_LOGITS_ALL ? 0 : T - 1, rows = T - first;
        hg_act u = hg_act_of(hg_v(gm->u, 0, E), rows, (int)E, gm->q8_head ? gm->q8 : gm->no_q8);
        hg_op_rmsnorm_act(g, hg_v(gm->x, (uint32_t)first * E, E), gm->output_norm, (int)E, rows, hp->rms_eps, &u);
        u.q8 = gm->q8;
        hg_op_matmul(g, &gm->output, &u, hg_v(gm->logits, 0, V), HG_EPI_STORE);
    }
    if (so->logits != HEARTH_LOGITS_NONE) /* copied before the sampler's penalty edits the logits */
        hg_read(g, gm->logits, 0, 4ull * (uint64_t)(so->logits == HEARTH_LOGITS_ALL ? T : 1) * V, HG_READ_LOGITS);
    if (so->sample) {
        hg_op_sample(g, &so->sampling, so->u, gm->logits, (int)V, gm->hist, pos + T, gm->tokens, 0, (uint32_t)(pos + T),
                     gm->cand_a, gm->cand_b, gm->bits);
        hg_read(g, gm->tokens, 0, 4, HG_READ_TOKEN);
    }
    *blob = hg_step_end(g, len);
    if (!*blob) return herr(e, HEARTH_ERR_NOMEM, "out of memory building a GPU step");
    return HEARTH_OK;
}

int hg_model_dispatches(const hg_model *gm) { return hg_step_dispatches(gm->g); }

static uint64_t weight_bytes(const hg_weight *w) {
    uint64_t b = 0;
    for (int i = 0; i < w->n_parts; i++) b += w->part[i].ref.size;
    return b;
}

uint64_t hg_model_bytes_per_token(const hg_model *gm) {
    const hm_hparams *hp = &gm->m->hp;
    uint64_t b = gm->tok_embd.row_bytes + weight_bytes(&gm->output) + 4ull * (uint64_t)hp->n_embd;
    for (int l = 0; l < hp->n_layer; l++) {
        const gpu_layer *G = &gm->layers[l];
        const hg_weight *ws[] = {&G->wq, &G->wk, &G->wv, &G->wqkv, &G->wo, &G->ffn_gate, &G->ffn_up, &G->ffn_down, &G->ssm_in, &G->ssm_out};
        for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) b += weight_bytes(ws[i]);
        const hg_ref rs[] = {G->attn_norm, G->ffn_norm, G->conv_w, G->hv, G->ssm_norm};
        for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) b += rs[i].buf ? rs[i].size : 0;
        if (G->kind == HM_LAYER_MAMBA) b += 2 * (G->conv_state.size + G->ssm_state.size);
    }
    return b;
}
