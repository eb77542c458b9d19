/* jinja_value.c - the Jinja interpreter's values: arena, lists and dicts, Python str/repr, JSON, equality and order. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "jinja.h"
#include "json.h"
#include "unicode.h"

/* ---- arena ------------------------------------------------------------------------------ */

struct jinja_chunk {
    jinja_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

enum { JINJA_CHUNK = 64 * 1024 };

void *jinja_alloc(jinja_arena *a, size_t size) {
    void *p = jinja_alloc_bytes(a, size);
    if (p) memset(p, 0, size);
    return p;
}

void *jinja_alloc_bytes(jinja_arena *a, size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (size == 0) size = 16;
    jinja_chunk *h = a->head;
    if (!h || h->size - h->used < size) {
        size_t want = size > JINJA_CHUNK / 4 ? size : JINJA_CHUNK;
        if (want > a->cap || a->total > a->cap - want) return NULL;
        jinja_chunk *n = malloc(sizeof *n + want);
        if (!n) return NULL;
        a->total += want;
        n->size = want;
        n->used = 0;
        if (want == JINJA_CHUNK || !h) {
            n->next = h;
            a->head = n;
            h = n;
        } else { /* a big block: keep filling the current chunk afterwards */
            n->next = h->next;
            h->next = n;
            h = n;
        }
    }
    void *p = h->data + h->used;
    h->used += size;
    return p;
}

void jinja_arena_free(jinja_arena *a) {
    jinja_chunk *c = a->head;
    while (c) {
        jinja_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}

/* ---- errors and buffers ----------------------------------------------------------------- */

void jinja_line_col(const char *src, size_t len, size_t pos, int *line, int *col) {
    int l = 1, cl = 1;
    if (pos > len) pos = len;
    for (size_t i = 0; i < pos; i++) {
        if (src[i] == '\n') {
            l++;
            cl = 1;
        } else if (((unsigned char)src[i] & 0xC0) != 0x80) {
            cl++;
        }
    }
    *line = l;
    *col = cl;
}

bool jinja_fail(jinja_ctx *c, const char *fmt, ...) {
    if (c->failed) return false;
    c->failed = true;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    jinja_line_col(c->src, c->src_len, c->pos, &line, &col);
    herr(c->e, HEARTH_ERR_TEMPLATE, "template error at line %d: %s", line, msg);
    return false;
}

bool jinja_fail_raw(jinja_ctx *c, const char *msg, size_t n) {
    if (c->failed) return false;
    c->failed = true;
    if (n > 500) n = 500;
    herr(c->e, HEARTH_ERR_TEMPLATE, "%.*s", (int)n, msg);
    return false;
}

void *jinja_ctx_alloc(jinja_ctx *c, size_t size) {
    void *p = jinja_alloc(c->mem, size);
    if (!p) jinja_fail(c, "out of memory (a render may use at most %zu MiB)", JINJA_MAX_MEMORY >> 20);
    return p;
}

void *jinja_ctx_alloc_bytes(jinja_ctx *c, size_t size) {
    void *p = jinja_alloc_bytes(c->mem, size);
    if (!p) jinja_fail(c, "out of memory (a render may use at most %zu MiB)", JINJA_MAX_MEMORY >> 20);
    return p;
}

bool jinja_buf_put(jinja_ctx *c, jinja_buf *b, const char *s, size_t n) {
    if (c->failed) return false;
    if (n == 0) return true;
    if (n > JINJA_MAX_OUTPUT || b->len > JINJA_MAX_OUTPUT - n)
        return jinja_fail(c, "output too large (more than %zu MiB)", JINJA_MAX_OUTPUT >> 20);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        if (cap < b->len + n + 1) cap = b->len + n + 1;
        char *p;
        if (b->arena) {
            p = jinja_ctx_alloc_bytes(c, cap);
            if (!p) return false;
            if (b->len) memcpy(p, b->p, b->len);
        } else {
            p = realloc(b->p, cap);
            if (!p) return jinja_fail(c, "out of memory");
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return true;
}

bool jinja_buf_printf(jinja_ctx *c, jinja_buf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return jinja_fail(c, "formatting failed");
    if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
    return jinja_buf_put(c, b, tmp, (size_t)n);
}

bool jinja_new_str(jinja_ctx *c, const char *s, size_t n, jv *out) {
    if (n > JINJA_MAX_OUTPUT) return jinja_fail(c, "string too large");
    char *p = jinja_ctx_alloc_bytes(c, n + 1);
    if (!p) return false;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    *out = jv_str(p, n);
    return true;
}

/* ---- UTF-8 ------------------------------------------------------------------------------ */

uint32_t jinja_utf8_next(const char *s, size_t n, size_t *i) {
    const unsigned char *u = (const unsigned char *)s;
    size_t k = *i;
    uint32_t c = u[k];
    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    int extra;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) {
        extra = 1;
        c &= 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        extra = 2;
        c &= 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        extra = 3;
        c &= 0x07;
        min = 0x10000;
    } else {
        *i = k + 1;
        return 0xFFFD;
    }
    if ((size_t)extra >= n - k) {
        *i = k + 1;
        return 0xFFFD;
    }
    for (int j = 1; j <= extra; j++) {
        if ((u[k + j] & 0xC0) != 0x80) {
            *i = k + 1;
            return 0xFFFD;
        }
        c = (c << 6) | (u[k + j] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *i = k + 1;
        return 0xFFFD;
    }
    *i = k + 1 + (size_t)extra;
    return c;
}

size_t jinja_utf8_put(uint32_t cp, char out[4]) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    return hk_utf8_encode(cp, out);
}

size_t jinja_utf8_count(const char *s, size_t n) {
    size_t k = 0, i = 0;
    while (i < n) {
        jinja_utf8_next(s, n, &i);
        k++;
    }
    return k;
}

size_t jinja_utf8_offset(const char *s, size_t n, size_t k) {
    size_t i = 0;
    while (k > 0 && i < n) {
        jinja_utf8_next(s, n, &i);
        k--;
    }
    return i;
}

bool jinja_is_space(uint32_t cp) {
    return (cp >= 9 && cp <= 13) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

/* ---- lists and dicts -------------------------------------------------------------------- */

jv_list *jinja_list_new(jinja_ctx *c, size_t n) {
    if (n > JINJA_MAX_MEMORY / sizeof(jv)) {
        jinja_fail(c, "list too large");
        return NULL;
    }
    jv_list *l = jinja_ctx_alloc(c, sizeof *l);
    if (!l) return NULL;
    if (n) {
        l->items = jinja_ctx_alloc(c, n * sizeof(jv));
        if (!l->items) return NULL;
    }
    l->n = n;
    return l;
}

jv jinja_list_value(jv_list *l) {
    jv v = {JV_LIST, 0, {0}};
    v.u.list = l;
    return v;
}

jv jinja_tuple_value(jv_list *l) {
    jv v = jinja_list_value(l);
    v.len = 1;
    return v;
}

jv_dict *jinja_dict_new(jinja_ctx *c, size_t cap) {
    jv_dict *d = jinja_ctx_alloc(c, sizeof *d);
    if (!d) return NULL;
    if (cap > JINJA_MAX_MEMORY / (2 * sizeof(jv))) {
        jinja_fail(c, "dict too large");
        return NULL;
    }
    if (cap) {
        d->keys = jinja_ctx_alloc(c, cap * sizeof(jv));
        d->vals = jinja_ctx_alloc(c, cap * sizeof(jv));
        if (!d->keys || !d->vals) return NULL;
    }
    d->cap = cap;
    return d;
}

jv jinja_dict_value(jv_dict *d) {
    jv v = {JV_DICT, 0, {0}};
    v.u.dict = d;
    return v;
}

const jv *jinja_dict_get(const jv_dict *d, jv key) {
    for (size_t i = 0; i < d->n; i++)
        if (jinja_equal(d->keys[i], key)) return &d->vals[i];
    return NULL;
}

const jv *jinja_dict_get_cstr(const jv_dict *d, const char *key) {
    size_t n = strlen(key);
    for (size_t i = 0; i < d->n; i++) {
        const jv *k = &d->keys[i];
        if (k->type == JV_STRING && k->len == n && memcmp(k->u.s, key, n) == 0) return &d->vals[i];
    }
    return NULL;
}

bool jinja_dict_set(jinja_ctx *c, jv_dict *d, jv key, jv val) {
    for (size_t i = 0; i < d->n; i++) {
        if (jinja_equal(d->keys[i], key)) {
            d->vals[i] = val;
            return true;
        }
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        if (cap > JINJA_MAX_MEMORY / (2 * sizeof(jv))) return jinja_fail(c, "dict too large");
        jv *k = jinja_ctx_alloc(c, cap * sizeof(jv));
        jv *v = jinja_ctx_alloc(c, cap * sizeof(jv));
        if (!k || !v) return false;
        if (d->n) {
            memcpy(k, d->keys, d->n * sizeof(jv));
            memcpy(v, d->vals, d->n * sizeof(jv));
        }
        d->keys = k;
        d->vals = v;
        d->cap = cap;
    }
    d->keys[d->n] = key;
    d->vals[d->n] = val;
    d->n++;
    return true;
}

bool jinja_iterate(jinja_ctx *c, jv v, jv_list **out) {
    switch (v.type) {
    case JV_UNDEFINED: return (*out = jinja_list_new(c, 0)) != NULL;
    case JV_LIST: *out = v.u.list; return true;
    case JV_DICT: {
        jv_list *l = jinja_list_new(c, v.u.dict->n);
        if (!l) return false;
        for (size_t i = 0; i < v.u.dict->n; i++) l->items[i] = v.u.dict->keys[i];
        *out = l;
        return true;
    }
    case JV_STRING: {
        jv_list *l = jinja_list_new(c, jinja_utf8_count(v.u.s, v.len));
        if (!l) return false;
        size_t i = 0, k = 0;
        while (i < v.len) {
            size_t start = i;
            jinja_utf8_next(v.u.s, v.len, &i);
            l->items[k++] = jv_str(v.u.s + start, i - start);
        }
        *out = l;
        return true;
    }
    default: return jinja_fail(c, "'%s' object is not iterable", jinja_type_name(v));
    }
}

/* ---- truthiness, names ------------------------------------------------------------------ */

bool jinja_truthy(jv v) {
    switch (v.type) {
    case JV_UNDEFINED:
    case JV_NONE: return false;
    case JV_BOOL: return v.u.b;
    case JV_INT: return v.u.i != 0;
    case JV_FLOAT: return v.u.f != 0.0;
    case JV_STRING: return v.len != 0;
    case JV_LIST: return v.len == 2 || v.u.list->n != 0; /* a generator object is always true */
    case JV_DICT: return v.u.dict->n != 0;
    default: return true;
    }
}

const char *jinja_type_name(jv v) {
    static const char *const names[] = {"Undefined", "NoneType", "bool",     "int",      "float",    "str",
                                        "list",      "dict",     "Namespace", "Macro",   "function", "LoopContext"};
    return (unsigned)v.type < sizeof names / sizeof names[0] ? names[v.type] : "object";
}

/* ---- str(), repr() ---------------------------------------------------------------------- */

/* Python's repr(float): the shortest digits that read back to the same double. */
static void format_float(double x, char out[48]) {
    if (isnan(x)) {
        strcpy(out, "nan");
        return;
    }
    if (isinf(x)) {
        strcpy(out, x < 0 ? "-inf" : "inf");
        return;
    }
    if (x == 0) {
        strcpy(out, signbit(x) ? "-0.0" : "0.0");
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
        if (strtod(buf, NULL) == x) break;
    }
    /* buf: [-]d[.ddd]e[+-]XX */
    char digits[24];
    int nd = 0, exp10 = 0;
    const char *p = buf;
    bool neg = *p == '-';
    if (neg) p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < 20) digits[nd++] = *p;
    if (*p == 'e') exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    char *o = out;
    if (neg) *o++ = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++) *o++ = i < nd ? digits[i] : '0';
            *o++ = '.';
            if (nd > exp10 + 1) {
                for (int i = exp10 + 1; i < nd; i++) *o++ = digits[i];
            } else {
                *o++ = '0';
            }
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
            for (int i = 0; i < nd; i++) *o++ = digits[i];
        }
        *o = 0;
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; i++) *o++ = digits[i];
        }
        snprintf(o, 24, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}

