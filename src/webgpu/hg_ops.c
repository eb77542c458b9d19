/* hg_ops.c - one function per op: the dispatches (kernel, bindings, params, workgroup counts) that compute it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "quant.h"
#include "webgpu/hg_internal.h"

static uint32_t cdiv(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }

/* n workgroups as (x, y) within the per-dimension limit; kernels flatten them back. */
static void split_wg(const hg_ctx *g, uint32_t n, uint32_t *x, uint32_t *y) {
    if (n <= g->dev.max_wg) {
        *x = n;
        *y = 1;
    } else {
        *y = cdiv(n, g->dev.max_wg);
        *x = cdiv(n, *y);
    }
}

/* A weight-reading kernel for `type`; matvec also gets the subgroup size its lane sums use. */
static uint32_t wtype_kernel(hg_ctx *g, const char *name, uint32_t type) {
    char c[48];
    if (strncmp(name, "matvec", 6) == 0 && g->dev.subgroups && g->dev.subgroup_min) /* matvec, matvec_k */
        snprintf(c, sizeof c, "WTYPE=%u,SG=%u", type, g->dev.subgroup_min);
    else
        snprintf(c, sizeof c, "WTYPE=%u", type);
    return hg_kernel(g, name, c);
}

/* wtype_kernel for weight w, with WPLANAR=1 when it is in the planar layout (wq.wgsl). */
static uint32_t weight_kernel(hg_ctx *g, const char *name, const hg_weight *w) {
    if (!w->planar) return wtype_kernel(g, name, w->type);
    char c[64];
    if (strncmp(name, "matvec", 6) == 0 && g->dev.subgroups && g->dev.subgroup_min)
        snprintf(c, sizeof c, "WTYPE=%u,WPLANAR=1,SG=%u", w->type, g->dev.subgroup_min);
    else
        snprintf(c, sizeof c, "WTYPE=%u,WPLANAR=1", w->type);
    return hg_kernel(g, name, c);
}

void hg_op_embed(hg_ctx *g, const hg_weight *table, hg_ref tokens, uint32_t tok_off, int T, hg_view out) {
    const bool wk = hg_type_wk(table->type); /* embed_k.wgsl: one invocation per 8 values */
    uint32_t k = weight_kernel(g, wk ? "embed_k" : "embed", table);
    for (int i = 0; i < table->n_parts; i++) {
        hg_disp d = hg_disp_new(k);
        hg_pu(&d, (uint32_t)T);
        hg_pu(&d, (uint32_t)table->n_in);
        hg_pu(&d, (uint32_t)table->part[i].row0);
        hg_pu(&d, (uint32_t)table->part[i].rows);
        hg_pu(&d, (uint32_t)table->row_bytes);
        hg_pu(&d, tok_off);
        hg_pu(&d, out.off);
        hg_pu(&d, out.stride);
        hg_pu(&d, (uint32_t)hg_weight_s0(table, i)); /* planar: the scales plane */
        hg_bind(&d, tokens);
        hg_bind(&d, table->part[i].ref);
        hg_bind(&d, out.ref);
        hg_dispatch(g, &d, cdiv((uint64_t)table->n_in / (wk ? 8 : 1), 64), (uint32_t)T, 1);
    }
}

void hg_op_rmsnorm(hg_ctx *g, hg_view x, hg_ref w, int n, int T, float eps, hg_view out) {
    hg_disp d = hg_disp_new(hg_kernel(g, "rmsnorm", NULL));
    hg_pu(&d, (uint32_t)n);
    hg_pu(&d, (uint32_t)T);
    hg_pu(&d, x.off);
    hg_pu(&d, x.stride);
    hg_pu(&d, out.off);
    hg_pu(&d, out.stride);
    hg_pf(&d, eps);
    hg_bind(&d, x.ref);
    hg_bind(&d, w);
    hg_bind(&d, out.ref);
    hg_dispatch(g, &d, (uint32_t)T, 1, 1);
}

