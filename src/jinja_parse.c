/* jinja_parse.c - Jinja lexer and parser: template source to a syntax tree, with HF's trim_blocks + lstrip_blocks. */
#include "jinja.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- tokens ----------------------------------------------------------------------------- */

typedef enum {
    T_EOF,
    T_TEXT,
    T_VAR_BEGIN,
    T_VAR_END,
    T_BLOCK_BEGIN,
    T_BLOCK_END,
    T_NAME,
    T_STRING,
    T_INT,
    T_FLOAT,
    T_OP,
} ttype;

/* Operators are their character; the two-character ones get these codes. */
enum { OP_FLOORDIV = 'F', OP_POW = 'P', OP_EQ = 'E', OP_NE = 'N', OP_LE = 'L', OP_GE = 'G' };

typedef struct {
    uint8_t type;
    uint8_t op;
    uint32_t pos;
    const char *s; /* T_TEXT, T_NAME: into the source; T_STRING: decoded, NUL-terminated */
    size_t n;
    int64_t i;
    double f;
} token;

typedef struct {
    jinja_arena *a;
    const char *src;
    size_t len;
    hearth_err *e;
    bool failed;
    token *t;
    size_t nt, cap;
    size_t i;      /* parser position in t */
    int depth;     /* nesting, bounded by JINJA_MAX_NEST */
    int loop_depth; /* for loops around the current statement (break/continue) */
} parser;

static void *perr_at(parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void *perr_at(parser *p, size_t pos, const char *fmt, ...) {
    if (p->failed) return NULL;
    p->failed = true;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    jinja_line_col(p->src, p->len, pos, &line, &col);
    herr(p->e, HEARTH_ERR_TEMPLATE, "template syntax error at line %d, column %d: %s", line, col, msg);
    return NULL;
}

static bool push_tok(parser *p, token t) {
    if (p->nt == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        token *n = realloc(p->t, cap * sizeof *n);
        if (!n) {
            perr_at(p, t.pos, "out of memory");
            return false;
        }
        p->t = n;
        p->cap = cap;
    }
    p->t[p->nt++] = t;
    return true;
}

static bool push_simple(parser *p, ttype type, size_t pos) {
    token t = {0};
    t.type = (uint8_t)type;
    t.pos = (uint32_t)pos;
    return push_tok(p, t);
}

static bool push_text(parser *p, const char *s, size_t n, size_t pos) {
    if (n == 0) return true;
    token t = {0};
    t.type = T_TEXT;
    t.pos = (uint32_t)pos;
    t.s = s;
    t.n = n;
    return push_tok(p, t);
}

/* ---- lexer ------------------------------------------------------------------------------ */

char *jinja_normalize(jinja_arena *a, const char *src, size_t len, size_t *out_len) {
    char *o = jinja_alloc(a, len + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            o[k++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n') i++;
        } else {
            o[k++] = src[i];
        }
    }
    if (k > 0 && o[k - 1] == '\n') k--; /* keep_trailing_newline=False */
    o[k] = 0;
    *out_len = k;
    return o;
}

/* Length of the whitespace run (Python's \s) starting at i. */
static size_t space_run(const char *s, size_t n, size_t i) {
    size_t k = i;
    while (k < n) {
        size_t j = k;
        if (!jinja_is_space(jinja_utf8_next(s, n, &j))) break;
        k = j;
    }
    return k - i;
}

/* Length of text[0..n) without its trailing whitespace. */
static size_t rstrip_len(const char *s, size_t n) {
    size_t i = 0, last = 0; /* end of the last non-space character */
    while (i < n) {
        uint32_t cp = jinja_utf8_next(s, n, &i);
        if (!jinja_is_space(cp)) last = i;
    }
    return last;
}

/* Applies the left-hand whitespace control of a tag to the text before it: `-` strips all
 * whitespace; otherwise lstrip_blocks (not for {{ }}) removes spaces between the line start and
 * the tag. Returns the kept length. */
static size_t strip_before(const char *text, size_t n, char sign, bool lstrip, bool line_starting) {
    if (sign == '-') return rstrip_len(text, n);
    if (sign == '+' || !lstrip) return n;
    size_t l = n;
    while (l > 0 && text[l - 1] != '\n') l--;
    if (l == 0 && !line_starting) return n;
    if (l == n) return n;
    if (space_run(text, n, l) == n - l) return l;
    return n;
}

static bool is_ident_start(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; }
static bool is_ident(char ch) { return is_ident_start(ch) || (ch >= '0' && ch <= '9'); }
static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* After a block-like closing tag: `-` eats all following whitespace, `+` nothing, plain one newline.
 * Returns the new position; *line_starting tells whether what was consumed ends with "\n". */
static size_t after_close(parser *p, size_t pos, char sign, bool trim, bool *line_starting) {
    *line_starting = false;
    if (sign == '-') {
        size_t k = space_run(p->src, p->len, pos);
        if (k > 0) *line_starting = p->src[pos + k - 1] == '\n';
        return pos + k;
    }
    if (sign != '+' && trim && pos < p->len && p->src[pos] == '\n') {
        *line_starting = true;
        return pos + 1;
    }
    return pos;
}

/* Decodes a Python string literal body (the text between the quotes). */
static bool lex_string(parser *p, size_t start, size_t end, token *t) {
    char *o = jinja_alloc(p->a, end - start + 1);
    if (!o) {
        perr_at(p, start, "out of memory");
        return false;
    }
    size_t k = 0;
    const char *s = p->src;
    for (size_t i = start; i < end; i++) {
        char ch = s[i];
        if (ch != '\\' || i + 1 >= end) {
            o[k++] = ch;
            continue;
        }
        char x = s[++i];
        uint32_t cp;
        int nhex = 0;
        switch (x) {
        case '\n': continue;
        case '\\': o[k++] = '\\'; continue;
        case '\'': o[k++] = '\''; continue;
        case '"': o[k++] = '"'; continue;
        case 'a': o[k++] = '\a'; continue;
        case 'b': o[k++] = '\b'; continue;
        case 'f': o[k++] = '\f'; continue;
        case 'n': o[k++] = '\n'; continue;
        case 'r': o[k++] = '\r'; continue;
        case 't': o[k++] = '\t'; continue;
        case 'v': o[k++] = '\v'; continue;
        case 'x': nhex = 2; break;
        case 'u': nhex = 4; break;
        case 'U': nhex = 8; break;
        default:
            if (x >= '0' && x <= '7') {
                cp = 0;
                int nd = 0;
                while (nd < 3 && i < end && s[i] >= '0' && s[i] <= '7') {
                    cp = cp * 8 + (uint32_t)(s[i] - '0');
                    i++;
                    nd++;
                }
                i--;
                char u8[4];
                size_t m = jinja_utf8_put(cp, u8);
                memcpy(o + k, u8, m); /* an octal escape is 2-4 source bytes; its UTF-8 is at most 2 */
                k += m;
                continue;
            }
            o[k++] = '\\'; /* unknown escapes stay as they are */
            o[k++] = x;
            continue;
        }
        cp = 0;
        for (int d = 0; d < nhex; d++) {
            size_t j = i + 1 + (size_t)d;
            char h = j < end ? s[j] : 0;
            int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (v < 0) {
                perr_at(p, i - 1, "truncated \\%c escape in string", x);
                return false;
            }
            cp = cp * 16 + (uint32_t)v;
        }
        i += (size_t)nhex;
        if (cp > 0x10FFFF) {
            perr_at(p, i, "illegal Unicode character in string");
            return false;
        }
        char u8[4];
        size_t m = jinja_utf8_put(cp, u8); /* \xNN (4 bytes) -> at most 2; \uNNNN (6) -> 3; \U (10) -> 4 */
        memcpy(o + k, u8, m);
        k += m;
    }
    o[k] = 0;
    t->s = o;
    t->n = k;
    return true;
}

/* A number at pos: integers (with _ separators and 0b/0o/0x prefixes) and floats. */
static size_t lex_number(parser *p, size_t pos, token *t) {
    const char *s = p->src;
    size_t n = p->len, i = pos, k = 0;
    if (s[i] == '0' && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X' || s[i + 1] == 'o' || s[i + 1] == 'O' ||
                                     s[i + 1] == 'b' || s[i + 1] == 'B')) {
        char kind = (char)(s[i + 1] | 0x20);
        int base = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
        i += 2;
        uint64_t v = 0;
        size_t nd = 0;
        for (; i < n; i++) {
            char h = s[i];
            if (h == '_') continue;
            int d = h >= '0' && h <= '9' ? h - '0' : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10 : 99;
            if (d >= base) break;
            if (v > (uint64_t)INT64_MAX / (uint64_t)base) {
                perr_at(p, pos, "integer literal too large");
                return 0;
            }
            v = v * (uint64_t)base + (uint64_t)d;
            nd++;
        }
        if (nd == 0) {
            perr_at(p, pos, "invalid integer literal");
            return 0;
        }
        t->type = T_INT;
        t->i = (int64_t)v;
        return i - pos;
    }
    /* digits [. digits] [e [+-] digits], underscores allowed between digits */
    bool is_float = false;
    while (i < n && (is_digit(s[i]) || (s[i] == '_' && i + 1 < n && is_digit(s[i + 1])))) i++;
    bool after_dot = pos > 0 && s[pos - 1] == '.'; /* "x.0.1" is x[0][1], not a float */
    if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1]) && !after_dot) {
        is_float = true;
        for (i++; i < n && (is_digit(s[i]) || (s[i] == '_' && i + 1 < n && is_digit(s[i + 1]))); i++) {}
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E') && !after_dot) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        if (j < n && is_digit(s[j])) {
            is_float = true;
            for (i = j; i < n && (is_digit(s[i]) || (s[i] == '_' && i + 1 < n && is_digit(s[i + 1]))); i++) {}
        }
    }
    char *buf = jinja_alloc(p->a, i - pos + 1);
    if (!buf) {
        perr_at(p, pos, "out of memory");
        return 0;
    }
    for (size_t j = pos; j < i; j++)
        if (s[j] != '_') buf[k++] = s[j];
    buf[k] = 0;
    if (is_float) {
        t->type = T_FLOAT;
        t->f = strtod(buf, NULL);
    } else {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == ERANGE) {
            perr_at(p, pos, "integer literal too large");
            return 0;
        }
        t->type = T_INT;
        t->i = v;
    }
    return i - pos;
}

