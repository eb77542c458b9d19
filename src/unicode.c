/* unicode.c - UTF-8 coding, character properties from the generated tables, and NFC. */
#include "unicode.h"

#include <stdlib.h>

/* ---- properties ---- */

/* Index of the range holding cp in a (first << 8 | value) table: the last entry whose first
 * code point is <= cp. Entry 0 starts at U+0000, so there always is one. */
static size_t range_find(const uint32_t *t, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n; /* invariant: t[lo] <= cp < t[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((t[mid] >> 8) <= cp) lo = mid;
        else hi = mid;
    }
    return lo;
}

static uint8_t props(uint32_t cp) {
    if (cp < 256) return hk_uc_latin1_props[cp];
    if (cp > HK_UC_MAX) return HK_GC_Cn;
    return (uint8_t)(hk_uc_prop_ranges[range_find(hk_uc_prop_ranges, hk_uc_prop_ranges_n, cp)] & 0xff);
}

int hk_uc_gc(uint32_t cp) { return props(cp) & 31; }
bool hk_uc_is_space(uint32_t cp) { return (props(cp) >> 5) & 1; }
static int nfc_qc(uint32_t cp) { return props(cp) >> 6; }

int hk_uc_ccc(uint32_t cp) {
    if (cp < 0x300 || cp > HK_UC_MAX) return 0;
    return (int)(hk_uc_ccc_ranges[range_find(hk_uc_ccc_ranges, hk_uc_ccc_ranges_n, cp)] & 0xff);
}

/* HK_UF_* bits for each general category (White_Space is added separately). */
static const uint8_t gc_flags[HK_GC_COUNT] = {
    [HK_GC_Lu] = HK_UF_L | HK_UF_LUT | HK_UF_W,
    [HK_GC_Lt] = HK_UF_L | HK_UF_LUT | HK_UF_W,
    [HK_GC_Ll] = HK_UF_L | HK_UF_LL | HK_UF_W,
    [HK_GC_Lm] = HK_UF_L | HK_UF_LMO | HK_UF_W,
    [HK_GC_Lo] = HK_UF_L | HK_UF_LMO | HK_UF_W,
    [HK_GC_Mn] = HK_UF_M | HK_UF_W,
    [HK_GC_Mc] = HK_UF_M | HK_UF_W,
    [HK_GC_Me] = HK_UF_M | HK_UF_W,
    [HK_GC_Nd] = HK_UF_N | HK_UF_W,
    [HK_GC_Nl] = HK_UF_N | HK_UF_W,
    [HK_GC_No] = HK_UF_N,
    [HK_GC_Pc] = HK_UF_W,
};

uint8_t hk_uc_flags(uint32_t cp) {
    uint8_t p = props(cp);
    uint8_t join_control = cp == 0x200C || cp == 0x200D ? HK_UF_W : 0;
    return (uint8_t)(gc_flags[p & 31] | ((p & 32) ? HK_UF_WS : 0) | join_control);
}

/* ---- UTF-8 ---- */

size_t hk_utf8_decode(const char *str, size_t len, uint32_t *cp) {
    const unsigned char *s = (const unsigned char *)str;
    if (len == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > HK_UC_MAX || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

size_t hk_utf8_valid_prefix(const char *s, size_t len) {
    size_t i = 0;
    uint32_t cp;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = hk_utf8_decode(s + i, len - i, &cp);
        if (n == 0) break;
        i += n;
    }
    return i;
}

size_t hk_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- NFC (UAX #15) ---- */

/* Hangul syllables decompose and compose by formula (Unicode chapter 3.12). */
enum {
    H_SBASE = 0xAC00, H_LBASE = 0x1100, H_VBASE = 0x1161, H_TBASE = 0x11A7,
    H_LCOUNT = 19, H_VCOUNT = 21, H_TCOUNT = 28, H_NCOUNT = H_VCOUNT * H_TCOUNT,
    H_SCOUNT = H_LCOUNT * H_NCOUNT,
};

bool hk_nfc_quick_yes(const char *s, size_t len) {
    size_t i = 0;
    int last_ccc = 0;
    while (i < len) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) { /* ASCII: Yes, class 0 */
            last_ccc = 0;
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = hk_utf8_decode(s + i, len - i, &cp);
        if (n == 0) return false;
        i += n;
        int ccc = hk_uc_ccc(cp);
        if (ccc != 0 && last_ccc > ccc) return false;
        if (nfc_qc(cp) != 0) return false; /* No or Maybe */
        last_ccc = ccc;
    }
    return true;
}

/* Writes the full canonical decomposition of cp to out (room for HK_UC_DECOMP_MAX); returns
 * the count. */
static size_t decompose(uint32_t cp, uint32_t *out) {
    if (cp >= H_SBASE && cp < H_SBASE + H_SCOUNT) {
        uint32_t s = cp - H_SBASE;
        out[0] = H_LBASE + s / H_NCOUNT;
        out[1] = H_VBASE + (s % H_NCOUNT) / H_TCOUNT;
        if (s % H_TCOUNT == 0) return 2;
        out[2] = H_TBASE + s % H_TCOUNT;
        return 3;
    }
    size_t lo = 0, hi = hk_uc_decomps_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hk_uc_decomps[mid].cp < cp) lo = mid + 1;
        else hi = mid;
    }
    if (lo < hk_uc_decomps_n && hk_uc_decomps[lo].cp == cp) {
        const hk_uc_decomp *d = &hk_uc_decomps[lo];
        for (size_t k = 0; k < d->len; k++) out[k] = hk_uc_decomp_pool[d->off + k];
        return d->len;
    }
    out[0] = cp;
    return 1;
}

