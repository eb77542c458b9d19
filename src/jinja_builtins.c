/* jinja_builtins.c - Jinja filters, tests, global functions and the Python methods templates call on values. */
#include "jinja.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

const jv *jinja_arg(const jinja_args *a, size_t i, const char *name) {
    if (i < a->npos) return &a->pos[i];
    if (name)
        for (size_t k = 0; k < a->nkw; k++)
            if (strcmp(a->kw[k], name) == 0) return &a->kwv[k];
    return NULL;
}

/* ---- argument helpers ------------------------------------------------------------------- */

static bool arg_int(jinja_ctx *c, const jinja_args *a, size_t i, const char *name, int64_t def, int64_t *out) {
    const jv *v = jinja_arg(a, i, name);
    if (!v || v->type == JV_NONE || v->type == JV_UNDEFINED) {
        *out = def;
        return true;
    }
    if (v->type == JV_INT) *out = v->u.i;
    else if (v->type == JV_BOOL) *out = v->u.b;
    else return jinja_fail(c, "argument '%s' must be an integer, not %s", name ? name : "?", jinja_type_name(*v));
    return true;
}

static bool arg_bool(const jinja_args *a, size_t i, const char *name, bool def) {
    const jv *v = jinja_arg(a, i, name);
    return v ? jinja_truthy(*v) : def;
}

/* A string argument; *out stays NULL-valued (type undefined) when absent and optional. */
static bool arg_str(jinja_ctx *c, const jinja_args *a, size_t i, const char *name, bool required, jv *out) {
    const jv *v = jinja_arg(a, i, name);
    *out = jv_undef();
    if (!v || (!required && (v->type == JV_NONE || v->type == JV_UNDEFINED))) {
        if (required) return jinja_fail(c, "missing argument '%s'", name ? name : "?");
        return true;
    }
    if (v->type != JV_STRING) return jinja_fail(c, "argument '%s' must be a string, not %s", name ? name : "?", jinja_type_name(*v));
    *out = *v;
    return true;
}

/* A NUL-terminated copy of a string value (names of filters and tests given as arguments). */
static const char *cstr(jinja_ctx *c, jv s) {
    char *p = jinja_ctx_alloc(c, s.len + 1);
    if (p && s.len) memcpy(p, s.u.s, s.len);
    return p;
}

static jinja_args shift_args(const jinja_args *a, size_t k) {
    jinja_args r = *a;
    if (k > r.npos) k = r.npos;
    if (k) r.pos += k;
    r.npos -= k;
    return r;
}

static bool new_buf_str(jinja_ctx *c, jinja_buf *b, jv *out) {
    if (!jinja_buf_put(c, b, "", 0)) return false;
    if (!b->p) return jinja_new_str(c, "", 0, out);
    *out = jinja_buf_value(b);
    return true;
}

/* ---- string helpers --------------------------------------------------------------------- */

static char ascii_lower(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch; }

/* Simple (one to one) case mapping for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic, which
 * covers the text chat templates change case of; other characters have no case here.
 * Returns the other-case code point in *other and 1 for lower case, 2 for upper case, 0 for none. */
static int cp_case(uint32_t c, uint32_t *other) {
    *other = c;
    if (c < 0x80) {
        if (c >= 'a' && c <= 'z') return *other = c - 32, 1;
        if (c >= 'A' && c <= 'Z') return *other = c + 32, 2;
        return 0;
    }
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return *other = c + 32, 2;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return *other = c - 32, 1;
    if (c == 0xDF) return 1; /* sharp s: upper case is two letters */
    if (c == 0xFF) return *other = 0x178, 1;
    if (c == 0x178) return *other = 0xFF, 2;
    if (c == 0x130) return *other = 'i', 2;
    if (c == 0x131) return *other = 'I', 1;
    if (c == 0x138 || c == 0x149) return 1;
    if (c == 0x17F) return *other = 'S', 1;
    if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177) ||
        (c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF))
        return c % 2 == 0 ? (*other = c + 1, 2) : (*other = c - 1, 1);
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return c % 2 == 1 ? (*other = c + 1, 2) : (*other = c - 1, 1);
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return *other = c + 32, 2;
    if (c >= 0x3B1 && c <= 0x3C9) return *other = c == 0x3C2 ? 0x3A3 : c - 32, 1;
    if (c == 0x386) return *other = 0x3AC, 2;
    if (c == 0x3AC) return *other = 0x386, 1;
    if (c >= 0x388 && c <= 0x38A) return *other = c + 37, 2;
    if (c >= 0x3AD && c <= 0x3AF) return *other = c - 37, 1;
    if (c == 0x38C) return *other = 0x3CC, 2;
    if (c == 0x3CC) return *other = 0x38C, 1;
    if (c == 0x38E || c == 0x38F) return *other = c + 63, 2;
    if (c == 0x3CD || c == 0x3CE) return *other = c - 63, 1;
    if (c >= 0x410 && c <= 0x42F) return *other = c + 32, 2;
    if (c >= 0x430 && c <= 0x44F) return *other = c - 32, 1;
    if (c >= 0x400 && c <= 0x40F) return *other = c + 80, 2;
    if (c >= 0x450 && c <= 0x45F) return *other = c - 80, 1;
    return 0;
}

static uint32_t cp_to(uint32_t c, bool upper) {
    uint32_t o;
    int k = cp_case(c, &o);
    return (upper && k == 1) || (!upper && k == 2) ? o : c;
}

typedef enum { CASE_UPPER, CASE_LOWER, CASE_CAPITALIZE, CASE_TITLE, CASE_PYTITLE } case_mode;

/* upper / lower / capitalize; CASE_TITLE is Jinja's title filter (a word starts after whitespace,
 * '-', '(', '{', '[' or '<'); CASE_PYTITLE is Python's str.title() (after any character without case). */
static bool change_case(jinja_ctx *c, jv s, case_mode mode, jv *out) {
    jinja_buf b = {0};
    b.arena = c->mem;
    bool word_start = true;
    size_t i = 0, k = 0;
    while (i < s.len) {
        size_t start = i;
        uint32_t cp = jinja_utf8_next(s.u.s, s.len, &i), other, r = cp;
        if (cp == 0xFFFD && i - start == 1 && (unsigned char)s.u.s[start] >= 0x80) { /* invalid byte: keep */
            if (!jinja_buf_put(c, &b, s.u.s + start, 1)) return false;
            k++;
            continue;
        }
        switch (mode) {
        case CASE_UPPER: r = cp_to(cp, true); break;
        case CASE_LOWER: r = cp_to(cp, false); break;
        case CASE_CAPITALIZE: r = cp_to(cp, k == 0); break;
        case CASE_TITLE:
            r = cp_to(cp, word_start);
            word_start = jinja_is_space(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
            break;
        case CASE_PYTITLE:
            r = cp_to(cp, word_start);
            word_start = cp_case(cp, &other) == 0;
            break;
        }
        char u8[4];
        if (!jinja_buf_put(c, &b, u8, jinja_utf8_put(r, u8))) return false;
        k++;
    }
    if (!jinja_buf_put(c, &b, "", 0)) return false;
    *out = b.p ? jinja_buf_value(&b) : jv_str("", 0);
    return true;
}

static bool has_cp(jv chars, uint32_t cp) {
    size_t i = 0;
    while (i < chars.len)
        if (jinja_utf8_next(chars.u.s, chars.len, &i) == cp) return true;
    return false;
}

/* str.strip / lstrip / rstrip: chars undefined means whitespace. */
static jv strip(jv s, jv chars, bool left, bool right) {
    size_t start = 0, end = s.len;
    bool ws = chars.type != JV_STRING;
    if (left) {
        while (start < end) {
            size_t j = start;
            uint32_t cp = jinja_utf8_next(s.u.s, s.len, &j);
            if (ws ? !jinja_is_space(cp) : !has_cp(chars, cp)) break;
            start = j;
        }
    }
    if (right) {
        size_t i = start, keep = start;
        while (i < end) {
            uint32_t cp = jinja_utf8_next(s.u.s, s.len, &i);
            if (ws ? !jinja_is_space(cp) : !has_cp(chars, cp)) keep = i;
        }
        end = keep;
    }
    return jv_str(s.u.s + start, end - start);
}

static const char *find_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn == 0) return h;
    if (nn > hn) return NULL;
    return memmem(h, hn, n, nn);
}

static const char *rfind_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn > hn) return NULL;
    for (size_t i = hn - nn + 1; i-- > 0;)
        if (memcmp(h + i, n, nn) == 0) return h + i;
    return NULL;
}

static bool list_push(jinja_ctx *c, jv_list *l, size_t *cap, jv v) {
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        if (nc > JINJA_MAX_MEMORY / sizeof(jv)) return jinja_fail(c, "list too large");
        jv *items = jinja_ctx_alloc(c, nc * sizeof(jv));
        if (!items) return false;
        if (l->n) memcpy(items, l->items, l->n * sizeof(jv));
        l->items = items;
        *cap = nc;
    }
    l->items[l->n++] = v;
    return true;
}