/* Tokens inside {{ }} or {% %}, up to and including the end tag. */
static bool lex_tag(parser *p, size_t *ppos, bool block, bool *line_starting) {
    const char *s = p->src;
    size_t n = p->len, i = *ppos;
    char stack[JINJA_MAX_NEST];
    int sp = 0;
    for (;;) {
        if (sp == 0) {
            char close = block ? '%' : '}';
            size_t j = i;
            char sign = 0;
            if (j < n && (s[j] == '-' || (block && s[j] == '+'))) sign = s[j++];
            if (j + 1 < n && s[j] == close && s[j + 1] == '}') {
                if (!push_simple(p, block ? T_BLOCK_END : T_VAR_END, i)) return false;
                *ppos = after_close(p, j + 2, sign ? sign : '=', block, line_starting);
                return true;
            }
        }
        size_t ws = space_run(s, n, i);
        if (ws) {
            i += ws;
            continue;
        }
        if (i >= n) {
            perr_at(p, i, "unexpected end of template, expected '%s'", block ? "%}" : "}}");
            return false;
        }
        token t = {0};
        t.pos = (uint32_t)i;
        char ch = s[i];
        if (is_digit(ch)) {
            size_t m = lex_number(p, i, &t);
            if (!m) return false;
            i += m;
        } else if (is_ident_start(ch)) {
            size_t j = i;
            while (j < n && is_ident(s[j])) j++;
            t.type = T_NAME;
            t.s = s + i;
            t.n = j - i;
            i = j;
        } else if (ch == '\'' || ch == '"') {
            size_t j = i + 1;
            while (j < n && s[j] != ch) j += s[j] == '\\' ? 2 : 1;
            if (j >= n) {
                perr_at(p, i, "unterminated string");
                return false;
            }
            t.type = T_STRING;
            if (!lex_string(p, i + 1, j, &t)) return false;
            i = j + 1;
        } else {
            char c2 = i + 1 < n ? s[i + 1] : 0;
            int op = 0, len = 2;
            if (ch == '/' && c2 == '/') op = OP_FLOORDIV;
            else if (ch == '*' && c2 == '*') op = OP_POW;
            else if (ch == '=' && c2 == '=') op = OP_EQ;
            else if (ch == '!' && c2 == '=') op = OP_NE;
            else if (ch == '<' && c2 == '=') op = OP_LE;
            else if (ch == '>' && c2 == '=') op = OP_GE;
            else if (strchr("+-*/%~<>=()[]{},.:|;", ch) && ch) op = ch, len = 1;
            if (!op) {
                if ((unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f)
                    perr_at(p, i, "unexpected char '%c'", ch);
                else
                    perr_at(p, i, "unexpected byte 0x%02x", (unsigned char)ch);
                return false;
            }
            if (op == '(' || op == '[' || op == '{') {
                if (sp >= JINJA_MAX_NEST) {
                    perr_at(p, i, "brackets nested too deeply");
                    return false;
                }
                stack[sp++] = op == '(' ? ')' : op == '[' ? ']' : '}';
            } else if (op == ')' || op == ']' || op == '}') {
                if (sp == 0) {
                    perr_at(p, i, "unexpected '%c'", op);
                    return false;
                }
                if (stack[--sp] != op) {
                    perr_at(p, i, "unexpected '%c', expected '%c'", op, stack[sp]);
                    return false;
                }
            }
            t.type = T_OP;
            t.op = (uint8_t)op;
            i += (size_t)len;
        }
        if (!push_tok(p, t)) return false;
    }
}

/* If a block tag starting at `pos` (just after "{%" and its sign) is `raw` or `endraw`, returns the
 * position after its closing "%}" and sets *end_sign; else 0. */
static size_t match_word_tag(parser *p, size_t pos, const char *word, char *end_sign) {
    const char *s = p->src;
    size_t n = p->len, wl = strlen(word);
    size_t i = pos + space_run(s, n, pos);
    if (i + wl > n || memcmp(s + i, word, wl) != 0 || (i + wl < n && is_ident(s[i + wl]))) return 0;
    i += wl;
    i += space_run(s, n, i);
    *end_sign = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) *end_sign = s[i++];
    if (i + 1 < n && s[i] == '%' && s[i + 1] == '}') return i + 2;
    return 0;
}

