/* convert.h - Hugging Face checkpoint folder (config.json + safetensors + tokenizer) to GGUF. */
#ifndef HEARTH_CONVERT_H
#define HEARTH_CONVERT_H

#include "util.h"

/* How the matrices' types vary (see "Which tensors get which type" below). */
typedef enum {
    HCONV_MIX_NONE = 0, /* every matrix gets `type`, but for the head and fallback rules */
    HCONV_MIX_M,        /* llama.cpp's *_M mix on top of type Q4_K (q4_k_m) or Q5_K (q5_k_m) */
} hconv_mix;

typedef struct {
    uint32_t type;   /* ht_type of the 2-D weight matrices: F32, F16, BF16, Q8_0, Q4_0 or Q6_K, or
                        with HCONV_MIX_M, Q4_K or Q5_K. hconv_parse_type sets type and mix. */
    hconv_mix mix;
    bool vocab_only; /* write the tokenizer and metadata, no tensors */
    bool quiet;      /* no progress lines on stderr */
    uint64_t seed;   /* hconv_random_weights: the RNG seed */
} hconv_options;

/* Sets *type and *mix from a format name as `hearth convert --type` takes it (case-insensitive):
 * f32, f16, bf16, q8_0, q4_0, q6_k, q4_k_m, q5_k_m. False for any other name. */
bool hconv_parse_type(const char *name, uint32_t *type, hconv_mix *mix);

/* Converts the checkpoint in folder `hf_dir` into a GGUF file at `out_path`.
 *
 * Which tensors get which type:
 * - F32 always: every 1-D parameter (norm weights, biases), the Mamba-2 conv1d weight/bias,
 *   dt_bias, A, D and the gated-norm weight (tiny, and precision-critical).
 * - The LM head: output.weight is Q8_0 with q4_0 (a tied embedding stays Q4_0); with the k-quant
 *   formats output.weight, or token_embd.weight when the embedding is tied, is Q6_K (Q8_0 when its
 *   rows are not a multiple of 256), as llama.cpp does.
 * - q4_k_m / q5_k_m (llama.cpp's rule, llama-quant.cpp): the matrices are Q4_K / Q5_K, except
 *   attn_v of attention layer i (counting attention layers only) and ffn_down of the i-th
 *   ffn_down tensor, which are Q6_K when use_more_bits(i, n): i < n/8 || i >= 7n/8 ||
 *   (i - n/8) % 3 == 2, with n = the number of attention layers for attn_v and the number of all
 *   layers for ffn_down (llama.cpp counts it so, also for hybrid models). A llama with 80 layers
 *   and grouped kv heads (70B) gets Q5_K instead of Q4_K for the other attn_v.
 * - Rows whose length is not a multiple of the type's block fall back as llama.cpp does:
 *   Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, and anything else (or still ragged) -> F16.
 * Quantised values are llama.cpp's reference rounding: the same bytes llama-quantize writes from
 * the same f32 weights without an importance matrix. */
hearth_status hconv_convert(const char *hf_dir, const char *out_path, const hconv_options *opts, hearth_err *e);

/* Writes a GGUF with the tensors, types and metadata hconv_convert would write for the config
 * file `config_path`, but seeded random weights instead of a checkpoint's: speed and memory can
 * be measured at real sizes without the real weights (speed does not depend on the values).
 * Values: matrices uniform with std 0.02, norm weights 1, D 1, A in [-16, -1], dt_bias for dt in
 * [1e-3, 0.1], conv taps uniform in +-1/sqrt(K); the same seed gives the same file. Vocabulary:
 * tokenizer.json beside the config if there is one, else a placeholder of vocab_size tokens.
 * Tensors are generated one at a time while the file is written: memory ~ the largest tensor. */
hearth_status hconv_random_weights(const char *config_path, const char *out_path, const hconv_options *opts, hearth_err *e);

#endif
