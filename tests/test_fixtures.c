/* test_fixtures.c - every reference fixture through convert -> load -> prefill / decode / greedy, per weight type. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "convert.h"
#include "quant.h"
#include "safetensors.h"
#include "session.h"

static const char *shared_dir(void) {
    const char *s = getenv("HEARTH_SHARED");
    return s ? s : "../shared";
}
static const char *tmp_dir(void) {
    const char *s = getenv("HEARTH_TMP");
    return s ? s : "/tmp";
}

/* max |a - b| / max |b| over one row of n. */
static double row_rel_err(const float *a, const float *b, int n) {
    double md = 0, mr = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > md) md = d;
        if (fabs(b[i]) > mr) mr = fabs(b[i]);
    }
    return md / (mr > 0 ? mr : 1);
}

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

typedef struct {
    const char *type;
    double tol;        /* per-row max|diff|/max|ref| bound for the logits */
    double min_top1;   /* fraction of positions whose argmax equals the reference's */
    bool greedy_exact; /* the 16 greedy tokens must equal greedy_2 */
    double chunk_tol;  /* bound for the chunked Mamba-2 prefill against the token recurrence */
} type_case;

/* Bounds, measured on these fixtures and kept with headroom:
 * - f32: computes exactly the reference's math in f32 -> 1e-4 (the bound).
 * - bf16: weights identical to the checkpoint (bf16) -> same bound as f32.
 * - f16: bf16 values with 8 mantissa bits fit f16 exactly unless below f16's normal range
 *   (~6e-5); tiny weights lose a few bits -> 1e-3.
 * - q8_0: 8-bit blocks, per-weight error <= amax/254. Measured worst row error 0.063
 *   (nemotron_h_tiny, T=37); bound 0.1. Top-1: the CPU kernels multiply Q8_0 weights with
 *   activations quantised to int16 per block (cpu_kernels.h), which measures like the f32
 *   reference: 0.978 (nemotron_h_tiny), 0.978 (llama_tiny), 1.000 (qwen2_tiny), 1.000
 *   (qwen3_tiny); pooled 0.989. The bound 0.95 per fixture. (Q8_0 activations, as
 *   llama.cpp uses, had measured 0.911 on the flat nemotron_h_tiny logits.)
 * - q4_0: 4-bit blocks, per-weight error up to amax/16, 16x q8_0's. These fixtures are
 *   random-init with nearly flat logits (std ~1, summary.json), so top-1 flips on near-ties:
 *   measured worst row error 0.66 and top-1 0.556 (nemotron_h_tiny), 0.78-0.96 elsewhere.
 *   Bounds 0.8 and 0.5 catch a broken q4_0 path (which gives row errors > 1 and chance-level
 *   top-1 of ~1/512) while allowing 4-bit noise. The demo model measures q4_0 on real text.
 * - q4_k_m: no fixture row is a multiple of 256, so llama.cpp's fallback applies: Q5_0 for the
 *   Q4_K matrices, Q8_0 for the Q6_K ones (LM head, the more-bits attn_v and ffn_down). Measured
 *   worst row error 0.35 (nemotron_h_tiny; q4_0 0.66) and 0.10-0.17 elsewhere (q4_0 0.32-0.35);
 *   top-1 0.778-0.956. Bounds 0.45 and 0.7. main() checks it beats q4_0 (see there).
 * - q6_k: on these rows every matrix falls back to Q8_0: the same file as q8_0, the same
 *   measurements (worst row error 0.063, top-1 0.978-1.000). Bounds 0.1 and 0.95.
 * Chunked prefill against the recurrence: the two runs differ by float rounding (the Mamba-2
 * sums in another order; the token batches of the other ops follow the chunk size too): measured
 * <= 1.1e-6, bound 1e-5 for the float types. With quantised weights the kernels quantise the
 * activations, and those rounding differences move some int16 codes (step amax/32767, ~3e-5 of
 * the block's largest value) by a whole step: measured 9.6e-5 (nemotron_h_tiny q8_0, q6_k),
 * 4.3e-5 (llama_tiny), 2.4e-5 (qwen3_tiny), 4.2e-5 (q4_k_m); q4_0's coarser Q8_0 codes did not
 * move (0). Bound 3e-4 for the quantised types: a wrong chunked scan differs by > 1e-2. */
static const type_case types[] = {
    {"f32", 1e-4, 1.0, true, 1e-5},
    {"bf16", 1e-4, 1.0, true, 1e-5},
    {"f16", 1e-3, 1.0, true, 1e-5},
    {"q8_0", 0.1, 0.95, false, 3e-4},
    {"q4_0", 0.8, 0.5, false, 3e-4},
    {"q4_k_m", 0.45, 0.7, false, 3e-4},
    {"q6_k", 0.1, 0.95, false, 3e-4},
};
enum { N_TYPES = sizeof types / sizeof types[0] };

/* What a case measured: positions whose argmax matched the reference's, out of n; the worst row error. */
typedef struct {
    int top1_ok, top1_n;
    double worst;
} case_result;