static bool lex(parser *p) {
    const char *s = p->src;
    size_t n = p->len, pos = 0;
    bool line_starting = true;
    while (pos < n) {
        /* the next "{{", "{%" or "{#" */
        size_t t = pos;
        for (;;) {
            const char *q = memchr(s + t, '{', n - t);
            if (!q) {
                t = n;
                break;
            }
            t = (size_t)(q - s);
            if (t + 1 < n && (s[t + 1] == '{' || s[t + 1] == '%' || s[t + 1] == '#')) break;
            t++;
        }
        if (t >= n) {
            if (!push_text(p, s + pos, n - pos, pos)) return false;
            break;
        }
        char kind = s[t + 1];
        size_t body = t + 2;
        char sign = 0;
        if (body < n && (s[body] == '-' || s[body] == '+')) sign = s[body++];
        char raw_sign = 0;
        size_t raw_end = kind == '%' ? match_word_tag(p, body, "raw", &raw_sign) : 0;
        if (raw_end && raw_sign == '+') raw_end = 0; /* "+%}" does not close a raw tag */
        size_t keep = strip_before(s + pos, t - pos, sign, kind != '{', line_starting);
        if (!push_text(p, s + pos, keep, pos)) return false;
        line_starting = false;
        if (kind == '#') {
            size_t i = body;
            for (;;) {
                const char *q = i < n ? memchr(s + i, '#', n - i) : NULL;
                if (!q) {
                    perr_at(p, t, "missing end of comment tag");
                    return false;
                }
                i = (size_t)(q - s);
                if (i + 1 < n && s[i + 1] == '}') break;
                i++;
            }
            char esign = i > body && (s[i - 1] == '-' || s[i - 1] == '+') ? s[i - 1] : '=';
            pos = after_close(p, i + 2, esign, true, &line_starting);
        } else if (raw_end) {
            size_t cs = raw_end;
            if (raw_sign == '-') {
                size_t k = space_run(s, n, cs);
                line_starting = k > 0 && s[cs + k - 1] == '\n';
                cs += k;
            }
            size_t i = cs, close = 0;
            char esign = 0, csign = 0;
            for (;;) {
                const char *q = i < n ? memchr(s + i, '{', n - i) : NULL;
                if (!q) {
                    perr_at(p, t, "missing end of raw directive");
                    return false;
                }
                i = (size_t)(q - s);
                if (i + 1 < n && s[i + 1] == '%') {
                    size_t b = i + 2;
                    esign = 0;
                    if (b < n && (s[b] == '-' || s[b] == '+')) esign = s[b++];
                    close = match_word_tag(p, b, "endraw", &csign);
                    if (close) break;
                }
                i++;
            }
            size_t kept = strip_before(s + cs, i - cs, esign, true, line_starting);
            if (!push_text(p, s + cs, kept, cs)) return false;
            pos = after_close(p, close, csign ? csign : '=', true, &line_starting);
        } else {
            if (!push_simple(p, kind == '%' ? T_BLOCK_BEGIN : T_VAR_BEGIN, t)) return false;
            pos = body;
            if (!lex_tag(p, &pos, kind == '%', &line_starting)) return false;
        }
    }
    return push_simple(p, T_EOF, n);
}

/* ---- parser helpers --------------------------------------------------------------------- */

static const token *cur(parser *p) { return &p->t[p->i]; }
static const token *peek(parser *p, size_t k) {
    size_t j = p->i + k;
    return &p->t[j < p->nt ? j : p->nt - 1];
}
static void advance(parser *p) {
    if (p->i + 1 < p->nt) p->i++;
}
static bool is_op(const token *t, int op) { return t->type == T_OP && t->op == op; }
static bool is_name(const token *t, const char *w) {
    size_t n = strlen(w);
    return t->type == T_NAME && t->n == n && memcmp(t->s, w, n) == 0;
}

static const char *describe(const token *t, char *buf, size_t size) {
    switch (t->type) {
    case T_EOF: return "end of template";
    case T_TEXT: return "template text";
    case T_VAR_BEGIN: return "'{{'";
    case T_VAR_END: return "'}}'";
    case T_BLOCK_BEGIN: return "'{%'";
    case T_BLOCK_END: return "'%}'";
    case T_NAME: snprintf(buf, size, "'%.*s'", t->n > 40 ? 40 : (int)t->n, t->s); return buf;
    case T_STRING: return "string";
    case T_INT: return "integer";
    case T_FLOAT: return "float";
    default: {
        const char *two = t->op == OP_FLOORDIV ? "//" : t->op == OP_POW ? "**" : t->op == OP_EQ ? "==" :
                          t->op == OP_NE ? "!=" : t->op == OP_LE ? "<=" : t->op == OP_GE ? ">=" : NULL;
        if (two) snprintf(buf, size, "'%s'", two);
        else snprintf(buf, size, "'%c'", t->op);
        return buf;
    }
    }
}

