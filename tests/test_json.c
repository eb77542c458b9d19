/* test_json.c - tests of the JSON parser: types, escapes, extensions, rejections, truncation, fixtures, speed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "json.h"

/* Parses a copy of s in a heap buffer of exactly its length, so a read past the end trips ASan. */
static json_value *parse_exact(const char *s, size_t len, hearth_err *e) {
    char *buf = malloc(len ? len : 1);
    if (len) memcpy(buf, s, len);
    json_value *v = json_parse(buf, len, e);
    free(buf);
    return v;
}

static json_value *parse(const char *s, hearth_err *e) { return parse_exact(s, strlen(s), e); }

static void test_types(void) {
    hearth_err e = {0};
    json_value *v = parse(" {\"a\": null, \"b\": true, \"c\": false, \"d\": -12.5e2, \"e\": \"hi\",\n"
                          "  \"f\": [1, 2, [3]], \"g\": {}, \"h\": [], \"i\": 0, \"j\": -0.0, \"k\": 1E+400,\n"
                          "  \"l\": 123456789012345678901234567890, \"m\": 0.1, \"n\": \"h\\u00e9llo \xe2\x82\xac\"} \r\n",
                          &e);
    CHECK(v != NULL, "parse failed: %s", e.msg);
    if (!v) return;
    CHECK(v->type == JSON_OBJECT && v->len == 14, "root object of 14, got type %d len %zu", v->type, v->len);
    CHECK(json_get(v, "a") && json_get(v, "a")->type == JSON_NULL, "a is null");
    bool b = false;
    CHECK(json_get_bool(v, "b", &b) && b, "b is true");
    CHECK(json_get_bool(v, "c", &b) && !b, "c is false");
    double d = 0;
    CHECK(json_get_number(v, "d", &d) && d == -1250.0, "d = %g", d);
    CHECK(json_get_string(v, "e") && strcmp(json_get_string(v, "e"), "hi") == 0, "e is hi");
    const json_value *f = json_get(v, "f");
    CHECK(f && f->type == JSON_ARRAY && f->len == 3, "f is an array of 3");
    CHECK(json_at(f, 1) && json_at(f, 1)->number == 2, "f[1] = 2");
    CHECK(json_at(json_at(f, 2), 0) && json_at(json_at(f, 2), 0)->number == 3, "f[2][0] = 3");
    CHECK(json_at(f, 3) == NULL, "f[3] out of range");
    CHECK(json_get(v, "g")->type == JSON_OBJECT && json_get(v, "g")->len == 0, "g = {}");
    CHECK(json_get(v, "h")->type == JSON_ARRAY && json_get(v, "h")->len == 0, "h = []");
    CHECK(json_at(json_get(v, "h"), 0) == NULL, "h[0] absent");
    CHECK(json_get(json_get(v, "g"), "x") == NULL, "{}.x absent");
    CHECK(json_get_number(v, "j", &d) && d == 0 && signbit(d), "j = -0.0");
    CHECK(json_get_number(v, "k", &d) && isinf(d) && d > 0, "1E+400 overflows to +inf");
    CHECK(json_get_number(v, "l", &d) && fabs(d / 1.2345678901234568e29 - 1) < 1e-15, "long integer: %g", d);
    CHECK(json_get_number(v, "m", &d) && d == 0.1, "0.1 parsed exactly as strtod does");
    CHECK(json_get_string(v, "n") && strcmp(json_get_string(v, "n"), "h\xc3\xa9llo \xe2\x82\xac") == 0,
          "\\u00e9 and raw UTF-8");
    CHECK(json_get(v, "zz") == NULL && json_get(NULL, "a") == NULL && json_get(f, "a") == NULL, "json_get misses");
    CHECK(json_at(v, 0) == NULL, "json_at on an object");
    CHECK(json_get_string(v, "a") == NULL && !json_get_bool(v, "e", &b) && !json_get_number(v, "e", &d),
          "typed getters reject other types");
    json_free(v);
    json_free(NULL);

    v = parse("{\"k\": 1, \"k\": 2}", &e);
    CHECK(v && json_get_number(v, "k", &d) && d == 2, "duplicate keys: the last wins, as in Python");
    json_free(v);
    v = parse("\"top\"", &e);
    CHECK(v && v->type == JSON_STRING && v->len == 3, "a bare string is a document");
    json_free(v);
    v = parse("\xef\xbb\xbf[7]", &e);
    CHECK(v && v->type == JSON_ARRAY && v->items[0].number == 7, "UTF-8 BOM skipped");
    json_free(v);
}