void hg_op_rmsnorm_act(hg_ctx *g, hg_view x, hg_ref w, int n, int T, float eps, hg_act *out) {
    /* rmsnorm_q8.wgsl reads x by 16 bytes */
    if (n % 32 || out->q8.size < hg_q8_bytes(T, n) || x.off % 4 || x.stride % 4) {
        hg_op_rmsnorm(g, x, w, n, T, eps, out->x);
        out->q8_ready = false;
        return;
    }
    hg_disp d = hg_disp_new(hg_kernel(g, "rmsnorm_q8", NULL));
    hg_pu(&d, (uint32_t)n);
    hg_pu(&d, (uint32_t)T);
    hg_pu(&d, x.off);
    hg_pu(&d, x.stride);
    hg_pu(&d, out->x.off);
    hg_pu(&d, out->x.stride);
    hg_pf(&d, eps);
    hg_pu(&d, (uint32_t)(n / 32) * 9);
    hg_bind(&d, x.ref);
    hg_bind(&d, w);
    hg_bind(&d, out->x.ref);
    hg_bind(&d, out->q8);
    hg_dispatch(g, &d, (uint32_t)T, cdiv((uint64_t)n, 64), 1); /* (row, 64 values) */
    out->q8_ready = true;
}

#define HG_MATVEC_MAX_T 8 /* matvec.wgsl keeps one accumulator per token */

/* The planar Q4_0 matvec for T <= 8 tokens. tools/gpu/matvec_bench.mjs on the H100 (docs/BENCHMARKS.md):
 * rows of up to 160 blocks (n_in <= 5120) are fastest with matvec_q4.wgsl, a subgroup of 32 lanes
 * per row, 8 rows per workgroup, one block per lane per pass, x read from global memory (LPR=32,
 * RW=8, BPL=1, STAGE=0); longer rows with matvec_planar.wgsl, 64 lanes and R = 1 row per workgroup.
 * HEARTH_GPU_Q4 forces one choice for every shape, to time variants: "planar" or "planar:R" (R = 1,
 * 2, 4, 8), or "LPR,RW,BPL[,STAGE[,MAX_WG]]" (LPR = 16, 32 or 64; LPR * RW <= 256; BPL = 1..4;
 * STAGE 0 or 1; MAX_WG: a grid of at most that many workgroups, 0 = no limit). */
typedef struct {
    bool planar, stage;
    uint32_t r, lpr, rw, bpl, max_wg; /* max_wg: workgroups at most (0: one per RW rows) */
} q4_choice;

static q4_choice q4_pick(uint32_t T, uint32_t n_in) {
    static q4_choice want;
    static int read; /* 0: not yet, 1: no HEARTH_GPU_Q4, 2: want */
    if (!read) {
        read = 1;
        want = (q4_choice){false, false, 1, 32, 8, 1, 0};
        const char *e = getenv("HEARTH_GPU_Q4");
        unsigned a = 0, b = 0, c = 0, st = 1, mw = 0;
        if (e && strncmp(e, "planar", 6) == 0) {
            want.planar = true;
            if (e[6] == ':' && sscanf(e + 7, "%u", &a) == 1 && (a == 1 || a == 2 || a == 4 || a == 8)) want.r = a;
            read = 2;
        } else if (e && sscanf(e, "%u,%u,%u,%u,%u", &a, &b, &c, &st, &mw) >= 3 && (a == 16 || a == 32 || a == 64) && b >= 1 &&
                   a * b <= 256 && c >= 1 && c <= 4 && st <= 1) {
            want.lpr = a, want.rw = b, want.bpl = c, want.stage = st, want.max_wg = mw;
            read = 2;
        }
    }
    q4_choice q = want;
    if (read == 1 && n_in / 32 > 160) q.planar = true;
    while (q.r > 1 && q.r * T > 8) q.r /= 2;
    while (q.bpl > 1 && 36 * q.lpr * q.bpl * T > 16384) q.bpl /= 2; /* xs of a pass within 16 KB of workgroup memory */
    return q;
}

