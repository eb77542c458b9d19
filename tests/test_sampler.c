/* test_sampler.c - tests of the RNG and every sampling stage: exact kept sets, greedy ties, seeds, statistics. */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "sampler.h"
#include "util.h"

/* Scratch filled with garbage: no stage may rely on it starting zeroed. */
static void *scratch_for(int n) {
    size_t b = hs_sample_scratch_bytes(n);
    void *s = malloc(b);
    memset(s, 0xab, b);
    return s;
}

/* The kept set of a filtered vector as a bit mask (bit i = token i is not -inf). */
static unsigned kept_mask(const float *x, int n) {
    unsigned m = 0;
    for (int i = 0; i < n; i++)
        if (x[i] > -INFINITY) m |= 1u << i;
    return m;
}

static void test_rng(void) {
    hs_rng a, b;
    hs_rng_seed(&a, 0);
    CHECK(a.s[0] == 0xe220a8397b1dcdafull, "splitmix64(0) first output");
    /* reference values from an independent big-integer model of splitmix64 + xoshiro256** */
    CHECK(hs_rng_next(&a) == 0x99ec5f36cb75f2b4ull, "xoshiro256** seed 0, output 0");
    CHECK(hs_rng_next(&a) == 0xbf6e1f784956452aull, "output 1");
    hs_rng_seed(&a, 42);
    CHECK(hs_rng_next(&a) == 0x15780b2e0c2ec716ull && hs_rng_next(&a) == 0x6104d9866d113a7eull &&
              hs_rng_next(&a) == 0xae17533239e499a1ull,
          "seed 42 outputs");
    hs_rng_seed(&a, 7);
    hs_rng_seed(&b, 7);
    int same = 0, diff_seed_same = 0;
    double sum = 0, lo = 1, hi = 0;
    hs_rng c;
    hs_rng_seed(&c, 8);
    for (int i = 0; i < 100000; i++) {
        uint64_t x = hs_rng_next(&a);
        same += x == hs_rng_next(&b);
        diff_seed_same += x == hs_rng_next(&c);
        double u = hs_rng_uniform(&a);
        hs_rng_uniform(&b);
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    CHECK(same == 100000, "same seed, same sequence");
    CHECK(diff_seed_same == 0, "another seed, another sequence");
    /* mean of 100000 uniforms: sd = sqrt(1/12/1e5) = 0.00091; 5 sd = 0.0046 */
    CHECK(fabs(sum / 100000 - 0.5) < 0.0046 && lo >= 0 && hi < 1, "uniform in [0,1), mean %f", sum / 100000);
}

static void test_repetition_penalty(void) {
    float x[5] = {2, -2, 0, 1, 3};
    int32_t hist[] = {0, 1, 0, 2, 7, -1, 1, 0};
    void *s = scratch_for(5);
    hs_apply_repetition_penalty(x, 5, hist, 8, 2.0f, s);
    CHECK(x[0] == 1 && x[1] == -4 && x[2] == 0 && x[3] == 1 && x[4] == 3,
          "once per distinct id, ids out of range ignored: %g %g %g %g %g", x[0], x[1], x[2], x[3], x[4]);
    hs_apply_repetition_penalty(x, 5, hist, 8, 2.0f, s); /* scratch reused: still once per id */
    CHECK(x[0] == 0.5f && x[1] == -8, "second call on a used scratch");
    float y[3] = {1, 2, 3};
    hs_apply_repetition_penalty(y, 3, hist, 8, 1.0f, s);
    hs_apply_repetition_penalty(y, 3, hist, 0, 2.0f, s);
    hs_apply_repetition_penalty(y, 3, NULL, 3, 2.0f, s);
    CHECK(y[0] == 1 && y[1] == 2 && y[2] == 3, "penalty 1, empty or NULL history: no change");
    free(s);
}

static void test_temperature_argmax(void) {
    float x[4] = {1, 2, -4, -INFINITY};
    hs_apply_temperature(x, 4, 0.5f);
    CHECK(x[0] == 2 && x[1] == 4 && x[2] == -8 && x[3] == -INFINITY, "divide by T; -inf stays");
    float y[2] = {3e38f, -3e38f};
    hs_apply_temperature(y, 2, 0.01f);
    CHECK(y[0] == FLT_MAX && y[1] == -FLT_MAX, "overflow saturates, never -inf");
    float t[4] = {1, 5, 5, 2};
    CHECK(hs_argmax(t, 4) == 1, "argmax ties -> lowest id");
    float u[3] = {NAN, 1, NAN};
    CHECK(hs_argmax(u, 3) == 1, "NaN never wins");
    float v[3] = {-INFINITY, -INFINITY, -INFINITY};
    CHECK(hs_argmax(v, 3) == 0, "all -inf -> 0");
}

static void test_top_k(void) {
    void *s = scratch_for(6);
    float base[6] = {1, 5, 3, 5, 2, 4};
    float x[6];
    struct {
        int k;
        unsigned want;
    } cases[] = {{1, 0x0a}, {2, 0x0a}, {3, 0x2a}, {4, 0x2e}, {5, 0x3e}, {6, 0x3f}, {0, 0x3f}, {-3, 0x3f}, {99, 0x3f}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(x, base, sizeof x);
        hs_top_k(x, 6, cases[c].k, s);
        CHECK(kept_mask(x, 6) == cases[c].want, "top_k %d: kept %#x, want %#x (ties with the k-th stay)", cases[c].k,
              kept_mask(x, 6), cases[c].want);
        CHECK(x[1] == 5 && x[3] == 5, "kept logits unchanged");
    }
    float y[5] = {NAN, 2, -INFINITY, 1, 0};
    hs_top_k(y, 5, 2, s);
    CHECK(kept_mask(y, 5) == 0x0a, "NaN and -inf are never in the top k: %#x", kept_mask(y, 5));
    free(s);
}

static int cmp_float_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* Both top-k paths (heap for k <= 1024, quickselect above) against a full sort, on vectors with
 * many ties, runs of -inf and a few NaN. */
static void test_top_k_vs_reference(void) {
    enum { N = 5000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *sorted = malloc(N * sizeof *x);
    void *s = scratch_for(N);
    hs_rng rng;
    hs_rng_seed(&rng, 3);
    const int ks[] = {1, 2, 10, 1000, 1024, 1025, 2000, 4000, 4999};
    int bad = 0;
    for (int rep = 0; rep < 4; rep++) {
        for (int i = 0; i < N; i++) {
            double u = hs_rng_uniform(&rng);
            x[i] = rep == 3 ? 1.0f : (float)floor(u * (rep == 0 ? 1e6 : 50)); /* rep 3: all equal */
            if (rep == 2 && u < 0.3) x[i] = -INFINITY;
            if (rep == 2 && u > 0.999) x[i] = NAN;
        }
        for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
            for (int i = 0; i < N; i++) sorted[i] = isnan(x[i]) ? -INFINITY : x[i];
            qsort(sorted, N, sizeof *sorted, cmp_float_desc);
            float kth = sorted[ks[c] - 1];
            memcpy(y, x, N * sizeof *x);
            hs_top_k(y, N, ks[c], s);
            int wrong = 0;
            for (int i = 0; i < N; i++) {
                bool keep = x[i] >= kth;
                wrong += (y[i] > -INFINITY) != (keep && x[i] > -INFINITY);
                if (keep && y[i] != x[i]) wrong++;
            }
            bad += wrong != 0;
        }
    }
    CHECK(bad == 0, "%d of 36 top-k kept sets differ from the full sort", bad);
    free(x);
    free(y);
    free(sorted);
    free(s);
}

static void test_softmax(void) {
    float x[3] = {0, logf(2), -INFINITY};
    hs_softmax(x, 3);
    CHECK(fabsf(x[0] - 1.0f / 3) < 1e-7f && fabsf(x[1] - 2.0f / 3) < 1e-7f && x[2] == 0, "softmax %g %g %g", x[0],
          x[1], x[2]);
    float y[2] = {-INFINITY, -INFINITY};
    hs_softmax(y, 2);
    CHECK(y[0] == 0 && y[1] == 0, "all -inf -> zeros");
    float z[2] = {1000, 999};
    hs_softmax(z, 2);
    CHECK(fabsf(z[0] - 0.7310586f) < 1e-6f, "large logits stay finite");
}

/* logits = log(p) for the given probabilities */
static void from_probs(float *x, const double *p, int n) {
    for (int i = 0; i < n; i++) x[i] = p[i] > 0 ? (float)log(p[i]) : -INFINITY;
}

static void test_top_p(void) {
    void *s = scratch_for(4);
    const double p[4] = {0.1, 0.4, 0.2, 0.3}; /* ranked: 1, 3, 2, 0 */
    struct {
        float top_p;
        unsigned want;
    } cases[] = {{0.0f, 0x2}, {0.3f, 0x2}, {0.39f, 0x2}, {0.5f, 0xa}, {0.65f, 0xa}, {0.75f, 0xe},
                 {0.85f, 0xe}, {0.95f, 0xf}, {1.0f, 0xf}, {-1.0f, 0x2}, {NAN, 0xf}};
    float x[4];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        from_probs(x, p, 4);
        hs_top_p(x, 4, cases[c].top_p, s);
        CHECK(kept_mask(x, 4) == cases[c].want, "top_p %g: kept %#x, want %#x", cases[c].top_p, kept_mask(x, 4),
              cases[c].want);
    }
    free(s);
    /* ties in probability: lower ids first. 1000 equal tokens, top_p 0.5: ids 0..499 */
    enum { N = 1000 };
    float *u = calloc(N, sizeof *u);
    s = scratch_for(N);
    hs_top_p(u, N, 0.5f, s);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += (u[i] > -INFINITY) != (i < 500);
    CHECK(bad == 0, "equal tokens: the lowest 500 ids kept (%d wrong)", bad);
    free(u);
    free(s);
}

