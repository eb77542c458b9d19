/* forward.c - the forward pass over a batch of tokens for every architecture, on the threaded CPU kernels (cpu.h). */
#include <math.h>
#include <stdlib.h>

#include "cpu.h"
#include "ops.h"
#include "quant.h"
#include "session.h"

#define HM_MAX_BATCH 256 /* tokens per internal batch: bounds scratch memory for long prompts */

/* Scratch for one batch of T tokens; sized for the widest layer. */
typedef struct {
    float *x;    /* [T][E] residual stream */
    float *u;    /* [T][E] normed input */
    float *big;  /* [T][widest projection] */
    float *big2; /* [T][widest second buffer] */
} fw_buf;

static uint64_t widest(const hm_hparams *hp) {
    uint64_t w = (uint64_t)hp->n_embd;
    uint64_t q = (uint64_t)(hp->n_head + 2 * hp->n_head_kv) * (uint64_t)hp->head_dim;
    if (q > w) w = q;
    if (2ull * (uint64_t)hp->n_ff > w) w = 2ull * (uint64_t)hp->n_ff;
    if (hp->arch == HM_ARCH_NEMOTRON_H) {
        uint64_t in = (uint64_t)hp->ssm_d_inner + (uint64_t)hm_ssm_conv_dim(hp) + (uint64_t)hp->ssm_n_head;
        if (in > w) w = in;
    }
    return w;
}

/* tok_embd is repacked only when it is also the output matrix; hm_weight_dequantize_row reads both layouts. */
static void embed(const hearth_model *m, const int32_t *tokens, int T, float *x) {
    const int E = m->hp.n_embd;
    for (int t = 0; t < T; t++) hm_weight_dequantize_row(&m->tok_embd, (uint64_t)tokens[t], x + (int64_t)t * E);
}

static void attention_block(hearth_session *s, const hm_layer *L, hm_layer_state *st, const float *u, int T, float *out,
                            fw_buf *b) {
    const hm_hparams *hp = &s->model->hp;
    const int hd = hp->head_dim, nh = hp->n_head, nkv = hp->n_head_kv;
    const int q_dim = nh * hd, kv_dim = nkv * hd, p0 = s->n_past;
    float *q = b->big, *k = q + (int64_t)T * q_dim, *v = k + (int64_t)T * kv_dim;
    hcpu_ctx *c = s->cpu;
    hcpu_matmul(c, &L->wq, u, T, q);
    hcpu_matmul(c, &L->wk, u, T, k);
    hcpu_matmul(c, &L->wv, u, T, v);
    for (int t = 0; t < T; t++) {
        float *qt = q + (int64_t)t * q_dim, *kt = k + (int64_t)t * kv_dim, *vt = v + (int64_t)t * kv_dim;
        if (L->bq) for (int i = 0; i < q_dim; i++) qt[i] += L->bq[i];
        if (L->bk) for (int i = 0; i < kv_dim; i++) kt[i] += L->bk[i];
        if (L->bv) for (int i = 0; i < kv_dim; i++) vt[i] += L->bv[i];
        for (int h = 0; h < nh; h++) {
            if (L->q_norm) hop_rmsnorm_ref(qt + h * hd, qt + h * hd, L->q_norm, hd, hp->rms_eps);
            if (hp->arch != HM_ARCH_NEMOTRON_H) hop_rope(qt + h * hd, hd, p0 + t, hp->rope_base, hp->rope_neox);
        }
        for (int h = 0; h < nkv; h++) {
            if (L->k_norm) hop_rmsnorm_ref(kt + h * hd, kt + h * hd, L->k_norm, hd, hp->rms_eps);
            if (hp->arch != HM_ARCH_NEMOTRON_H) hop_rope(kt + h * hd, hd, p0 + t, hp->rope_base, hp->rope_neox);
        }
        memcpy(st->k + (int64_t)(p0 + t) * kv_dim, kt, sizeof(float) * (size_t)kv_dim);
        memcpy(st->v + (int64_t)(p0 + t) * kv_dim, vt, sizeof(float) * (size_t)kv_dim);
    }
    float *attn = b->big2;
    hcpu_attention(c, q, st->k, st->v, p0, T, nh, nkv, hd, attn);
    hcpu_matmul(c, &L->wo, attn, T, out);
}