void hg_op_quant(hg_ctx *g, hg_act *x) {
    const uint32_t nb = (uint32_t)x->n / 32;
    hg_disp d = hg_disp_new(hg_kernel(g, "quant_act", NULL));
    hg_pu(&d, (uint32_t)x->T);
    hg_pu(&d, nb);
    hg_pu(&d, x->x.off);
    hg_pu(&d, x->x.stride);
    hg_bind(&d, x->x.ref);
    hg_bind(&d, x->q8);
    uint32_t wx, wy;
    split_wg(g, cdiv((uint64_t)x->T * nb, 2), &wx, &wy); /* two blocks per workgroup */
    hg_dispatch(g, &d, wx, wy, 1);
    x->q8_ready = true;
}

void hg_op_matmul(hg_ctx *g, const hg_weight *w, hg_act *x, hg_view y, hg_epilogue epi) {
    const int T = x->T;
    const bool vec = T <= HG_MATVEC_MAX_T;
    const bool quant = w->type == HT_Q4_0; /* reads x as Q8 blocks; Q8_0 weights read f32 x */
    if (w->n_in != x->n || (w->type == HT_Q8_0 && x->n % 32) || (quant && (x->n % 32 || x->q8.size < hg_q8_bytes(T, x->n)))) {
        g->oom = true; /* a planner bug: reported as a failed build */
        return;
    }
    if (quant && !x->q8_ready) hg_op_quant(g, x);
    const hg_view in = quant ? hg_v(x->q8, 0, (uint32_t)(x->n / 32) * 9) : x->x;
    const char *name = hg_type_wk(w->type) ? (vec ? "matvec_k" : "matmul_k") : (vec ? "matvec" : "matmul");
    /* matvec_planar.wgsl: planar Q4_0/Q8_0 with 16-byte loads (f32 x of Q8_0 read by vec4) */
    const bool fast = vec && w->planar && (quant || (in.off % 4 == 0 && in.stride % 4 == 0));
    uint32_t k, rows_wg = 1, max_wg = 0; /* rows per workgroup; workgroups at most (0: no limit) */
    bool xv = false;         /* matvec_planar.wgsl: x bound again as vec4 f32 */
    if (fast) {
        char c[80];
        const q4_choice q4 = q4_pick((uint32_t)T, (uint32_t)w->n_in);
        int n;
        if (quant && !q4.planar) { /* matvec_q4.wgsl */
            rows_wg = q4.rw;
            max_wg = q4.max_wg;
            n = snprintf(c, sizeof c, "WTYPE=2,WPLANAR=1,NT=%d,LPR=%u,RW=%u,BPL=%u,STAGE=%d", T, q4.lpr, q4.rw, q4.bpl, q4.stage);
        } else {
            /* matvec_planar.wgsl: R * NT <= 8 sums in registers. Q8_0 (f32 x, 4 vec4 per lane) gains
             * from sharing x over rows */
            rows_wg = w->type == HT_Q8_0 ? 8 / (uint32_t)T : q4.r;
            n = snprintf(c, sizeof c, "WTYPE=%u,WPLANAR=1,NT=%d,R=%u", w->type, T, rows_wg);
            xv = true;
        }
        if (g->dev.subgroups && g->dev.subgroup_min) snprintf(c + n, sizeof c - (size_t)n, ",SG=%u", g->dev.subgroup_min);
        k = hg_kernel(g, xv ? "matvec_planar" : "matvec_q4", c);
    } else {
        k = weight_kernel(g, name, w);
    }
    for (int i = 0; i < w->n_parts; i++) {
        const int64_t rows = w->part[i].rows;
        uint32_t wx, wy;
        if (vec) { /* matvec*.wgsl: rows_wg rows per workgroup (matvec_q4.wgsl: more when the grid is capped) */
            uint32_t n = cdiv((uint64_t)rows, rows_wg);
            split_wg(g, max_wg && n > max_wg ? max_wg : n, &wx, &wy);
        } else {
            wx = cdiv((uint64_t)rows, 32); /* matmul.wgsl: 32 rows x 32 tokens */
            wy = cdiv((uint64_t)T, 32);
        }
        hg_disp d = hg_disp_new(k);
        hg_pu(&d, (uint32_t)w->n_in);
        hg_pu(&d, (uint32_t)rows);
        hg_pu(&d, (uint32_t)T);
        hg_pu(&d, (uint32_t)w->row_bytes);
        hg_pu(&d, in.off);
        hg_pu(&d, in.stride);
        hg_pu(&d, y.off);
        hg_pu(&d, y.stride);
        hg_pu(&d, (uint32_t)w->part[i].row0);
        hg_pu(&d, (uint32_t)epi);
        hg_pu(&d, wx);
        hg_pu(&d, (uint32_t)hg_weight_s0(w, i)); /* planar: the scales plane */
        hg_bind(&d, w->part[i].ref);
        if (fast) hg_bind(&d, w->part[i].ref); /* again, as vec4 quants */
        hg_bind(&d, in.ref);
        if (xv) hg_bind(&d, in.ref); /* again, as vec4 f32 */
        hg_bind(&d, y.ref);
        hg_dispatch(g, &d, wx, wy, 1);
    }
}

