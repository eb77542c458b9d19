/* sampler.c - xoshiro256** RNG and the sampling chain (penalty, temperature, top-k, top-p, min-p, draw). */
#include "sampler.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* ---- RNG ------------------------------------------------------------------------------------ */

static uint64_t hs_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* splitmix64 spreads any seed (0 included) over the 256-bit state, which is then never all zero. */
void hs_rng_seed(hs_rng *rng, uint64_t seed) {
    for (int i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ull;
        uint64_t z = seed;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        rng->s[i] = z ^ (z >> 31);
    }
}

uint64_t hs_rng_next(hs_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = hs_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = hs_rotl(s[3], 45);
    return result;
}

double hs_rng_uniform(hs_rng *rng) { return (double)(hs_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0); }

/* ---- scratch layout ------------------------------------------------------------------------- */

/* A candidate of top-p: its unnormalised probability and id. */
typedef struct {
    float w;
    int32_t id;
} hs_cand;

/* scratch = hs_cand cand[V] | float w[V] | uint8_t seen[(V + 7) / 8] */
size_t hs_sample_scratch_bytes(int n_vocab) {
    if (n_vocab <= 0) return 0;
    size_t n = (size_t)n_vocab;
    return n * sizeof(hs_cand) + n * sizeof(float) + (n + 7) / 8;
}

static hs_cand *hs_scratch_cand(void *scratch) { return scratch; }
static float *hs_scratch_w(void *scratch, int n) { return (float *)((hs_cand *)scratch + n); }
static uint8_t *hs_scratch_seen(void *scratch, int n) { return (uint8_t *)(hs_scratch_w(scratch, n) + n); }

/* ---- stages --------------------------------------------------------------------------------- */

/* Distinct ids are found with a bitset in scratch. Only the bits of history ids are touched:
 * cleared first (so the scratch need not start zeroed), then set as each id is penalised, which
 * keeps the cost O(n_history) rather than O(V). */
void hs_apply_repetition_penalty(float *logits, int n_vocab, const int32_t *history, int n_history,
                                 float penalty, void *scratch) {
    if (!(penalty > 0) || penalty == 1.0f || !history || n_history <= 0) return;
    uint8_t *seen = hs_scratch_seen(scratch, n_vocab);
    for (int i = 0; i < n_history; i++) {
        int32_t id = history[i];
        if (id >= 0 && id < n_vocab) seen[id >> 3] &= (uint8_t)~(1u << (id & 7));
    }
    for (int i = 0; i < n_history; i++) {
        int32_t id = history[i];
        if (id < 0 || id >= n_vocab) continue;
        uint8_t bit = (uint8_t)(1u << (id & 7));
        if (seen[id >> 3] & bit) continue;
        seen[id >> 3] |= bit;
        float x = logits[id];
        logits[id] = x < 0 ? x * penalty : x / penalty;
    }
}

void hs_apply_temperature(float *logits, int n_vocab, float temperature) {
    for (int i = 0; i < n_vocab; i++) {
        float x = logits[i], y = x / temperature;
        if (isinf(y) && !isinf(x)) y = copysignf(FLT_MAX, y);
        logits[i] = y;
    }
}

int32_t hs_argmax(const float *logits, int n_vocab) {
    int32_t best = -1;
    for (int i = 0; i < n_vocab; i++) {
        if (isnan(logits[i])) continue;
        if (best < 0 || logits[i] > logits[best]) best = i;
    }
    return best < 0 ? 0 : best;
}

static int hs_float_desc(const void *pa, const void *pb) {
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a < b) - (a > b);
}

static float hs_median3(float a, float b, float c) {
    if (a > b) {
        float t = a;
        a = b;
        b = t;
    }
    return c <= a ? a : c >= b ? b : c;
}

/* The k-th largest of v[0, n) (1 <= k <= n; no NaN), reordering v. Quickselect with a three-way
 * partition, so runs of equal values (a vocabulary already filtered to -inf) cost one pass; after
 * 2 log2(n) + 8 rounds what is left is sorted, so O(n log n) at worst. */
