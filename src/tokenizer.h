/* tokenizer.h - byte-level BPE tokenizer (GPT-2, Llama 3, Qwen 2/3, Tekken / Nemotron-H).
 *
 * Usage:
 *
 *     hk_tokenizer *tok = NULL;
 *     hearth_err e;
 *     if (hk_tokenizer_from_json(json, json_len, &tok, &e) != HEARTH_OK) ...e.msg...
 *     hk_tokenizer_apply_config(tok, cfg, cfg_len, &e);   // optional: tokenizer_config.json
 *     int32_t *ids; size_t n;
 *     hk_tokenizer_encode_alloc(tok, "Hello world", 11, true, &ids, &n, &e);
 *     size_t len;
 *     const char *piece = hk_token_bytes(tok, ids[0], &len);   // borrowed
 *     free(ids);
 *     hk_tokenizer_free(tok);
 *
 * A tokenizer is immutable once built (apply_config aside), so any number of threads may encode
 * and decode with it at once. It is built from a Hugging Face tokenizer.json or from the
 * llama.cpp tokenizer keys of a GGUF file, and can write those keys.
 *
 * Encoding follows Hugging Face `tokenizers` (Tokenizer.encode(text, add_special_tokens=False)):
 *  1. Added tokens are cut out of the raw text first: at each position the longest added token
 *     that starts there wins (leftmost-longest). Non-special added tokens are always matched
 *     (as HF does); special ones only when parse_special is true (parse_special=false is HF's
 *     split_special_tokens=True). lstrip / rstrip / single_word behave as in HF. All added
 *     tokens are matched against the raw text, including those HF would match after
 *     normalization ("normalized": true); the two agree unless a token's content changes
 *     under the normalizer (never for ASCII contents under NFC).
 *  2. The text between them is normalized (NFC when tokenizer.json says so, e.g. Qwen),
 *     split by the pre-tokenizer (pretok.h), and each piece is byte-level BPE encoded: with
 *     ignore_merges (Llama 3, Tekken) a piece that is itself in the vocabulary is one token;
 *     otherwise merges apply lowest rank first, leftmost first among equals.
 * Invalid UTF-8: byte-level BPE can represent any byte, so invalid input is encoded, not refused.
 * The text is cut at every byte that does not start a valid UTF-8 sequence (strict decoding: no
 * overlongs, surrogates or values above U+10FFFF); such a byte becomes the single-byte token for
 * that byte, and the valid runs around it are encoded as separate texts. Hence
 * decode(encode(x)) == x bytewise for any x when the tokenizer has no normalizer; with NFC, each
 * stretch between added tokens and invalid bytes comes back NFC-normalized (as in HF, NFC does
 * not reach across an added token: "<think>" + U+0338 stays, it does not compose '>' + U+0338).
 *
 * Decoding maps each id to its bytes: byte-level tokens back through GPT-2's byte-to-unicode
 * table, added tokens to their content. The bytes of one token may be part of a UTF-8 character.
 */
#ifndef HEARTH_TOKENIZER_H
#define HEARTH_TOKENIZER_H

#include "gguf.h"

typedef struct hk_tokenizer hk_tokenizer;

/* Token types, numbered as llama.cpp's llama_token_type (GGUF tokenizer.ggml.token_type). */
enum {
    HK_TOKEN_UNDEFINED = 0,
    HK_TOKEN_NORMAL = 1,       /* a byte-level BPE vocabulary entry */
    HK_TOKEN_UNKNOWN = 2,
    HK_TOKEN_CONTROL = 3,      /* a special added token ("<|im_start|>") */
    HK_TOKEN_USER_DEFINED = 4, /* a non-special added token (Qwen's "<think>") */
    HK_TOKEN_UNUSED = 5,       /* an id no token uses (gaps, padding) */
    HK_TOKEN_BYTE = 6,
};

/* Builds a tokenizer from the text of a Hugging Face tokenizer.json. Requires model.type "BPE"
 * with a ByteLevel pre-tokenizer; HEARTH_ERR_UNSUPPORTED (naming what) for other model types,
 * normalizers other than NFC, pre-tokenizers other than the known splits (the message quotes
 * an unknown regex), byte_fallback, subword prefixes/suffixes. HEARTH_ERR_FORMAT for malformed
 * files (missing vocab, merges naming unknown tokens, bad ids). Ids are the file's, added tokens'
 * included (HF renumbers added tokens of inconsistent files; consistent ones, as published, agree).
 * bos/eos/pad start unset (-1); a TemplateProcessing post-processor that starts with a special
 * token sets bos and add_bos. Caller frees with hk_tokenizer_free. */
hearth_status hk_tokenizer_from_json(const char *tokenizer_json, size_t len, hk_tokenizer **out, hearth_err *e);

