/* json.c - bounds-checked recursive-descent JSON parser producing a json_value tree (see json.h). */
#include "json.h"

#include <math.h>
#include <stdlib.h>

#define JSON_MAX_DEPTH 256

/* Parser state. Children of the containers being parsed wait on `stack` (values) and `kstack`
 * (object keys) until their container closes and moves them into exact-size arrays. Everything on
 * the stacks is owned by the parser and freed by json_parse if parsing fails. */
typedef struct {
    const char *begin, *p, *end;
    hearth_err *e;
    json_value *stack;
    size_t n, cap;
    char **kstack;
    size_t kn, kcap;
    int depth;
} json_parser;

static void json_free_contents(json_value *v) {
    if (v->type == JSON_STRING) {
        free(v->str);
    } else if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            json_free_contents(&v->items[i]);
            if (v->keys) free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
    memset(v, 0, sizeof *v);
}

void json_free(json_value *v) {
    if (!v) return;
    json_free_contents(v);
    free(v);
}

static bool json_fail(json_parser *jp, const char *what) {
    herr(jp->e, HEARTH_ERR_FORMAT, "json: %s at byte %zu", what, (size_t)(jp->p - jp->begin));
    return false;
}

static bool json_nomem(json_parser *jp) {
    herr(jp->e, HEARTH_ERR_NOMEM, "json: out of memory at byte %zu", (size_t)(jp->p - jp->begin));
    return false;
}

static void json_skip_ws(json_parser *jp) {
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\n' || *jp->p == '\r' || *jp->p == '\t')) jp->p++;
}

static bool json_push(json_parser *jp, const json_value *v) {
    if (jp->n == jp->cap) {
        size_t cap = jp->cap ? jp->cap * 2 : 64;
        json_value *s = realloc(jp->stack, cap * sizeof *s);
        if (!s) return false;
        jp->stack = s;
        jp->cap = cap;
    }
    jp->stack[jp->n++] = *v;
    return true;
}

static bool json_push_key(json_parser *jp, char *k) {
    if (jp->kn == jp->kcap) {
        size_t cap = jp->kcap ? jp->kcap * 2 : 64;
        char **s = realloc(jp->kstack, cap * sizeof *s);
        if (!s) return false;
        jp->kstack = s;
        jp->kcap = cap;
    }
    jp->kstack[jp->kn++] = k;
    return true;
}

static int json_hex4(const char *s) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t json_put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parses a string starting at the opening quote into a fresh NUL-terminated buffer. Escapes never
 * lengthen text (\uXXXX: 6 bytes -> at most 3; a surrogate pair: 12 -> 4), so the raw span plus
 * one byte is always enough room. Raw bytes >= 0x80 pass through unchecked. */
static bool json_string(json_parser *jp, char **out, size_t *out_len) {
    jp->p++; /* opening quote */
    const char *s = jp->p;
    bool escaped = false;
    while (jp->p < jp->end && *jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        if (c < 0x20) return json_fail(jp, "control character in string");
        if (c == '\\') {
            escaped = true;
            if (jp->end - jp->p < 2) {
                jp->p = jp->end;
                break;
            }
            jp->p++;
        }
        jp->p++;
    }
    if (jp->p >= jp->end) return json_fail(jp, "unterminated string");
    const char *close = jp->p;
    size_t span = (size_t)(close - s);
    char *buf = malloc(span + 1);
    if (!buf) return json_nomem(jp);
    if (!escaped) {
        memcpy(buf, s, span);
        buf[span] = 0;
        *out = buf;
        *out_len = span;
        jp->p = close + 1;
        return true;
    }
    size_t o = 0;
    for (const char *q = s; q < close;) {
        if (*q != '\\') {
            buf[o++] = *q++;
            continue;
        }
        q++; /* the scan above guarantees a character after every backslash, before close */
        char c = *q++;
        switch (c) {
        case '"': buf[o++] = '"'; break;
        case '\\': buf[o++] = '\\'; break;
        case '/': buf[o++] = '/'; break;
        case 'b': buf[o++] = '\b'; break;
        case 'f': buf[o++] = '\f'; break;
        case 'n': buf[o++] = '\n'; break;
        case 'r': buf[o++] = '\r'; break;
        case 't': buf[o++] = '\t'; break;
        case 'u': {
            int h = close - q >= 4 ? json_hex4(q) : -1;
            if (h < 0) {
                free(buf);
                jp->p = q - 2;
                return json_fail(jp, "bad \\u escape");
            }
            q += 4;
            uint32_t cp = (uint32_t)h;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int l = (close - q >= 6 && q[0] == '\\' && q[1] == 'u') ? json_hex4(q + 2) : -1;
                if (l >= 0xdc00 && l <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)l - 0xdc00);
                    q += 6;
                } else {
                    cp = 0xfffd; /* lone high surrogate */
                }
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                cp = 0xfffd; /* lone low surrogate */
            }
            o += json_put_utf8(buf + o, cp);
            break;
        }
        default:
            free(buf);
            jp->p = q - 2;
            return json_fail(jp, "bad escape in string");
        }
    }
    buf[o] = 0;
    *out = buf;
    *out_len = o;
    jp->p = close + 1;
    return true;
}