static void check_string(const char *json, const char *want, size_t want_len) {
    hearth_err e = {0};
    json_value *v = parse(json, &e);
    CHECK(v && v->type == JSON_STRING, "%s: parse failed: %s", json, e.msg);
    if (!v) return;
    CHECK(v->len == want_len && memcmp(v->str, want, want_len) == 0 && v->str[want_len] == 0,
          "%s: got %zu bytes", json, v->len);
    json_free(v);
}

static void test_escapes(void) {
    check_string("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
    check_string("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
    check_string("\"a\\u0000b\"", "a\0b", 3);
    check_string("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);             /* U+1F600 */
    check_string("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);             /* U+10FFFF */
    check_string("\"\\ud800x\"", "\xef\xbf\xbdx", 4);                      /* lone high */
    check_string("\"\\udc00\"", "\xef\xbf\xbd", 3);                        /* lone low */
    check_string("\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A", 4);             /* high, then not a low */
    check_string("\"\\ud800\\ud800\\udc00\"", "\xef\xbf\xbd\xf0\x90\x80\x80", 7); /* lone high, then a pair */
    check_string("\"\\ud800\"", "\xef\xbf\xbd", 3);                        /* lone high at the end */
    check_string("\"\"", "", 0);
}

static void test_extensions(void) {
    hearth_err e = {0};
    json_value *v = parse("[Infinity, -Infinity, NaN, {\"__float__\": \"Infinity\"}, {\"__float__\": \"-Infinity\"},"
                          " {\"__float__\": \"NaN\"}, {\"__float__\": \"1.5\"}, {\"__float__\": 3}, \"Infinity\", null]",
                          &e);
    CHECK(v != NULL, "parse failed: %s", e.msg);
    if (!v) return;
    double d = 0;
    CHECK(json_number(json_at(v, 0), &d) && isinf(d) && d > 0, "Infinity");
    CHECK(json_number(json_at(v, 1), &d) && isinf(d) && d < 0, "-Infinity");
    CHECK(json_number(json_at(v, 2), &d) && isnan(d), "NaN");
    CHECK(json_number(json_at(v, 3), &d) && isinf(d) && d > 0, "__float__ Infinity");
    CHECK(json_number(json_at(v, 4), &d) && isinf(d) && d < 0, "__float__ -Infinity");
    CHECK(json_number(json_at(v, 5), &d) && isnan(d), "__float__ NaN");
    CHECK(!json_number(json_at(v, 6), &d), "__float__ of another string rejected");
    CHECK(!json_number(json_at(v, 7), &d), "__float__ of a number rejected");
    CHECK(!json_number(json_at(v, 8), &d), "a string is not a number");
    CHECK(!json_number(json_at(v, 9), &d), "null is not a number");
    CHECK(!json_number(NULL, &d), "NULL is not a number");
    json_free(v);
}

static void test_get_int(void) {
    hearth_err e = {0};
    json_value *v = parse("{\"a\": 42, \"b\": -7, \"c\": 1.5, \"d\": 1e19, \"e\": -1e19, \"f\": NaN, \"g\": \"5\","
                          " \"h\": 9007199254740992, \"i\": true, \"j\": Infinity, \"k\": -9223372036854775808,"
                          " \"l\": 9223372036854775807, \"m\": 3.0, \"n\": 1e2, \"o\": {\"__float__\": \"Infinity\"}}",
                          &e);
    CHECK(v != NULL, "parse failed: %s", e.msg);
    if (!v) return;
    int64_t x = 0;
    CHECK(json_get_int(v, "a", &x) && x == 42, "a = 42");
    CHECK(json_get_int(v, "b", &x) && x == -7, "b = -7");
    CHECK(json_get_int(v, "h", &x) && x == 9007199254740992LL, "2^53");
    CHECK(json_get_int(v, "k", &x) && x == INT64_MIN, "-2^63 is in range");
    CHECK(json_get_int(v, "m", &x) && x == 3, "3.0 is integral");
    CHECK(json_get_int(v, "n", &x) && x == 100, "1e2 is integral");
    x = 12345;
    const char *bad[] = {"c", "d", "e", "f", "g", "i", "j", "l", "o", "missing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!json_get_int(v, bad[i], &x) && x == 12345, "json_get_int(%s) must fail and leave *out", bad[i]);
    CHECK(!json_get_int(NULL, "a", &x), "json_get_int on NULL");
    json_free(v);
}

static void test_rejections(void) {
    const char *bad[] = {
        "", " ", "[1,]", "{\"a\" 1}", "[1 2]", "01", "1.", ".5", "-", "+1", "1e", "1e+", "\"\\x\"", "\"\\u12\"",
        "\"\\u12g4\"", "\"abc", "\"abc\\", "tru", "nul", "[", "{", "{\"a\":}", "\"a\x01\"", "1 2", "{,}", "[,1]",
        "{\"a\":1,}", "'a'", "inf", "-NaN", "nan", "[1]]", "{\"a\":1}}", "{1:2}", "[\"a\":1]", "\"\\\"", "truex",
        "-Infinityx", "[true false]", "\x00", "[0x10]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hearth_err e = {0};
        size_t len = strlen(bad[i]);
        if (i == sizeof bad / sizeof bad[0] - 2) len = 1; /* the lone NUL byte */
        json_value *v = parse_exact(bad[i], len, &e);
        CHECK(v == NULL, "bad document %zu accepted: '%s'", i, bad[i]);
        json_free(v);
        CHECK(e.code == HEARTH_ERR_FORMAT && strstr(e.msg, "at byte "), "document %zu: message '%s'", i, e.msg);
    }
    hearth_err e = {0};
    json_value *v = parse("[1, 2, x]", &e);
    CHECK(!v && strstr(e.msg, "at byte 7"), "offset of the bad character: '%s'", e.msg);
    v = parse("{\"a\": \"b\\qc\"}", &e);
    CHECK(!v && strstr(e.msg, "escape") && strstr(e.msg, "at byte 8"), "offset of the bad escape: '%s'", e.msg);
}

static void test_depth(void) {
    enum { N = 100000 };
    char *s = malloc(2 * N + 1);
    for (int depth = 255; depth <= 258; depth++) {
        memset(s, '[', (size_t)depth);
        memset(s + depth, ']', (size_t)depth);
        hearth_err e = {0};
        json_value *v = parse_exact(s, 2 * (size_t)depth, &e);
        if (depth <= 256) {
            CHECK(v != NULL, "depth %d must parse: %s", depth, e.msg);
        } else {
            CHECK(v == NULL && strstr(e.msg, "nesting") && strstr(e.msg, "at byte 256"),
                  "depth %d must be rejected cleanly: '%s'", depth, e.msg);
        }
        json_free(v);
    }
    /* objects count too: 257 levels of {"k": ... } */
    size_t n = 0;
    char *o = malloc(257 * 6 + 257 + 8);
    for (int i = 0; i < 257; i++) n += (size_t)sprintf(o + n, "{\"k\":");
    n += (size_t)sprintf(o + n, "1");
    for (int i = 0; i < 257; i++) o[n++] = '}';
    hearth_err e = {0};
    json_value *v = parse_exact(o, n, &e);
    CHECK(v == NULL && strstr(e.msg, "nesting"), "257 nested objects rejected: '%s'", e.msg);
    v = parse_exact(o + 5, n - 6, &e);
    CHECK(v != NULL, "256 nested objects parse: %s", e.msg);
    json_free(v);
    free(o);
    /* a very deep document fails at level 257, without recursing further */
    memset(s, '[', N);
    v = parse_exact(s, N, &e);
    CHECK(v == NULL && strstr(e.msg, "nesting"), "100000 levels rejected: '%s'", e.msg);
    free(s);
}

static const char sample_doc[] =
    "{\"version\": \"1.0\", \"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", \"special\": true},"
    " {\"id\": 1, \"content\": \"\\u00e9\\ud83d\\ude00\\n\", \"special\": false}], \"norm\": null,"
    " \"nums\": [-1.5e-3, 0, 12, Infinity, -Infinity, NaN], \"model\": {\"vocab\": {\"a\": 0, \"b\\\"c\": 1},"
    " \"merges\": [\"a b\", [\"x\", \"y\"]]}, \"limit\": [0.0, {\"__float__\": \"Infinity\"}], \"deep\": [[[{}]]]}";

static void test_truncation_and_corruption(void) {
    size_t n = strlen(sample_doc);
    hearth_err e = {0};
    json_value *v = parse_exact(sample_doc, n, &e);
    CHECK(v != NULL, "sample parses: %s", e.msg);
    double d = 0;
    CHECK(v && json_number(json_at(json_get(v, "limit"), 1), &d) && isinf(d), "sample limit[1] = inf");
    json_free(v);
    int fails = 0;
    for (size_t len = 0; len < n; len++) {
        e.msg[0] = 0;
        v = parse_exact(sample_doc, len, &e);
        if (v || !e.msg[0]) fails++;
        json_free(v);
    }
    CHECK(fails == 0, "%d of %zu truncated prefixes did not fail cleanly", fails, n);
    /* every byte replaced by each of a few troublesome bytes: must never crash or leak */
    const char subst[] = {'"', '\\', '[', ']', '{', '}', ',', ':', 'u', 'd', '0', '-', '\0', '\x80', ' '};
    char *buf = malloc(n);
    int parsed = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < sizeof subst; j++) {
            memcpy(buf, sample_doc, n);
            buf[i] = subst[j];
            v = json_parse(buf, n, &e);
            parsed += v != NULL;
            json_free(v);
        }
    }
    free(buf);
    CHECK(parsed > 0, "some substitutions still parse (%d)", parsed);
}

static void test_fixture_config(void) {
    const char *shared = getenv("HEARTH_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/nemotron_h_tiny/config.json", shared ? shared : "../shared");
    char *text = NULL;
    size_t len = 0;
    hearth_err e = {0};
    if (hu_read_text(path, &text, &len, &e) != HEARTH_OK) {
        CHECK(0, "cannot read %s: %s", path, e.msg);
        return;
    }
    json_value *v = json_parse(text, len, &e);
    free(text);
    CHECK(v != NULL, "%s: %s", path, e.msg);
    if (!v) return;
    const json_value *lbt = json_get(v, "layers_block_type");
    CHECK(lbt && lbt->type == JSON_ARRAY && lbt->len == 8, "layers_block_type has 8 entries");
    CHECK(lbt && strcmp(json_at(lbt, 3)->str, "full_attention") == 0, "layers_block_type[3]");
    double d = 0;
    const json_value *tsl = json_get(v, "time_step_limit");
    CHECK(json_number(json_at(tsl, 0), &d) && d == 0, "time_step_limit[0] = 0");
    CHECK(json_number(json_at(tsl, 1), &d) && isinf(d) && d > 0, "time_step_limit[1] = +inf");
    int64_t n = 0;
    CHECK(json_get_int(v, "vocab_size", &n) && n == 512, "vocab_size = 512");
    CHECK(json_get_number(v, "layer_norm_epsilon", &d) && d == 1e-5, "layer_norm_epsilon");
    CHECK(json_get(v, "moe_latent_size") && json_get(v, "moe_latent_size")->type == JSON_NULL, "null member");
    json_free(v);
}

/* A tokenizer.json-like document of about 10 MB: a 150k-entry vocab object and 150k merges. */
static void test_big_document(void) {
    enum { N = 150000 };
    size_t cap = 16u << 20, n = 0;
    char *s = malloc(cap);
    n += (size_t)sprintf(s + n, "{\"model\": {\"type\": \"BPE\", \"vocab\": {");
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(s + n, "%s\"\\u0120tok%d_\\u00e9xyzabcdefgh\": %d", i ? ", " : "", i, i);
    n += (size_t)sprintf(s + n, "}, \"merges\": [");
    for (int i = 0; i < N; i++) n += (size_t)sprintf(s + n, "%s\"\\u0120ab%d cdefghijklmnopq%d\"", i ? ", " : "", i, i);
    n += (size_t)sprintf(s + n, "]}}");
    hearth_err e = {0};
    double t0 = hu_now();
    json_value *v = json_parse(s, n, &e);
    double t1 = hu_now();
    json_free(v);
    double t2 = hu_now();
    CHECK(v != NULL, "big document: %s", e.msg);
    printf("parsed %.1f MB in %.3f s, freed in %.3f s\n", n / 1e6, t1 - t0, t2 - t1);
    /* speed is reported, not asserted: performance belongs to benchmarks, not to tests */
    v = json_parse(s, n, &e);
    const json_value *vocab = json_get(json_get(v, "model"), "vocab");
    CHECK(vocab && vocab->len == N, "vocab has %d entries", N);
    int bad = 0;
    char want[64];
    for (size_t i = 0; vocab && i < vocab->len; i += 997) {
        snprintf(want, sizeof want, "\xc4\xa0tok%zu_\xc3\xa9xyzabcdefgh", i);
        if (strcmp(vocab->keys[i], want) != 0 || vocab->items[i].number != (double)i) bad++;
    }
    CHECK(bad == 0, "%d vocab entries wrong", bad);
    json_free(v);
    free(s);
}

int main(void) {
    test_types();
    test_escapes();
    test_extensions();
    test_get_int();
    test_rejections();
    test_depth();
    test_truncation_and_corruption();
    test_fixture_config();
    test_big_document();
    return check_summary("json");
}
