/* tokenizer.c - byte-level BPE: the vocabulary and merge tables, encoding, decoding. */
#include "tokenizer_impl.h"

#include <stdio.h>
#include <stdlib.h>

#include "unicode.h"

/* ---- building ---- */

/* GPT-2's bytes_to_unicode: the printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for
 * themselves; the 68 others map, in byte order, to U+0100, U+0101, ... */
static void bytelevel_tables(hk_tokenizer *t) {
    int n = 0;
    for (int i = 0; i < 324; i++) t->u2b[i] = -1;
    for (int b = 0; b < 256; b++) {
        bool self = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        t->b2u[b] = (uint16_t)(self ? b : 256 + n++);
        t->u2b[t->b2u[b]] = (int16_t)b;
    }
}

hearth_status hk_tok_new(int32_t n_vocab, hk_tokenizer **out, hearth_err *e) {
    *out = NULL;
    if (n_vocab <= 0) return herr(e, HEARTH_ERR_FORMAT, "tokenizer: empty vocabulary");
    if (n_vocab > HK_TOK_MAX_VOCAB)
        return herr(e, HEARTH_ERR_TOO_LARGE, "tokenizer: %d tokens (at most %d)", n_vocab, HK_TOK_MAX_VOCAB);
    hk_tokenizer *t = hu_calloc(1, sizeof *t, e);
    if (!t) return e->code;
    t->n_vocab = n_vocab;
    t->bos = t->eos = t->pad = -1;
    bytelevel_tables(t);
    t->tok = hu_calloc((uint64_t)n_vocab, sizeof *t->tok, e);
    if (!t->tok) {
        hk_tokenizer_free(t);
        return e->code;
    }
    for (int32_t i = 0; i < n_vocab; i++) t->tok[i].type = HK_TOKEN_UNUSED;
    *out = t;
    return HEARTH_OK;
}

void hk_tokenizer_free(hk_tokenizer *t) {
    if (!t) return;
    free(t->tok);
    free(t->pool);
    free(t->vmap);
    free(t->mmap);
    free(t->merges);
    free(t->added);
    free(t);
}

hearth_status hk_tok_set(hk_tokenizer *t, int32_t id, const char *bytes, size_t len, int type, int flags, hearth_err *e) {
    if (id < 0 || id >= t->n_vocab) return herr(e, HEARTH_ERR_FORMAT, "tokenizer: token id %d out of range", id);
    if (len > UINT32_MAX / 2) return herr(e, HEARTH_ERR_TOO_LARGE, "tokenizer: token %d too long", id);
    if (t->pool_len + len > t->pool_cap) {
        size_t cap = t->pool_cap ? t->pool_cap : 1 << 16;
        while (cap < t->pool_len + len) cap *= 2;
        if (cap > UINT32_MAX) return herr(e, HEARTH_ERR_TOO_LARGE, "tokenizer: token texts exceed 4 GiB");
        char *p = realloc(t->pool, cap);
        if (!p) return herr(e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
        t->pool = p;
        t->pool_cap = cap;
    }
    if (len) memcpy(t->pool + t->pool_len, bytes, len);
    t->tok[id] = (hk_tok_entry){(uint32_t)t->pool_len, (uint32_t)len, (uint8_t)type, (uint8_t)flags};
    t->pool_len += len;
    return HEARTH_OK;
}

bool hk_tok_from_bytelevel(const hk_tokenizer *t, const char *s, size_t len, char *out, size_t *out_len) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = hk_utf8_decode(s + i, len - i, &cp);
        if (k == 0 || cp >= 324 || t->u2b[cp] < 0) return false;
        out[o++] = (char)t->u2b[cp];
        i += k;
    }
    *out_len = o;
    return true;
}