static bool json_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Checks the JSON number grammar -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? and converts it.
 * Plain integers of up to 15 digits are exact in a double and skip strtod. */
static bool json_number_lit(json_parser *jp, double *out) {
    const char *s = jp->p, *q = s, *end = jp->end;
    bool neg = false, simple = true;
    if (q < end && *q == '-') {
        neg = true;
        q++;
    }
    const char *digits = q;
    if (q < end && *q == '0') {
        q++;
    } else if (q < end && json_is_digit(*q)) {
        while (q < end && json_is_digit(*q)) q++;
    } else {
        jp->p = q;
        return json_fail(jp, "bad number");
    }
    size_t n_int = (size_t)(q - digits);
    if (q < end && *q == '.') {
        simple = false;
        q++;
        if (q >= end || !json_is_digit(*q)) {
            jp->p = q;
            return json_fail(jp, "bad number fraction");
        }
        while (q < end && json_is_digit(*q)) q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        simple = false;
        q++;
        if (q < end && (*q == '+' || *q == '-')) q++;
        if (q >= end || !json_is_digit(*q)) {
            jp->p = q;
            return json_fail(jp, "bad number exponent");
        }
        while (q < end && json_is_digit(*q)) q++;
    }
    jp->p = q;
    if (simple && n_int <= 15) {
        int64_t v = 0;
        for (const char *d = digits; d < q; d++) v = v * 10 + (*d - '0');
        *out = neg ? -(double)v : (double)v;
        return true;
    }
    /* strtod needs a NUL-terminated copy: the text is not terminated at `len`. (Decimal point
     * is '.' as long as the program has not changed LC_NUMERIC.) */
    size_t n = (size_t)(q - s);
    char small[128];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return json_nomem(jp);
    memcpy(buf, s, n);
    buf[n] = 0;
    *out = strtod(buf, NULL);
    if (buf != small) free(buf);
    return true;
}

/* Matches the literal `word` at the cursor; true (and advances) when the whole word is there. */
static bool json_word(json_parser *jp, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0) return false;
    jp->p += n;
    return true;
}

static bool json_value_parse(json_parser *jp, json_value *out);

/* Moves the last `count` stacked values (and keys, for objects) into *out. */
static bool json_close(json_parser *jp, json_value *out, json_type type, size_t base, size_t kbase) {
    size_t count = jp->n - base;
    memset(out, 0, sizeof *out);
    out->type = type;
    if (count) {
        out->items = malloc(count * sizeof *out->items);
        if (!out->items) return json_nomem(jp);
        if (type == JSON_OBJECT) {
            out->keys = malloc(count * sizeof *out->keys);
            if (!out->keys) {
                free(out->items);
                out->items = NULL;
                return json_nomem(jp);
            }
            memcpy(out->keys, jp->kstack + kbase, count * sizeof *out->keys);
            jp->kn = kbase;
        }
        memcpy(out->items, jp->stack + base, count * sizeof *out->items);
        jp->n = base;
    }
    out->len = count;
    return true;
}

static bool json_array(json_parser *jp, json_value *out) {
    size_t base = jp->n;
    jp->p++; /* [ */
    json_skip_ws(jp);
    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        return json_close(jp, out, JSON_ARRAY, base, jp->kn);
    }
    for (;;) {
        json_value v;
        if (!json_value_parse(jp, &v)) return false;
        if (!json_push(jp, &v)) {
            json_free_contents(&v);
            return json_nomem(jp);
        }
        json_skip_ws(jp);
        if (jp->p >= jp->end) return json_fail(jp, "unterminated array");
        if (*jp->p == ',') {
            jp->p++;
            continue;
        }
        if (*jp->p == ']') {
            jp->p++;
            return json_close(jp, out, JSON_ARRAY, base, jp->kn);
        }
        return json_fail(jp, "expected ',' or ']' in array");
    }
}

static bool json_object(json_parser *jp, json_value *out) {
    size_t base = jp->n, kbase = jp->kn;
    jp->p++; /* { */
    json_skip_ws(jp);
    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        return json_close(jp, out, JSON_OBJECT, base, kbase);
    }
    for (;;) {
        json_skip_ws(jp);
        if (jp->p >= jp->end) return json_fail(jp, "unterminated object");
        if (*jp->p != '"') return json_fail(jp, "expected a string key in object");
        char *key;
        size_t klen;
        if (!json_string(jp, &key, &klen)) return false;
        if (!json_push_key(jp, key)) {
            free(key);
            return json_nomem(jp);
        }
        json_skip_ws(jp);
        if (jp->p >= jp->end || *jp->p != ':') return json_fail(jp, "expected ':' after object key");
        jp->p++;
        json_value v;
        if (!json_value_parse(jp, &v)) return false;
        if (!json_push(jp, &v)) {
            json_free_contents(&v);
            return json_nomem(jp);
        }
        json_skip_ws(jp);
        if (jp->p >= jp->end) return json_fail(jp, "unterminated object");
        if (*jp->p == ',') {
            jp->p++;
            continue;
        }
        if (*jp->p == '}') {
            jp->p++;
            return json_close(jp, out, JSON_OBJECT, base, kbase);
        }
        return json_fail(jp, "expected ',' or '}' in object");
    }
}

