/* sampler.h - a caller-owned RNG and the token sampling chain, with Hugging Face transformers' semantics. */
#ifndef HEARTH_SAMPLER_H
#define HEARTH_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

/* Usage:
 *
 *     hs_rng rng;
 *     hs_rng_seed(&rng, 1234);
 *     void *scratch = malloc(hs_sample_scratch_bytes(n_vocab));
 *     hs_sampler_params sp = {.temperature = 0.7f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
 *                             .repetition_penalty = 1.0f};
 *     int32_t tok = hs_sample(&sp, logits, n_vocab, history, n_history, &rng, scratch);
 *
 * The chain runs in transformers' order: repetition penalty, temperature, top-k, top-p, min-p,
 * then one draw from the renormalised distribution. Each stage is a function of its own below.
 * Filtering stages mark dropped tokens by setting their logit to -INFINITY, as transformers does.
 * No stage allocates; those that need working memory take the caller's scratch buffer
 * (hs_sample_scratch_bytes(n_vocab) bytes, aligned as malloc aligns). */

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. The state is plain data: copy
 * it to save and restore a sampler. */
typedef struct {
    uint64_t s[4];
} hs_rng;

void hs_rng_seed(hs_rng *rng, uint64_t seed);
uint64_t hs_rng_next(hs_rng *rng);
double hs_rng_uniform(hs_rng *rng); /* uniform in [0, 1), 53 random bits */

typedef struct {
    float temperature;        /* <= 0: greedy (argmax after the repetition penalty; ties -> lowest id) */
    int top_k;                /* <= 0 or >= n_vocab: off */
    float top_p;              /* >= 1: off */
    float min_p;              /* <= 0: off */
    float repetition_penalty; /* 1 (or <= 0): off */
} hs_sampler_params;

/* Bytes of scratch hs_sample and the stages below need for a vocabulary of n_vocab. */
size_t hs_sample_scratch_bytes(int n_vocab);

/* Runs the whole chain and returns the chosen id, or -1 when n_vocab <= 0 or a pointer is NULL.
 * `logits` [n_vocab] is the caller's and is overwritten with working values (NaN becomes -inf,
 * then penalised, scaled, filtered logits, then probabilities when sampling). `history`
 * [n_history] are the ids seen so far (prompt and generated; ids outside [0, n_vocab) are
 * ignored); may be NULL when n_history is 0. When every token has been filtered out or has
 * probability 0, returns the argmax. */
int32_t hs_sample(const hs_sampler_params *params, float *logits, int n_vocab, const int32_t *history,
                  int n_history, hs_rng *rng, void *scratch);

/* ---- the stages, in chain order ------------------------------------------------------------ */

/* transformers' RepetitionPenaltyLogitsProcessor: once for each distinct id in history,
 * logit < 0 ? logit * penalty : logit / penalty. */
void hs_apply_repetition_penalty(float *logits, int n_vocab, const int32_t *history, int n_history,
                                 float penalty, void *scratch);

/* logits /= temperature (temperature > 0). A finite logit that overflows becomes +-FLT_MAX, so
 * that no finite logit turns into a dropped (-inf) one. */
void hs_apply_temperature(float *logits, int n_vocab, float temperature);

/* Index of the largest logit; ties -> lowest id; NaN is never the largest. 0 when all are NaN. */
int32_t hs_argmax(const float *logits, int n_vocab);

/* transformers' TopKLogitsWarper: drops every token whose logit is below the k-th largest (tokens
 * tied with the k-th are all kept). A heap for k <= 1024, else quickselect; O(V log V) at worst. */
void hs_top_k(float *logits, int n_vocab, int k, void *scratch);

/* transformers' TopPLogitsWarper: keeps the smallest set of most probable tokens whose probability
 * adds up to >= top_p (ties in probability: lower id first); always keeps one. Finds the boundary
 * by partitioning on probability mass rather than sorting: expected O(V), O(V log V) at worst. */
void hs_top_p(float *logits, int n_vocab, float top_p, void *scratch);

/* transformers' MinPLogitsWarper: drops tokens whose probability is below min_p times the largest
 * probability; always keeps the argmax. */
void hs_min_p(float *logits, int n_vocab, float min_p);

/* In place: logits -> probabilities (-inf -> 0). All -inf leaves all zeros. */
void hs_softmax(float *x, int n);

/* Draws an id from non-negative weights `probs` [n] (need not sum to 1). Returns the argmax when
 * the total is 0 or not finite. */
int32_t hs_sample_probs(const float *probs, int n, hs_rng *rng);

#endif