/* str.split / str.rsplit. */
static bool split(jinja_ctx *c, jv s, jv sep, int64_t maxsplit, bool from_right, jv *out) {
    jv_list *l = jinja_list_new(c, 0);
    size_t cap = 0;
    if (!l) return false;
    if (sep.type == JV_STRING && sep.len == 0) return jinja_fail(c, "empty separator");
    if (sep.type == JV_STRING) {
        if (!from_right) {
            size_t pos = 0;
            int64_t done = 0;
            for (;;) {
                const char *f = maxsplit >= 0 && done >= maxsplit ? NULL : find_bytes(s.u.s + pos, s.len - pos, sep.u.s, sep.len);
                if (!f) break;
                size_t at = (size_t)(f - s.u.s);
                if (!list_push(c, l, &cap, jv_str(s.u.s + pos, at - pos))) return false;
                pos = at + sep.len;
                done++;
            }
            if (!list_push(c, l, &cap, jv_str(s.u.s + pos, s.len - pos))) return false;
        } else {
            size_t end = s.len;
            int64_t done = 0;
            for (;;) {
                const char *f = maxsplit >= 0 && done >= maxsplit ? NULL : rfind_bytes(s.u.s, end, sep.u.s, sep.len);
                if (!f) break;
                size_t at = (size_t)(f - s.u.s);
                if (!list_push(c, l, &cap, jv_str(s.u.s + at + sep.len, end - at - sep.len))) return false;
                end = at;
                done++;
            }
            if (!list_push(c, l, &cap, jv_str(s.u.s, end))) return false;
            for (size_t i = 0; i < l->n / 2; i++) { /* collected right to left */
                jv t = l->items[i];
                l->items[i] = l->items[l->n - 1 - i];
                l->items[l->n - 1 - i] = t;
            }
        }
        *out = jinja_list_value(l);
        return true;
    }
    /* whitespace split: runs of whitespace separate, none at the ends */
    if (from_right) {
        size_t end = s.len;
        int64_t done = 0;
        jv_list *rev = l;
        for (;;) {
            /* skip trailing whitespace */
            size_t i = 0, last_non = 0;
            bool any = false;
            while (i < end) {
                uint32_t cp = jinja_utf8_next(s.u.s, end, &i);
                if (!jinja_is_space(cp)) {
                    last_non = i;
                    any = true;
                }
            }
            if (!any) break;
            end = last_non;
            if (maxsplit >= 0 && done >= maxsplit) { /* the rest, leading whitespace kept (as Python) */
                if (!list_push(c, rev, &cap, jv_str(s.u.s, end))) return false;
                break;
            }
            size_t word_start = 0;
            i = 0;
            while (i < end) {
                uint32_t cp = jinja_utf8_next(s.u.s, end, &i);
                if (jinja_is_space(cp)) word_start = i;
            }
            if (!list_push(c, rev, &cap, jv_str(s.u.s + word_start, end - word_start))) return false;
            end = word_start;
            done++;
        }
        for (size_t i = 0; i < l->n / 2; i++) {
            jv t = l->items[i];
            l->items[i] = l->items[l->n - 1 - i];
            l->items[l->n - 1 - i] = t;
        }
        *out = jinja_list_value(l);
        return true;
    }
    size_t i = 0;
    int64_t done = 0;
    for (;;) {
        while (i < s.len) {
            size_t j = i;
            if (!jinja_is_space(jinja_utf8_next(s.u.s, s.len, &j))) break;
            i = j;
        }
        if (i >= s.len) break;
        if (maxsplit >= 0 && done >= maxsplit) { /* the rest, trailing whitespace kept (as Python) */
            if (!list_push(c, l, &cap, jv_str(s.u.s + i, s.len - i))) return false;
            break;
        }
        size_t st = i;
        while (i < s.len) {
            size_t j = i;
            if (jinja_is_space(jinja_utf8_next(s.u.s, s.len, &j))) break;
            i = j;
        }
        if (!list_push(c, l, &cap, jv_str(s.u.s + st, i - st))) return false;
        done++;
    }
    *out = jinja_list_value(l);
    return true;
}

static bool replace(jinja_ctx *c, jv s, jv old, jv rep, int64_t count, jv *out) {
    jinja_buf b = {0};
    b.arena = c->mem;
    int64_t done = 0;
    if (old.len == 0) { /* Python inserts `rep` before every character and at the end */
        size_t i = 0;
        while (i < s.len) {
            size_t st = i;
            if (count < 0 || done < count) {
                if (!jinja_buf_put(c, &b, rep.u.s, rep.len)) return false;
                done++;
            }
            jinja_utf8_next(s.u.s, s.len, &i);
            if (!jinja_buf_put(c, &b, s.u.s + st, i - st)) return false;
        }
        if ((count < 0 || done < count) && !jinja_buf_put(c, &b, rep.u.s, rep.len)) return false;
        return new_buf_str(c, &b, out);
    }
    size_t pos = 0;
    for (;;) {
        const char *f = count >= 0 && done >= count ? NULL : find_bytes(s.u.s + pos, s.len - pos, old.u.s, old.len);
        if (!f) break;
        size_t at = (size_t)(f - s.u.s);
        if (!jinja_buf_put(c, &b, s.u.s + pos, at - pos) || !jinja_buf_put(c, &b, rep.u.s, rep.len)) return false;
        pos = at + old.len;
        done++;
    }
    if (!jinja_buf_put(c, &b, s.u.s + pos, s.len - pos)) return false;
    return new_buf_str(c, &b, out);
}

/* "{}".format(...): auto and explicit indices, keyword names, !r and !s; no format specs. */
static bool format_str(jinja_ctx *c, jv fmt, const jinja_args *a, jv *out) {
    jinja_buf b = {0};
    b.arena = c->mem;
    size_t auto_idx = 0;
    const char *s = fmt.u.s;
    size_t n = fmt.len;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '}' && i + 1 < n && s[i + 1] == '}') {
            if (!jinja_buf_put(c, &b, "}", 1)) return false;
            i++;
            continue;
        }
        if (ch != '{') {
            if (!jinja_buf_put(c, &b, &ch, 1)) return false;
            continue;
        }
        if (i + 1 < n && s[i + 1] == '{') {
            if (!jinja_buf_put(c, &b, "{", 1)) return false;
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && s[j] != '}') j++;
        if (j >= n) return jinja_fail(c, "single '{' encountered in format string");
        const char *field = s + i + 1;
        size_t flen = j - i - 1, name_len = flen;
        char conv = 0;
        for (size_t k = 0; k < flen; k++) {
            if (field[k] == ':') return jinja_fail(c, "format specifications are not supported");
            if (field[k] == '!') {
                name_len = k;
                conv = k + 1 < flen ? field[k + 1] : 0;
                break;
            }
        }
        const jv *v = NULL;
        if (name_len == 0) {
            v = auto_idx < a->npos ? &a->pos[auto_idx] : NULL;
            auto_idx++;
        } else if (field[0] >= '0' && field[0] <= '9') {
            size_t idx = (size_t)strtoul(field, NULL, 10);
            v = idx < a->npos ? &a->pos[idx] : NULL;
        } else {
            for (size_t k = 0; k < a->nkw && !v; k++)
                if (strlen(a->kw[k]) == name_len && memcmp(a->kw[k], field, name_len) == 0) v = &a->kwv[k];
        }
        if (!v) return jinja_fail(c, "format: missing argument for '{%.*s}'", (int)(flen > 40 ? 40 : flen), field);
        if (!(conv == 'r' ? jinja_write_repr(c, &b, *v) : jinja_write_str(c, &b, *v))) return false;
        i = j;
    }
    return new_buf_str(c, &b, out);
}

static bool str_all(jv s, int (*pred)(int)) {
    if (s.len == 0) return false;
    for (size_t i = 0; i < s.len; i++)
        if (!pred((unsigned char)s.u.s[i])) return false;
    return true;
}
static int p_digit(int ch) { return ch >= '0' && ch <= '9'; }
static int p_alpha(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80; }
static int p_alnum(int ch) { return p_digit(ch) || p_alpha(ch); }

/* islower / isupper: at least one cased character, and none of the other case. */
static bool str_case_is(jv s, bool lower) {
    bool cased = false;
    size_t i = 0;
    while (i < s.len) {
        uint32_t other;
        int k = cp_case(jinja_utf8_next(s.u.s, s.len, &i), &other);
        if (k == 0) continue;
        if ((k == 1) != lower) return false;
        cased = true;
    }
    return cased;
}

/* Appends `s` padded to `width` code points (left-aligned with '-') and cut to `prec` (-1: all). */
static bool put_padded(jinja_ctx *c, jinja_buf *b, jv s, int width, int prec, bool left) {
    size_t n = prec >= 0 ? jinja_utf8_offset(s.u.s, s.len, (size_t)prec) : s.len;
    size_t cps = jinja_utf8_count(s.u.s, n);
    size_t pad = width > 0 && (size_t)width > cps ? (size_t)width - cps : 0;
    for (size_t i = 0; i < pad && !left; i++)
        if (!jinja_buf_put(c, b, " ", 1)) return false;
    if (!jinja_buf_put(c, b, s.u.s, n)) return false;
    for (size_t i = 0; i < pad && left; i++)
        if (!jinja_buf_put(c, b, " ", 1)) return false;
    return true;
}