static int cmp_desc(const void *a, const void *b) {
    const float *x = a, *y = b;
    if (x[0] != y[0]) return x[0] > y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Reference top-p: sort every token (weight, id), walk until the mass reaches top_p. Returns the
 * number kept and marks them in keep[]. */
static int naive_top_p(const float *logits, int n, float top_p, char *keep) {
    float mx = logits[hs_argmax(logits, n)];
    float *pairs = malloc(2 * sizeof(float) * (size_t)n);
    double total = 0;
    int np = 0;
    for (int i = 0; i < n; i++) {
        float w = logits[i] > -INFINITY ? expf(logits[i] - mx) : 0.0f;
        total += w;
        if (w > 0) {
            pairs[2 * np] = w;
            pairs[2 * np + 1] = (float)i; /* exact for i < 2^24 */
            np++;
        }
    }
    qsort(pairs, (size_t)np, 2 * sizeof(float), cmp_desc);
    double target = top_p > 0 ? (double)top_p * total : 0, cum = 0;
    int m = 0;
    while (m < np && (m == 0 || cum < target)) cum += pairs[2 * m++];
    memset(keep, 0, (size_t)n);
    for (int j = 0; j < m; j++) keep[(int)pairs[2 * j + 1]] = 1;
    free(pairs);
    return m;
}

/* The thresholded top-p against the full sort, on random vectors where the needed mass lies
 * anywhere from the first token to deep in a long tail of tiny probabilities. */
static void test_top_p_vs_reference(void) {
    enum { N = 20000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    char *keep = malloc(N);
    void *s = scratch_for(N);
    hs_rng rng;
    hs_rng_seed(&rng, 99);
    const float tps[] = {0.1f, 0.5f, 0.9f, 0.99f, 0.999999f};
    const float spreads[] = {0.5f, 3, 10, 40};
    int bad_sets = 0, deep = 0;
    for (size_t a = 0; a < sizeof spreads / sizeof spreads[0]; a++) {
        for (size_t b = 0; b < sizeof tps / sizeof tps[0]; b++) {
            for (int i = 0; i < N; i++) x[i] = spreads[a] * (float)(hs_rng_uniform(&rng) * 2 - 1);
            x[7] = spreads[a] * 3; /* a clear leader */
            memcpy(y, x, N * sizeof *x);
            hs_top_p(y, N, tps[b], s);
            int m = naive_top_p(x, N, tps[b], keep), wrong = 0, kept = 0;
            for (int i = 0; i < N; i++) {
                kept += y[i] > -INFINITY;
                wrong += (y[i] > -INFINITY) != keep[i];
                if (y[i] > -INFINITY && y[i] != x[i]) wrong++;
            }
            bad_sets += wrong != 0 || kept != m;
            deep += m > 1000;
        }
    }
    CHECK(bad_sets == 0, "%d of 20 top-p kept sets differ from the full sort", bad_sets);
    CHECK(deep > 0, "some cases needed a deep tail");
    /* one huge token and a tail of 19999 tiny ones that the mass must reach into */
    for (int i = 0; i < N; i++) x[i] = -20;
    x[0] = 0;
    memcpy(y, x, N * sizeof *x);
    hs_top_p(y, N, 0.99999f, s);
    int m = naive_top_p(x, N, 0.99999f, keep), wrong = 0;
    for (int i = 0; i < N; i++) wrong += (y[i] > -INFINITY) != keep[i];
    CHECK(wrong == 0 && m > 1000, "deep tail: %d kept, %d wrong", m, wrong);
    free(x);
    free(y);
    free(keep);
    free(s);
}

static void test_min_p(void) {
    const double p[4] = {0.5, 0.3, 0.15, 0.05};
    struct {
        float min_p;
        unsigned want;
    } cases[] = {{0.0f, 0xf}, {0.05f, 0xf}, {0.2f, 0x7}, {0.5f, 0x3}, {0.7f, 0x1}, {1.5f, 0x1}, {NAN, 0xf}};
    float x[4];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        from_probs(x, p, 4);
        hs_min_p(x, 4, cases[c].min_p);
        CHECK(kept_mask(x, 4) == cases[c].want, "min_p %g: kept %#x, want %#x", cases[c].min_p, kept_mask(x, 4),
              cases[c].want);
    }
    float t[3] = {2, 2, 1}; /* a tie at the top: both kept */
    hs_min_p(t, 3, 0.9f);
    CHECK(kept_mask(t, 3) == 0x3, "tied maxima both kept");
}

static hs_sampler_params params(float t, int k, float top_p, float min_p, float rep) {
    return (hs_sampler_params){.temperature = t, .top_k = k, .top_p = top_p, .min_p = min_p, .repetition_penalty = rep};
}

static void test_greedy_and_chain(void) {
    void *s = scratch_for(4);
    hs_rng rng;
    hs_rng_seed(&rng, 1);
    float x[4] = {1, 3, 3, 2};
    hs_sampler_params g = params(0, 0, 1, 0, 1);
    CHECK(hs_sample(&g, x, 4, NULL, 0, &rng, s) == 1, "greedy tie -> lowest id");
    g.temperature = -1;
    float x2[4] = {1, 3, 3, 2};
    CHECK(hs_sample(&g, x2, 4, NULL, 0, &rng, s) == 1, "negative temperature is greedy");
    float x3[2] = {5, 4.9f};
    int32_t h[] = {0};
    g.repetition_penalty = 1.1f;
    CHECK(hs_sample(&g, x3, 2, h, 1, &rng, s) == 1, "penalty applies before greedy");
    float x4[3] = {NAN, 1, 0};
    g = params(0, 0, 1, 0, 1);
    CHECK(hs_sample(&g, x4, 3, NULL, 0, &rng, s) == 1, "NaN logits never chosen");
    float x5[3] = {1, INFINITY, 2};
    hs_sampler_params sp = params(0.8f, 0, 1, 0, 1);
    CHECK(hs_sample(&sp, x5, 3, NULL, 0, &rng, s) == 1, "+inf logit always chosen");
    float x6[3] = {-INFINITY, -INFINITY, -INFINITY};
    CHECK(hs_sample(&sp, x6, 3, NULL, 0, &rng, s) == 0, "all -inf: argmax, no crash");
    CHECK(hs_sample(&sp, x6, 0, NULL, 0, &rng, s) == -1 && hs_sample(NULL, x6, 3, NULL, 0, &rng, s) == -1 &&
              hs_sample(&sp, x6, 3, NULL, 0, &rng, NULL) == -1,
          "bad arguments -> -1");
    CHECK(hs_sample_scratch_bytes(0) == 0 && hs_sample_scratch_bytes(8) >= 8 * 12, "scratch sizes");
    float w[3] = {0, 0, 0};
    CHECK(hs_sample_probs(w, 3, &rng) == 0, "zero weights -> argmax");
    float w2[3] = {0, 0, 5};
    CHECK(hs_sample_probs(w2, 3, &rng) == 2, "one non-zero weight");

    /* temperature comes before top-p: {2,1,0} at T=0.5 keeps only token 0 under top_p 0.8
     * (p = .867, .117, .016); at T=2 it keeps 0 and 1 (p = .506, .307, .186) */
    int seen_cold[3] = {0}, seen_hot[3] = {0};
    for (int i = 0; i < 2000; i++) {
        float a[3] = {2, 1, 0}, b[3] = {2, 1, 0};
        sp = params(0.5f, 0, 0.8f, 0, 1);
        seen_cold[hs_sample(&sp, a, 3, NULL, 0, &rng, s)]++;
        sp.temperature = 2;
        seen_hot[hs_sample(&sp, b, 3, NULL, 0, &rng, s)]++;
    }
    CHECK(seen_cold[0] == 2000, "T=0.5, top_p 0.8: only token 0");
    CHECK(seen_hot[0] > 0 && seen_hot[1] > 0 && seen_hot[2] == 0, "T=2, top_p 0.8: tokens 0 and 1");
    /* min-p also sees the tempered distribution: {0, -1} at T=1 has ratio e^-1 = .37 >= .3 (both
     * kept); at T=0.5 the ratio is e^-2 = .14 < .3 (only token 0) */
    int cold1 = 0, hot1 = 0;
    for (int i = 0; i < 2000; i++) {
        float a[2] = {0, -1}, b[2] = {0, -1};
        sp = params(0.5f, 0, 1, 0.3f, 1);
        cold1 += hs_sample(&sp, a, 2, NULL, 0, &rng, s);
        sp.temperature = 1;
        hot1 += hs_sample(&sp, b, 2, NULL, 0, &rng, s);
    }
    CHECK(cold1 == 0 && hot1 > 0, "min-p after temperature (%d, %d)", cold1, hot1);

    /* same seed -> same tokens */
    hs_rng r1, r2;
    hs_rng_seed(&r1, 2024);
    hs_rng_seed(&r2, 2024);
    int differ = 0;
    sp = params(1.0f, 0, 1, 0, 1);
    for (int i = 0; i < 1000; i++) {
        float a[4] = {1, 1, 1, 1}, b[4] = {1, 1, 1, 1};
        differ += hs_sample(&sp, a, 4, NULL, 0, &r1, s) != hs_sample(&sp, b, 4, NULL, 0, &r2, s);
    }
    CHECK(differ == 0, "same seed, same samples");
    free(s);
}

/* Samples `draws` times and checks every token's count against its expected probability.
 * A count is Binomial(draws, p): mean draws*p, sd sqrt(draws*p*(1-p)). Allowing 5 sd makes a
 * false failure about 6e-7 per token (two-sided normal tail), about 2e-5 over this file's
 * 30-odd checks; a wrong distribution shifts a count by far more (a 1% error in p at p = 0.2 is
 * 2000 draws, 11 sd). Tokens with p = 0 must never be drawn. The seed is fixed, so the outcome
 * is deterministic anyway. */
static void check_distribution(const char *name, const hs_sampler_params *sp, const float *logits, int n,
                               const int32_t *hist, int n_hist, const double *want) {
    enum { DRAWS = 200000 };
    int counts[16] = {0};
    hs_rng rng;
    hs_rng_seed(&rng, 12345);
    void *s = scratch_for(n);
    float x[16];
    for (int d = 0; d < DRAWS; d++) {
        memcpy(x, logits, (size_t)n * sizeof *x);
        int32_t t = hs_sample(sp, x, n, hist, n_hist, &rng, s);
        if (t >= 0 && t < n) counts[t]++;
    }
    for (int i = 0; i < n; i++) {
        if (want[i] == 0) {
            CHECK(counts[i] == 0, "%s: token %d has p = 0 but was drawn %d times", name, i, counts[i]);
            continue;
        }
        double mean = DRAWS * want[i], sd = sqrt(DRAWS * want[i] * (1 - want[i]));
        CHECK(fabs(counts[i] - mean) <= 5 * sd, "%s: token %d drawn %d times, expected %.0f +- %.0f", name, i,
              counts[i], mean, 5 * sd);
    }
    free(s);
}

/* Expected distribution: softmax(logits / T) restricted to `keep`, renormalised, in double. */
static void expected(const float *logits, int n, double T, unsigned keep, double *out) {
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < n; i++)
        if ((keep >> i & 1) && logits[i] / T > mx) mx = logits[i] / T;
    for (int i = 0; i < n; i++) {
        out[i] = (keep >> i & 1) ? exp(logits[i] / T - mx) : 0;
        sum += out[i];
    }
    for (int i = 0; i < n; i++) out[i] /= sum;
}