static void run_case(const char *fixture, const type_case *tc, case_result *res) {
    char dir[1024], gguf[1200], golden[1200];
    snprintf(dir, sizeof dir, "%s/fixtures/%s", shared_dir(), fixture);
    snprintf(gguf, sizeof gguf, "%s/%s-%s.gguf", tmp_dir(), fixture, tc->type);
    snprintf(golden, sizeof golden, "%s/golden.safetensors", dir);
    hearth_err e = {0};
    hconv_options o = {.quiet = true};
    CHECK(hconv_parse_type(tc->type, &o.type, &o.mix), "%s: not a convert type", tc->type);
    hearth_status st = hconv_convert(dir, gguf, &o, &e);
    CHECK(st == HEARTH_OK, "%s %s: convert: %s", fixture, tc->type, e.msg);
    if (st) return;
    hearth_model *m = NULL;
    char err[600];
    st = hearth_model_load(gguf, NULL, &m, err, sizeof err);
    CHECK(st == HEARTH_OK, "%s %s: load: %s", fixture, tc->type, err);
    if (st) return;
    st_set *g = NULL;
    st = st_open(golden, &g, &e);
    CHECK(st == HEARTH_OK, "%s: golden: %s", fixture, e.msg);
    if (st) {
        hearth_model_free(m);
        return;
    }
    const int V = hearth_model_n_vocab(m);
    int top1_ok = 0, top1_n = 0;
    for (int c = 0; c < 3; c++) {
        char tn[32], ln[32];
        snprintf(tn, sizeof tn, "tokens_%d", c);
        snprintf(ln, sizeof ln, "logits_%d", c);
        const st_tensor *tt = st_find(g, tn), *lt = st_find(g, ln);
        CHECK(tt && lt && tt->type == HT_I32 && lt->type == HT_F32, "%s: golden lacks %s/%s", fixture, tn, ln);
        if (!tt || !lt) continue;
        const int T = (int)tt->n_elems;
        const int32_t *toks = (const int32_t *)tt->data;
        const float *ref = (const float *)lt->data;
        CHECK(lt->n_elems == (uint64_t)T * V, "%s: %s has %llu values", fixture, ln, (unsigned long long)lt->n_elems);
        float *out = malloc(sizeof(float) * (size_t)T * V);
        for (int mode = 0; mode < 2; mode++) { /* 0 = prefill, 1 = token by token */
            hearth_session *s = NULL;
            hearth_session_params sp = hearth_session_default_params();
            sp.n_ctx = 64;
            hearth_session_new(m, &sp, &s, err, sizeof err);
            hm_session_set_ssm_chunk(s, 8); /* the reference's chunk size: 37 tokens span 5 chunks */
            if (mode == 0) {
                st = hearth_session_eval(s, toks, T, out, HEARTH_LOGITS_ALL);
            } else {
                for (int t = 0; t < T && st == HEARTH_OK; t++)
                    st = hearth_session_eval(s, toks + t, 1, out + (size_t)t * V, HEARTH_LOGITS_LAST);
            }
            CHECK(st == HEARTH_OK, "%s %s: eval: %s", fixture, tc->type, hearth_session_error(s));
            double worst = 0;
            for (int t = 0; t < T; t++) {
                double r = row_rel_err(out + (size_t)t * V, ref + (size_t)t * V, V);
                if (r > worst) worst = r;
                top1_n++;
                top1_ok += argmax(out + (size_t)t * V, V) == argmax(ref + (size_t)t * V, V);
            }
            if (worst > res->worst) res->worst = worst;
            CHECK(worst <= tc->tol, "%s %s %s T=%d: max row error %.3g > %.3g", fixture, tc->type,
                  mode ? "decode" : "prefill", T, worst, tc->tol);
            if (getenv("HEARTH_VERBOSE"))
                printf("%s %s %s T=%d: max row error %.3g\n", fixture, tc->type, mode ? "decode" : "prefill", T, worst);
            hearth_session_free(s);
        }
        free(out);
    }
    /* the chunked Mamba-2 prefill (chunks of 8 and 64) agrees with the token recurrence (chunk 1) */
    const st_tensor *t2 = st_find(g, "tokens_2");
    if (t2) {
        const int T = (int)t2->n_elems;
        float *ref = malloc(sizeof(float) * (size_t)T * V), *out = malloc(sizeof(float) * (size_t)T * V);
        const int chunks[3] = {1, 8, 64};
        for (int k = 0; k < 3; k++) {
            hearth_session *s = NULL;
            hearth_session_params sp = hearth_session_default_params();
            sp.n_ctx = 64;
            hearth_session_new(m, &sp, &s, err, sizeof err);
            hm_session_set_ssm_chunk(s, chunks[k]);
            hearth_session_eval(s, (const int32_t *)t2->data, T, k ? out : ref, HEARTH_LOGITS_ALL);
            if (k) {
                double worst = 0;
                for (int t = 0; t < T; t++) {
                    double r = row_rel_err(out + (size_t)t * V, ref + (size_t)t * V, V);
                    if (r > worst) worst = r;
                }
                CHECK(worst <= tc->chunk_tol, "%s %s: chunk %d prefill differs from the recurrence by %.3g", fixture,
                      tc->type, chunks[k], worst);
                if (getenv("HEARTH_VERBOSE"))
                    printf("%s %s: chunk %d prefill vs recurrence %.3g\n", fixture, tc->type, chunks[k], worst);
            }
            hearth_session_free(s);
        }
        free(ref);
        free(out);
    }

    res->top1_ok = top1_ok;
    res->top1_n = top1_n;
    double top1 = (double)top1_ok / top1_n;
    CHECK(top1 >= tc->min_top1, "%s %s: top-1 agreement %.3f < %.2f", fixture, tc->type, top1, tc->min_top1);
    if (getenv("HEARTH_VERBOSE")) printf("%s %s: top-1 agreement %.3f\n", fixture, tc->type, top1);

    /* greedy continuation of tokens_2 through the incremental path */
    const st_tensor *tt = st_find(g, "tokens_2"), *gt = st_find(g, "greedy_2");
    if (tt && gt) {
        hearth_session *s = NULL;
        hearth_session_params sp = hearth_session_default_params();
        sp.n_ctx = 64;
        hearth_session_new(m, &sp, &s, err, sizeof err);
        float *lg = malloc(sizeof(float) * V);
        st = hearth_session_eval(s, (const int32_t *)tt->data, (int)tt->n_elems, lg, HEARTH_LOGITS_LAST);
        int same = 0;
        for (int k = 0; k < (int)gt->n_elems && st == HEARTH_OK; k++) {
            int32_t tok = argmax(lg, V);
            same += tok == ((const int32_t *)gt->data)[k];
            st = hearth_session_eval(s, &tok, 1, lg, HEARTH_LOGITS_LAST);
        }
        if (tc->greedy_exact)
            CHECK(same == (int)gt->n_elems, "%s %s: %d of %llu greedy tokens equal greedy_2", fixture, tc->type, same,
                  (unsigned long long)gt->n_elems);
        if (getenv("HEARTH_VERBOSE")) printf("%s %s: greedy %d/16\n", fixture, tc->type, same);
        free(lg);
        hearth_session_free(s);
    }
    st_free(g);
    hearth_model_free(m);
}