bool jinja_percent_format(jinja_ctx *c, jv fmt, jv args, jv *out) {
    bool is_tuple = args.type == JV_LIST && args.len;
    const jv *list = is_tuple ? args.u.list->items : &args;
    size_t nargs = is_tuple ? args.u.list->n : 1, next = 0;
    bool mapping = args.type == JV_DICT, used_key = false;
    jinja_buf b = {0};
    b.arena = c->mem;
    const char *s = fmt.u.s;
    size_t n = fmt.len;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            size_t j = i;
            while (j < n && s[j] != '%') j++;
            if (!jinja_buf_put(c, &b, s + i, j - i)) return false;
            i = j - 1;
            continue;
        }
        if (++i >= n) return jinja_fail(c, "incomplete format");
        const jv *v = NULL;
        if (s[i] == '(') { /* %(name)s */
            size_t j = i + 1;
            while (j < n && s[j] != ')') j++;
            if (j >= n) return jinja_fail(c, "incomplete format key");
            if (!mapping) return jinja_fail(c, "format requires a mapping");
            v = jinja_dict_get(args.u.dict, jv_str(s + i + 1, j - i - 1));
            if (!v) return jinja_fail(c, "format key '%.*s' not found", (int)(j - i - 1 > 40 ? 40 : j - i - 1), s + i + 1);
            used_key = true;
            i = j + 1;
        }
        char flags[8];
        int nf = 0, width = -1, prec = -1;
        while (i < n && s[i] && strchr("-+ #0", s[i]) && nf < 7) flags[nf++] = s[i++];
        flags[nf] = 0;
        for (; i < n && p_digit((unsigned char)s[i]); i++) /* saturates; too large is refused below */
            width = width > 100000 ? width : (width < 0 ? 0 : width) * 10 + (s[i] - '0');
        if (i < n && s[i] == '.') {
            prec = 0;
            for (i++; i < n && p_digit((unsigned char)s[i]); i++) prec = prec > 100000 ? prec : prec * 10 + (s[i] - '0');
        }
        while (i < n && (s[i] == 'l' || s[i] == 'h' || s[i] == 'L')) i++;
        if (i >= n) return jinja_fail(c, "incomplete format");
        if (width > 1000 || prec > 1000) return jinja_fail(c, "format width or precision too large");
        char conv = s[i];
        if (conv == '%') {
            if (!jinja_buf_put(c, &b, "%", 1)) return false;
            continue;
        }
        if (!v) {
            if (next >= nargs) return jinja_fail(c, "not enough arguments for format string");
            v = &list[next++];
        }
        bool left = strchr(flags, '-') != NULL;
        char spec[32], tmp[2200];
        switch (conv) {
        case 's':
        case 'r':
        case 'a': {
            jv str;
            if (conv == 's') {
                if (!jinja_to_string(c, *v, &str)) return false;
            } else {
                jinja_buf rb = {0};
                rb.arena = c->mem;
                if (!jinja_write_repr(c, &rb, *v) || !new_buf_str(c, &rb, &str)) return false;
            }
            if (!put_padded(c, &b, str, width, prec, left)) return false;
            break;
        }
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o':
        case 'c': {
            int64_t k;
            if (v->type == JV_INT || v->type == JV_BOOL) k = v->type == JV_INT ? v->u.i : v->u.b;
            else if (v->type == JV_FLOAT && (conv == 'd' || conv == 'i' || conv == 'u') && isfinite(v->u.f) && fabs(v->u.f) < 9.2e18)
                k = (int64_t)v->u.f;
            else return jinja_fail(c, "%%%c format: a number is required, not %s", conv, jinja_type_name(*v));
            if (conv == 'c') {
                char u8[4];
                size_t m = jinja_utf8_put((uint32_t)k, u8);
                if (!put_padded(c, &b, jv_str(u8, m), width, -1, left)) return false;
                break;
            }
            const char *len_conv = conv == 'x' ? "llx" : conv == 'X' ? "llX" : conv == 'o' ? "llo" : "lld";
            bool neg = k < 0 && conv != 'd' && conv != 'i' && conv != 'u';
            uint64_t mag = neg ? (uint64_t)0 - (uint64_t)k : (uint64_t)k;
            snprintf(spec, sizeof spec, "%s%%%s%s%s", neg ? "-" : "", flags, width >= 0 ? "*" : "", prec >= 0 ? ".*" : "");
            strcat(spec, len_conv);
            int m;
            if (width >= 0 && prec >= 0) m = snprintf(tmp, sizeof tmp, spec, width, prec, neg ? (long long)mag : (long long)k);
            else if (width >= 0) m = snprintf(tmp, sizeof tmp, spec, width, neg ? (long long)mag : (long long)k);
            else if (prec >= 0) m = snprintf(tmp, sizeof tmp, spec, prec, neg ? (long long)mag : (long long)k);
            else m = snprintf(tmp, sizeof tmp, spec, neg ? (long long)mag : (long long)k);
            if (m < 0 || !jinja_buf_put(c, &b, tmp, (size_t)m < sizeof tmp ? (size_t)m : sizeof tmp - 1)) return false;
            break;
        }
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G': {
            double x;
            if (v->type == JV_FLOAT) x = v->u.f;
            else if (v->type == JV_INT || v->type == JV_BOOL) x = v->type == JV_INT ? (double)v->u.i : v->u.b;
            else return jinja_fail(c, "%%%c format: a number is required, not %s", conv, jinja_type_name(*v));
            if (fabs(x) >= 1e300 && (conv == 'f' || conv == 'F') && isfinite(x)) conv = 'e'; /* keep it short */
            snprintf(spec, sizeof spec, "%%%s%s%s%c", flags, width >= 0 ? "*" : "", prec >= 0 ? ".*" : "", conv);
            int m;
            if (width >= 0 && prec >= 0) m = snprintf(tmp, sizeof tmp, spec, width, prec, x);
            else if (width >= 0) m = snprintf(tmp, sizeof tmp, spec, width, x);
            else if (prec >= 0) m = snprintf(tmp, sizeof tmp, spec, prec, x);
            else m = snprintf(tmp, sizeof tmp, spec, x);
            if (m < 0 || !jinja_buf_put(c, &b, tmp, (size_t)m < sizeof tmp ? (size_t)m : sizeof tmp - 1)) return false;
            break;
        }
        default: return jinja_fail(c, "unsupported format character '%c'", conv);
        }
    }
    bool list_like = args.type == JV_LIST && !is_tuple; /* Python treats a list (anything indexable) leniently */
    if (next < nargs && !mapping && !used_key && !(list_like && next == 0))
        return jinja_fail(c, "not all arguments converted during string formatting");
    return new_buf_str(c, &b, out);
}

/* ---- attribute paths, sorting ----------------------------------------------------------- */

/* Jinja's attribute getter: "a.b.0" looks up a, then b, then index 0. */
static jv get_path(jv v, jv path) {
    size_t i = 0;
    while (i <= path.len) {
        size_t j = i;
        while (j < path.len && path.u.s[j] != '.') j++;
        const char *part = path.u.s + i;
        size_t plen = j - i;
        bool digits = plen > 0 && plen < 18;
        for (size_t k = 0; k < plen && digits; k++) digits = part[k] >= '0' && part[k] <= '9';
        if (digits && v.type == JV_LIST) {
            size_t idx = 0;
            for (size_t k = 0; k < plen; k++) idx = idx * 10 + (size_t)(part[k] - '0');
            v = idx < v.u.list->n ? v.u.list->items[idx] : jv_undef();
        } else if (v.type == JV_DICT || v.type == JV_NAMESPACE) {
            const jv *x = NULL;
            for (size_t k = 0; k < v.u.dict->n && !x; k++) {
                jv key = v.u.dict->keys[k];
                if (key.type == JV_STRING && key.len == plen && memcmp(key.u.s, part, plen) == 0) x = &v.u.dict->vals[k];
            }
            v = x ? *x : jv_undef();
        } else {
            return jv_undef();
        }
        i = j + 1;
    }
    return v;
}

/* The key a value sorts by: an attribute path, and lower case unless case_sensitive. */
static bool sort_key(jinja_ctx *c, jv v, jv attr, bool case_sensitive, jv *out) {
    if (attr.type == JV_STRING) v = get_path(v, attr);
    if (!case_sensitive && v.type == JV_STRING) return change_case(c, v, CASE_LOWER, out);
    *out = v;
    return true;
}

/* Stable merge sort of idx[0..n) by keys[idx]; false when two keys cannot be compared. */
static bool merge_sort(jinja_ctx *c, const jv *keys, size_t *idx, size_t *tmp, size_t n, bool reverse) {
    if (n < 2) return true;
    size_t h = n / 2;
    if (!merge_sort(c, keys, idx, tmp, h, reverse) || !merge_sort(c, keys, idx + h, tmp, n - h, reverse)) return false;
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int cmp;
        if (!jinja_compare(c, keys[idx[j]], keys[idx[i]], &cmp)) return false;
        bool take_right = reverse ? cmp > 0 : cmp < 0;
        tmp[k++] = take_right ? idx[j++] : idx[i++];
    }
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
    return true;
}

/* Sorts `items` by `keys` into a new list. */
static bool sorted_list(jinja_ctx *c, const jv *items, const jv *keys, size_t n, bool reverse, jv *out) {
    size_t *idx = jinja_ctx_alloc(c, (n + 1) * sizeof *idx), *tmp = jinja_ctx_alloc(c, (n + 1) * sizeof *tmp);
    jv_list *l = jinja_list_new(c, n);
    if (!idx || !tmp || !l) return false;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    if (!merge_sort(c, keys, idx, tmp, n, reverse)) return false;
    for (size_t i = 0; i < n; i++) l->items[i] = items[idx[i]];
    *out = jinja_list_value(l);
    return true;
}

/* ---- filters ---------------------------------------------------------------------------- */

typedef bool (*filter_fn)(jinja_ctx *c, jv v, const jinja_args *a, jv *out);

static bool need_str(jinja_ctx *c, jv v, jv *s) { return jinja_to_string(c, v, s); }