/* The primary composite of (a, b), or 0 when there is none. */
static uint32_t compose(uint32_t a, uint32_t b) {
    if (a >= H_LBASE && a < H_LBASE + H_LCOUNT && b >= H_VBASE && b < H_VBASE + H_VCOUNT)
        return H_SBASE + ((a - H_LBASE) * H_VCOUNT + (b - H_VBASE)) * H_TCOUNT;
    if (a >= H_SBASE && a < H_SBASE + H_SCOUNT && (a - H_SBASE) % H_TCOUNT == 0 && b > H_TBASE &&
        b < H_TBASE + H_TCOUNT)
        return a + (b - H_TBASE);
    size_t lo = 0, hi = hk_uc_comps_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const hk_uc_comp *c = &hk_uc_comps[mid];
        if (c->first < a || (c->first == a && c->second < b)) lo = mid + 1;
        else hi = mid;
    }
    if (lo < hk_uc_comps_n && hk_uc_comps[lo].first == a && hk_uc_comps[lo].second == b)
        return hk_uc_comps[lo].composite;
    return 0;
}

hearth_status hk_nfc(const char *s, size_t len, char **out, size_t *out_len, hearth_err *e) {
    *out = NULL;
    *out_len = 0;
    /* 1. full canonical decomposition: count, then fill */
    size_t n = 0;
    uint32_t tmp[HK_UC_DECOMP_MAX];
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = hk_utf8_decode(s + i, len - i, &cp);
        if (k == 0) return herr(e, HEARTH_ERR_INVALID_ARG, "nfc: invalid UTF-8 at byte %zu", i);
        i += k;
        n += cp < 0xC0 ? 1 : decompose(cp, tmp);
    }
    uint32_t *cps = hu_malloc(((uint64_t)n + 1) * sizeof(uint32_t), e);
    uint8_t *ccc = hu_malloc((uint64_t)n + 1, e);
    if (!cps || !ccc) {
        free(cps);
        free(ccc);
        return e ? e->code : HEARTH_ERR_NOMEM;
    }
    n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += hk_utf8_decode(s + i, len - i, &cp);
        n += decompose(cp, cps + n);
    }
    for (size_t i = 0; i < n; i++) ccc[i] = (uint8_t)hk_uc_ccc(cps[i]);

    /* 2. canonical ordering: stable insertion sort of each run of non-starters by class */
    for (size_t i = 1; i < n; i++) {
        if (ccc[i] == 0) continue;
        size_t j = i;
        while (j > 0 && ccc[j - 1] > ccc[j]) {
            uint32_t tc = cps[j - 1];
            uint8_t tk = ccc[j - 1];
            cps[j - 1] = cps[j];
            ccc[j - 1] = ccc[j];
            cps[j] = tc;
            ccc[j] = tk;
            j--;
        }
    }

    /* 3. canonical composition, in place: m is the output length */
    size_t m = 0;
    long starter = -1; /* output index of the last starter */
    int last_ccc = -1; /* class of the last output character after that starter; -1: none */
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        int cc = ccc[i];
        /* c combines with the last starter unless blocked: something lies between them whose
         * class is 0 or >= cc (last_ccc holds the largest, the run being ordered). */
        if (starter >= 0 && (last_ccc == -1 || (last_ccc != 0 && last_ccc < cc))) {
            uint32_t comp = compose(cps[starter], c);
            if (comp) {
                cps[starter] = comp;
                continue;
            }
        }
        if (cc == 0) {
            starter = (long)m;
            last_ccc = -1;
        } else {
            last_ccc = cc;
        }
        cps[m] = c;
        ccc[m] = cc;
        m++;
    }
    char *buf = hu_malloc((uint64_t)m * 4 + 1, e);
    if (!buf) {
        free(cps);
        free(ccc);
        return e ? e->code : HEARTH_ERR_NOMEM;
    }
    size_t o = 0;
    for (size_t i = 0; i < m; i++) o += hk_utf8_encode(cps[i], buf + o);
    buf[o] = 0;
    free(cps);
    free(ccc);
    *out = buf;
    *out_len = o;
    return HEARTH_OK;
}