void hg_op_conv_silu(hg_ctx *g, hg_view src, int T, int C, int K, hg_ref cw, hg_ref state, hg_view out) {
    hg_disp d = hg_disp_new(hg_kernel(g, "conv_silu", NULL));
    hg_pu(&d, (uint32_t)T);
    hg_pu(&d, (uint32_t)C);
    hg_pu(&d, (uint32_t)K);
    hg_pu(&d, src.off);
    hg_pu(&d, src.stride);
    hg_pu(&d, out.off);
    hg_pu(&d, out.stride);
    hg_bind(&d, src.ref);
    hg_bind(&d, cw);
    hg_bind(&d, state);
    hg_bind(&d, out.ref);
    hg_dispatch(g, &d, cdiv((uint64_t)C, 64), 1, 1);
}

void hg_op_ssm(hg_ctx *g, const hg_ssm_shape *s, int T, int chunk, hg_view xc, hg_view dt, hg_ref hv, hg_ref state,
               hg_ref dtl, hg_ref sl, hg_view y) {
    const uint32_t H = (uint32_t)s->H, P = (uint32_t)s->P, N = (uint32_t)s->N, G = (uint32_t)s->G;
    uint32_t wx, wy;
    if (T == 1 || chunk <= 1) {
        hg_disp d = hg_disp_new(hg_kernel(g, "ssm_step", NULL));
        const uint32_t v[12] = {H, P, G, N, (uint32_t)T, xc.off, xc.stride, (uint32_t)s->DI, dt.off, dt.stride, y.off, y.stride};
        for (int i = 0; i < 12; i++) hg_pu(&d, v[i]);
        hg_bind(&d, xc.ref);
        hg_bind(&d, dt.ref);
        hg_bind(&d, hv);
        hg_bind(&d, state);
        hg_bind(&d, y.ref);
        hg_dispatch(g, &d, cdiv(P, 8), H, 1); /* (8 channels, head) */
        return;
    }
    const uint32_t Q = (uint32_t)(chunk > 64 ? 64 : chunk), nc = cdiv((uint64_t)T, Q);
    {
        hg_disp d = hg_disp_new(hg_kernel(g, "ssd_prep", NULL));
        const uint32_t v[5] = {(uint32_t)T, H, Q, dt.off, dt.stride};
        for (int i = 0; i < 5; i++) hg_pu(&d, v[i]);
        hg_bind(&d, dt.ref);
        hg_bind(&d, hv);
        hg_bind(&d, dtl);
        hg_dispatch(g, &d, cdiv((uint64_t)nc * H, 64), 1, 1);
    }
    {
        hg_disp d = hg_disp_new(hg_kernel(g, "ssd_state", NULL));
        const uint32_t v[9] = {(uint32_t)T, H, P, G, N, Q, (uint32_t)s->DI, xc.off, xc.stride};
        for (int i = 0; i < 9; i++) hg_pu(&d, v[i]);
        hg_bind(&d, xc.ref);
        hg_bind(&d, dtl);
        hg_bind(&d, sl);
        split_wg(g, cdiv((uint64_t)nc * H * N * P, 64), &wx, &wy);
        hg_dispatch(g, &d, wx, wy, 1);
    }
    {
        hg_disp d = hg_disp_new(hg_kernel(g, "ssd_pass", NULL));
        const uint32_t v[5] = {(uint32_t)T, H, P, N, Q};
        for (int i = 0; i < 5; i++) hg_pu(&d, v[i]);
        hg_bind(&d, dtl);
        hg_bind(&d, sl);
        hg_bind(&d, state);
        split_wg(g, cdiv((uint64_t)H * N * P, 64), &wx, &wy);
        hg_dispatch(g, &d, wx, wy, 1);
    }
    {
        hg_disp d = hg_disp_new(hg_kernel(g, "ssd_out", NULL));
        const uint32_t v[11] = {(uint32_t)T, H, P, G, N, Q, (uint32_t)s->DI, xc.off, xc.stride, y.off, y.stride};
        for (int i = 0; i < 11; i++) hg_pu(&d, v[i]);
        hg_bind(&d, xc.ref);
        hg_bind(&d, dtl);
        hg_bind(&d, sl);
        hg_bind(&d, hv);
        hg_bind(&d, y.ref);
        hg_dispatch(g, &d, cdiv(P, 64), H, nc);
    }
}

