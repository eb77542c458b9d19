/* pretok.h - the pre-tokenizer splits of byte-level BPE tokenizers, as hand-written scanners.
 *
 * Hugging Face tokenizers split text with a regex before BPE (a Split pre-tokenizer with
 * behavior "Isolated", or ByteLevel with use_regex). hearth has no regex engine: it recognises
 * the known patterns by their exact text and runs a scanner that does what the regex does
 * (leftmost-first alternation, greedy quantifiers with backtracking, (?!\S) look-ahead).
 * Classes: \s = White_Space, \p{L} = Lu Ll Lt Lm Lo, \p{N} = Nd Nl No, \p{M} = Mn Mc Me.
 */
#ifndef HEARTH_PRETOK_H
#define HEARTH_PRETOK_H

#include "util.h"

typedef enum {
    HK_PRE_GPT2,   /* GPT-2 (ByteLevel use_regex=true): 's|'t|...| ?\p{L}+| ?\p{N}+|... */
    HK_PRE_LLAMA3, /* Llama 3: case-insensitive contractions, \p{N}{1,3} */
    HK_PRE_QWEN2,  /* Qwen 2/2.5/3: Llama 3's with single digits \p{N} */
    HK_PRE_TEKKEN, /* Mistral Tekken / Nemotron-H: case-aware words, single digits, no contractions */
    HK_PRE_COUNT
} hk_pre_kind;

/* The pattern text as it appears in tokenizer.json (after JSON unescaping). */
const char *hk_pre_regex(hk_pre_kind k);
/* llama.cpp's name for the pre-tokenizer (GGUF tokenizer.ggml.pre): "gpt-2", "llama-bpe",
 * "qwen2", "tekken". */
const char *hk_pre_gguf_name(hk_pre_kind k);
/* Finds the kind whose pattern is exactly `regex`; false when unknown. */
bool hk_pre_from_regex(const char *regex, hk_pre_kind *out);
/* Maps a GGUF tokenizer.ggml.pre name to a kind (accepts llama.cpp's aliases, e.g. "llama3",
 * "llama-v3" and "llama-bpe"); false when unknown. */
bool hk_pre_from_gguf_name(const char *name, hk_pre_kind *out);

/* Scanner input: the code points of one text (valid UTF-8, already normalized) with their
 * hk_uc_flags. */
typedef struct {
    const uint32_t *cp;
    const uint8_t *fl;
} hk_pre_text;

/* End (exclusive code point index) of the piece that starts at `i` when the pattern runs over
 * cp[begin..end) as a whole string (`end` is where (?!\S) and the greedy runs stop). Always > i
 * for i < end: these patterns match every character. */
size_t hk_pre_next(hk_pre_kind k, const hk_pre_text *t, size_t i, size_t end);

/* Convenience for tests and tools: splits valid UTF-8 `s` and returns the byte offset where each
 * piece ends in *ends (caller frees with free()), *n pieces. */
hearth_status hk_pre_split(hk_pre_kind k, const char *s, size_t len, size_t **ends, size_t *n, hearth_err *e);

#endif