/* Parses one value into *out. On failure *out owns nothing; values already stacked are freed by
 * json_parse. */
static bool json_value_parse(json_parser *jp, json_value *out) {
    memset(out, 0, sizeof *out);
    json_skip_ws(jp);
    if (jp->p >= jp->end) return json_fail(jp, "unexpected end of input");
    char c = *jp->p;
    if (c == '{' || c == '[') {
        if (jp->depth >= JSON_MAX_DEPTH) return json_fail(jp, "nesting deeper than 256 levels");
        jp->depth++;
        bool ok = c == '{' ? json_object(jp, out) : json_array(jp, out);
        jp->depth--;
        return ok;
    }
    if (c == '"') {
        out->type = JSON_STRING;
        return json_string(jp, &out->str, &out->len);
    }
    if (json_word(jp, "true")) {
        out->type = JSON_BOOL;
        out->boolean = true;
        return true;
    }
    if (json_word(jp, "false")) {
        out->type = JSON_BOOL;
        return true;
    }
    if (json_word(jp, "null")) {
        out->type = JSON_NULL;
        return true;
    }
    out->type = JSON_NUMBER;
    if (json_word(jp, "NaN")) {
        out->number = NAN;
        return true;
    }
    if (json_word(jp, "Infinity")) {
        out->number = INFINITY;
        return true;
    }
    if (json_word(jp, "-Infinity")) {
        out->number = -INFINITY;
        return true;
    }
    if (c == '-' || json_is_digit(c)) return json_number_lit(jp, &out->number);
    out->type = JSON_NULL;
    return json_fail(jp, "unexpected character");
}

json_value *json_parse(const char *text, size_t len, hearth_err *e) {
    if (!text && len) {
        herr(e, HEARTH_ERR_INVALID_ARG, "json: NULL text");
        return NULL;
    }
    json_parser jp = {.begin = text, .p = text, .end = text + len, .e = e};
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) jp.p += 3; /* UTF-8 byte order mark */
    json_value *root = malloc(sizeof *root);
    bool ok = root != NULL;
    if (!ok) json_nomem(&jp);
    if (ok) ok = json_value_parse(&jp, root);
    if (ok) {
        json_skip_ws(&jp);
        if (jp.p != jp.end) {
            json_free_contents(root);
            ok = json_fail(&jp, "trailing characters after the value");
        }
    }
    for (size_t i = 0; i < jp.n; i++) json_free_contents(&jp.stack[i]);
    for (size_t i = 0; i < jp.kn; i++) free(jp.kstack[i]);
    free(jp.stack);
    free(jp.kstack);
    if (!ok) {
        free(root);
        return NULL;
    }
    return root;
}

/* Linear search; with duplicate keys the last one wins, as in Python's json module. */
const json_value *json_get(const json_value *v, const char *key) {
    if (!v || v->type != JSON_OBJECT || !key) return NULL;
    for (size_t i = v->len; i-- > 0;)
        if (strcmp(v->keys[i], key) == 0) return &v->items[i];
    return NULL;
}

const json_value *json_at(const json_value *v, size_t i) {
    if (!v || v->type != JSON_ARRAY || i >= v->len) return NULL;
    return &v->items[i];
}

bool json_number(const json_value *v, double *out) {
    if (!v) return false;
    if (v->type == JSON_NUMBER) {
        *out = v->number;
        return true;
    }
    const json_value *f = json_get(v, "__float__");
    if (!f || f->type != JSON_STRING) return false;
    if (strcmp(f->str, "Infinity") == 0) *out = INFINITY;
    else if (strcmp(f->str, "-Infinity") == 0) *out = -INFINITY;
    else if (strcmp(f->str, "NaN") == 0) *out = NAN;
    else return false;
    return true;
}

bool json_get_number(const json_value *obj, const char *key, double *out) {
    return json_number(json_get(obj, key), out);
}

bool json_get_int(const json_value *obj, const char *key, int64_t *out) {
    double d;
    if (!json_get_number(obj, key, &d)) return false;
    /* -2^63 <= d < 2^63, and integral (NaN fails every comparison) */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d)) return false;
    *out = (int64_t)d;
    return true;
}

bool json_get_bool(const json_value *obj, const char *key, bool *out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_BOOL) return false;
    *out = v->boolean;
    return true;
}

const char *json_get_string(const json_value *obj, const char *key) {
    const json_value *v = json_get(obj, key);
    return v && v->type == JSON_STRING ? v->str : NULL;
}