void hg_op_gated_norm(hg_ctx *g, hg_view y, hg_view z, hg_ref w, int n, int G, int T, float eps, hg_view out) {
    hg_disp d = hg_disp_new(hg_kernel(g, "gated_norm", NULL));
    const uint32_t v[9] = {(uint32_t)n, (uint32_t)G, (uint32_t)T, y.off, y.stride, z.off, z.stride, out.off, out.stride};
    for (int i = 0; i < 9; i++) hg_pu(&d, v[i]);
    hg_pf(&d, eps);
    hg_bind(&d, y.ref);
    hg_bind(&d, z.ref);
    hg_bind(&d, w);
    hg_bind(&d, out.ref);
    hg_dispatch(g, &d, (uint32_t)G, (uint32_t)T, 1);
}

void hg_op_gated_norm_act(hg_ctx *g, hg_view y, hg_view z, hg_ref w, int n, int G, int T, float eps, hg_act *out) {
    if ((n / G) % 32 || out->q8.size < hg_q8_bytes(T, n)) {
        hg_op_gated_norm(g, y, z, w, n, G, T, eps, out->x);
        out->q8_ready = false;
        return;
    }
    hg_disp d = hg_disp_new(hg_kernel(g, "gated_norm_q8", NULL));
    const uint32_t v[9] = {(uint32_t)n, (uint32_t)G, (uint32_t)T, y.off, y.stride, z.off, z.stride, out->x.off, out->x.stride};
    for (int i = 0; i < 9; i++) hg_pu(&d, v[i]);
    hg_pf(&d, eps);
    hg_pu(&d, (uint32_t)(n / 32) * 9);
    hg_bind(&d, y.ref);
    hg_bind(&d, z.ref);
    hg_bind(&d, w);
    hg_bind(&d, out->x.ref);
    hg_bind(&d, out->q8);
    hg_dispatch(g, &d, (uint32_t)G, (uint32_t)T, cdiv((uint64_t)(n / G), 64)); /* (group, token, 64 values) */
    out->q8_ready = true;
}