static void *unexpected(parser *p, const char *expected) {
    char b[64];
    const token *t = cur(p);
    if (t->type == T_EOF) return perr_at(p, t->pos, "unexpected end of template, expected %s", expected);
    return perr_at(p, t->pos, "expected %s, got %s", expected, describe(t, b, sizeof b));
}

static bool expect_op(parser *p, int op) {
    if (is_op(cur(p), op)) {
        advance(p);
        return true;
    }
    char want[8];
    snprintf(want, sizeof want, "'%c'", op);
    unexpected(p, want);
    return false;
}

static bool expect_type(parser *p, ttype type, const char *what) {
    if (cur(p)->type == type) {
        advance(p);
        return true;
    }
    unexpected(p, what);
    return false;
}

static const char *intern(parser *p, const char *s, size_t n) {
    char *o = jinja_alloc(p->a, n + 1);
    if (!o) return perr_at(p, 0, "out of memory");
    memcpy(o, s, n);
    return o;
}

static jnode *node(parser *p, jnode_kind kind, size_t pos) {
    jnode *n = jinja_alloc(p->a, sizeof *n);
    if (!n) return perr_at(p, pos, "out of memory");
    n->kind = (uint8_t)kind;
    n->pos = (uint32_t)pos;
    return n;
}

/* A growable array of node pointers in the arena. */
typedef struct {
    jnode **v;
    size_t n, cap;
} nodevec;