static bool f_abs(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    if (v.type == JV_BOOL) v = jv_int(v.u.b);
    if (v.type == JV_INT) {
        if (v.u.i == INT64_MIN) return jinja_fail(c, "integer overflow");
        *out = jv_int(v.u.i < 0 ? -v.u.i : v.u.i);
    } else if (v.type == JV_FLOAT) {
        *out = jv_float(fabs(v.u.f));
    } else {
        return jinja_fail(c, "bad operand type for abs(): '%s'", jinja_type_name(v));
    }
    return true;
}

static bool f_attr(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jv name;
    if (!arg_str(c, a, 0, "name", true, &name)) return false;
    *out = jv_undef(); /* like Jinja: getattr(), so a dict's keys are not attributes */
    if (v.type == JV_NAMESPACE) {
        const jv *x = jinja_dict_get(v.u.dict, name);
        if (x) *out = *x;
    } else if (v.type == JV_LOOP) {
        const char *n = cstr(c, name);
        if (!n) return false;
        *out = jinja_loop_attr(v.u.loop, n);
    }
    return true;
}

static bool f_capitalize(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv s;
    return need_str(c, v, &s) && change_case(c, s, CASE_CAPITALIZE, out);
}
static bool f_title(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv s;
    return need_str(c, v, &s) && change_case(c, s, CASE_TITLE, out);
}
static bool f_upper(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv s;
    return need_str(c, v, &s) && change_case(c, s, CASE_UPPER, out);
}
static bool f_lower(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv s;
    return need_str(c, v, &s) && change_case(c, s, CASE_LOWER, out);
}

static bool f_length(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    switch (v.type) {
    case JV_UNDEFINED: *out = jv_int(0); return true;
    case JV_STRING: *out = jv_int((int64_t)jinja_utf8_count(v.u.s, v.len)); return true;
    case JV_LIST: *out = jv_int((int64_t)v.u.list->n); return true;
    case JV_DICT:
    case JV_NAMESPACE: *out = jv_int((int64_t)v.u.dict->n); return true;
    default: return jinja_fail(c, "object of type '%s' has no len()", jinja_type_name(v));
    }
}

static bool f_default(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)c;
    const jv *d = jinja_arg(a, 0, "default_value");
    bool boolean = arg_bool(a, 1, "boolean", false);
    if (v.type == JV_UNDEFINED || (boolean && !jinja_truthy(v))) *out = d ? *d : jv_str("", 0);
    else *out = v;
    return true;
}

static bool f_dictsort(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    if (v.type != JV_DICT) return jinja_fail(c, "dictsort expects a dict, not %s", jinja_type_name(v));
    bool case_sensitive = arg_bool(a, 0, "case_sensitive", false);
    jv by;
    if (!arg_str(c, a, 1, "by", false, &by)) return false;
    bool by_value = jv_str_eq(by, "value");
    if (by.type == JV_STRING && !by_value && !jv_str_eq(by, "key"))
        return jinja_fail(c, "you can only sort by either \"key\" or \"value\"");
    bool reverse = arg_bool(a, 2, "reverse", false);
    size_t n = v.u.dict->n;
    jv *pairs = jinja_ctx_alloc(c, (n + 1) * sizeof(jv)), *keys = jinja_ctx_alloc(c, (n + 1) * sizeof(jv));
    if (!pairs || !keys) return false;
    for (size_t i = 0; i < n; i++) {
        jv_list *p = jinja_list_new(c, 2);
        if (!p) return false;
        p->items[0] = v.u.dict->keys[i];
        p->items[1] = v.u.dict->vals[i];
        pairs[i] = jinja_tuple_value(p);
        if (!sort_key(c, p->items[by_value ? 1 : 0], jv_undef(), case_sensitive, &keys[i])) return false;
    }
    return sorted_list(c, pairs, keys, n, reverse, out);
}

static bool f_escape(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv s;
    if (!need_str(c, v, &s)) return false;
    jinja_buf b = {0};
    b.arena = c->mem;
    for (size_t i = 0; i < s.len; i++) {
        const char *r = NULL;
        switch (s.u.s[i]) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&#34;"; break;
        case '\'': r = "&#39;"; break;
        default: break;
        }
        if (!(r ? jinja_buf_puts(c, &b, r) : jinja_buf_put(c, &b, s.u.s + i, 1))) return false;
    }
    return new_buf_str(c, &b, out);
}

static bool f_first(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv_list *l;
    if (!jinja_iterate(c, v, &l)) return false;
    *out = l->n ? l->items[0] : jv_undef();
    return true;
}

static bool f_last(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv_list *l;
    if (!jinja_iterate(c, v, &l)) return false;
    *out = l->n ? l->items[l->n - 1] : jv_undef();
    return true;
}

/* Python float(str): surrounding whitespace, underscores between digits, inf and nan. */
static bool parse_float(jv s, double *out) {
    jv t = strip(s, jv_undef(), true, true);
    char buf[128];
    size_t k = 0;
    if (t.len == 0 || t.len >= sizeof buf) return false;
    for (size_t i = 0; i < t.len; i++) {
        char ch = t.u.s[i];
        if (ch == '_') {
            if (i == 0 || i + 1 == t.len || !p_digit((unsigned char)t.u.s[i - 1]) || !p_digit((unsigned char)t.u.s[i + 1])) return false;
            continue;
        }
        if (!(p_digit((unsigned char)ch) || (ch && strchr("+-.eEinfatyINFATY", ch)))) return false;
        buf[k++] = ch;
    }
    buf[k] = 0;
    if (strchr(buf, 'x') || strchr(buf, 'X')) return false;
    char *end;
    *out = strtod(buf, &end);
    return end == buf + k && k > 0;
}

static bool parse_int(jv s, int64_t base, int64_t *out) {
    jv t = strip(s, jv_undef(), true, true);
    size_t i = 0;
    bool neg = false;
    if (i < t.len && (t.u.s[i] == '+' || t.u.s[i] == '-')) neg = t.u.s[i++] == '-';
    if (base == 0 || base == 16 || base == 8 || base == 2) {
        if (i + 1 < t.len && t.u.s[i] == '0') {
            char p = ascii_lower(t.u.s[i + 1]);
            int64_t pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
            if (pb && (base == 0 || base == pb)) {
                base = pb;
                i += 2;
            }
        }
        if (base == 0) base = 10;
    }
    if (base < 2 || base > 36 || i >= t.len) return false;
    uint64_t v = 0;
    bool any = false;
    for (; i < t.len; i++) {
        char ch = ascii_lower(t.u.s[i]);
        if (ch == '_' && any && i + 1 < t.len) continue;
        int d = p_digit((unsigned char)ch) ? ch - '0' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 10 : 99;
        if (d >= base) return false;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) return false;
        v = v * (uint64_t)base + (uint64_t)d;
        any = true;
    }
    if (!any || v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool f_int(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    int64_t def, base;
    if (!arg_int(c, a, 0, "default", 0, &def) || !arg_int(c, a, 1, "base", 10, &base)) return false;
    int64_t r;
    double f;
    switch (v.type) {
    case JV_INT: *out = v; return true;
    case JV_BOOL: *out = jv_int(v.u.b); return true;
    case JV_FLOAT:
        if (isfinite(v.u.f) && fabs(v.u.f) < 9.2e18) {
            *out = jv_int((int64_t)v.u.f);
            return true;
        }
        break;
    case JV_STRING:
        if (parse_int(v, base, &r)) {
            *out = jv_int(r);
            return true;
        }
        if (parse_float(v, &f) && isfinite(f) && fabs(f) < 9.2e18) {
            *out = jv_int((int64_t)f);
            return true;
        }
        break;
    default: break;
    }
    const jv *d = jinja_arg(a, 0, "default");
    *out = d ? *d : jv_int(def);
    return true;
}

static bool f_float(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)c;
    double f;
    switch (v.type) {
    case JV_INT: *out = jv_float((double)v.u.i); return true;
    case JV_BOOL: *out = jv_float(v.u.b); return true;
    case JV_FLOAT: *out = v; return true;
    case JV_STRING:
        if (parse_float(v, &f)) {
            *out = jv_float(f);
            return true;
        }
        break;
    default: break;
    }
    const jv *d = jinja_arg(a, 0, "default");
    *out = d ? *d : jv_float(0.0);
    return true;
}

static bool f_indent(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jv s, ind = jv_str("    ", 4);
    if (!need_str(c, v, &s)) return false;
    const jv *w = jinja_arg(a, 0, "width");
    if (w && w->type == JV_STRING) {
        ind = *w;
    } else if (w) {
        int64_t width;
        if (!arg_int(c, a, 0, "width", 4, &width)) return false;
        if (width < 0) width = 0;
        if (width > 4096) return jinja_fail(c, "indent width too large");
        jinja_buf sp = {0};
        sp.arena = c->mem;
        for (int64_t i = 0; i < width; i++)
            if (!jinja_buf_put(c, &sp, " ", 1)) return false;
        if (!new_buf_str(c, &sp, &ind)) return false;
    }
    bool first = arg_bool(a, 1, "first", false), blank = arg_bool(a, 2, "blank", false);
    jinja_buf b = {0};
    b.arena = c->mem;
    if (first && !jinja_buf_put(c, &b, ind.u.s, ind.len)) return false;
    /* lines of s (split on \n, \r\n, \r); a line gets the indent after the first unless it is blank */
    size_t i = 0, line = 0;
    while (i <= s.len) {
        size_t e = i;
        while (e < s.len && s.u.s[e] != '\n' && s.u.s[e] != '\r') e++;
        if (line > 0) {
            if (!jinja_buf_put(c, &b, "\n", 1)) return false;
            if ((blank || e > i) && !jinja_buf_put(c, &b, ind.u.s, ind.len)) return false;
        }
        if (!jinja_buf_put(c, &b, s.u.s + i, e - i)) return false;
        line++;
        if (e >= s.len) break;
        i = e + (s.u.s[e] == '\r' && e + 1 < s.len && s.u.s[e + 1] == '\n' ? 2 : 1);
    }
    return new_buf_str(c, &b, out);
}