void hg_op_attn_prep(hg_ctx *g, const hg_attn_shape *a, int T, int p0, hg_ref qkv, hg_ref aux, hg_ref rope, hg_ref kc,
                     hg_ref vc) {
    const uint32_t kvd = (uint32_t)(a->nkv * a->hd), stride = (uint32_t)(a->nh * a->hd) + 2 * kvd;
    const uint32_t flags = (a->bias ? 1u : 0u) | (a->qk_norm ? 2u : 0u) | ((uint32_t)a->rope << 2);
    hg_disp d = hg_disp_new(hg_kernel(g, "attn_prep", NULL));
    const uint32_t v[11] = {(uint32_t)T, (uint32_t)p0, (uint32_t)a->nh, (uint32_t)a->nkv, (uint32_t)a->hd, stride, kvd, flags,
                            a->bias_off, a->qn_off, a->kn_off};
    for (int i = 0; i < 11; i++) hg_pu(&d, v[i]);
    hg_pf(&d, a->eps);
    hg_bind(&d, qkv);
    hg_bind(&d, aux);
    hg_bind(&d, rope);
    hg_bind(&d, kc);
    hg_bind(&d, vc);
    hg_dispatch(g, &d, (uint32_t)(a->nh + a->nkv), (uint32_t)T, 1);
}

void hg_rope_table(float *out, int n_pos, int hd, float base) {
    const int half = hd / 2;
    for (int pos = 0; pos < n_pos; pos++)
        for (int i = 0; i < half; i++) {
            float theta = (float)pos * powf(base, -2.0f * (float)i / (float)hd);
            out[((size_t)pos * half + i) * 2] = cosf(theta);
            out[((size_t)pos * half + i) * 2 + 1] = sinf(theta);
        }
}

#define HG_ATTN_CHUNK 64 /* keys per attn_split.wgsl workgroup */
#define HG_ATTN_SPLIT_T 8 /* queries up to which attention splits over keys */

uint64_t hg_attn_part_bytes(int T, int n_ctx, int nh, int hd) {
    if (T > HG_ATTN_SPLIT_T) T = HG_ATTN_SPLIT_T;
    return 4ull * (uint64_t)T * (uint64_t)nh * cdiv((uint64_t)n_ctx, HG_ATTN_CHUNK) * (uint64_t)(hd + 2);
}

void hg_op_attention(hg_ctx *g, const hg_attn_shape *a, int T, int p0, hg_view q, hg_ref kc, hg_ref vc, hg_ref part,
                     hg_view out) {
    const uint32_t n_chunks = cdiv((uint64_t)p0 + (uint64_t)T, HG_ATTN_CHUNK);
    const uint64_t need = 4ull * (uint64_t)T * (uint64_t)a->nh * n_chunks * (uint64_t)(a->hd + 2);
    const float scale = 1.0f / sqrtf((float)a->hd);
    if (T <= HG_ATTN_SPLIT_T && part.size >= need && a->hd % 4 == 0) { /* attn_split.wgsl reads keys by 4 */
        hg_disp d = hg_disp_new(hg_kernel(g, "attn_split", NULL));
        const uint32_t v[9] = {(uint32_t)T, (uint32_t)p0, (uint32_t)a->nh, (uint32_t)a->nkv, (uint32_t)a->hd,
                               q.off, q.stride, (uint32_t)(a->nkv * a->hd), n_chunks};
        for (int i = 0; i < 9; i++) hg_pu(&d, v[i]);
        hg_pf(&d, scale);
        hg_bind(&d, q.ref);
        hg_bind(&d, kc);
        hg_bind(&d, vc);
        hg_bind(&d, part);
        hg_dispatch(g, &d, (uint32_t)a->nh, n_chunks, (uint32_t)T);
        hg_disp m = hg_disp_new(hg_kernel(g, "attn_merge", NULL));
        const uint32_t w[7] = {(uint32_t)T, (uint32_t)p0, (uint32_t)a->nh, (uint32_t)a->hd, n_chunks, out.off, out.stride};
        for (int i = 0; i < 7; i++) hg_pu(&m, w[i]);
        hg_bind(&m, part);
        hg_bind(&m, out.ref);
        hg_dispatch(g, &m, (uint32_t)a->nh, (uint32_t)T, 1);
        return;
    }
    hg_disp d = hg_disp_new(hg_kernel(g, "attention", NULL));
    const uint32_t v[10] = {(uint32_t)T, (uint32_t)p0, (uint32_t)a->nh, (uint32_t)a->nkv, (uint32_t)a->hd,
                            q.off, q.stride, (uint32_t)(a->nkv * a->hd), out.off, out.stride};
    for (int i = 0; i < 10; i++) hg_pu(&d, v[i]);
    hg_pf(&d, scale);
    hg_bind(&d, q.ref);
    hg_bind(&d, kc);
    hg_bind(&d, vc);
    hg_bind(&d, out.ref);
    hg_dispatch(g, &d, (uint32_t)a->nh, (uint32_t)T, 1);
}