char *hk_tok_to_bytelevel(const hk_tokenizer *t, const char *bytes, size_t len) {
    char *s = malloc(2 * len + 1); /* every byte-level character takes 1 or 2 bytes */
    if (!s) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) o += hk_utf8_encode(t->b2u[(unsigned char)bytes[i]], s + o);
    s[o] = 0;
    return s;
}

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static uint64_t hash_pair(uint64_t key) {
    key *= 0x9E3779B97F4A7C15ull;
    return key ^ (key >> 31);
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

int32_t hk_tok_lookup(const hk_tokenizer *t, const char *bytes, size_t len) {
    if (!t->vmap) return -1;
    size_t mask = t->vmap_cap - 1;
    for (size_t i = hash_bytes(bytes, len) & mask;; i = (i + 1) & mask) {
        int32_t id = t->vmap[i];
        if (id < 0) return -1;
        const hk_tok_entry *te = &t->tok[id];
        if (te->len == len && memcmp(t->pool + te->off, bytes, len) == 0) return id;
    }
}

hearth_status hk_tok_index_vocab(hk_tokenizer *t, hearth_err *e) {
    t->vmap_cap = pow2_at_least(2 * (size_t)t->n_vocab);
    t->vmap = hu_malloc((uint64_t)t->vmap_cap * sizeof *t->vmap, e);
    if (!t->vmap) return e->code;
    for (size_t i = 0; i < t->vmap_cap; i++) t->vmap[i] = -1;
    size_t mask = t->vmap_cap - 1;
    /* NORMAL tokens first, then added tokens that are vocabulary entries too; on equal bytes the
     * first one stays */
    for (int pass = 0; pass < 2; pass++) {
        for (int32_t id = 0; id < t->n_vocab; id++) {
            const hk_tok_entry *te = &t->tok[id];
            bool bpe = pass == 0 ? te->type == HK_TOKEN_NORMAL && !(te->flags & HK_TF_LITERAL)
                                 : te->type != HK_TOKEN_NORMAL && (te->flags & HK_TF_IN_VOCAB);
            if (!bpe) continue;
            const char *s = t->pool + te->off;
            size_t i = hash_bytes(s, te->len) & mask;
            for (; t->vmap[i] >= 0; i = (i + 1) & mask) {
                const hk_tok_entry *o = &t->tok[t->vmap[i]];
                if (o->len == te->len && memcmp(t->pool + o->off, s, te->len) == 0) break;
            }
            if (t->vmap[i] < 0) t->vmap[i] = id;
        }
    }
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        t->byte_tok[b] = hk_tok_lookup(t, &c, 1);
        if (t->byte_tok[b] < 0)
            return herr(e, HEARTH_ERR_UNSUPPORTED,
                        "tokenizer: no token for byte 0x%02x (not a byte-level BPE vocabulary)", b);
    }
    return HEARTH_OK;
}

hearth_status hk_tok_reserve_merges(hk_tokenizer *t, size_t n, hearth_err *e) {
    t->mmap_cap = pow2_at_least(2 * n + 16);
    t->mmap = hu_malloc((uint64_t)t->mmap_cap * sizeof *t->mmap, e);
    t->merges = hu_malloc(((uint64_t)n + 1) * 2 * sizeof *t->merges, e);
    if (!t->mmap || !t->merges) return e->code;
    for (size_t i = 0; i < t->mmap_cap; i++) t->mmap[i].key = UINT64_MAX;
    t->merges_cap = n;
    t->n_merges = 0;
    return HEARTH_OK;
}

static inline const hk_merge_slot *merge_find(const hk_tokenizer *t, int32_t a, int32_t b) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t mask = t->mmap_cap - 1;
    for (size_t i = hash_pair(key) & mask;; i = (i + 1) & mask) {
        const hk_merge_slot *s = &t->mmap[i];
        if (s->key == key) return s;
        if (s->key == UINT64_MAX) return NULL;
    }
}