/* relu² MLP (nemotron_h) or SwiGLU MLP (llama/qwen). */
static void mlp_block(hearth_session *s, const hm_layer *L, const float *u, int T, float *out, fw_buf *b) {
    const int64_t F = s->model->hp.n_ff;
    hcpu_ctx *c = s->cpu;
    float *up = b->big;
    hcpu_matmul(c, &L->ffn_up, u, T, up);
    if (L->ffn_gate.data) {
        float *gate = b->big2;
        hcpu_matmul(c, &L->ffn_gate, u, T, gate);
        c->k->mul_silu(up, up, gate, (int)(T * F));
    } else {
        for (int64_t i = 0; i < T * F; i++) {
            float r = up[i] > 0 ? up[i] : 0;
            up[i] = r * r;
        }
    }
    hcpu_matmul(c, &L->ffn_down, up, T, out);
}

static void mamba_block(hearth_session *s, const hm_layer *L, hm_layer_state *st, const float *u, int T, float *out,
                        fw_buf *b) {
    const hm_hparams *hp = &s->model->hp;
    const int H = hp->ssm_n_head, P = hp->ssm_head_dim, G = hp->ssm_n_group, N = hp->ssm_d_state;
    const int DI = hp->ssm_d_inner, CD = hm_ssm_conv_dim(hp), IN = DI + CD + H;
    hcpu_ctx *c = s->cpu;
    float *proj = b->big; /* [T][IN]: z | xBC | dt */
    hcpu_matmul(c, &L->ssm_in, u, T, proj);
    /* b->big2 holds: xbc raw [T][CD] | conv out [T][CD] | dt [T][H] | y [T][DI] */
    float *raw = b->big2, *xc = raw + (int64_t)T * CD, *dt = xc + (int64_t)T * CD, *y = dt + (int64_t)T * H;
    for (int t = 0; t < T; t++) {
        memcpy(raw + (int64_t)t * CD, proj + (int64_t)t * IN + DI, sizeof(float) * (size_t)CD);
        for (int h = 0; h < H; h++) dt[(int64_t)t * H + h] = hop_softplus(proj[(int64_t)t * IN + DI + CD + h] + L->ssm_dt_b[h]);
    }
    hcpu_conv_silu(c, raw, T, CD, hp->ssm_d_conv, L->ssm_conv, L->ssm_conv_b, st->conv, xc);
    /* xc rows are [x (DI) | B (G*N) | C (G*N)]: gather B and C into raw (no longer needed). */
    float *x = raw, *Bm = raw + (int64_t)T * DI, *Cm = Bm + (int64_t)T * G * N;
    for (int t = 0; t < T; t++) {
        const float *row = xc + (int64_t)t * CD;
        memcpy(Bm + (int64_t)t * G * N, row + DI, sizeof(float) * (size_t)(G * N));
        memcpy(Cm + (int64_t)t * G * N, row + DI + G * N, sizeof(float) * (size_t)(G * N));
    }
    for (int t = 0; t < T; t++) memmove(x + (int64_t)t * DI, xc + (int64_t)t * CD, sizeof(float) * (size_t)DI);
    if (T == 1 || s->ssm_chunk <= 1)
        hcpu_ssm_scan(c, x, Bm, Cm, dt, L->ssm_a, L->ssm_d, T, H, P, G, N, st->ssm, y);
    else
        hcpu_ssm_chunked(c, x, Bm, Cm, dt, L->ssm_a, L->ssm_d, T, H, P, G, N, s->ssm_chunk, st->ssm, y);
    hcpu_gated_norm(c, y, y, (size_t)DI, proj, (size_t)IN, L->ssm_norm, T, DI, G, hp->rms_eps);
    hcpu_matmul(c, &L->ssm_out, y, T, out);
}

static hearth_status forward_batch(hearth_session *s, const int32_t *tokens, int T, float *logits, hearth_logits_mode mode,
                                   fw_buf *b) {
    const hearth_model *m = s->model;
    const hm_hparams *hp = &m->hp;
    const int E = hp->n_embd;
    float *x = b->x, *u = b->u;
    embed(m, tokens, T, x);
    for (int l = 0; l < hp->n_layer; l++) {
        const hm_layer *L = &m->layers[l];
        hm_layer_state *st = &s->layers[l];
        hcpu_rmsnorm(s->cpu, u, x, L->attn_norm, T, E, hp->rms_eps);
        /* the mixer writes its output over u (u is consumed by the first matmul) */
        switch (L->kind) {
        case HM_LAYER_MAMBA: mamba_block(s, L, st, u, T, u, b); break;
        case HM_LAYER_ATTN: attention_block(s, L, st, u, T, u, b); break;
        case HM_LAYER_MLP: mlp_block(s, L, u, T, u, b); break;
        case HM_LAYER_DENSE:
            attention_block(s, L, st, u, T, u, b);
            for (int64_t i = 0; i < (int64_t)T * E; i++) x[i] += u[i];
            hcpu_rmsnorm(s->cpu, u, x, L->ffn_norm, T, E, hp->rms_eps);
            mlp_block(s, L, u, T, u, b);
            break;
        }
        for (int64_t i = 0; i < (int64_t)T * E; i++) x[i] += u[i];
    }
    if (mode != HEARTH_LOGITS_NONE) {
        const int first = mode == HEARTH_LOGITS_ALL ? 0 : T - 1;
        hcpu_rmsnorm(s->cpu, u + (int64_t)first * E, x + (int64_t)first * E, m->output_norm, T - first, E, hp->rms_eps);
        hcpu_matmul(s->cpu, &m->output, u + (int64_t)first * E, T - first, logits);
    }
    return HEARTH_OK;
}

