/* convert.h - Hugging Face checkpoint folder (config.json + safetensors + tokenizer) to GGUF. */
#ifndef HEARTH_CONVERT_H
#define HEARTH_CONVERT_H

#include "util.h"

typedef struct {
    uint32_t type;   /* ht_type of the 2-D weight matrices: F32, F16, BF16, Q8_0 or Q4_0 */
    bool vocab_only; /* write the tokenizer and metadata, no tensors */
    bool quiet;      /* no progress lines on stderr */
} hconv_options;

/* Converts the checkpoint in folder `hf_dir` into a GGUF file at `out_path`.
 * Which tensors keep higher precision: every 1-D parameter (norm weights, biases), the Mamba-2
 * conv1d weight/bias, dt_bias, A and D stay F32 (tiny, and precision-critical); with --type q4_0
 * the LM head (output.weight) is Q8_0 (it is ~10% of the weights and drives every logit).
 * Matrices whose rows are not a multiple of the block size fall back to F16. */
hearth_status hconv_convert(const char *hf_dir, const char *out_path, const hconv_options *opts, hearth_err *e);

#endif