static bool vec_push(parser *p, nodevec *v, jnode *x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        jnode **nv = jinja_alloc(p->a, cap * sizeof *nv);
        if (!nv) {
            perr_at(p, 0, "out of memory");
            return false;
        }
        if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

typedef struct {
    const char **v;
    size_t n, cap;
} namevec;

static bool names_push(parser *p, namevec *v, const char *x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        const char **nv = jinja_alloc(p->a, cap * sizeof *nv);
        if (!nv) {
            perr_at(p, 0, "out of memory");
            return false;
        }
        if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

static bool enter(parser *p) {
    if (++p->depth > JINJA_MAX_NEST) {
        perr_at(p, cur(p)->pos, "template nested too deeply");
        return false;
    }
    return true;
}

/* ---- expressions ------------------------------------------------------------------------ */

static jnode *parse_expr(parser *p);
static jnode *parse_or(parser *p);
static jnode *parse_unary(parser *p, bool with_filter);
static jnode *parse_primary(parser *p);
static jnode *parse_postfix(parser *p, jnode *n);

/* (args, name=value, ...) into n->kids / n->names / n->kids2. */
static bool parse_call_args(parser *p, jnode *n) {
    size_t open = cur(p)->pos;
    if (!expect_op(p, '(')) return false;
    nodevec pos = {0}, kwv = {0};
    namevec kw = {0};
    bool need_comma = false;
    while (!is_op(cur(p), ')')) {
        if (need_comma) {
            if (!expect_op(p, ',')) return false;
            if (is_op(cur(p), ')')) break;
        }
        if (is_op(cur(p), '*')) {
            perr_at(p, cur(p)->pos, "*args and **kwargs are not supported");
            return false;
        }
        if (cur(p)->type == T_NAME && is_op(peek(p, 1), '=')) {
            const char *name = intern(p, cur(p)->s, cur(p)->n);
            advance(p);
            advance(p);
            jnode *v = parse_expr(p);
            if (!name || !v || !names_push(p, &kw, name) || !vec_push(p, &kwv, v)) return false;
        } else {
            if (kw.n) {
                perr_at(p, cur(p)->pos, "positional argument follows keyword argument");
                return false;
            }
            jnode *v = parse_expr(p);
            if (!v || !vec_push(p, &pos, v)) return false;
        }
        need_comma = true;
    }
    if (!expect_op(p, ')')) return perr_at(p, open, "unclosed call") != NULL;
    n->kids = pos.v;
    n->nkids = pos.n;
    n->names = kw.v;
    n->nnames = kw.n;
    n->kids2 = kwv.v;
    n->nkids2 = kwv.n;
    return true;
}

/* name(.name)* as one NUL-terminated string (filter and test names). */
static const char *parse_dotted_name(parser *p) {
    if (cur(p)->type != T_NAME) return unexpected(p, "a name");
    size_t start = (size_t)(cur(p)->s - p->src), end = start + cur(p)->n;
    advance(p);
    while (is_op(cur(p), '.') && peek(p, 1)->type == T_NAME) {
        advance(p);
        end = (size_t)(cur(p)->s - p->src) + cur(p)->n;
        advance(p);
    }
    return intern(p, p->src + start, end - start);
}

static jnode *parse_filter(parser *p, jnode *operand) {
    while (is_op(cur(p), '|')) {
        size_t pos = cur(p)->pos;
        advance(p);
        jnode *f = node(p, JN_FILTER, pos);
        if (!f) return NULL;
        f->s = parse_dotted_name(p);
        if (!f->s) return NULL;
        f->slen = strlen(f->s);
        f->a = operand;
        if (is_op(cur(p), '(') && !parse_call_args(p, f)) return NULL;
        operand = f;
    }
    return operand;
}

static jnode *parse_test(parser *p, jnode *operand) {
    size_t pos = cur(p)->pos;
    advance(p); /* is */
    jnode *t = node(p, JN_TEST, pos);
    if (!t) return NULL;
    if (is_name(cur(p), "not")) {
        t->flag = 1;
        advance(p);
    }
    t->s = parse_dotted_name(p);
    if (!t->s) return NULL;
    t->slen = strlen(t->s);
    t->a = operand;
    const token *c = cur(p);
    if (is_op(c, '(')) {
        if (!parse_call_args(p, t)) return NULL;
    } else if ((c->type == T_NAME || c->type == T_STRING || c->type == T_INT || c->type == T_FLOAT || is_op(c, '[') ||
                is_op(c, '{')) &&
               !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and") && !is_name(c, "if")) {
        if (is_name(c, "is")) return perr_at(p, c->pos, "you cannot chain multiple tests with is");
        jnode *arg = parse_primary(p);
        if (!arg || !(arg = parse_postfix(p, arg))) return NULL;
        t->kids = jinja_alloc(p->a, sizeof(jnode *));
        if (!t->kids) return perr_at(p, pos, "out of memory");
        t->kids[0] = arg;
        t->nkids = 1;
    }
    return t;
}

static jnode *parse_filter_expr(parser *p, jnode *n) {
    for (;;) {
        if (is_op(cur(p), '|')) {
            n = parse_filter(p, n);
        } else if (is_name(cur(p), "is")) {
            n = parse_test(p, n);
        } else if (is_op(cur(p), '(')) {
            jnode *call = node(p, JN_CALL, cur(p)->pos);
            if (!call || !parse_call_args(p, call)) return NULL;
            call->a = n;
            n = call;
        } else {
            return n;
        }
        if (!n) return NULL;
    }
}

/* The inside of [ ]: an index, or a slice a:b:c with parts optional. */
static jnode *parse_subscript(parser *p, jnode *obj, size_t pos) {
    jnode *parts[3] = {NULL, NULL, NULL};
    int nparts = 1;
    if (!is_op(cur(p), ':')) {
        parts[0] = parse_expr(p);
        if (!parts[0]) return NULL;
        if (!is_op(cur(p), ':')) {
            if (is_op(cur(p), ',')) return perr_at(p, cur(p)->pos, "tuple subscripts are not supported");
            jnode *n = node(p, JN_INDEX, pos);
            if (!n) return NULL;
            n->a = obj;
            n->b = parts[0];
            return n;
        }
    }
    while (is_op(cur(p), ':') && nparts < 3) {
        advance(p);
        if (!is_op(cur(p), ':') && !is_op(cur(p), ']')) {
            parts[nparts] = parse_expr(p);
            if (!parts[nparts]) return NULL;
        }
        nparts++;
    }
    jnode *n = node(p, JN_SLICE, pos);
    if (!n) return NULL;
    n->a = obj;
    n->b = parts[0];
    n->c = parts[1];
    n->d = parts[2];
    return n;
}

static jnode *parse_postfix(parser *p, jnode *n) {
    for (;;) {
        const token *t = cur(p);
        if (is_op(t, '.')) {
            advance(p);
            const token *a = cur(p);
            if (a->type == T_NAME) {
                jnode *g = node(p, JN_ATTR, a->pos);
                if (!g) return NULL;
                g->a = n;
                g->s = intern(p, a->s, a->n);
                g->slen = a->n;
                if (!g->s) return NULL;
                advance(p);
                n = g;
            } else if (a->type == T_INT) {
                jnode *g = node(p, JN_INDEX, a->pos), *k = node(p, JN_LITERAL, a->pos);
                if (!g || !k) return NULL;
                k->lit = jv_int(a->i);
                g->a = n;
                g->b = k;
                advance(p);
                n = g;
            } else {
                return unexpected(p, "a name or number after '.'");
            }
        } else if (is_op(t, '[')) {
            size_t pos = t->pos;
            advance(p);
            if (!enter(p)) return NULL;
            n = parse_subscript(p, n, pos);
            p->depth--;
            if (!n || !expect_op(p, ']')) return NULL;
        } else if (is_op(t, '(')) {
            jnode *call = node(p, JN_CALL, t->pos);
            if (!call || !parse_call_args(p, call)) return NULL;
            call->a = n;
            n = call;
        } else {
            return n;
        }
    }
}

/* ( ... ), [ ... ] and { ... } literals. */
static jnode *parse_sequence(parser *p, int close, jnode_kind kind, size_t pos) {
    jnode *n = node(p, kind, pos);
    if (!n) return NULL;
    nodevec items = {0}, vals = {0};
    while (!is_op(cur(p), close)) {
        if (items.n && !expect_op(p, ',')) return NULL;
        if (is_op(cur(p), close)) break;
        jnode *x = parse_expr(p);
        if (!x || !vec_push(p, &items, x)) return NULL;
        if (kind == JN_DICT) {
            if (!expect_op(p, ':')) return NULL;
            jnode *v = parse_expr(p);
            if (!v || !vec_push(p, &vals, v)) return NULL;
        }
    }
    if (!expect_op(p, close)) return NULL;
    n->kids = items.v;
    n->nkids = items.n;
    n->kids2 = vals.v;
    n->nkids2 = vals.n;
    return n;
}

static jnode *parse_primary(parser *p) {
    const token *t = cur(p);
    size_t pos = t->pos;
    jnode *n;
    switch (t->type) {
    case T_NAME:
        n = node(p, JN_LITERAL, pos);
        if (!n) return NULL;
        if (is_name(t, "true") || is_name(t, "True")) n->lit = jv_bool(true);
        else if (is_name(t, "false") || is_name(t, "False")) n->lit = jv_bool(false);
        else if (is_name(t, "none") || is_name(t, "None")) n->lit = jv_none();
        else {
            n->kind = JN_NAME;
            n->s = intern(p, t->s, t->n);
            n->slen = t->n;
            if (!n->s) return NULL;
        }
        advance(p);
        return n;
    case T_STRING: {
        /* adjacent string literals concatenate */
        size_t total = 0, k = 0;
        for (const token *u = t; u->type == T_STRING; u++) total += u->n;
        char *s = jinja_alloc(p->a, total + 1);
        n = node(p, JN_LITERAL, pos);
        if (!s || !n) return perr_at(p, pos, "out of memory");
        while (cur(p)->type == T_STRING) {
            memcpy(s + k, cur(p)->s, cur(p)->n);
            k += cur(p)->n;
            advance(p);
        }
        n->lit = jv_str(s, total);
        return n;
    }
    case T_INT:
    case T_FLOAT:
        n = node(p, JN_LITERAL, pos);
        if (!n) return NULL;
        n->lit = t->type == T_INT ? jv_int(t->i) : jv_float(t->f);
        advance(p);
        return n;
    case T_OP:
        if (t->op == '(' || t->op == '[' || t->op == '{') {
            if (!enter(p)) return NULL;
            int op = t->op;
            advance(p);
            if (op == '[') {
                n = parse_sequence(p, ']', JN_LIST, pos);
            } else if (op == '{') {
                n = parse_sequence(p, '}', JN_DICT, pos);
            } else if (is_op(cur(p), ')')) {
                advance(p);
                n = node(p, JN_TUPLE, pos);
            } else {
                n = parse_expr(p);
                if (n && is_op(cur(p), ',')) {
                    nodevec items = {0};
                    if (!vec_push(p, &items, n)) return NULL;
                    while (is_op(cur(p), ',')) {
                        advance(p);
                        if (is_op(cur(p), ')')) break;
                        jnode *x = parse_expr(p);
                        if (!x || !vec_push(p, &items, x)) return NULL;
                    }
                    n = node(p, JN_TUPLE, pos);
                    if (!n) return NULL;
                    n->kids = items.v;
                    n->nkids = items.n;
                }
                if (n && !expect_op(p, ')')) return NULL;
            }
            p->depth--;
            return n;
        }
        break;
    default: break;
    }
    return unexpected(p, "an expression");
}

static jnode *parse_unary(parser *p, bool with_filter) {
    const token *t = cur(p);
    jnode *n;
    if (is_op(t, '-') || is_op(t, '+')) {
        if (!enter(p)) return NULL;
        n = node(p, is_op(t, '-') ? JN_NEG : JN_POS, t->pos);
        advance(p);
        if (!n || !(n->a = parse_unary(p, false))) return NULL;
        p->depth--;
    } else {
        n = parse_primary(p);
    }
    if (!n || !(n = parse_postfix(p, n))) return NULL;
    return with_filter ? parse_filter_expr(p, n) : n;
}

static jnode *binary(parser *p, jnode_kind kind, int op, size_t pos, jnode *a, jnode *b) {
    if (!b) return NULL;
    jnode *n = node(p, kind, pos);
    if (!n) return NULL;
    n->op = (uint8_t)op;
    n->a = a;
    n->b = b;
    return n;
}

static jnode *parse_pow(parser *p) {
    jnode *n = parse_unary(p, true);
    while (n && is_op(cur(p), OP_POW)) {
        size_t pos = cur(p)->pos;
        advance(p);
        n = binary(p, JN_BINARY, JOP_POW, pos, n, parse_unary(p, true));
    }
    return n;
}

static jnode *parse_math2(parser *p) {
    jnode *n = parse_pow(p);
    for (;;) {
        const token *t = cur(p);
        int op = is_op(t, '*') ? JOP_MUL : is_op(t, '/') ? JOP_DIV : is_op(t, OP_FLOORDIV) ? JOP_FLOORDIV
               : is_op(t, '%') ? JOP_MOD : -1;
        if (!n || op < 0) return n;
        advance(p);
        n = binary(p, JN_BINARY, op, t->pos, n, parse_pow(p));
    }
}

static jnode *parse_concat(parser *p) {
    jnode *n = parse_math2(p);
    while (n && is_op(cur(p), '~')) {
        size_t pos = cur(p)->pos;
        advance(p);
        n = binary(p, JN_BINARY, JOP_CONCAT, pos, n, parse_math2(p));
    }
    return n;
}

static jnode *parse_math1(parser *p) {
    jnode *n = parse_concat(p);
    for (;;) {
        const token *t = cur(p);
        int op = is_op(t, '+') ? JOP_ADD : is_op(t, '-') ? JOP_SUB : -1;
        if (!n || op < 0) return n;
        advance(p);
        n = binary(p, JN_BINARY, op, t->pos, n, parse_concat(p));
    }
}

static jnode *parse_compare(parser *p) {
    jnode *first = parse_math1(p), *last = NULL;
    if (!first) return NULL;
    jnode *head = NULL;
    jnode *left = first;
    for (;;) {
        const token *t = cur(p);
        int op = -1;
        size_t pos = t->pos;
        if (is_op(t, OP_EQ)) op = JOP_EQ;
        else if (is_op(t, OP_NE)) op = JOP_NE;
        else if (is_op(t, '<')) op = JOP_LT;
        else if (is_op(t, OP_LE)) op = JOP_LE;
        else if (is_op(t, '>')) op = JOP_GT;
        else if (is_op(t, OP_GE)) op = JOP_GE;
        else if (is_name(t, "in")) op = JOP_IN;
        else if (is_name(t, "not") && is_name(peek(p, 1), "in")) {
            op = JOP_NOTIN;
            advance(p);
        }
        if (op < 0) break;
        advance(p);
        jnode *right = parse_math1(p);
        jnode *c = binary(p, JN_COMPARE, op, pos, left, right);
        if (!c) return NULL;
        if (last) last->c = c;
        else head = c;
        last = c;
        left = right;
    }
    return head ? head : first;
}

static jnode *parse_not(parser *p) {
    if (is_name(cur(p), "not")) {
        size_t pos = cur(p)->pos;
        if (!enter(p)) return NULL;
        advance(p);
        jnode *n = node(p, JN_NOT, pos);
        if (!n || !(n->a = parse_not(p))) return NULL;
        p->depth--;
        return n;
    }
    return parse_compare(p);
}

static jnode *parse_and(parser *p) {
    jnode *n = parse_not(p);
    while (n && is_name(cur(p), "and")) {
        size_t pos = cur(p)->pos;
        advance(p);
        n = binary(p, JN_AND, 0, pos, n, parse_not(p));
    }
    return n;
}

static jnode *parse_or(parser *p) {
    jnode *n = parse_and(p);
    while (n && is_name(cur(p), "or")) {
        size_t pos = cur(p)->pos;
        advance(p);
        n = binary(p, JN_OR, 0, pos, n, parse_and(p));
    }
    return n;
}

/* x if cond else y (the else part optional). */
static jnode *parse_expr(parser *p) {
    if (!enter(p)) return NULL;
    jnode *n = parse_or(p);
    while (n && is_name(cur(p), "if")) {
        size_t pos = cur(p)->pos;
        advance(p);
        jnode *c = node(p, JN_COND, pos);
        if (!c) return NULL;
        c->a = n;
        if (!(c->b = parse_or(p))) return NULL;
        if (is_name(cur(p), "else")) {
            advance(p);
            if (!(c->c = parse_expr(p))) return NULL;
        }
        n = c;
    }
    p->depth--;
    return n;
}

/* An expression, or several separated by commas (a tuple without parentheses). */
static jnode *parse_tuple(parser *p, bool with_condexpr) {
    size_t pos = cur(p)->pos;
    if (!enter(p)) return NULL;
    jnode *n = with_condexpr ? parse_expr(p) : parse_or(p);
    if (n && is_op(cur(p), ',')) {
        nodevec items = {0};
        if (!vec_push(p, &items, n)) return NULL;
        while (is_op(cur(p), ',')) {
            advance(p);
            if (cur(p)->type == T_BLOCK_END || cur(p)->type == T_VAR_END || is_op(cur(p), '=')) break;
            jnode *x = with_condexpr ? parse_expr(p) : parse_or(p);
            if (!x || !vec_push(p, &items, x)) return NULL;
        }
        n = node(p, JN_TUPLE, pos);
        if (!n) return NULL;
        n->kids = items.v;
        n->nkids = items.n;
    }
    p->depth--;
    return n;
}

/* ---- statements ------------------------------------------------------------------------- */

static bool parse_body(parser *p, const char *const *ends, nodevec *out, const char *stmt, size_t stmt_pos);

static bool end_of_tag(parser *p) { return expect_type(p, T_BLOCK_END, "'%}'"); }

/* Loop or assignment targets: name, or name, name, ... (optionally in parentheses). */
static bool parse_targets(parser *p, namevec *names) {
    bool paren = is_op(cur(p), '(');
    if (paren) advance(p);
    for (;;) {
        if (cur(p)->type != T_NAME) {
            unexpected(p, "a variable name");
            return false;
        }
        const char *nm = intern(p, cur(p)->s, cur(p)->n);
        if (!nm || !names_push(p, names, nm)) return false;
        advance(p);
        if (!is_op(cur(p), ',')) break;
        advance(p);
        if (paren && is_op(cur(p), ')')) break;
    }
    return !paren || expect_op(p, ')');
}

static jnode *parse_for(parser *p, size_t pos) {
    jnode *n = node(p, JN_FOR, pos);
    namevec names = {0};
    if (!n || !parse_targets(p, &names)) return NULL;
    n->names = names.v;
    n->nnames = names.n;
    if (!is_name(cur(p), "in")) return unexpected(p, "'in'");
    advance(p);
    if (!(n->a = parse_tuple(p, false))) return NULL;
    if (is_name(cur(p), "if")) {
        advance(p);
        if (!(n->b = parse_expr(p))) return NULL;
    }
    if (is_name(cur(p), "recursive")) return perr_at(p, cur(p)->pos, "recursive loops are not supported");
    if (!end_of_tag(p)) return NULL;
    static const char *const ends[] = {"endfor", "else", NULL};
    nodevec body = {0}, other = {0};
    p->loop_depth++;
    bool ok = parse_body(p, ends, &body, "for", pos);
    p->loop_depth--;
    if (!ok) return NULL;
    if (is_name(cur(p), "else")) {
        advance(p);
        static const char *const ends2[] = {"endfor", NULL};
        if (!end_of_tag(p) || !parse_body(p, ends2, &other, "for", pos)) return NULL;
    }
    advance(p); /* endfor */
    n->kids = body.v;
    n->nkids = body.n;
    n->kids2 = other.v;
    n->nkids2 = other.n;
    return end_of_tag(p) ? n : NULL;
}

static jnode *parse_if(parser *p, size_t pos) {
    jnode *n = node(p, JN_IF, pos);
    if (!n || !(n->a = parse_tuple(p, false)) || !end_of_tag(p)) return NULL;
    static const char *const ends[] = {"elif", "else", "endif", NULL};
    nodevec body = {0};
    if (!parse_body(p, ends, &body, "if", pos)) return NULL;
    n->kids = body.v;
    n->nkids = body.n;
    if (is_name(cur(p), "elif")) {
        size_t epos = cur(p)->pos;
        advance(p);
        if (!enter(p)) return NULL;
        jnode *elif = parse_if(p, epos); /* consumes through the shared endif */
        p->depth--;
        if (!elif) return NULL;
        n->kids2 = jinja_alloc(p->a, sizeof(jnode *));
        if (!n->kids2) return perr_at(p, pos, "out of memory");
        n->kids2[0] = elif;
        n->nkids2 = 1;
        return n;
    }
    if (is_name(cur(p), "else")) {
        advance(p);
        static const char *const ends2[] = {"endif", NULL};
        nodevec other = {0};
        if (!end_of_tag(p) || !parse_body(p, ends2, &other, "if", pos)) return NULL;
        n->kids2 = other.v;
        n->nkids2 = other.n;
    }
    advance(p); /* endif */
    return end_of_tag(p) ? n : NULL;
}

static jnode *parse_set(parser *p, size_t pos) {
    jnode *n = node(p, JN_SET, pos);
    if (!n) return NULL;
    const token *t = cur(p);
    if (t->type != T_NAME) return unexpected(p, "a variable name");
    if (is_op(peek(p, 1), '.')) { /* ns.attr */
        jnode *obj = node(p, JN_NAME, t->pos), *attr = node(p, JN_ATTR, t->pos);
        if (!obj || !attr || !(obj->s = intern(p, t->s, t->n))) return NULL;
        obj->slen = t->n;
        advance(p);
        advance(p);
        if (cur(p)->type != T_NAME) return unexpected(p, "an attribute name");
        if (!(attr->s = intern(p, cur(p)->s, cur(p)->n))) return NULL;
        attr->slen = cur(p)->n;
        attr->a = obj;
        advance(p);
        n->a = attr;
    } else {
        namevec names = {0};
        if (!parse_targets(p, &names)) return NULL;
        jnode *target = node(p, names.n == 1 ? JN_NAME : JN_TUPLE, t->pos);
        if (!target) return NULL;
        target->s = names.v[0];
        target->slen = strlen(names.v[0]);
        target->names = names.v;
        target->nnames = names.n;
        n->a = target;
    }
    if (is_op(cur(p), '=')) {
        advance(p);
        if (!(n->b = parse_tuple(p, true))) return NULL;
        return end_of_tag(p) ? n : NULL;
    }
    if (n->a->kind != JN_NAME) return unexpected(p, "'='");
    if (!end_of_tag(p)) return NULL;
    static const char *const ends[] = {"endset", NULL};
    nodevec body = {0};
    if (!parse_body(p, ends, &body, "set", pos)) return NULL;
    advance(p);
    n->kids = body.v;
    n->nkids = body.n;
    return end_of_tag(p) ? n : NULL;
}

static jnode *parse_macro(parser *p, size_t pos) {
    jnode *n = node(p, JN_MACRO, pos);
    if (!n) return NULL;
    if (cur(p)->type != T_NAME) return unexpected(p, "a macro name");
    if (!(n->s = intern(p, cur(p)->s, cur(p)->n))) return NULL;
    n->slen = cur(p)->n;
    advance(p);
    if (!expect_op(p, '(')) return NULL;
    namevec params = {0};
    nodevec defaults = {0};
    while (!is_op(cur(p), ')')) {
        if (params.n && !expect_op(p, ',')) return NULL;
        if (is_op(cur(p), ')')) break;
        if (cur(p)->type != T_NAME) return unexpected(p, "a parameter name");
        const char *nm = intern(p, cur(p)->s, cur(p)->n);
        advance(p);
        jnode *def = NULL;
        if (is_op(cur(p), '=')) {
            advance(p);
            if (!(def = parse_expr(p))) return NULL;
        } else if (defaults.n && defaults.v[defaults.n - 1]) {
            return perr_at(p, cur(p)->pos, "non-default argument follows default argument");
        }
        if (!nm || !names_push(p, &params, nm) || !vec_push(p, &defaults, def)) return NULL;
    }
    advance(p);
    if (!end_of_tag(p)) return NULL;
    static const char *const ends[] = {"endmacro", NULL};
    nodevec body = {0};
    int saved = p->loop_depth;
    p->loop_depth = 0;
    bool ok = parse_body(p, ends, &body, "macro", pos);
    p->loop_depth = saved;
    if (!ok) return NULL;
    advance(p);
    n->names = params.v;
    n->nnames = params.n;
    n->kids2 = defaults.v;
    n->nkids2 = defaults.n;
    n->kids = body.v;
    n->nkids = body.n;
    return end_of_tag(p) ? n : NULL;
}

static jnode *parse_statement(parser *p) {
    size_t pos = cur(p)->pos;
    advance(p); /* {% */
    const token *t = cur(p);
    if (t->type != T_NAME) return unexpected(p, "a statement name");
    advance(p);
    if (is_name(t, "for")) return parse_for(p, pos);
    if (is_name(t, "if")) return parse_if(p, pos);
    if (is_name(t, "set")) return parse_set(p, pos);
    if (is_name(t, "macro")) return parse_macro(p, pos);
    if (is_name(t, "break") || is_name(t, "continue")) {
        if (p->loop_depth == 0) return perr_at(p, t->pos, "'%.*s' outside of a loop", (int)t->n, t->s);
        jnode *n = node(p, is_name(t, "break") ? JN_BREAK : JN_CONTINUE, pos);
        return n && end_of_tag(p) ? n : NULL;
    }
    if (is_name(t, "print")) {
        jnode *n = node(p, JN_OUTPUT, pos);
        if (!n || !(n->a = parse_tuple(p, true))) return NULL;
        return end_of_tag(p) ? n : NULL;
    }
    if (is_name(t, "generation")) { /* transformers' assistant-mask marker: renders its body */
        jnode *n = node(p, JN_BLOCK, pos);
        static const char *const ends[] = {"endgeneration", NULL};
        nodevec body = {0};
        if (!n || !end_of_tag(p) || !parse_body(p, ends, &body, "generation", pos)) return NULL;
        advance(p);
        n->kids = body.v;
        n->nkids = body.n;
        return end_of_tag(p) ? n : NULL;
    }
    static const char *const unsupported[] = {"include", "extends", "import", "from", "block", "call",
                                              "filter", "with", "autoescape", "do", NULL};
    for (int i = 0; unsupported[i]; i++)
        if (is_name(t, unsupported[i])) return perr_at(p, t->pos, "the '%s' tag is not supported", unsupported[i]);
    return perr_at(p, t->pos, "unknown tag '%.*s'", t->n > 40 ? 40 : (int)t->n, t->s);
}

/* Statements until a {% name %} with name in `ends` (left as the current token), or the end of the
 * template when ends is NULL. */
static bool parse_body(parser *p, const char *const *ends, nodevec *out, const char *stmt, size_t stmt_pos) {
    if (!enter(p)) return false;
    for (;;) {
        const token *t = cur(p);
        jnode *n = NULL;
        if (t->type == T_EOF) {
            if (!ends) break;
            int line, col;
            jinja_line_col(p->src, p->len, stmt_pos, &line, &col);
            perr_at(p, t->pos, "unexpected end of template: the '%s' at line %d needs '%s'", stmt, line, ends[0]);
            return false;
        }
        if (t->type == T_TEXT) {
            n = node(p, JN_TEXT, t->pos);
            if (!n) return false;
            n->s = t->s;
            n->slen = t->n;
            advance(p);
        } else if (t->type == T_VAR_BEGIN) {
            n = node(p, JN_OUTPUT, t->pos);
            advance(p);
            if (!n || !(n->a = parse_tuple(p, true)) || !expect_type(p, T_VAR_END, "'}}'")) return false;
        } else if (t->type == T_BLOCK_BEGIN) {
            const token *name = peek(p, 1);
            if (name->type == T_NAME) {
                for (int i = 0; ends && ends[i]; i++) {
                    if (is_name(name, ends[i])) {
                        advance(p); /* leave the end name as the current token */
                        p->depth--;
                        return true;
                    }
                }
                static const char *const closers[] = {"endfor", "endif", "elif", "else", "endset", "endmacro",
                                                      "endgeneration", "endraw", NULL};
                for (int i = 0; closers[i]; i++)
                    if (is_name(name, closers[i]))
                        return perr_at(p, name->pos, "unexpected '%s'%s%s%s", closers[i], ends ? " (expected '" : "",
                                       ends ? ends[0] : "", ends ? "')" : "") != NULL;
            }
            if (!(n = parse_statement(p))) return false;
        } else {
            unexpected(p, "template text or a tag");
            return false;
        }
        if (!vec_push(p, out, n)) return false;
    }
    p->depth--;
    return true;
}

jnode *jinja_parse(jinja_arena *a, const char *src, size_t len, hearth_err *e) {
    parser p = {0};
    p.a = a;
    p.src = src;
    p.len = len;
    p.e = e;
    if (len > UINT32_MAX) {
        herr(e, HEARTH_ERR_TOO_LARGE, "template too large");
        return NULL;
    }
    jnode *root = NULL;
    if (lex(&p)) {
        nodevec body = {0};
        if (parse_body(&p, NULL, &body, "", 0)) {
            root = node(&p, JN_BLOCK, 0);
            if (root) {
                root->kids = body.v;
                root->nkids = body.n;
            }
        }
    }
    free(p.t);
    return p.failed ? NULL : root;
}