static void test_statistics(void) {
    const float l[6] = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f, 0.0f};
    double want[6];
    /* plain T = 0.7: p = .125 .521 .061 .007 .255 .030 */
    hs_sampler_params sp = params(0.7f, 0, 1, 0, 1);
    expected(l, 6, 0.7, 0x3f, want);
    check_distribution("T=0.7", &sp, l, 6, NULL, 0, want);
    /* top-k 3 keeps tokens 1, 4, 0 */
    sp = params(0.7f, 3, 1, 0, 1);
    expected(l, 6, 0.7, 0x13, want);
    check_distribution("T=0.7 top_k=3", &sp, l, 6, NULL, 0, want);
    /* top-p 0.8 at T = 0.7: ranked p = .521 (1), .255 (4), .125 (0): .521 + .255 = .776 < .8, so
     * token 0 is kept too (.901); both sums are far from the edge */
    sp = params(0.7f, 0, 0.8f, 0, 1);
    expected(l, 6, 0.7, 0x13, want);
    check_distribution("T=0.7 top_p=0.8", &sp, l, 6, NULL, 0, want);
    /* top-p 0.7: .521 < .7, .776 >= .7: tokens 1 and 4 */
    sp = params(0.7f, 0, 0.7f, 0, 1);
    expected(l, 6, 0.7, 0x12, want);
    check_distribution("T=0.7 top_p=0.7", &sp, l, 6, NULL, 0, want);
    /* min-p 0.1: ratio to the top is exp((l - 2) / 0.7): .24 .12 .014 .49 .057 -> tokens 0, 1, 2, 4 */
    sp = params(0.7f, 0, 1, 0.1f, 1);
    expected(l, 6, 0.7, 0x17, want);
    check_distribution("T=0.7 min_p=0.1", &sp, l, 6, NULL, 0, want);
    /* repetition penalty 2 on tokens 1 and 3 (2 -> 1, -1 -> -2), then top-k 4 at T = 1:
     * logits 1 1 .5 -2 1.5 0 -> top 4 are 4, 0, 1, 2 */
    const float lp[6] = {1.0f, 1.0f, 0.5f, -2.0f, 1.5f, 0.0f};
    const int32_t hist[] = {1, 3, 1};
    sp = params(1.0f, 4, 1, 0, 2.0f);
    expected(lp, 6, 1.0, 0x17, want);
    check_distribution("penalty 2, top_k=4", &sp, l, 6, hist, 3, want);
}