static int type_index(const char *name) {
    for (int t = 0; t < N_TYPES; t++)
        if (!strcmp(types[t].type, name)) return t;
    return -1;
}

int main(void) {
    const char *fixtures[] = {"nemotron_h_tiny", "llama_tiny", "qwen2_tiny", "qwen3_tiny"};
    case_result res[4][N_TYPES];
    memset(res, 0, sizeof res);
    for (size_t f = 0; f < 4; f++)
        for (int t = 0; t < N_TYPES; t++) run_case(fixtures[f], &types[t], &res[f][t]);
    /* q4_k_m against q4_0 (the acceptance): a smaller worst logit error on every fixture,
     * and a higher top-1 agreement over all of them. Measured top-1, q4_0 -> q4_k_m: 0.556 ->
     * 0.778, 0.778 -> 0.778, 0.911 -> 0.933, 0.956 -> 0.956; pooled 0.800 -> 0.861. Per fixture,
     * top-1 moves by single near-tie positions of these flat random-init logits (qwen3_tiny ties),
     * so the top-1 comparison is made on the pooled positions. */
    const int q8 = type_index("q8_0");
    int ok_q8 = 0, n_q8 = 0;
    for (int f = 0; f < 4; f++) ok_q8 += res[f][q8].top1_ok, n_q8 += res[f][q8].top1_n;
    printf("all fixtures     top-1 q8_0 %.3f (each fixture is held to 0.95 in run_case)\n", n_q8 ? (double)ok_q8 / n_q8 : 0);
    const int a = type_index("q4_0"), b = type_index("q4_k_m");
    int ok_a = 0, ok_b = 0, n_a = 0, n_b = 0;
    for (int f = 0; f < 4; f++) {
        const case_result *ra = &res[f][a], *rb = &res[f][b];
        printf("%-16s top-1 q4_0 %.3f  q4_k_m %.3f   worst row error q4_0 %.3f  q4_k_m %.3f\n", fixtures[f],
               ra->top1_n ? (double)ra->top1_ok / ra->top1_n : 0, rb->top1_n ? (double)rb->top1_ok / rb->top1_n : 0,
               ra->worst, rb->worst);
        CHECK(rb->worst < ra->worst, "%s: q4_k_m's worst row error %.3f is not below q4_0's %.3f", fixtures[f], rb->worst,
              ra->worst);
        ok_a += ra->top1_ok, n_a += ra->top1_n, ok_b += rb->top1_ok, n_b += rb->top1_n;
    }
    const double top_a = n_a ? (double)ok_a / n_a : 0, top_b = n_b ? (double)ok_b / n_b : 0;
    printf("all fixtures     top-1 q4_0 %.3f  q4_k_m %.3f\n", top_a, top_b);
    CHECK(top_b > top_a, "q4_k_m's top-1 agreement %.3f is not above q4_0's %.3f", top_b, top_a);
    return check_summary("fixtures");
}