static float hs_kth_largest(float *v, int n, int k) {
    int lo = 0, hi = n, want = k - 1, budget = 8;
    for (int m = n; m > 1; m >>= 1) budget += 2;
    while (hi - lo > 16 && budget-- > 0) {
        float p = hs_median3(v[lo], v[lo + (hi - lo) / 2], v[hi - 1]);
        int lt = lo, i = lo, gt = hi; /* v[lo, lt) > p, v[lt, i) == p, v[gt, hi) < p */
        while (i < gt) {
            float x = v[i];
            if (x > p) {
                v[i++] = v[lt];
                v[lt++] = x;
            } else if (x < p) {
                v[i] = v[--gt];
                v[gt] = x;
            } else {
                i++;
            }
        }
        if (want < lt) hi = lt;
        else if (want < gt) return p;
        else lo = gt;
    }
    qsort(v + lo, (size_t)(hi - lo), sizeof *v, hs_float_desc);
    return v[want];
}

static void hs_heap_sift_down(float *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l] < h[m]) m = l;
        if (r < n && h[r] < h[m]) m = r;
        if (m == i) return;
        float t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* The k-th largest of x[0, n) for a small k: a min-heap of the k largest so far, whose root most
 * tokens fail to beat with a single comparison. O(n log k); x is left as it was. */
static float hs_kth_largest_heap(const float *x, int n, int k, float *heap) {
    for (int i = 0; i < k; i++) heap[i] = isnan(x[i]) ? -INFINITY : x[i];
    for (int i = k / 2 - 1; i >= 0; i--) hs_heap_sift_down(heap, k, i);
    for (int i = k; i < n; i++) {
        if (x[i] > heap[0]) { /* false for NaN */
            heap[0] = x[i];
            hs_heap_sift_down(heap, k, 0);
        }
    }
    return heap[0];
}

void hs_top_k(float *logits, int n_vocab, int k, void *scratch) {
    if (k <= 0 || k >= n_vocab) return;
    float *v = hs_scratch_w(scratch, n_vocab), kth;
    if (k <= 1024) {
        kth = hs_kth_largest_heap(logits, n_vocab, k, v);
    } else {
        for (int i = 0; i < n_vocab; i++) v[i] = isnan(logits[i]) ? -INFINITY : logits[i];
        kth = hs_kth_largest(v, n_vocab, k);
    }
    for (int i = 0; i < n_vocab; i++)
        if (!(logits[i] >= kth)) logits[i] = -INFINITY;
}