/* Reads bos_token, eos_token, pad_token (strings or {"content": ...} objects naming tokens) and
 * add_bos_token from the text of a tokenizer_config.json. Keys that are absent or null leave
 * the current values; a named token that is not in the vocabulary is HEARTH_ERR_FORMAT. */
hearth_status hk_tokenizer_apply_config(hk_tokenizer *tok, const char *config_json, size_t len, hearth_err *e);

/* Builds a tokenizer from llama.cpp's keys: tokenizer.ggml.model ("gpt2" only), .pre (a name
 * hk_pre_from_gguf_name knows), .tokens, .token_type, .merges, .bos/.eos/.padding_token_id,
 * .add_bos_token, plus hearth's tokenizer.hearth.normalizer ("NFC" or "none") and
 * tokenizer.hearth.ignore_merges when present (otherwise NFC for "qwen2", and ignore_merges for
 * the llama3 names and "tekken", as llama.cpp does). Added tokens come back as CONTROL (special)
 * and USER_DEFINED (not special) tokens, without lstrip/rstrip/single_word (GGUF has no place for
 * them); as in llama.cpp, BPE may also produce an added token whose text reads as byte-level text
 * (HF allows that only for added tokens that are vocabulary entries too; no known tokenizer
 * depends on the difference). `g` is only read during the call. */
hearth_status hk_tokenizer_from_gguf(const gguf_ctx *g, hk_tokenizer **out, hearth_err *e);

/* Writes those keys into `out` (llama.cpp's spellings, so the file's vocabulary also loads in
 * llama.cpp). HEARTH_ERR_UNSUPPORTED when the pre-tokenizer is a chain of several splits,
 * which llama.cpp cannot name. */
hearth_status hk_tokenizer_to_gguf(const hk_tokenizer *tok, gguf_ctx *out, hearth_err *e);

void hk_tokenizer_free(hk_tokenizer *tok); /* NULL is fine */

/* Encodes `len` bytes of text (see the top of this file). Writes at most `max` ids to `ids` (may
 * be NULL when max is 0) and the full count to *n_ids; returns HEARTH_ERR_INVALID_ARG when `max`
 * was too small (the first `max` ids are then written). hk_tokenizer_max_ids(len) ids always
 * suffice. No BOS is added. */
hearth_status hk_tokenizer_encode(const hk_tokenizer *tok, const char *text, size_t len, bool parse_special,
                                  int32_t *ids, size_t max, size_t *n_ids, hearth_err *e);
/* The same into a new array the caller frees with free() (NULL when there are no ids). */
hearth_status hk_tokenizer_encode_alloc(const hk_tokenizer *tok, const char *text, size_t len, bool parse_special,
                                        int32_t **ids, size_t *n_ids, hearth_err *e);
/* An upper bound on the ids of a `len`-byte text: every id covers at least one byte of the
 * normalized text, and NFC at most triples the bytes. */
size_t hk_tokenizer_max_ids(const hk_tokenizer *tok, size_t len);

/* The bytes of token `id` (not NUL-terminated; may be part of a UTF-8 character). Borrowed,
 * valid until hk_tokenizer_free. NULL (and *len = 0) for ids out of range; "" for unused ids. */
const char *hk_token_bytes(const hk_tokenizer *tok, int32_t id, size_t *len);

/* Concatenates the bytes of n ids; skip_special leaves out CONTROL tokens. *len gets the full
 * length without NUL; the bytes and a NUL are written only when len + 1 <= size (out may be NULL
 * when size is 0). HEARTH_ERR_INVALID_ARG for an id out of range or when it did not fit. */
hearth_status hk_tokenizer_decode(const hk_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special,
                                  char *out, size_t size, size_t *len);

/* The id whose text is exactly s[0..len): an added token's content, or a vocabulary entry's
 * bytes. -1 when there is none. */
int32_t hk_tokenizer_find(const hk_tokenizer *tok, const char *s, size_t len);

int32_t hk_tokenizer_n_vocab(const hk_tokenizer *tok); /* highest id + 1 */
int hk_token_type(const hk_tokenizer *tok, int32_t id); /* HK_TOKEN_*; HK_TOKEN_UNDEFINED if out of range */
int32_t hk_tokenizer_bos(const hk_tokenizer *tok);      /* -1 when unset */
int32_t hk_tokenizer_eos(const hk_tokenizer *tok);      /* -1 when unset */
int32_t hk_tokenizer_pad(const hk_tokenizer *tok);      /* -1 when unset */
bool hk_tokenizer_add_bos(const hk_tokenizer *tok);     /* whether prompts should start with bos */
/* The pre-tokenizer's llama.cpp name ("llama-bpe", "qwen2", ...) for the first split. Borrowed. */
const char *hk_tokenizer_pre_name(const hk_tokenizer *tok);

#endif