static bool f_items(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    if (v.type == JV_UNDEFINED) {
        jv_list *l = jinja_list_new(c, 0);
        *out = jv_as_iterator(jinja_list_value(l));
        return l != NULL;
    }
    if (v.type != JV_DICT && v.type != JV_NAMESPACE) return jinja_fail(c, "can only get item pairs from a mapping");
    jv_list *l = jinja_list_new(c, v.u.dict->n);
    if (!l) return false;
    for (size_t i = 0; i < v.u.dict->n; i++) {
        jv_list *p = jinja_list_new(c, 2);
        if (!p) return false;
        p->items[0] = v.u.dict->keys[i];
        p->items[1] = v.u.dict->vals[i];
        l->items[i] = jinja_tuple_value(p);
    }
    *out = jv_as_iterator(jinja_list_value(l));
    return true;
}

static bool f_join(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jv sep, attr;
    if (!arg_str(c, a, 0, "d", false, &sep) || !arg_str(c, a, 1, "attribute", false, &attr)) return false;
    jv_list *l;
    if (!jinja_iterate(c, v, &l)) return false;
    jinja_buf b = {0};
    b.arena = c->mem;
    for (size_t i = 0; i < l->n; i++) {
        if (i && sep.type == JV_STRING && !jinja_buf_put(c, &b, sep.u.s, sep.len)) return false;
        jv x = attr.type == JV_STRING ? get_path(l->items[i], attr) : l->items[i];
        if (!jinja_write_str(c, &b, x)) return false;
    }
    return new_buf_str(c, &b, out);
}

static bool f_list(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv_list *l, *copy;
    if (!jinja_iterate(c, v, &l) || !(copy = jinja_list_new(c, l->n))) return false;
    if (l->n) memcpy(copy->items, l->items, l->n * sizeof(jv));
    *out = jinja_list_value(copy);
    return true;
}

static bool f_map(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jv_list *l, *r;
    if (!jinja_iterate(c, v, &l) || !(r = jinja_list_new(c, l->n))) return false;
    jv attr;
    if (!arg_str(c, a, SIZE_MAX, "attribute", false, &attr)) return false;
    if (attr.type == JV_STRING) {
        const jv *def = jinja_arg(a, SIZE_MAX, "default");
        for (size_t i = 0; i < l->n; i++) {
            r->items[i] = get_path(l->items[i], attr);
            if (def && r->items[i].type == JV_UNDEFINED) r->items[i] = *def;
        }
    } else {
        jv fname;
        if (!arg_str(c, a, 0, "filter", true, &fname)) return false;
        const char *name = cstr(c, fname);
        jinja_args rest = shift_args(a, 1);
        if (!name) return false;
        for (size_t i = 0; i < l->n; i++)
            if (!jinja_filter(c, name, l->items[i], &rest, &r->items[i])) return false;
    }
    *out = jv_as_iterator(jinja_list_value(r));
    return true;
}

static bool min_max(jinja_ctx *c, jv v, const jinja_args *a, bool want_max, jv *out) {
    bool case_sensitive = arg_bool(a, 0, "case_sensitive", false);
    jv attr;
    if (!arg_str(c, a, 1, "attribute", false, &attr)) return false;
    jv_list *l;
    if (!jinja_iterate(c, v, &l)) return false;
    *out = jv_undef();
    jv best_key = jv_undef();
    for (size_t i = 0; i < l->n; i++) {
        jv k;
        int cmp;
        if (!sort_key(c, l->items[i], attr, case_sensitive, &k)) return false;
        if (i > 0) {
            if (!jinja_compare(c, k, best_key, &cmp)) return false;
            if (want_max ? cmp <= 0 : cmp >= 0) continue;
        }
        best_key = k;
        *out = l->items[i];
    }
    return true;
}
static bool f_max(jinja_ctx *c, jv v, const jinja_args *a, jv *out) { return min_max(c, v, a, true, out); }
static bool f_min(jinja_ctx *c, jv v, const jinja_args *a, jv *out) { return min_max(c, v, a, false, out); }

static bool f_pprint(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jinja_buf b = {0};
    b.arena = c->mem;
    return jinja_write_repr(c, &b, v) && new_buf_str(c, &b, out);
}

/* select / reject / selectattr / rejectattr. */
static bool select_items(jinja_ctx *c, jv v, const jinja_args *a, bool by_attr, bool keep_when, jv *out) {
    jv_list *l, *r;
    if (!jinja_iterate(c, v, &l) || !(r = jinja_list_new(c, l->n))) return false;
    r->n = 0;
    jv attr = jv_undef(), tname = jv_undef();
    size_t next = 0;
    if (by_attr) {
        if (!arg_str(c, a, 0, "attribute", true, &attr)) return false;
        next = 1;
    }
    if (next < a->npos) {
        if (!arg_str(c, a, next, NULL, true, &tname)) return false;
        next++;
    }
    const char *test = tname.type == JV_STRING ? cstr(c, tname) : NULL;
    if (tname.type == JV_STRING && !test) return false;
    jinja_args rest = shift_args(a, next);
    rest.nkw = 0;
    for (size_t i = 0; i < l->n; i++) {
        jv x = by_attr ? get_path(l->items[i], attr) : l->items[i];
        bool ok;
        if (test) {
            if (!jinja_test(c, test, x, &rest, &ok)) return false;
        } else {
            ok = jinja_truthy(x);
        }
        if (ok == keep_when) r->items[r->n++] = l->items[i];
    }
    *out = jv_as_iterator(jinja_list_value(r));
    return true;
}
static bool f_select(jinja_ctx *c, jv v, const jinja_args *a, jv *out) { return select_items(c, v, a, false, true, out); }
static bool f_reject(jinja_ctx *c, jv v, const jinja_args *a, jv *out) { return select_items(c, v, a, false, false, out); }
static bool f_selectattr(jinja_ctx *c, jv v, const jinja_args *a, jv *out) { return select_items(c, v, a, true, true, out); }
static bool f_rejectattr(jinja_ctx *c, jv v, const jinja_args *a, jv *out) { return select_items(c, v, a, true, false, out); }

static bool f_replace(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jv s, old, rep;
    int64_t count;
    if (!need_str(c, v, &s) || !arg_str(c, a, 0, "old", true, &old) || !arg_str(c, a, 1, "new", true, &rep) ||
        !arg_int(c, a, 2, "count", -1, &count))
        return false;
    return replace(c, s, old, rep, count, out);
}

static bool f_reverse(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv_list *l;
    if (v.type != JV_STRING && v.type != JV_LIST) return jinja_fail(c, "argument must be a string or a list");
    if (!jinja_iterate(c, v, &l)) return false;
    if (v.type == JV_STRING) {
        char *p = jinja_ctx_alloc(c, v.len + 1);
        if (!p) return false;
        size_t k = 0;
        for (size_t i = l->n; i-- > 0;) {
            memcpy(p + k, l->items[i].u.s, l->items[i].len);
            k += l->items[i].len;
        }
        *out = jv_str(p, k);
        return true;
    }
    jv_list *r = jinja_list_new(c, l->n);
    if (!r) return false;
    for (size_t i = 0; i < l->n; i++) r->items[i] = l->items[l->n - 1 - i];
    *out = jv_as_iterator(jinja_list_value(r));
    return true;
}

static bool f_round(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    int64_t prec;
    jv method;
    if (!arg_int(c, a, 0, "precision", 0, &prec) || !arg_str(c, a, 1, "method", false, &method)) return false;
    double x;
    bool common = method.type != JV_STRING || jv_str_eq(method, "common");
    if ((v.type == JV_INT || v.type == JV_BOOL) && common && prec >= 0) { /* Python's round(int) stays an int */
        *out = jv_int(v.type == JV_INT ? v.u.i : v.u.b);
        return true;
    }
    if (v.type == JV_INT) x = (double)v.u.i;
    else if (v.type == JV_BOOL) x = v.u.b;
    else if (v.type == JV_FLOAT) x = v.u.f;
    else return jinja_fail(c, "round expects a number, not %s", jinja_type_name(v));
    if (prec > 300) prec = 300;
    if (prec < -300) prec = -300;
    double scale = pow(10.0, (double)prec), y = x * scale, r;
    if (common) r = nearbyint(y); /* Python's round: half to even */
    else if (jv_str_eq(method, "ceil")) r = ceil(y);
    else if (jv_str_eq(method, "floor")) r = floor(y);
    else return jinja_fail(c, "method must be common, ceil or floor");
    *out = jv_float(isfinite(y) ? r / scale : x);
    return true;
}

/* Jinja's safe makes a Markup string; without autoescape that is str(value). */
static bool f_safe(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    return jinja_to_string(c, v, out);
}

static bool f_sort(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    bool reverse = arg_bool(a, 0, "reverse", false), case_sensitive = arg_bool(a, 1, "case_sensitive", false);
    jv attr;
    if (!arg_str(c, a, 2, "attribute", false, &attr)) return false;
    jv_list *l;
    if (!jinja_iterate(c, v, &l)) return false;
    jv *keys = jinja_ctx_alloc(c, (l->n + 1) * sizeof(jv));
    if (!keys) return false;
    for (size_t i = 0; i < l->n; i++)
        if (!sort_key(c, l->items[i], attr, case_sensitive, &keys[i])) return false;
    return sorted_list(c, l->items, keys, l->n, reverse, out);
}