static void test_large_vocab(void) {
    enum { V = 131072, REPS = 20 };
    float *base = malloc(V * sizeof *base), *x = malloc(V * sizeof *x);
    void *s = scratch_for(V);
    hs_rng rng;
    hs_rng_seed(&rng, 5);
    for (int i = 0; i < V; i++) base[i] = (float)(hs_rng_uniform(&rng) * 20 - 10);
    int32_t hist[64];
    for (int i = 0; i < 64; i++) hist[i] = (int32_t)(hs_rng_next(&rng) % V);
    const hs_sampler_params cfg[] = {params(0.7f, 40, 0.95f, 0.05f, 1.1f), params(1.0f, 0, 0.95f, 0, 1),
                                     params(1.0f, 0, 1, 0.0f, 1), params(1.5f, 50000, 0.999f, 0.001f, 1.3f)};
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        double t0 = hu_now();
        int ok = 0;
        for (int r = 0; r < REPS; r++) {
            memcpy(x, base, V * sizeof *x);
            int32_t t = hs_sample(&cfg[c], x, V, hist, 64, &rng, s);
            ok += t >= 0 && t < V;
        }
        double ms = (hu_now() - t0) * 1000 / REPS;
        printf("V=%d config %zu: %.2f ms per token\n", V, c, ms);
        CHECK(ok == REPS, "valid ids"); /* speed is printed for information only */
    }
    free(base);
    free(x);
    free(s);
}

int main(void) {
    test_rng();
    test_repetition_penalty();
    test_temperature_argmax();
    test_top_k();
    test_top_k_vs_reference();
    test_softmax();
    test_top_p();
    test_top_p_vs_reference();
    test_min_p();
    test_greedy_and_chain();
    test_statistics();
    test_large_vocab();
    return check_summary("sampler");
}
