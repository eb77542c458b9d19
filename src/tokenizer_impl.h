/* tokenizer_impl.h - inside of hk_tokenizer, shared by tokenizer.c (model, encode, decode) and
 * tokenizer_io.c (tokenizer.json and GGUF). Not for use elsewhere. */
#ifndef HEARTH_TOKENIZER_IMPL_H
#define HEARTH_TOKENIZER_IMPL_H

#include "pretok.h"
#include "tokenizer.h"

#define HK_TOK_MAX_VOCAB (1 << 24) /* ids above this are refused as HEARTH_ERR_TOO_LARGE */
#define HK_TOK_MAX_PRE 4           /* pre-tokenizer splits applied one after another */

/* hk_tok_entry.flags */
enum {
    HK_TF_LITERAL = 1,     /* a vocabulary entry whose text is not byte-level (kept as is) */
    HK_TF_LSTRIP = 2,      /* added token: swallows the White_Space before it */
    HK_TF_RSTRIP = 4,      /* added token: swallows the White_Space after it */
    HK_TF_SINGLE_WORD = 8, /* added token: matches only between non-word characters */
    HK_TF_IN_VOCAB = 16,   /* added token that is also a BPE vocabulary entry (same bytes) */
};

typedef struct {
    uint32_t off, len; /* the token's bytes in pool */
    uint8_t type;      /* HK_TOKEN_* */
    uint8_t flags;     /* HK_TF_* */
} hk_tok_entry;

typedef struct {
    uint64_t key;   /* (left id << 32) | right id; UINT64_MAX = empty slot */
    int32_t rank;   /* position in the merges list: lower merges first */
    int32_t result; /* id of left + right */
} hk_merge_slot;

struct hk_tokenizer {
    int32_t n_vocab;
    hk_tok_entry *tok; /* [n_vocab] */
    char *pool;        /* every token's bytes */
    size_t pool_len, pool_cap;

    int32_t *vmap; /* open addressing: bytes -> id of a BPE vocabulary entry; -1 empty */
    size_t vmap_cap;

    hk_merge_slot *mmap; /* open addressing: (left, right) -> rank, result */
    size_t mmap_cap;
    int32_t *merges; /* [2 * n_merges]: left, right ids in rank order */
    size_t n_merges, merges_cap;

    int32_t *added;          /* ids of added tokens (CONTROL / USER_DEFINED), by first byte,
                                longest first */
    size_t n_added;
    uint32_t added_at[257];  /* added[added_at[b] .. added_at[b + 1]) start with byte b */

    int32_t byte_tok[256];   /* the one-byte token of each byte */
    uint16_t b2u[256];       /* GPT-2 bytes_to_unicode: byte -> code point */
    int16_t u2b[324];        /* and back (-1: not a byte-level character) */

    hk_pre_kind pre[HK_TOK_MAX_PRE];
    int n_pre;
    bool nfc;
    bool ignore_merges;
    bool add_bos;
    int32_t bos, eos, pad;
};

/* Building, in this order: new -> set tokens -> index_vocab -> add merges -> index_added. */
hearth_status hk_tok_new(int32_t n_vocab, hk_tokenizer **out, hearth_err *e);
/* Sets token id's bytes, type and flags (copies the bytes). */
hearth_status hk_tok_set(hk_tokenizer *t, int32_t id, const char *bytes, size_t len, int type, int flags, hearth_err *e);
/* Decodes a byte-level string (GPT-2's alphabet) into bytes; false if s has another character.
 * out needs room for len bytes. */
bool hk_tok_from_bytelevel(const hk_tokenizer *t, const char *s, size_t len, char *out, size_t *out_len);
/* Writes the byte-level form of bytes into a new NUL-terminated string (caller frees). */
char *hk_tok_to_bytelevel(const hk_tokenizer *t, const char *bytes, size_t len);
/* Builds the bytes -> id map of the BPE vocabulary (NORMAL tokens that are byte-level text, and
 * added tokens flagged HK_TF_IN_VOCAB) and the one-byte tokens; HEARTH_ERR_UNSUPPORTED when a
 * byte has no token. */
hearth_status hk_tok_index_vocab(hk_tokenizer *t, hearth_err *e);
/* Looks up the BPE vocabulary entry with these bytes; -1 if none. */
int32_t hk_tok_lookup(const hk_tokenizer *t, const char *bytes, size_t len);
/* Room for n merges (call once before adding). */
hearth_status hk_tok_reserve_merges(hk_tokenizer *t, size_t n, hearth_err *e);
/* Appends the merge (left, right) given as byte-level strings; its rank is its position.
 * HEARTH_ERR_FORMAT when a part or the result is not in the vocabulary. A repeated pair takes
 * its last rank (HF builds its merge map that way). */
hearth_status hk_tok_add_merge(hk_tokenizer *t, const char *left, size_t llen, const char *right, size_t rlen,
                               hearth_err *e);
/* Collects the added tokens for matching. */
hearth_status hk_tok_index_added(hk_tokenizer *t, hearth_err *e);

#endif