hearth_status hk_tok_add_merge(hk_tokenizer *t, const char *left, size_t llen, const char *right, size_t rlen,
                               hearth_err *e) {
    if (t->n_merges >= t->merges_cap) return herr(e, HEARTH_ERR_INVALID_ARG, "tokenizer: more merges than reserved");
    char stack[256];
    char *buf = llen + rlen <= sizeof stack ? stack : malloc(llen + rlen);
    if (!buf) return herr(e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    size_t la, lb;
    hearth_status st = HEARTH_OK;
    int32_t a = -1, b = -1, r = -1;
    if (!hk_tok_from_bytelevel(t, left, llen, buf, &la) || !hk_tok_from_bytelevel(t, right, rlen, buf + la, &lb)) {
        st = herr(e, HEARTH_ERR_FORMAT, "tokenizer: merge %zu (\"%.*s %.*s\") is not byte-level text", t->n_merges,
                  (int)(llen > 40 ? 40 : llen), left, (int)(rlen > 40 ? 40 : rlen), right);
        goto done;
    }
    a = hk_tok_lookup(t, buf, la);
    b = hk_tok_lookup(t, buf + la, lb);
    r = hk_tok_lookup(t, buf, la + lb);
    if (a < 0 || b < 0 || r < 0) {
        st = herr(e, HEARTH_ERR_FORMAT, "tokenizer: merge %zu (\"%.*s %.*s\") names a token not in the vocabulary",
                  t->n_merges, (int)(llen > 40 ? 40 : llen), left, (int)(rlen > 40 ? 40 : rlen), right);
        goto done;
    }
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t mask = t->mmap_cap - 1, i = hash_pair(key) & mask;
    while (t->mmap[i].key != UINT64_MAX && t->mmap[i].key != key) i = (i + 1) & mask;
    t->mmap[i] = (hk_merge_slot){key, (int32_t)t->n_merges, r}; /* a repeated pair takes its last rank, as in HF */
    t->merges[2 * t->n_merges] = a;
    t->merges[2 * t->n_merges + 1] = b;
    t->n_merges++;
done:
    if (buf != stack) free(buf);
    return st;
}

/* Tokens matched in the raw text before BPE. */
static inline bool is_added(const hk_tok_entry *te) {
    return (te->type == HK_TOKEN_CONTROL || te->type == HK_TOKEN_USER_DEFINED || te->type == HK_TOKEN_UNKNOWN) &&
           te->len > 0;
}

/* Added tokens are kept by first byte, longest first within a byte (so the first match found
 * at a position is the longest), then by id. */
hearth_status hk_tok_index_added(hk_tokenizer *t, hearth_err *e) {
    size_t n = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) n += is_added(&t->tok[id]);
    free(t->added);
    t->added = hu_malloc(((uint64_t)n + 1) * sizeof *t->added, e);
    if (!t->added) return e->code;
    t->n_added = n;
    /* counting sort by first byte; within a bucket, insertion sort by length (descending), id */
    uint32_t count[257] = {0};
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const hk_tok_entry *te = &t->tok[id];
        if (is_added(te)) count[(unsigned char)t->pool[te->off] + 1]++;
    }
    for (int b = 0; b < 256; b++) count[b + 1] += count[b];
    memcpy(t->added_at, count, sizeof count);
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const hk_tok_entry *te = &t->tok[id];
        if (!is_added(te)) continue;
        unsigned b = (unsigned char)t->pool[te->off];
        size_t j = count[b]++; /* insert at the end of the bucket, then move towards the front */
        while (j > t->added_at[b] && t->tok[t->added[j - 1]].len < te->len) {
            t->added[j] = t->added[j - 1];
            j--;
        }
        t->added[j] = id;
    }
    return HEARTH_OK;
}

/* ---- encoding ---- */

typedef struct {
    int32_t id;
    int32_t prev, next; /* neighbours in the word; -1 at the ends */
    bool dead;          /* merged into its left neighbour */
} bpe_sym;

typedef struct {
    int32_t rank, pos, result;
} bpe_cand;

typedef struct {
    int32_t *ids;
    size_t n, cap;
    uint32_t *cp; /* code points of the text being split */
    uint8_t *fl;
    size_t *off; /* byte offset of each code point (one more at the end) */
    size_t ccap;
    bpe_sym *sym;
    bpe_cand *heap;
    size_t scap, hn, hcap;
    hearth_err *e;
} enc_state;

static bool emit(enc_state *s, int32_t id) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        int32_t *p = realloc(s->ids, cap * sizeof *p);
        if (!p) {
            herr(s->e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
            return false;
        }
        s->ids = p;
        s->cap = cap;
    }
    s->ids[s->n++] = id;
    return true;
}