static bool f_string(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    return jinja_to_string(c, v, out);
}

static bool f_sum(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jv attr;
    if (!arg_str(c, a, 0, "attribute", false, &attr)) return false;
    const jv *start = jinja_arg(a, 1, "start");
    jv_list *l;
    if (!jinja_iterate(c, v, &l)) return false;
    int64_t isum = 0;
    double fsum = 0;
    bool is_float = false;
    if (start) {
        if (start->type == JV_FLOAT) {
            fsum = start->u.f;
            is_float = true;
        } else if (start->type == JV_INT || start->type == JV_BOOL) {
            isum = start->type == JV_INT ? start->u.i : start->u.b;
        } else {
            return jinja_fail(c, "sum: start must be a number");
        }
    }
    for (size_t i = 0; i < l->n; i++) {
        jv x = attr.type == JV_STRING ? get_path(l->items[i], attr) : l->items[i];
        if (x.type == JV_FLOAT) {
            if (!is_float) fsum = (double)isum;
            is_float = true;
            fsum += x.u.f;
        } else if (x.type == JV_INT || x.type == JV_BOOL) {
            int64_t k = x.type == JV_INT ? x.u.i : x.u.b;
            if (is_float) fsum += (double)k;
            else if (__builtin_add_overflow(isum, k, &isum)) return jinja_fail(c, "integer overflow");
        } else {
            return jinja_fail(c, "unsupported operand type(s) for +: 'int' and '%s'", jinja_type_name(x));
        }
    }
    *out = is_float ? jv_float(fsum) : jv_int(isum);
    return true;
}

static bool f_tojson(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jinja_json_opts o = {0};
    const jv *ind = jinja_arg(a, 0, "indent");
    char spaces[256];
    if (ind && ind->type == JV_STRING) {
        o.indent = ind->u.s;
        o.indent_len = ind->len;
    } else if (ind && (ind->type == JV_INT || ind->type == JV_BOOL)) {
        int64_t n = ind->type == JV_INT ? ind->u.i : ind->u.b;
        if (n < 0) n = 0;
        if (n > (int64_t)sizeof spaces) return jinja_fail(c, "indent too large");
        memset(spaces, ' ', (size_t)n);
        o.indent = spaces;
        o.indent_len = (size_t)n;
    } else if (ind && ind->type != JV_NONE && ind->type != JV_UNDEFINED) {
        return jinja_fail(c, "indent must be an integer or a string");
    }
    o.ensure_ascii = arg_bool(a, SIZE_MAX, "ensure_ascii", false);
    o.sort_keys = arg_bool(a, SIZE_MAX, "sort_keys", false);
    const jv *sep = jinja_arg(a, SIZE_MAX, "separators");
    if (sep && sep->type == JV_LIST) {
        if (sep->u.list->n != 2 || sep->u.list->items[0].type != JV_STRING || sep->u.list->items[1].type != JV_STRING)
            return jinja_fail(c, "separators must be two strings");
        o.item_sep = cstr(c, sep->u.list->items[0]);
        o.key_sep = cstr(c, sep->u.list->items[1]);
        if (!o.item_sep || !o.key_sep) return false;
    }
    jinja_buf b = {0};
    b.arena = c->mem;
    return jinja_write_json(c, &b, v, &o) && new_buf_str(c, &b, out);
}

static bool f_trim(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jv s, chars;
    if (!need_str(c, v, &s) || !arg_str(c, a, 0, "chars", false, &chars)) return false;
    *out = strip(s, chars, true, true);
    return true;
}

static bool f_unique(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    bool case_sensitive = arg_bool(a, 0, "case_sensitive", false);
    jv attr;
    if (!arg_str(c, a, 1, "attribute", false, &attr)) return false;
    jv_list *l, *r;
    if (!jinja_iterate(c, v, &l) || !(r = jinja_list_new(c, l->n))) return false;
    jv *keys = jinja_ctx_alloc(c, (l->n + 1) * sizeof(jv));
    if (!keys) return false;
    r->n = 0;
    for (size_t i = 0; i < l->n; i++) {
        jv k;
        if (!sort_key(c, l->items[i], attr, case_sensitive, &k)) return false;
        bool seen = false;
        for (size_t j = 0; j < r->n && !seen; j++) seen = jinja_equal(keys[j], k);
        if (seen) continue;
        keys[r->n] = k;
        r->items[r->n++] = l->items[i];
    }
    *out = jv_as_iterator(jinja_list_value(r));
    return true;
}

static bool f_wordcount(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    (void)a;
    jv s;
    if (!need_str(c, v, &s)) return false;
    int64_t n = 0;
    bool in_word = false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.u.s[i];
        bool w = p_alnum(ch) || ch == '_';
        if (w && !in_word) n++;
        in_word = w;
    }
    *out = jv_int(n);
    return true;
}

static const struct {
    const char *name;
    filter_fn fn;
} filters[] = {
    {"abs", f_abs},         {"attr", f_attr},           {"capitalize", f_capitalize}, {"count", f_length},
    {"d", f_default},       {"default", f_default},     {"dictsort", f_dictsort},     {"e", f_escape},
    {"escape", f_escape},   {"first", f_first},         {"float", f_float},           {"indent", f_indent},
    {"int", f_int},         {"items", f_items},         {"join", f_join},             {"last", f_last},
    {"length", f_length},   {"list", f_list},           {"lower", f_lower},           {"map", f_map},
    {"max", f_max},         {"min", f_min},             {"pprint", f_pprint},         {"reject", f_reject},
    {"rejectattr", f_rejectattr}, {"replace", f_replace}, {"reverse", f_reverse},     {"round", f_round},
    {"safe", f_safe},       {"select", f_select},       {"selectattr", f_selectattr}, {"sort", f_sort},
    {"string", f_string},   {"sum", f_sum},             {"title", f_title},           {"tojson", f_tojson},
    {"trim", f_trim},       {"unique", f_unique},       {"upper", f_upper},           {"wordcount", f_wordcount},
};

bool jinja_filter(jinja_ctx *c, const char *name, jv v, const jinja_args *a, jv *out) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (strcmp(filters[i].name, name) == 0) return filters[i].fn(c, v, a, out);
    return jinja_fail(c, "no filter named '%s'", name);
}

/* ---- tests ------------------------------------------------------------------------------ */

static bool test_compare(jinja_ctx *c, jv v, const jinja_args *a, int op, bool *out) {
    const jv *other = jinja_arg(a, 0, NULL);
    if (!other) return jinja_fail(c, "the test needs an argument");
    int cmp;
    if (op == 0) {
        *out = jinja_equal(v, *other);
        return true;
    }
    if (op == 1) {
        *out = !jinja_equal(v, *other);
        return true;
    }
    if (!jinja_compare(c, v, *other, &cmp)) return false;
    *out = op == 2 ? cmp < 0 : op == 3 ? cmp <= 0 : op == 4 ? cmp > 0 : cmp >= 0;
    return true;
}