static bool write_repr_str(jinja_ctx *c, jinja_buf *b, const char *s, size_t n) {
    bool has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    if (!jinja_buf_put(c, b, &q, 1)) return false;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *esc = NULL;
        char tmp[8];
        if (ch == '\\') esc = "\\\\";
        else if (ch == (unsigned char)q) esc = q == '\'' ? "\\'" : "\\\"";
        else if (ch == '\n') esc = "\\n";
        else if (ch == '\r') esc = "\\r";
        else if (ch == '\t') esc = "\\t";
        else if (ch < 0x20 || ch == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", ch);
            esc = tmp;
        }
        if (esc) {
            if (!jinja_buf_put(c, b, s + run, i - run) || !jinja_buf_puts(c, b, esc)) return false;
            run = i + 1;
        }
    }
    return jinja_buf_put(c, b, s + run, n - run) && jinja_buf_put(c, b, &q, 1);
}

static bool write_py(jinja_ctx *c, jinja_buf *b, jv v, bool repr, int depth) {
    if (depth > 256) return jinja_fail(c, "value nested too deeply");
    char tmp[48];
    switch (v.type) {
    case JV_UNDEFINED: return repr ? jinja_buf_puts(c, b, "Undefined") : true;
    case JV_NONE: return jinja_buf_puts(c, b, "None");
    case JV_BOOL: return jinja_buf_puts(c, b, v.u.b ? "True" : "False");
    case JV_INT: return jinja_buf_printf(c, b, "%lld", (long long)v.u.i);
    case JV_FLOAT: format_float(v.u.f, tmp); return jinja_buf_puts(c, b, tmp);
    case JV_STRING: return repr ? write_repr_str(c, b, v.u.s, v.len) : jinja_buf_put(c, b, v.u.s, v.len);
    case JV_LIST:
        if (v.len == 2) return jinja_buf_puts(c, b, "<generator object>");
        if (!jinja_buf_puts(c, b, v.len ? "(" : "[")) return false;
        for (size_t i = 0; i < v.u.list->n; i++) {
            if (i && !jinja_buf_puts(c, b, ", ")) return false;
            if (!write_py(c, b, v.u.list->items[i], true, depth + 1)) return false;
        }
        if (v.len && v.u.list->n == 1 && !jinja_buf_puts(c, b, ",")) return false;
        return jinja_buf_puts(c, b, v.len ? ")" : "]");
    case JV_DICT:
    case JV_NAMESPACE:
        if (v.type == JV_NAMESPACE && !jinja_buf_puts(c, b, "<Namespace ")) return false;
        if (!jinja_buf_puts(c, b, "{")) return false;
        for (size_t i = 0; i < v.u.dict->n; i++) {
            if (i && !jinja_buf_puts(c, b, ", ")) return false;
            if (!write_py(c, b, v.u.dict->keys[i], true, depth + 1) || !jinja_buf_puts(c, b, ": ") ||
                !write_py(c, b, v.u.dict->vals[i], true, depth + 1))
                return false;
        }
        return jinja_buf_puts(c, b, v.type == JV_NAMESPACE ? "}>" : "}");
    case JV_MACRO: return jinja_buf_puts(c, b, "<Macro>");
    case JV_FUNCTION: return jinja_buf_puts(c, b, "<built-in function>");
    case JV_LOOP: return jinja_buf_printf(c, b, "<LoopContext %zu/%zu>", v.u.loop->index0 + 1, v.u.loop->n);
    }
    return true;
}

