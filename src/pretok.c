/* pretok.c - scanners that split text exactly as the known pre-tokenizer regexes do. */
#include "pretok.h"

#include <stdlib.h>

#include "unicode.h"

/* The patterns, byte for byte as tokenizer.json holds them once JSON-unescaped. */
static const char *const pre_regex[HK_PRE_COUNT] = {
    [HK_PRE_GPT2] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    [HK_PRE_LLAMA3] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
                      " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    [HK_PRE_QWEN2] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
                     " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    [HK_PRE_TEKKEN] = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|"
                      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|"
                      "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

static const char *const pre_gguf_name[HK_PRE_COUNT] = {
    [HK_PRE_GPT2] = "gpt-2",
    [HK_PRE_LLAMA3] = "llama-bpe",
    [HK_PRE_QWEN2] = "qwen2",
    [HK_PRE_TEKKEN] = "tekken",
};

/* llama.cpp (src/llama-vocab.cpp) accepts these names for the same split. */
static const struct {
    const char *name;
    hk_pre_kind kind;
} gguf_aliases[] = {
    {"gpt-2", HK_PRE_GPT2},       {"llama-bpe", HK_PRE_LLAMA3}, {"llama3", HK_PRE_LLAMA3},
    {"llama-v3", HK_PRE_LLAMA3},  {"qwen2", HK_PRE_QWEN2},      {"tekken", HK_PRE_TEKKEN},
};

const char *hk_pre_regex(hk_pre_kind k) { return (unsigned)k < HK_PRE_COUNT ? pre_regex[k] : ""; }
const char *hk_pre_gguf_name(hk_pre_kind k) { return (unsigned)k < HK_PRE_COUNT ? pre_gguf_name[k] : ""; }

bool hk_pre_from_regex(const char *regex, hk_pre_kind *out) {
    for (int k = 0; k < HK_PRE_COUNT; k++) {
        if (strcmp(regex, pre_regex[k]) == 0) {
            *out = (hk_pre_kind)k;
            return true;
        }
    }
    return false;
}

bool hk_pre_from_gguf_name(const char *name, hk_pre_kind *out) {
    for (size_t i = 0; i < sizeof gguf_aliases / sizeof gguf_aliases[0]; i++) {
        if (strcmp(name, gguf_aliases[i].name) == 0) {
            *out = gguf_aliases[i].kind;
            return true;
        }
    }
    return false;
}

/* ---- character classes over the scanner input ---- */

#define TEK_U (HK_UF_LUT | HK_UF_LMO | HK_UF_M) /* [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] */
#define TEK_W (HK_UF_LL | HK_UF_LMO | HK_UF_M)  /* [\p{Ll}\p{Lm}\p{Lo}\p{M}] */

static inline bool is_nl(const hk_pre_text *t, size_t i) { return t->cp[i] == '\r' || t->cp[i] == '\n'; }
static inline bool has(const hk_pre_text *t, size_t i, unsigned f) { return (t->fl[i] & f) != 0; }
/* [^\r\n\p{L}\p{N}] */
static inline bool is_prefix(const hk_pre_text *t, size_t i) { return !is_nl(t, i) && !has(t, i, HK_UF_L | HK_UF_N); }
/* [^\s\p{L}\p{N}] */
static inline bool is_other(const hk_pre_text *t, size_t i) { return !has(t, i, HK_UF_WS | HK_UF_L | HK_UF_N); }

/* End of the run of characters with any of the flags f, from i. */
static size_t run(const hk_pre_text *t, size_t i, size_t end, unsigned f) {
    while (i < end && has(t, i, f)) i++;
    return i;
}
static size_t run_other(const hk_pre_text *t, size_t i, size_t end) {
    while (i < end && is_other(t, i)) i++;
    return i;
}

/* ASCII lower case plus the one non-ASCII character that case-folds onto a contraction letter:
 * U+017F LATIN SMALL LETTER LONG S folds to 's' (CaseFolding.txt), so (?i:'s) matches "'ſ". */
static uint32_t fold(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';
    return c;
}

/* 's|'t|'re|'ve|'m|'ll|'d at i, case-sensitive or not: end of the match, or 0. */
static size_t contraction(const hk_pre_text *t, size_t i, size_t end, bool icase) {
    if (t->cp[i] != '\'' || i + 1 >= end) return 0;
    uint32_t a = icase ? fold(t->cp[i + 1]) : t->cp[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 >= end) return 0;
    uint32_t b = icase ? fold(t->cp[i + 2]) : t->cp[i + 2];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
}

/* The whitespace alternatives shared by all patterns, at a White_Space character i:
 *   with_newline_rule: \s*[\r\n]+  (not in GPT-2's pattern)
 *   then \s+(?!\S), then \s+. */
static size_t spaces(const hk_pre_text *t, size_t i, size_t end, bool with_newline_rule) {
    size_t j = run(t, i, end, HK_UF_WS);
    if (with_newline_rule) {
        /* \s* backtracks until [\r\n]+ can match: the match ends after the last newline. */
        for (size_t k = j; k > i; k--)
            if (is_nl(t, k - 1)) return k;
    }
    if (j == end) return j;      /* \s+(?!\S) at the end of the text */
    if (j - i >= 2) return j - 1; /* \s+(?!\S) leaves the last space to the next word */
    return j;                     /* \s+ */
}

static size_t next_gpt2(const hk_pre_text *t, size_t i, size_t end) {
    size_t r = contraction(t, i, end, false);
    if (r) return r;
    bool sp = t->cp[i] == ' ' && i + 1 < end;
    static const unsigned cls[2] = {HK_UF_L, HK_UF_N}; /*  ?\p{L}+ then  ?\p{N}+ */
    for (int c = 0; c < 2; c++) {
        if (sp && has(t, i + 1, cls[c])) return run(t, i + 1, end, cls[c]);
        if (has(t, i, cls[c])) return run(t, i, end, cls[c]);
    }
    if (sp && is_other(t, i + 1)) return run_other(t, i + 1, end); /*  ?[^\s\p{L}\p{N}]+ */
    if (is_other(t, i)) return run_other(t, i, end);
    return spaces(t, i, end, false);
}

/* Llama 3 (max_digits 3) and Qwen 2 (max_digits 1). */
static size_t next_llama3(const hk_pre_text *t, size_t i, size_t end, size_t max_digits) {
    size_t r = contraction(t, i, end, true);
    if (r) return r;
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (is_prefix(t, i) && i + 1 < end && has(t, i + 1, HK_UF_L)) return run(t, i + 1, end, HK_UF_L);
    if (has(t, i, HK_UF_L)) return run(t, i, end, HK_UF_L);
    /* \p{N}{1,max} */
    if (has(t, i, HK_UF_N)) {
        size_t j = i + 1;
        while (j < end && j - i < max_digits && has(t, j, HK_UF_N)) j++;
        return j;
    }
    /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
    size_t j = 0;
    if (t->cp[i] == ' ' && i + 1 < end && is_other(t, i + 1)) j = run_other(t, i + 1, end);
    else if (is_other(t, i)) j = run_other(t, i, end);
    if (j) {
        while (j < end && is_nl(t, j)) j++;
        return j;
    }
    return spaces(t, i, end, true);
}

/* [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ at s: end of the match or 0.
 * The greedy U* backs off until W+ can start: W+ starts at the last W character at or before
 * the end of the U run, then takes every W character it can. */
static size_t tekken_uw(const hk_pre_text *t, size_t s, size_t end) {
    size_t u = run(t, s, end, TEK_U);
    size_t p = u; /* start of W+ */
    if (!(u < end && has(t, u, TEK_W))) {
        while (p > s && !has(t, p - 1, TEK_W)) p--;
        if (p == s) return 0; /* no W character in [s, u] */
        p--;
    }
    return run(t, p, end, TEK_W);
}

static size_t next_tekken(const hk_pre_text *t, size_t i, size_t end) {
    bool pre = is_prefix(t, i) && i + 1 < end;
    size_t r;
    /* [^\r\n\p{L}\p{N}]?[U]*[W]+ : with the optional prefix first, then without */
    if (pre && (r = tekken_uw(t, i + 1, end))) return r;
    if ((r = tekken_uw(t, i, end))) return r;
    /* [^\r\n\p{L}\p{N}]?[U]+[W]* */
    if (pre && has(t, i + 1, TEK_U)) return run(t, run(t, i + 1, end, TEK_U), end, TEK_W);
    if (has(t, i, TEK_U)) return run(t, run(t, i, end, TEK_U), end, TEK_W);
    /* \p{N} */
    if (has(t, i, HK_UF_N)) return i + 1;
    /*  ?[^\s\p{L}\p{N}]+[\r\n/]* */
    size_t j = 0;
    if (t->cp[i] == ' ' && i + 1 < end && is_other(t, i + 1)) j = run_other(t, i + 1, end);
    else if (is_other(t, i)) j = run_other(t, i, end);
    if (j) {
        while (j < end && (is_nl(t, j) || t->cp[j] == '/')) j++;
        return j;
    }
    return spaces(t, i, end, true);
}

size_t hk_pre_next(hk_pre_kind k, const hk_pre_text *t, size_t i, size_t end) {
    if (i >= end) return end;
    size_t j;
    switch (k) {
    case HK_PRE_GPT2: j = next_gpt2(t, i, end); break;
    case HK_PRE_LLAMA3: j = next_llama3(t, i, end, 3); break;
    case HK_PRE_QWEN2: j = next_llama3(t, i, end, 1); break;
    case HK_PRE_TEKKEN: j = next_tekken(t, i, end); break;
    default: j = end; break;
    }
    return j > i ? j : i + 1; /* cannot happen (every character matches); never loop forever */
}

hearth_status hk_pre_split(hk_pre_kind k, const char *s, size_t len, size_t **ends, size_t *n, hearth_err *e) {
    *ends = NULL;
    *n = 0;
    uint32_t *cp = hu_malloc(((uint64_t)len + 1) * sizeof *cp, e);
    uint8_t *fl = hu_malloc((uint64_t)len + 1, e);
    size_t *off = hu_malloc(((uint64_t)len + 1) * sizeof *off, e);
    size_t *out = hu_malloc(((uint64_t)len + 1) * sizeof *out, e);
    hearth_status st = HEARTH_OK;
    if (!cp || !fl || !off || !out) {
        st = e ? e->code : HEARTH_ERR_NOMEM;
        goto done;
    }
    size_t m = 0;
    for (size_t i = 0; i < len;) {
        size_t b = hk_utf8_decode(s + i, len - i, &cp[m]);
        if (b == 0) {
            st = herr(e, HEARTH_ERR_INVALID_ARG, "pre-tokenizer: invalid UTF-8 at byte %zu", i);
            goto done;
        }
        fl[m] = hk_uc_flags(cp[m]);
        off[m++] = i;
        i += b;
    }
    off[m] = len;
    hk_pre_text t = {cp, fl};
    size_t np = 0;
    for (size_t i = 0; i < m;) {
        size_t j = hk_pre_next(k, &t, i, m);
        out[np++] = off[j];
        i = j;
    }
    *ends = out;
    *n = np;
    out = NULL;
done:
    free(cp);
    free(fl);
    free(off);
    free(out);
    return st;
}