/* ---- sampling ---------------------------------------------------------------------------------- */

#define TOPK_CHUNK 1024 /* topk.wgsl */

bool hg_sampling_on_gpu(const hg_sampling *sp, int n_vocab) {
    if (!(sp->temperature > 0)) return true;
    return sp->top_k >= 1 && sp->top_k <= HG_MAX_TOP_K && sp->top_k <= n_vocab;
}

static int sample_k(const hg_sampling *sp) { return sp->temperature > 0 ? sp->top_k : 1; }

uint64_t hg_sample_scratch_bytes(int n, int top_k) {
    if (top_k < 1) top_k = 1;
    return (uint64_t)cdiv((uint64_t)n, TOPK_CHUNK) * (uint64_t)top_k * 8 + 8ull * (uint64_t)top_k;
}

void hg_op_sample(hg_ctx *g, const hg_sampling *sp, float u, hg_ref logits, int n, hg_ref hist, int n_hist,
                  hg_ref tokens, uint32_t tok_off, uint32_t hist_pos, hg_ref cand_a, hg_ref cand_b, hg_ref bits) {
    const float pen = sp->repetition_penalty;
    if (pen > 0 && pen != 1.0f && n_hist > 0) {
        uint32_t k = hg_kernel(g, "penalty", NULL);
        for (uint32_t mode = 0; mode < 2; mode++) {
            hg_disp d = hg_disp_new(k);
            hg_pu(&d, (uint32_t)n_hist);
            hg_pu(&d, 0);
            hg_pu(&d, mode);
            hg_pf(&d, pen);
            hg_pu(&d, 0);
            hg_bind(&d, hist);
            hg_bind(&d, bits);
            hg_bind(&d, logits);
            hg_dispatch(g, &d, cdiv((uint64_t)n_hist, 64), 1, 1);
        }
    }
    const int K = sample_k(sp);
    char c[16];
    snprintf(c, sizeof c, "K=%d", K);
    uint32_t kt = hg_kernel(g, "topk", c), ks = hg_kernel(g, "sample", c);
    /* rounds of "best K of each chunk of 1024" until one chunk is left */
    uint64_t cur = (uint64_t)n;
    hg_ref in = logits, out = cand_a;
    uint32_t mode = 0;
    for (;;) {
        uint32_t nwg = cdiv(cur, TOPK_CHUNK);
        hg_disp d = hg_disp_new(kt);
        hg_pu(&d, (uint32_t)cur);
        hg_pu(&d, mode);
        hg_pu(&d, 0);
        hg_bind(&d, in);
        hg_bind(&d, out);
        hg_dispatch(g, &d, nwg, 1, 1);
        if (nwg == 1) break;
        cur = (uint64_t)nwg * (uint64_t)K;
        mode = 1;
        in = out;
        out = out.buf == cand_a.buf && out.off == cand_a.off ? cand_b : cand_a;
    }
    hg_disp d = hg_disp_new(ks);
    hg_pf(&d, sp->temperature);
    hg_pf(&d, sp->top_p);
    hg_pf(&d, sp->min_p);
    hg_pf(&d, u);
    hg_pu(&d, tok_off);
    hg_pu(&d, hist_pos);
    hg_bind(&d, out);
    hg_bind(&d, tokens);
    hg_bind(&d, hist);
    hg_dispatch(g, &d, 1, 1, 1);
}