bool jinja_write_str(jinja_ctx *c, jinja_buf *b, jv v) { return write_py(c, b, v, false, 0); }
bool jinja_write_repr(jinja_ctx *c, jinja_buf *b, jv v) { return write_py(c, b, v, true, 0); }

bool jinja_to_string(jinja_ctx *c, jv v, jv *out) {
    if (v.type == JV_STRING) {
        *out = v;
        return true;
    }
    if (v.type == JV_UNDEFINED) {
        *out = jv_str("", 0);
        return true;
    }
    jinja_buf b = {0};
    b.arena = c->mem;
    if (!jinja_write_str(c, &b, v)) return false;
    *out = jinja_buf_value(&b);
    return true;
}

/* ---- JSON (Python's json.dumps) --------------------------------------------------------- */

static bool json_str(jinja_ctx *c, jinja_buf *b, const char *s, size_t n, bool ascii) {
    if (!jinja_buf_puts(c, b, "\"")) return false;
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        char tmp[16];
        const char *esc = NULL;
        size_t start = i;
        if (ch == '"') esc = "\\\"";
        else if (ch == '\\') esc = "\\\\";
        else if (ch == '\n') esc = "\\n";
        else if (ch == '\r') esc = "\\r";
        else if (ch == '\t') esc = "\\t";
        else if (ch == '\b') esc = "\\b";
        else if (ch == '\f') esc = "\\f";
        else if (ch < 0x20 || (ascii && ch == 0x7f)) {
            snprintf(tmp, sizeof tmp, "\\u%04x", ch);
            esc = tmp;
        }
        if (esc) {
            i++;
        } else if (ascii && ch >= 0x80) {
            uint32_t cp = jinja_utf8_next(s, n, &i);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                snprintf(tmp, sizeof tmp, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
            } else {
                snprintf(tmp, sizeof tmp, "\\u%04x", cp);
            }
            esc = tmp;
        } else {
            i++;
            continue;
        }
        if (!jinja_buf_put(c, b, s + run, start - run) || !jinja_buf_puts(c, b, esc)) return false;
        run = i;
    }
    return jinja_buf_put(c, b, s + run, n - run) && jinja_buf_puts(c, b, "\"");
}