bool jinja_test(jinja_ctx *c, const char *name, jv v, const jinja_args *a, bool *out) {
    jv_type t = v.type;
    if (!strcmp(name, "defined")) *out = t != JV_UNDEFINED;
    else if (!strcmp(name, "undefined")) *out = t == JV_UNDEFINED;
    else if (!strcmp(name, "none")) *out = t == JV_NONE;
    else if (!strcmp(name, "string")) *out = t == JV_STRING;
    else if (!strcmp(name, "number")) *out = t == JV_INT || t == JV_FLOAT || t == JV_BOOL;
    else if (!strcmp(name, "integer")) *out = t == JV_INT;
    else if (!strcmp(name, "float")) *out = t == JV_FLOAT;
    else if (!strcmp(name, "boolean")) *out = t == JV_BOOL;
    else if (!strcmp(name, "true")) *out = t == JV_BOOL && v.u.b;
    else if (!strcmp(name, "false")) *out = t == JV_BOOL && !v.u.b;
    else if (!strcmp(name, "mapping")) *out = t == JV_DICT;
    else if (!strcmp(name, "iterable")) *out = t == JV_STRING || t == JV_LIST || t == JV_DICT || t == JV_UNDEFINED;
    else if (!strcmp(name, "sequence")) *out = t == JV_STRING || t == JV_LIST || t == JV_DICT || t == JV_UNDEFINED;
    else if (!strcmp(name, "callable")) *out = t == JV_MACRO || t == JV_FUNCTION;
    else if (!strcmp(name, "escaped")) *out = false;
    else if (!strcmp(name, "lower") || !strcmp(name, "upper")) { /* of str(value), as Jinja */
        jv s;
        if (!jinja_to_string(c, v, &s)) return false;
        *out = str_case_is(s, name[0] == 'l');
    }
    else if (!strcmp(name, "even") || !strcmp(name, "odd") || !strcmp(name, "divisibleby")) {
        int64_t d = 2, x;
        if (!strcmp(name, "divisibleby")) {
            const jv *dv = jinja_arg(a, 0, "num");
            if (!dv || (dv->type != JV_INT && dv->type != JV_BOOL)) return jinja_fail(c, "divisibleby needs an integer");
            d = dv->type == JV_INT ? dv->u.i : dv->u.b;
            if (d == 0) return jinja_fail(c, "integer division or modulo by zero");
        }
        if (t == JV_INT || t == JV_BOOL) x = t == JV_INT ? v.u.i : v.u.b;
        else if (t == JV_FLOAT && v.u.f == floor(v.u.f) && fabs(v.u.f) < 9e18) x = (int64_t)v.u.f;
        else if (t == JV_FLOAT) x = 1; /* a non-integral float is neither even nor divisible */
        else return jinja_fail(c, "the '%s' test needs a number, not %s", name, jinja_type_name(v));
        int64_t m = d == -1 ? 0 : x % d;
        *out = !strcmp(name, "odd") ? m != 0 : m == 0;
        if (t == JV_FLOAT && v.u.f != floor(v.u.f)) *out = false;
    } else if (!strcmp(name, "eq") || !strcmp(name, "equalto") || !strcmp(name, "==")) return test_compare(c, v, a, 0, out);
    else if (!strcmp(name, "ne") || !strcmp(name, "!=")) return test_compare(c, v, a, 1, out);
    else if (!strcmp(name, "lt") || !strcmp(name, "lessthan")) return test_compare(c, v, a, 2, out);
    else if (!strcmp(name, "le")) return test_compare(c, v, a, 3, out);
    else if (!strcmp(name, "gt") || !strcmp(name, "greaterthan")) return test_compare(c, v, a, 4, out);
    else if (!strcmp(name, "ge")) return test_compare(c, v, a, 5, out);
    else if (!strcmp(name, "sameas")) {
        const jv *o = jinja_arg(a, 0, "other");
        if (!o) return jinja_fail(c, "sameas needs an argument");
        if (t != o->type) *out = false;
        else if (t == JV_NONE || t == JV_UNDEFINED) *out = true;
        else if (t == JV_BOOL) *out = v.u.b == o->u.b;
        else *out = jinja_equal(v, *o) && (t == JV_INT || t == JV_FLOAT || v.u.list == o->u.list);
    } else if (!strcmp(name, "in")) {
        const jv *seq = jinja_arg(a, 0, "seq");
        if (!seq) return jinja_fail(c, "the 'in' test needs an argument");
        if (seq->type == JV_STRING) {
            if (t != JV_STRING) return jinja_fail(c, "'in <string>' requires string as left operand");
            *out = v.len == 0 || find_bytes(seq->u.s, seq->len, v.u.s, v.len) != NULL;
        } else if (seq->type == JV_LIST) {
            *out = false;
            for (size_t i = 0; i < seq->u.list->n && !*out; i++) *out = jinja_equal(seq->u.list->items[i], v);
        } else if (seq->type == JV_DICT || seq->type == JV_NAMESPACE) {
            *out = jinja_dict_get(seq->u.dict, v) != NULL;
        } else {
            *out = false;
        }
    } else if (!strcmp(name, "filter")) {
        if (t != JV_STRING) return jinja_fail(c, "the 'filter' test needs a name");
        *out = false;
        for (size_t i = 0; i < sizeof filters / sizeof filters[0] && !*out; i++) *out = jv_str_eq(v, filters[i].name);
    } else if (!strcmp(name, "test")) {
        static const char *const tests[] = {"defined", "undefined", "none", "string", "number", "integer", "float",
                                            "boolean", "true", "false", "mapping", "iterable", "sequence", "callable",
                                            "even", "odd", "divisibleby", "eq", "ne", "lt", "le", "gt", "ge", "in",
                                            "sameas", "lower", "upper", "escaped", "filter", "test", NULL};
        *out = false;
        for (int i = 0; tests[i] && !*out; i++) *out = jv_str_eq(v, tests[i]);
    } else {
        return jinja_fail(c, "no test named '%s'", name);
    }
    return true;
}

/* ---- methods ---------------------------------------------------------------------------- */

static bool no_more_args(jinja_ctx *c, const jinja_args *a, size_t max, const char *name) {
    if (a->npos > max || a->nkw > 0) return jinja_fail(c, "%s() got unsupported arguments", name);
    return true;
}

/* startswith / endswith with a string or a tuple of strings. */
static bool affix(jinja_ctx *c, jv s, const jinja_args *a, bool end, const char *name, jv *out) {
    if (!no_more_args(c, a, 1, name)) return false;
    const jv *p = jinja_arg(a, 0, NULL);
    if (!p) return jinja_fail(c, "%s() takes at least 1 argument", name);
    const jv *cands = p;
    size_t n = 1;
    if (p->type == JV_LIST) {
        cands = p->u.list->items;
        n = p->u.list->n;
    }
    bool r = false;
    for (size_t i = 0; i < n && !r; i++) {
        jv x = cands[i];
        if (x.type != JV_STRING) return jinja_fail(c, "%s first arg must be str or a tuple of str", name);
        r = x.len <= s.len && (x.len == 0 || memcmp(end ? s.u.s + s.len - x.len : s.u.s, x.u.s, x.len) == 0);
    }
    *out = jv_bool(r);
    return true;
}

static bool string_method(jinja_ctx *c, jv s, const char *m, const jinja_args *a, jv *out) {
    jv x, y;
    int64_t k;
    if (!strcmp(m, "strip") || !strcmp(m, "lstrip") || !strcmp(m, "rstrip")) {
        if (!no_more_args(c, a, 1, m) || !arg_str(c, a, 0, "chars", false, &x)) return false;
        *out = strip(s, x, m[0] != 'r', m[0] != 'l');
        return true;
    }
    if (!strcmp(m, "split") || !strcmp(m, "rsplit")) {
        if (!arg_str(c, a, 0, "sep", false, &x) || !arg_int(c, a, 1, "maxsplit", -1, &k)) return false;
        return split(c, s, x, k, m[0] == 'r', out);
    }
    if (!strcmp(m, "splitlines")) {
        jv_list *l = jinja_list_new(c, 0);
        size_t cap = 0, i = 0;
        bool keep = arg_bool(a, 0, "keepends", false);
        if (!l) return false;
        while (i < s.len) {
            size_t e = i;
            while (e < s.len && s.u.s[e] != '\n' && s.u.s[e] != '\r') e++;
            size_t next = e < s.len ? e + (s.u.s[e] == '\r' && e + 1 < s.len && s.u.s[e + 1] == '\n' ? 2 : 1) : e;
            if (!list_push(c, l, &cap, jv_str(s.u.s + i, (keep ? next : e) - i))) return false;
            i = next;
        }
        *out = jinja_list_value(l);
        return true;
    }
    if (!strcmp(m, "startswith") || !strcmp(m, "endswith")) return affix(c, s, a, m[0] == 'e', m, out);
    if (!strcmp(m, "upper") || !strcmp(m, "lower") || !strcmp(m, "title") || !strcmp(m, "capitalize")) {
        if (!no_more_args(c, a, 0, m)) return false;
        case_mode mode = m[0] == 'u' ? CASE_UPPER : m[0] == 'l' ? CASE_LOWER : m[0] == 't' ? CASE_PYTITLE : CASE_CAPITALIZE;
        return change_case(c, s, mode, out);
    }
    if (!strcmp(m, "replace")) {
        if (!arg_str(c, a, 0, "old", true, &x) || !arg_str(c, a, 1, "new", true, &y) || !arg_int(c, a, 2, "count", -1, &k))
            return false;
        return replace(c, s, x, y, k, out);
    }
    if (!strcmp(m, "find") || !strcmp(m, "rfind") || !strcmp(m, "index") || !strcmp(m, "rindex") || !strcmp(m, "count")) {
        if (!no_more_args(c, a, 1, m) || !arg_str(c, a, 0, "sub", true, &x)) return false;
        if (!strcmp(m, "count")) {
            int64_t n = 0;
            if (x.len == 0) {
                n = (int64_t)jinja_utf8_count(s.u.s, s.len) + 1;
            } else {
                size_t pos = 0;
                const char *f;
                while ((f = find_bytes(s.u.s + pos, s.len - pos, x.u.s, x.len))) {
                    n++;
                    pos = (size_t)(f - s.u.s) + x.len;
                }
            }
            *out = jv_int(n);
            return true;
        }
        bool rev = m[0] == 'r';
        const char *f = rev ? rfind_bytes(s.u.s, s.len, x.u.s, x.len) : find_bytes(s.u.s, s.len, x.u.s, x.len);
        if (!f && (!strcmp(m, "index") || !strcmp(m, "rindex"))) return jinja_fail(c, "substring not found");
        *out = jv_int(f ? (int64_t)jinja_utf8_count(s.u.s, (size_t)(f - s.u.s)) : -1);
        return true;
    }
    if (!strcmp(m, "join")) {
        if (!no_more_args(c, a, 1, m) || a->npos < 1) return jinja_fail(c, "join() takes exactly one argument");
        jv_list *l;
        if (!jinja_iterate(c, a->pos[0], &l)) return false;
        jinja_buf b = {0};
        b.arena = c->mem;
        for (size_t i = 0; i < l->n; i++) {
            if (l->items[i].type != JV_STRING) return jinja_fail(c, "sequence item %zu: expected str instance", i);
            if ((i && !jinja_buf_put(c, &b, s.u.s, s.len)) || !jinja_buf_put(c, &b, l->items[i].u.s, l->items[i].len))
                return false;
        }
        return new_buf_str(c, &b, out);
    }
    if (!strcmp(m, "format")) return format_str(c, s, a, out);
    if (!strcmp(m, "removeprefix") || !strcmp(m, "removesuffix")) {
        if (!no_more_args(c, a, 1, m) || !arg_str(c, a, 0, "prefix", true, &x)) return false;
        bool suffix = m[6] == 's';
        bool has = x.len <= s.len && (x.len == 0 || memcmp(suffix ? s.u.s + s.len - x.len : s.u.s, x.u.s, x.len) == 0);
        *out = !has ? s : suffix ? jv_str(s.u.s, s.len - x.len) : jv_str(s.u.s + x.len, s.len - x.len);
        return true;
    }
    if (!strcmp(m, "isdigit") || !strcmp(m, "isnumeric") || !strcmp(m, "isdecimal")) *out = jv_bool(str_all(s, p_digit));
    else if (!strcmp(m, "isalpha")) *out = jv_bool(str_all(s, p_alpha));
    else if (!strcmp(m, "isalnum")) *out = jv_bool(str_all(s, p_alnum));
    else if (!strcmp(m, "isspace")) {
        bool all = s.len > 0;
        size_t i = 0;
        while (i < s.len && all) all = jinja_is_space(jinja_utf8_next(s.u.s, s.len, &i));
        *out = jv_bool(all);
    } else if (!strcmp(m, "islower")) *out = jv_bool(str_case_is(s, true));
    else if (!strcmp(m, "isupper")) *out = jv_bool(str_case_is(s, false));
    else return jinja_fail(c, "'str' object has no method '%s'", m);
    return true;
}