hearth_status hm_forward(hearth_session *s, const int32_t *tokens, int T, float *logits, hearth_logits_mode mode,
                         hearth_err *e) {
    const hearth_model *m = s->model;
    const hm_hparams *hp = &m->hp;
    if (T <= 0) return herr(e, HEARTH_ERR_INVALID_ARG, "no tokens to evaluate");
    if (s->n_past + T > s->n_ctx)
        return herr(e, HEARTH_ERR_CONTEXT_FULL, "context full: %d tokens held + %d new > n_ctx %d", s->n_past, T, s->n_ctx);
    for (int t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= hp->n_vocab)
            return herr(e, HEARTH_ERR_INVALID_ARG, "token id %d is outside the vocabulary (0..%d)", tokens[t], hp->n_vocab - 1);
    if (mode != HEARTH_LOGITS_NONE && !logits) return herr(e, HEARTH_ERR_INVALID_ARG, "logits buffer is NULL");

    const int Tb = T < HM_MAX_BATCH ? T : HM_MAX_BATCH;
    const uint64_t w = widest(hp);
    hearth_status st = HEARTH_OK;
    if (!s->cpu) st = hcpu_new(m->n_threads, &s->cpu, e);
    if (st == HEARTH_OK) {
        int max_in = hp->n_embd; /* longest matmul input row */
        if (hp->n_ff > max_in) max_in = hp->n_ff;
        if (hp->ssm_d_inner > max_in) max_in = hp->ssm_d_inner;
        if (hp->n_head * hp->head_dim > max_in) max_in = hp->n_head * hp->head_dim;
        st = hcpu_reserve(s->cpu, Tb, max_in, s->n_ctx, s->ssm_chunk, hp->ssm_n_group, hp->ssm_head_dim, hp->ssm_d_state, e);
    }
    if (st != HEARTH_OK) return st;
    /* one block for x, u, big and big2; a decode step reuses the session's (allocating it per token
     * cost page faults: a few percent of decode time), a longer batch allocates and frees its own */
    const uint64_t n_x = (uint64_t)Tb * hp->n_embd, n_big = (uint64_t)Tb * w;
    const uint64_t n_all = 2 * n_x + n_big + (uint64_t)Tb * (w + (uint64_t)hm_ssm_conv_dim(hp));
    float *block = Tb == 1 ? s->decode_scratch : NULL;
    if (!block) block = hu_malloc(n_all * sizeof(float), e);
    if (!block) st = e ? e->code : HEARTH_ERR_NOMEM;
    else memset(block, 0, (size_t)n_all * sizeof(float)); /* as calloc'd buffers were: cheap next to the faults */
    if (Tb == 1 && block) s->decode_scratch = block;
    fw_buf b = {0};
    if (block) b = (fw_buf){block, block + n_x, block + 2 * n_x, block + 2 * n_x + n_big};
    const int V = hp->n_vocab;
    for (int t0 = 0; st == HEARTH_OK && t0 < T; t0 += Tb) {
        const int n = T - t0 < Tb ? T - t0 : Tb;
        const bool last_batch = t0 + n == T;
        hearth_logits_mode bm = mode == HEARTH_LOGITS_ALL ? HEARTH_LOGITS_ALL
                              : (mode == HEARTH_LOGITS_LAST && last_batch ? HEARTH_LOGITS_LAST : HEARTH_LOGITS_NONE);
        float *dst = bm == HEARTH_LOGITS_ALL ? logits + (int64_t)t0 * V : logits;
        st = forward_batch(s, tokens + t0, n, dst, bm, &b);
        if (st == HEARTH_OK) {
            memcpy(s->tokens + s->n_past, tokens + t0, sizeof(int32_t) * (size_t)n);
            s->n_past += n;
        }
    }
    if (block != s->decode_scratch) free(block);
    return st;
}