static bool json_newline(jinja_ctx *c, jinja_buf *b, const jinja_json_opts *o, int level) {
    if (!jinja_buf_puts(c, b, "\n")) return false;
    for (int i = 0; i < level; i++)
        if (!jinja_buf_put(c, b, o->indent, o->indent_len)) return false;
    return true;
}

static bool json_key(jinja_ctx *c, jinja_buf *b, jv k, const jinja_json_opts *o) {
    char tmp[48];
    switch (k.type) {
    case JV_STRING: return json_str(c, b, k.u.s, k.len, o->ensure_ascii);
    case JV_INT: return jinja_buf_printf(c, b, "\"%lld\"", (long long)k.u.i);
    case JV_FLOAT: format_float(k.u.f, tmp); return jinja_buf_printf(c, b, "\"%s\"", tmp);
    case JV_BOOL: return jinja_buf_puts(c, b, k.u.b ? "\"true\"" : "\"false\"");
    case JV_NONE: return jinja_buf_puts(c, b, "\"null\"");
    default: return jinja_fail(c, "keys must be str, int, float, bool or None, not %s", jinja_type_name(k));
    }
}

static bool write_json(jinja_ctx *c, jinja_buf *b, jv v, const jinja_json_opts *o, int level) {
    if (level > 256) return jinja_fail(c, "value nested too deeply");
    const char *item_sep = o->item_sep ? o->item_sep : (o->indent ? "," : ", ");
    const char *key_sep = o->key_sep ? o->key_sep : ": ";
    char tmp[48];
    switch (v.type) {
    case JV_NONE: return jinja_buf_puts(c, b, "null");
    case JV_BOOL: return jinja_buf_puts(c, b, v.u.b ? "true" : "false");
    case JV_INT: return jinja_buf_printf(c, b, "%lld", (long long)v.u.i);
    case JV_FLOAT:
        if (isnan(v.u.f)) return jinja_buf_puts(c, b, "NaN");
        if (isinf(v.u.f)) return jinja_buf_puts(c, b, v.u.f < 0 ? "-Infinity" : "Infinity");
        format_float(v.u.f, tmp);
        return jinja_buf_puts(c, b, tmp);
    case JV_STRING: return json_str(c, b, v.u.s, v.len, o->ensure_ascii);
    case JV_LIST: {
        const jv_list *l = v.u.list;
        if (l->n == 0) return jinja_buf_puts(c, b, "[]");
        if (!jinja_buf_puts(c, b, "[")) return false;
        for (size_t i = 0; i < l->n; i++) {
            if (i && !jinja_buf_puts(c, b, item_sep)) return false;
            if (o->indent && !json_newline(c, b, o, level + 1)) return false;
            if (!write_json(c, b, l->items[i], o, level + 1)) return false;
        }
        if (o->indent && !json_newline(c, b, o, level)) return false;
        return jinja_buf_puts(c, b, "]");
    }
    case JV_DICT: {
        const jv_dict *d = v.u.dict;
        if (d->n == 0) return jinja_buf_puts(c, b, "{}");
        size_t *order = jinja_ctx_alloc(c, d->n * sizeof(size_t));
        if (!order) return false;
        for (size_t i = 0; i < d->n; i++) order[i] = i;
        if (o->sort_keys) { /* insertion sort: stable, and key counts are small */
            for (size_t i = 1; i < d->n; i++) {
                size_t x = order[i], j = i;
                while (j > 0) {
                    int cmp;
                    if (!jinja_compare(c, d->keys[order[j - 1]], d->keys[x], &cmp)) return false;
                    if (cmp <= 0) break;
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = x;
            }
        }
        if (!jinja_buf_puts(c, b, "{")) return false;
        for (size_t k = 0; k < d->n; k++) {
            size_t i = order[k];
            if (k && !jinja_buf_puts(c, b, item_sep)) return false;
            if (o->indent && !json_newline(c, b, o, level + 1)) return false;
            if (!json_key(c, b, d->keys[i], o) || !jinja_buf_puts(c, b, key_sep) ||
                !write_json(c, b, d->vals[i], o, level + 1))
                return false;
        }
        if (o->indent && !json_newline(c, b, o, level)) return false;
        return jinja_buf_puts(c, b, "}");
    }
    default: return jinja_fail(c, "Object of type %s is not JSON serializable", jinja_type_name(v));
    }
}

bool jinja_write_json(jinja_ctx *c, jinja_buf *b, jv v, const jinja_json_opts *o) { return write_json(c, b, v, o, 0); }

/* ---- equality and order ----------------------------------------------------------------- */

static bool num_of(jv v, double *f, int64_t *i, bool *is_int) {
    switch (v.type) {
    case JV_BOOL: *i = v.u.b; *f = v.u.b; *is_int = true; return true;
    case JV_INT: *i = v.u.i; *f = (double)v.u.i; *is_int = true; return true;
    case JV_FLOAT: *f = v.u.f; *is_int = false; return true;
    default: return false;
    }
}

static bool equal_depth(jv a, jv b, int depth) {
    if (depth > 1000) return false;
    double fa, fb;
    int64_t ia, ib;
    bool inta, intb;
    if (num_of(a, &fa, &ia, &inta) && num_of(b, &fb, &ib, &intb)) return inta && intb ? ia == ib : fa == fb;
    if (a.type != b.type) return false;
    switch (a.type) {
    case JV_UNDEFINED:
    case JV_NONE: return true;
    case JV_STRING: return a.len == b.len && (a.len == 0 || memcmp(a.u.s, b.u.s, a.len) == 0);
    case JV_LIST:
        if (a.u.list->n != b.u.list->n || a.len != b.len) return false; /* a tuple never equals a list */
        for (size_t i = 0; i < a.u.list->n; i++)
            if (!equal_depth(a.u.list->items[i], b.u.list->items[i], depth + 1)) return false;
        return true;
    case JV_DICT:
        if (a.u.dict->n != b.u.dict->n) return false;
        for (size_t i = 0; i < a.u.dict->n; i++) {
            const jv *o = NULL;
            for (size_t j = 0; j < b.u.dict->n && !o; j++)
                if (equal_depth(a.u.dict->keys[i], b.u.dict->keys[j], depth + 1)) o = &b.u.dict->vals[j];
            if (!o || !equal_depth(a.u.dict->vals[i], *o, depth + 1)) return false;
        }
        return true;
    case JV_NAMESPACE: return a.u.dict == b.u.dict;
    case JV_MACRO: return a.u.macro == b.u.macro;
    case JV_FUNCTION: return a.u.fn == b.u.fn;
    case JV_LOOP: return a.u.loop == b.u.loop;
    default: return false;
    }
}

bool jinja_equal(jv a, jv b) { return equal_depth(a, b, 0); }

static bool compare_depth(jinja_ctx *c, jv a, jv b, int *cmp, int depth) {
    if (depth > 256) return jinja_fail(c, "value nested too deeply");
    double fa, fb;
    int64_t ia, ib;
    bool inta, intb;
    if (num_of(a, &fa, &ia, &inta) && num_of(b, &fb, &ib, &intb)) {
        if (inta && intb) *cmp = ia < ib ? -1 : ia > ib;
        else *cmp = fa < fb ? -1 : fa > fb;
        return true;
    }
    if (a.type == JV_STRING && b.type == JV_STRING) {
        size_t n = a.len < b.len ? a.len : b.len;
        int r = n ? memcmp(a.u.s, b.u.s, n) : 0; /* UTF-8 byte order is code point order */
        *cmp = r < 0 ? -1 : r > 0 ? 1 : a.len < b.len ? -1 : a.len > b.len;
        return true;
    }
    if (a.type == JV_LIST && b.type == JV_LIST) {
        const jv_list *x = a.u.list, *y = b.u.list;
        for (size_t i = 0; i < x->n && i < y->n; i++) {
            if (jinja_equal(x->items[i], y->items[i])) continue;
            return compare_depth(c, x->items[i], y->items[i], cmp, depth + 1);
        }
        *cmp = x->n < y->n ? -1 : x->n > y->n;
        return true;
    }
    return jinja_fail(c, "'<' not supported between instances of '%s' and '%s'", jinja_type_name(a), jinja_type_name(b));
}

bool jinja_compare(jinja_ctx *c, jv a, jv b, int *cmp) { return compare_depth(c, a, b, cmp, 0); }

/* ---- from JSON -------------------------------------------------------------------------- */

bool jinja_from_json(jinja_ctx *c, const void *jsv, jv *out, int depth) {
    const json_value *j = jsv;
    if (depth > 256) return jinja_fail(c, "context nested too deeply");
    if (!j) {
        *out = jv_undef();
        return true;
    }
    switch (j->type) {
    case JSON_NULL: *out = jv_none(); return true;
    case JSON_BOOL: *out = jv_bool(j->boolean); return true;
    case JSON_NUMBER:
        if (j->number == floor(j->number) && fabs(j->number) <= 9007199254740992.0) *out = jv_int((int64_t)j->number);
        else *out = jv_float(j->number);
        return true;
    case JSON_STRING: *out = jv_str(j->str ? j->str : "", j->str ? j->len : 0); return true;
    case JSON_ARRAY: {
        jv_list *l = jinja_list_new(c, j->len);
        if (!l) return false;
        for (size_t i = 0; i < j->len; i++)
            if (!jinja_from_json(c, &j->items[i], &l->items[i], depth + 1)) return false;
        *out = jinja_list_value(l);
        return true;
    }
    case JSON_OBJECT: {
        jv_dict *d = jinja_dict_new(c, j->len);
        if (!d) return false;
        for (size_t i = 0; i < j->len; i++) {
            jv v;
            const char *k = j->keys && j->keys[i] ? j->keys[i] : "";
            if (!jinja_from_json(c, &j->items[i], &v, depth + 1)) return false;
            d->keys[d->n] = jv_cstr(k); /* appended as read: O(n) even for large objects */
            d->vals[d->n++] = v;
        }
        *out = jinja_dict_value(d);
        return true;
    }
    }
    *out = jv_undef();
    return true;
}
