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

/* The k largest values go through a min-heap of size k; its root is the k-th largest. */
void hs_top_k(float *logits, int n_vocab, int k, void *scratch) {
    if (k <= 0 || k >= n_vocab) return;
    float *heap = hs_scratch_w(scratch, n_vocab);
    for (int i = 0; i < k; i++) heap[i] = isnan(logits[i]) ? -INFINITY : logits[i];
    for (int i = k / 2 - 1; i >= 0; i--) hs_heap_sift_down(heap, k, i);
    for (int i = k; i < n_vocab; i++) {
        if (logits[i] > heap[0]) { /* false for NaN */
            heap[0] = logits[i];
            hs_heap_sift_down(heap, k, 0);
        }
    }
    float kth = heap[0];
    for (int i = 0; i < n_vocab; i++)
        if (!(logits[i] >= kth)) logits[i] = -INFINITY;
}

static int hs_cand_cmp(const void *pa, const void *pb) {
    const hs_cand *a = pa, *b = pb;
    if (a->w != b->w) return a->w > b->w ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Probabilities are exp(logit - max) / total. Rather than sort all V tokens, take the tokens with
 * weight >= t for a falling threshold t until they hold the needed mass; only those are sorted.
 * The walk over them then ends where a walk over the full sort would. */
void hs_top_p(float *logits, int n_vocab, float top_p, void *scratch) {
    if (!(top_p < 1)) return;
    hs_cand *cand = hs_scratch_cand(scratch);
    float *w = hs_scratch_w(scratch, n_vocab);
    int am = hs_argmax(logits, n_vocab);
    float mx = logits[am];
    if (isnan(mx) || mx == -INFINITY) return;
    double total = 0;
    for (int i = 0; i < n_vocab; i++) {
        float x = logits[i];
        w[i] = x > -INFINITY ? expf(x - mx) : 0.0f; /* NaN -> 0 */
        total += w[i];
    }
    double target = top_p > 0 ? (double)top_p * total : 0;
    for (float t = 1e-2f;; t = t > 1e-36f ? t * 1e-2f : 0.0f) {
        int nc = 0;
        for (int i = 0; i < n_vocab; i++)
            if (w[i] > 0 && w[i] >= t) cand[nc++] = (hs_cand){w[i], i};
        qsort(cand, (size_t)nc, sizeof *cand, hs_cand_cmp);
        double cum = 0;
        int m = 0;
        while (m < nc && (m == 0 || cum < target)) cum += cand[m++].w;
        if (cum >= target || t == 0) {
            hs_cand last = cand[m - 1]; /* m >= 1: w[am] == 1 is always a candidate */
            for (int i = 0; i < n_vocab; i++)
                if (!(w[i] > last.w || (w[i] == last.w && i <= last.id))) logits[i] = -INFINITY;
            return;
        }
    }
}

void hs_min_p(float *logits, int n_vocab, float min_p) {
    if (!(min_p > 0)) return;
    int am = hs_argmax(logits, n_vocab);
    float mx = logits[am];
    if (isnan(mx) || mx == -INFINITY) return;
    for (int i = 0; i < n_vocab; i++) {
        if (i == am) continue;
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