static int hs_cand_cmp(const void *pa, const void *pb) {
    const hs_cand *a = pa, *b = pb;
    if (a->w != b->w) return a->w > b->w ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* The ranking of top-p: higher weight first, then lower id. A strict total order. */
static bool hs_cand_before(hs_cand a, hs_cand b) { return a.w > b.w || (a.w == b.w && a.id < b.id); }

static void hs_cand_swap(hs_cand *a, hs_cand *b) {
    hs_cand t = *a;
    *a = *b;
    *b = t;
}

/* The last token that a walk down the ranking keeps: a token is kept while nothing is kept yet
 * or the kept mass is still below `need`. Found like quickselect, without sorting: partition
 * around a pivot, drop the part that cannot hold the answer; expected O(n). A budget of
 * 2 log2(n) + 8 rounds bounds bad pivot luck: what is left is then sorted, so O(n log n) at worst.
 * Invariant: the answer lies in c[lo, hi), every token ranked above c[lo, hi) is kept, and
 * (!kept || need > 0), so c[lo, hi)'s first token in ranking is kept. */
static hs_cand hs_top_p_last(hs_cand *c, int n, double need) {
    int lo = 0, hi = n, budget = 8;
    bool kept = false;
    for (int m = n; m > 1; m >>= 1) budget += 2;
    while (hi - lo > 16 && budget-- > 0) {
        hs_cand *a = &c[lo], *b = &c[lo + (hi - lo) / 2], *d = &c[hi - 1];
        if (hs_cand_before(*b, *a)) hs_cand_swap(a, b);
        if (hs_cand_before(*d, *b)) {
            hs_cand_swap(b, d);
            if (hs_cand_before(*b, *a)) hs_cand_swap(a, b);
        }
        hs_cand_swap(b, d); /* the median of the three is the pivot, at hi - 1 */
        hs_cand p = c[hi - 1];
        int i = lo;
        double mass = 0;
        for (int j = lo; j < hi - 1; j++) {
            if (hs_cand_before(c[j], p)) {
                mass += c[j].w;
                hs_cand_swap(&c[i++], &c[j]);
            }
        }
        hs_cand_swap(&c[i], &c[hi - 1]); /* c[lo, i) ranks above the pivot, c(i, hi) below */
        if (i > lo && mass >= need) {    /* the walk stops inside c[lo, i) */
            hi = i;
            continue;
        }
        need -= mass + p.w; /* all of c[lo, i) and the pivot are kept */
        kept = true;
        if (need <= 0 || i + 1 == hi) return p;
        lo = i + 1;
    }
    qsort(c + lo, (size_t)(hi - lo), sizeof *c, hs_cand_cmp);
    hs_cand last = c[lo];
    for (int j = lo; j < hi && (!kept || need > 0); j++) {
        last = c[j];
        need -= c[j].w;
        kept = true;
    }
    return last;
}

/* Probabilities are exp(logit - max) / total; the kept set is every token that ranks at or above
 * the last one the walk keeps. */
void hs_top_p(float *logits, int n_vocab, float top_p, void *scratch) {
    if (!(top_p < 1)) return;
    hs_cand *cand = hs_scratch_cand(scratch);
    float *w = hs_scratch_w(scratch, n_vocab);
    int am = hs_argmax(logits, n_vocab);
    float mx = logits[am];
    if (isnan(mx) || mx == -INFINITY) return;
    double total = 0;
    int nc = 0;
    for (int i = 0; i < n_vocab; i++) {
        float x = logits[i];
        w[i] = x > -INFINITY ? expf(x - mx) : 0.0f; /* NaN -> 0 */
        total += w[i];
        if (w[i] > 0) cand[nc++] = (hs_cand){w[i], i};
    }
    /* nc >= 1: the argmax has weight 1 */
    hs_cand last = hs_top_p_last(cand, nc, top_p > 0 ? (double)top_p * total : 0);
    for (int i = 0; i < n_vocab; i++)
        if (!(w[i] > last.w || (w[i] == last.w && i <= last.id))) logits[i] = -INFINITY;
}

void hs_min_p(float *logits, int n_vocab, float min_p) {
    if (!(min_p > 0)) return;
    int am = hs_argmax(logits, n_vocab);
    float mx = logits[am];
    if (isnan(mx) || mx == -INFINITY) return;
    for (int i = 0; i < n_vocab; i++) {
        if (i == am || logits[i] == -INFINITY) continue;
        if (!(expf(logits[i] - mx) >= min_p)) logits[i] = -INFINITY; /* NaN dropped too */
    }
}

void hs_softmax(float *x, int n) {
    if (n <= 0) return;
    float mx = x[hs_argmax(x, n)];
    if (isnan(mx) || mx == -INFINITY) {
        for (int i = 0; i < n; i++) x[i] = 0;
        return;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
        x[i] = x[i] > -INFINITY ? expf(x[i] - mx) : 0.0f;
        sum += x[i];
    }
    float scale = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= scale;
}

int32_t hs_sample_probs(const float *probs, int n, hs_rng *rng) {
    double total = 0;
    for (int i = 0; i < n; i++)
        if (probs[i] > 0) total += probs[i];
    if (!(total > 0) || isinf(total)) return hs_argmax(probs, n);
    double u = hs_rng_uniform(rng) * total, cum = 0;
    int32_t last = 0;
    for (int i = 0; i < n; i++) {
        if (!(probs[i] > 0)) continue;
        cum += probs[i];
        last = i;
        if (u < cum) return i;
    }
    return last; /* u landed past the rounded total */
}

int32_t hs_sample(const hs_sampler_params *params, float *logits, int n_vocab, const int32_t *history,
                  int n_history, hs_rng *rng, void *scratch) {
    if (!params || !logits || n_vocab <= 0 || !rng || !scratch) return -1;
    for (int i = 0; i < n_vocab; i++) {
        if (isnan(logits[i])) logits[i] = -INFINITY;
        else if (logits[i] == INFINITY) logits[i] = FLT_MAX;
    }
    hs_apply_repetition_penalty(logits, n_vocab, history, n_history, params->repetition_penalty, scratch);
    if (!(params->temperature > 0)) return hs_argmax(logits, n_vocab);
    if (params->temperature != 1.0f) hs_apply_temperature(logits, n_vocab, params->temperature);
    hs_top_k(logits, n_vocab, params->top_k, scratch);
    hs_top_p(logits, n_vocab, params->top_p, scratch);
    hs_min_p(logits, n_vocab, params->min_p);
    hs_softmax(logits, n_vocab);
    return hs_sample_probs(logits, n_vocab, rng);
}