static bool is_mutator(const char *m) {
    static const char *const names[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear",
                                        "update", "setdefault", "popitem", "add", "discard", NULL};
    for (int i = 0; names[i]; i++)
        if (!strcmp(m, names[i])) return true;
    return false;
}

bool jinja_method(jinja_ctx *c, jv obj, const char *m, const jinja_args *a, jv *out) {
    switch (obj.type) {
    case JV_STRING: return string_method(c, obj, m, a, out);
    case JV_DICT:
        if (!strcmp(m, "items")) {
            if (!no_more_args(c, a, 0, m) || !f_items(c, obj, a, out)) return false;
            out->len = 0; /* dict_items, not a generator */
            return true;
        }
        if (!strcmp(m, "keys") || !strcmp(m, "values")) {
            if (!no_more_args(c, a, 0, m)) return false;
            jv_list *l = jinja_list_new(c, obj.u.dict->n);
            if (!l) return false;
            for (size_t i = 0; i < obj.u.dict->n; i++) l->items[i] = m[0] == 'k' ? obj.u.dict->keys[i] : obj.u.dict->vals[i];
            *out = jinja_list_value(l);
            return true;
        }
        if (!strcmp(m, "get")) {
            if (!no_more_args(c, a, 2, m) || a->npos < 1) return jinja_fail(c, "get() takes 1 or 2 arguments");
            const jv *v = jinja_dict_get(obj.u.dict, a->pos[0]);
            *out = v ? *v : a->npos > 1 ? a->pos[1] : jv_none();
            return true;
        }
        if (!strcmp(m, "copy")) return no_more_args(c, a, 0, m) && ((*out = obj), true);
        break;
    case JV_LIST:
        if (!strcmp(m, "index") || !strcmp(m, "count")) {
            if (!no_more_args(c, a, 1, m) || a->npos < 1) return jinja_fail(c, "%s() takes exactly one argument", m);
            int64_t n = 0, first = -1;
            for (size_t i = 0; i < obj.u.list->n; i++) {
                if (jinja_equal(obj.u.list->items[i], a->pos[0])) {
                    if (first < 0) first = (int64_t)i;
                    n++;
                }
            }
            if (m[0] == 'i' && first < 0) return jinja_fail(c, "value is not in list");
            *out = jv_int(m[0] == 'i' ? first : n);
            return true;
        }
        if (!strcmp(m, "copy")) return no_more_args(c, a, 0, m) && ((*out = obj), true);
        break;
    case JV_LOOP:
        if (!strcmp(m, "cycle")) {
            if (a->npos == 0) return jinja_fail(c, "no items for cycling given");
            *out = a->pos[obj.u.loop->index0 % a->npos];
            return true;
        }
        break;
    case JV_UNDEFINED: return jinja_fail(c, "cannot call '%s' on an undefined value", m);
    default: break;
    }
    if ((obj.type == JV_LIST || obj.type == JV_DICT || obj.type == JV_NAMESPACE) && is_mutator(m))
        return jinja_fail(c, "access to attribute '%s' of '%s' object is unsafe (values are immutable)", m,
                          jinja_type_name(obj));
    return jinja_fail(c, "'%s' object has no method '%s'", jinja_type_name(obj), m);
}

/* ---- the loop object -------------------------------------------------------------------- */

jv jinja_loop_attr(const jinja_loop *l, const char *name) {
    size_t i = l->index0, n = l->n;
    if (!strcmp(name, "index")) return jv_int((int64_t)i + 1);
    if (!strcmp(name, "index0")) return jv_int((int64_t)i);
    if (!strcmp(name, "revindex")) return jv_int((int64_t)(n - i));
    if (!strcmp(name, "revindex0")) return jv_int((int64_t)(n - i - 1));
    if (!strcmp(name, "first")) return jv_bool(i == 0);
    if (!strcmp(name, "last")) return jv_bool(i + 1 == n);
    if (!strcmp(name, "length")) return jv_int((int64_t)n);
    if (!strcmp(name, "depth")) return jv_int(1);
    if (!strcmp(name, "depth0")) return jv_int(0);
    if (!strcmp(name, "previtem")) return i > 0 ? l->items[i - 1] : jv_undef();
    if (!strcmp(name, "nextitem")) return i + 1 < n ? l->items[i + 1] : jv_undef();
    return jv_undef();
}

/* ---- global functions ------------------------------------------------------------------- */

static const char *const function_names[JF_COUNT] = {"range", "namespace", "raise_exception", "strftime_now", "dict"};

bool jinja_lookup_function(const char *name, jv *out) {
    for (int i = 0; i < JF_COUNT; i++) {
        if (!strcmp(name, function_names[i])) {
            out->type = JV_FUNCTION;
            out->len = 0;
            out->u.fn = i;
            return true;
        }
    }
    return false;
}

/* Jinja's sandbox refuses ranges longer than this. */
#define JINJA_MAX_RANGE 100000

static bool fn_range(jinja_ctx *c, const jinja_args *a, jv *out) {
    int64_t start = 0, stop, step = 1;
    if (a->nkw) return jinja_fail(c, "range() takes no keyword arguments");
    if (a->npos == 1) {
        if (!arg_int(c, a, 0, "stop", 0, &stop)) return false;
    } else if (a->npos == 2 || a->npos == 3) {
        if (!arg_int(c, a, 0, "start", 0, &start) || !arg_int(c, a, 1, "stop", 0, &stop) ||
            !arg_int(c, a, 2, "step", 1, &step))
            return false;
    } else {
        return jinja_fail(c, "range expected 1 to 3 arguments, got %zu", a->npos);
    }
    if (step == 0) return jinja_fail(c, "range() arg 3 must not be zero");
    double count = step > 0 ? ceil(((double)stop - (double)start) / (double)step)
                            : ceil(((double)start - (double)stop) / -(double)step);
    if (count < 0) count = 0;
    if (count > JINJA_MAX_RANGE)
        return jinja_fail(c, "range too big (the sandbox allows at most %d items)", JINJA_MAX_RANGE);
    jv_list *l = jinja_list_new(c, (size_t)count);
    if (!l) return false;
    int64_t v = start;
    for (size_t i = 0; i < (size_t)count; i++) { /* every value made lies in [start, stop): no overflow */
        l->items[i] = jv_int(v);
        if (i + 1 < (size_t)count) v += step;
    }
    *out = jinja_list_value(l);
    return true;
}

static bool fn_namespace(jinja_ctx *c, const jinja_args *a, bool as_namespace, jv *out) {
    jv_dict *d = jinja_dict_new(c, a->nkw);
    if (!d) return false;
    if (a->npos > 1) return jinja_fail(c, "expected at most 1 positional argument");
    if (a->npos == 1) {
        jv init = a->pos[0];
        if (init.type != JV_DICT && init.type != JV_NAMESPACE)
            return jinja_fail(c, "cannot initialise from a '%s'", jinja_type_name(init));
        for (size_t i = 0; i < init.u.dict->n; i++)
            if (!jinja_dict_set(c, d, init.u.dict->keys[i], init.u.dict->vals[i])) return false;
    }
    for (size_t i = 0; i < a->nkw; i++)
        if (!jinja_dict_set(c, d, jv_cstr(a->kw[i]), a->kwv[i])) return false;
    *out = jinja_dict_value(d);
    if (as_namespace) out->type = JV_NAMESPACE;
    return true;
}

bool jinja_call_function(jinja_ctx *c, int fn, const jinja_args *a, jv *out) {
    switch (fn) {
    case JF_RANGE: return fn_range(c, a, out);
    case JF_NAMESPACE: return fn_namespace(c, a, true, out);
    case JF_DICT: return fn_namespace(c, a, false, out);
    case JF_RAISE_EXCEPTION: {
        const jv *m = jinja_arg(a, 0, "message");
        jv s = jv_str("", 0);
        if (m && !jinja_to_string(c, *m, &s)) return false;
        return jinja_fail_raw(c, s.u.s, s.len);
    }
    case JF_STRFTIME_NOW: {
        jv fmt;
        if (!arg_str(c, a, 0, "format", true, &fmt)) return false;
        const char *f = cstr(c, fmt);
        if (!f) return false;
        time_t now = time(NULL);
        struct tm tmv;
        char buf[512];
        size_t n = 0;
        if (localtime_r(&now, &tmv)) n = strftime(buf, sizeof buf, f, &tmv);
        return jinja_new_str(c, buf, n, out);
    }
    default: return jinja_fail(c, "unknown function");
    }
}