static inline bool cand_less(const bpe_cand *a, const bpe_cand *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static bool heap_push(enc_state *s, bpe_cand c) {
    if (s->hn == s->hcap) {
        size_t cap = s->hcap ? s->hcap * 2 : 64;
        bpe_cand *p = realloc(s->heap, cap * sizeof *p);
        if (!p) {
            herr(s->e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
            return false;
        }
        s->heap = p;
        s->hcap = cap;
    }
    size_t i = s->hn++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!cand_less(&c, &s->heap[parent])) break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = c;
    return true;
}

static bpe_cand heap_pop(enc_state *s) {
    bpe_cand top = s->heap[0], last = s->heap[--s->hn];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->hn) break;
        if (c + 1 < s->hn && cand_less(&s->heap[c + 1], &s->heap[c])) c++;
        if (!cand_less(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->hn) s->heap[i] = last;
    return top;
}

/* Queues the merge of symbols pos and its right neighbour, if the pair has one. */
static bool push_pair(const hk_tokenizer *t, enc_state *s, int32_t pos) {
    if (pos < 0) return true;
    int32_t nx = s->sym[pos].next;
    if (nx < 0) return true;
    const hk_merge_slot *m = merge_find(t, s->sym[pos].id, s->sym[nx].id);
    if (!m) return true;
    return heap_push(s, (bpe_cand){m->rank, pos, m->result});
}

/* BPE of one pre-token (raw bytes). As Hugging Face's BPE::merge_all: a min-heap of candidate
 * merges ordered by (rank, position); a popped candidate is applied if its symbol still has a
 * right neighbour and that pair still merges into the same token. O(n log n) in the piece. */
static bool bpe_piece(const hk_tokenizer *t, enc_state *s, const char *p, size_t n) {
    if (n == 1) return emit(s, t->byte_tok[(unsigned char)p[0]]);
    if (t->ignore_merges) {
        int32_t id = hk_tok_lookup(t, p, n);
        if (id >= 0) return emit(s, id);
    }
    if (n > INT32_MAX / 2) {
        herr(s->e, HEARTH_ERR_TOO_LARGE, "tokenizer: piece too long");
        return false;
    }
    if (n > s->scap) {
        bpe_sym *q = realloc(s->sym, n * sizeof *q);
        if (!q) {
            herr(s->e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
            return false;
        }
        s->sym = q;
        s->scap = n;
    }
    for (size_t i = 0; i < n; i++)
        s->sym[i] = (bpe_sym){t->byte_tok[(unsigned char)p[i]], (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1, false};
    s->hn = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (!push_pair(t, s, (int32_t)i)) return false;
    while (s->hn) {
        bpe_cand c = heap_pop(s);
        bpe_sym *a = &s->sym[c.pos];
        if (a->dead || a->next < 0) continue;
        bpe_sym *b = &s->sym[a->next];
        const hk_merge_slot *m = merge_find(t, a->id, b->id);
        if (!m || m->result != c.result) continue; /* stale */
        a->id = c.result;
        b->dead = true;
        a->next = b->next;
        if (a->next >= 0) s->sym[a->next].prev = c.pos;
        if (!push_pair(t, s, a->prev) || !push_pair(t, s, c.pos)) return false;
    }
    for (int32_t i = 0; i >= 0; i = s->sym[i].next)
        if (!emit(s, s->sym[i].id)) return false;
    return true;
}

/* Splits cp[begin..end) with pre-tokenizer stage `k` and each piece by the next stages; after
 * the last stage a piece goes to BPE. */
static bool split_and_encode(const hk_tokenizer *t, enc_state *s, const char *text, int k, size_t begin, size_t end) {
    if (k >= t->n_pre) return bpe_piece(t, s, text + s->off[begin], s->off[end] - s->off[begin]);
    hk_pre_text pt = {s->cp, s->fl};
    for (size_t i = begin; i < end;) {
        size_t j = hk_pre_next(t->pre[k], &pt, i, end);
        if (!split_and_encode(t, s, text, k + 1, i, j)) return false;
        i = j;
    }
    return true;
}

/* A valid UTF-8 text with no added tokens in it: normalize, pre-tokenize, BPE. */
static bool encode_valid(const hk_tokenizer *t, enc_state *s, const char *text, size_t len) {
    char *norm = NULL;
    if (t->nfc && !hk_nfc_quick_yes(text, len)) {
        size_t nlen;
        if (hk_nfc(text, len, &norm, &nlen, s->e) != HEARTH_OK) return false;
        text = norm;
        len = nlen;
    }
    bool ok = false;
    if (len + 1 > s->ccap) {
        size_t cap = len + 1;
        uint32_t *cp = realloc(s->cp, cap * sizeof *cp);
        if (cp) s->cp = cp;
        uint8_t *fl = realloc(s->fl, cap);
        if (fl) s->fl = fl;
        size_t *off = realloc(s->off, cap * sizeof *off);
        if (off) s->off = off;
        if (!cp || !fl || !off) {
            herr(s->e, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
            goto done;
        }
        s->ccap = cap;
    }
    size_t m = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        s->off[m] = i;
        if (c < 0x80) {
            s->cp[m] = c;
            s->fl[m] = hk_uc_flags(c);
            i++;
        } else {
            i += hk_utf8_decode(text + i, len - i, &s->cp[m]); /* valid: checked by the caller */
            s->fl[m] = hk_uc_flags(s->cp[m]);
        }
        m++;
    }
    s->off[m] = len;
    ok = split_and_encode(t, s, text, 0, 0, m);
done:
    free(norm);
    return ok;
}

/* Text between added tokens: valid UTF-8 runs are encoded as texts, every invalid byte as its
 * one-byte token. */
static bool encode_plain(const hk_tokenizer *t, enc_state *s, const char *text, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t v = hk_utf8_valid_prefix(text + i, len - i);
        if (v > 0) {
            if (!encode_valid(t, s, text + i, v)) return false;
            i += v;
        } else {
            if (!emit(s, t->byte_tok[(unsigned char)text[i]])) return false;
            i++;
        }
    }
    return true;
}

/* The code point that ends just before byte `at` (which must be > 0), and where it starts. */
static uint32_t cp_before(const char *text, size_t at, size_t *start) {
    size_t b = at - 1;
    while (b > 0 && at - b < 4 && ((unsigned char)text[b] & 0xC0) == 0x80) b--;
    uint32_t cp;
    if (hk_utf8_decode(text + b, at - b, &cp) != at - b) {
        b = at - 1; /* not valid UTF-8: treat the byte as a character of its own */
        cp = 0xFFFD;
    }
    *start = b;
    return cp;
}

static uint32_t cp_at(const char *text, size_t at, size_t len, size_t *n) {
    uint32_t cp;
    *n = hk_utf8_decode(text + at, len - at, &cp);
    if (*n == 0) {
        *n = 1;
        cp = 0xFFFD;
    }
    return cp;
}

/* Finds the next added token at or after byte `from`: leftmost, then longest. */
static bool find_added(const hk_tokenizer *t, const char *text, size_t len, size_t from, bool parse_special,
                       size_t *ms, size_t *me, int32_t *id) {
    for (size_t p = from; p < len; p++) {
        unsigned b = (unsigned char)text[p];
        for (uint32_t k = t->added_at[b]; k < t->added_at[b + 1]; k++) {
            const hk_tok_entry *te = &t->tok[t->added[k]];
            if (te->len > len - p || memcmp(text + p, t->pool + te->off, te->len) != 0) continue;
            if (!parse_special && te->type != HK_TOKEN_USER_DEFINED) continue;
            *ms = p;
            *me = p + te->len;
            *id = t->added[k];
            return true;
        }
    }
    return false;
}

static hearth_status encode_all(const hk_tokenizer *t, const char *text, size_t len, bool parse_special,
                                enc_state *s) {
    size_t start = 0; /* text not yet encoded begins here */
    size_t from = 0;  /* where to look for the next added token */
    size_t ms, me;
    int32_t id;
    while (t->n_added && find_added(t, text, len, from, parse_special, &ms, &me, &id)) {
        const hk_tok_entry *te = &t->tok[id];
        from = me;
        if (te->flags & HK_TF_SINGLE_WORD) {
            size_t k;
            if (ms > 0 && (hk_uc_flags(cp_before(text, ms, &k)) & HK_UF_W)) continue;
            if (me < len && (hk_uc_flags(cp_at(text, me, len, &k)) & HK_UF_W)) continue;
        }
        if (te->flags & HK_TF_LSTRIP) {
            size_t k;
            while (ms > start && hk_uc_is_space(cp_before(text, ms, &k))) ms = k;
        }
        if (te->flags & HK_TF_RSTRIP) {
            size_t k;
            while (me < len && hk_uc_is_space(cp_at(text, me, len, &k))) me += k;
        }
        if (!encode_plain(t, s, text + start, ms - start) || !emit(s, id)) return s->e->code;
        start = from = me;
    }
    if (!encode_plain(t, s, text + start, len - start)) return s->e->code;
    return HEARTH_OK;
}

static void enc_free(enc_state *s) {
    free(s->cp);
    free(s->fl);
    free(s->off);
    free(s->sym);
    free(s->heap);
}

hearth_status hk_tokenizer_encode_alloc(const hk_tokenizer *t, const char *text, size_t len, bool parse_special,
                                        int32_t **ids, size_t *n_ids, hearth_err *e) {
    hearth_err local;
    if (!e) e = &local;
    *ids = NULL;
    *n_ids = 0;
    if (!t || (!text && len)) return herr(e, HEARTH_ERR_INVALID_ARG, "tokenizer: NULL argument");
    enc_state s = {.e = e};
    hearth_status st = encode_all(t, text, len, parse_special, &s);
    enc_free(&s);
    if (st != HEARTH_OK) {
        free(s.ids);
        return st;
    }
    *ids = s.ids;
    *n_ids = s.n;
    return HEARTH_OK;
}

hearth_status hk_tokenizer_encode(const hk_tokenizer *t, const char *text, size_t len, bool parse_special,
                                  int32_t *ids, size_t max, size_t *n_ids, hearth_err *e) {
    hearth_err local;
    if (!e) e = &local;
    int32_t *all;
    size_t n;
    *n_ids = 0;
    hearth_status st = hk_tokenizer_encode_alloc(t, text, len, parse_special, &all, &n, e);
    if (st != HEARTH_OK) return st;
    *n_ids = n;
    if (ids && n) memcpy(ids, all, (n < max ? n : max) * sizeof *ids);
    free(all);
    if (n > max) return herr(e, HEARTH_ERR_INVALID_ARG, "tokenizer: %zu ids do not fit in %zu", n, max);
    return HEARTH_OK;
}

size_t hk_tokenizer_max_ids(const hk_tokenizer *t, size_t len) { return t && t->nfc ? 3 * len : len; }

/* ---- decoding and lookups ---- */

const char *hk_token_bytes(const hk_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || id >= t->n_vocab) {
        *len = 0;
        return NULL;
    }
    *len = t->tok[id].len;
    return t->pool ? t->pool + t->tok[id].off : "";
}

hearth_status hk_tokenizer_decode(const hk_tokenizer *t, const int32_t *ids, size_t n, bool skip_special,
                                  char *out, size_t size, size_t *len) {
    size_t total = 0;
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab) return HEARTH_ERR_INVALID_ARG;
        const hk_tok_entry *te = &t->tok[ids[i]];
        if (skip_special && te->type == HK_TOKEN_CONTROL) continue;
        if (out && total + te->len + 1 <= size) memcpy(out + total, t->pool + te->off, te->len);
        total += te->len;
    }
    *len = total;
    if (!out || total + 1 > size) return HEARTH_ERR_INVALID_ARG;
    out[total] = 0;
    return HEARTH_OK;
}

int32_t hk_tokenizer_find(const hk_tokenizer *t, const char *s, size_t len) {
    if (len == 0) return -1;
    unsigned b = (unsigned char)s[0];
    for (uint32_t k = t->added_at[b]; k < t->added_at[b + 1]; k++) {
        const hk_tok_entry *te = &t->tok[t->added[k]];
        if (te->len == len && memcmp(s, t->pool + te->off, len) == 0) return t->added[k];
    }
    return hk_tok_lookup(t, s, len);
}

int32_t hk_tokenizer_n_vocab(const hk_tokenizer *t) { return t->n_vocab; }
int hk_token_type(const hk_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab ? t->tok[id].type : HK_TOKEN_UNDEFINED;
}
int32_t hk_tokenizer_bos(const hk_tokenizer *t) { return t->bos; }
int32_t hk_tokenizer_eos(const hk_tokenizer *t) { return t->eos; }
int32_t hk_tokenizer_pad(const hk_tokenizer *t) { return t->pad; }
bool hk_tokenizer_add_bos(const hk_tokenizer *t) { return t->add_bos; }
const char *hk_tokenizer_pre_name(const hk_tokenizer *t) { return t->n_pre ? hk_pre_gguf_name(t->pre[0]) : ""; }
