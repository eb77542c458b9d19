/* jinja.h - internals shared by the Jinja interpreter (jinja_*.c): arena, values, syntax tree, render context.
 *
 * The interpreter covers the subset of Jinja2 that Hugging Face chat templates use, with the
 * environment transformers builds for apply_chat_template: trim_blocks and lstrip_blocks on,
 * the loopcontrols extension (break/continue), default (lenient) Undefined, no autoescape, and
 * the globals raise_exception and strftime_now. The public entry points are in chat.h.
 *
 * Memory: a parsed template owns one arena (the syntax tree and its literals); each render owns
 * another (every value made while running), freed in one go when the render ends. Values are
 * small structs passed by value; strings, lists and dicts they point to are never modified after
 * they are made, except namespace objects (`{% set ns.x = ... %}`).
 */
#ifndef HEARTH_JINJA_H
#define HEARTH_JINJA_H

#include <stdarg.h>

#include "util.h"

/* ---- limits: a template is untrusted input, so every render is bounded ----------------- */

#define JINJA_MAX_OUTPUT ((size_t)64 << 20)   /* longest string made, the output included */
#define JINJA_MAX_MEMORY ((size_t)256 << 20)  /* all values of one render */
#define JINJA_MAX_ITERATIONS 10000000ull      /* loop iterations of one render, all loops */
/* Nesting and recursion bound the C stack: natively at most about 320 KiB at -O2 (parsing about
 * 128 KiB). Emscripten's stacks are small (64 KiB by default), so the wasm build allows less. */
#ifdef __EMSCRIPTEN__
#define JINJA_MAX_NEST 64                     /* nesting of blocks and expressions in the source */
#define JINJA_MAX_CALL_DEPTH 64               /* nested macro calls */
#define JINJA_MAX_EVAL_DEPTH 200              /* recursion of the evaluator */
#else
#define JINJA_MAX_NEST 200
#define JINJA_MAX_CALL_DEPTH 256
#define JINJA_MAX_EVAL_DEPTH 600
#endif

/* ---- arena ------------------------------------------------------------------------------ */

typedef struct jinja_chunk jinja_chunk;
typedef struct {
    jinja_chunk *head;
    size_t total; /* bytes taken from malloc so far */
    size_t cap;   /* most bytes it may take */
} jinja_arena;

/* Zeroed, 16-byte aligned memory that lives until jinja_arena_free; NULL when the cap is reached
 * or malloc fails. jinja_alloc_bytes is the same without the zeroing (for string bytes). */
void *jinja_alloc(jinja_arena *a, size_t size);
void *jinja_alloc_bytes(jinja_arena *a, size_t size);
void jinja_arena_free(jinja_arena *a);

/* ---- values ----------------------------------------------------------------------------- */

typedef enum {
    JV_UNDEFINED, /* a missing variable, key or attribute: falsy, renders as "" */
    JV_NONE,
    JV_BOOL,
    JV_INT,
    JV_FLOAT,
    JV_STRING,    /* UTF-8 bytes (not NUL-terminated) */
    JV_LIST,      /* jv.len 0: a list; 1: a tuple; 2: what Jinja makes a lazy iterator (select, map,
                   * ...): always true, whatever it holds */
    JV_DICT,
    JV_NAMESPACE, /* namespace(...): the one mutable kind */
    JV_MACRO,
    JV_FUNCTION,  /* a built-in global: range, namespace, raise_exception, ... */
    JV_LOOP,      /* the `loop` object of a for loop */
} jv_type;

typedef struct jv jv;
typedef struct jv_list jv_list;
typedef struct jv_dict jv_dict;
typedef struct jinja_macro jinja_macro;
typedef struct jinja_loop jinja_loop;

struct jv {
    jv_type type;
    size_t len; /* JV_STRING: bytes; JV_LIST: 0 list, 1 tuple, 2 iterator (see above) */
    union {
        bool b;
        int64_t i;
        double f;
        const char *s;
        jv_list *list;
        jv_dict *dict; /* JV_DICT and JV_NAMESPACE */
        jinja_macro *macro;
        int fn;
        jinja_loop *loop;
    } u;
};

struct jv_list {
    size_t n;
    jv *items;
};

/* Keys are values (almost always strings); order is insertion order, like Python's dict. */
struct jv_dict {
    size_t n, cap;
    jv *keys;
    jv *vals;
};

typedef enum { JF_RANGE, JF_NAMESPACE, JF_RAISE_EXCEPTION, JF_STRFTIME_NOW, JF_DICT, JF_COUNT } jinja_fn;

static inline jv jv_undef(void) { jv v = {JV_UNDEFINED, 0, {0}}; return v; }
static inline jv jv_none(void) { jv v = {JV_NONE, 0, {0}}; return v; }
static inline jv jv_bool(bool b) { jv v = {JV_BOOL, 0, {0}}; v.u.b = b; return v; }
static inline jv jv_int(int64_t i) { jv v = {JV_INT, 0, {0}}; v.u.i = i; return v; }
static inline jv jv_float(double f) { jv v = {JV_FLOAT, 0, {0}}; v.u.f = f; return v; }
static inline jv jv_str(const char *s, size_t n) { jv v = {JV_STRING, n, {0}}; v.u.s = s; return v; }
static inline jv jv_cstr(const char *s) { return jv_str(s, strlen(s)); }
static inline bool jv_str_eq(jv v, const char *s) {
    size_t n = strlen(s);
    return v.type == JV_STRING && v.len == n && (n == 0 || memcmp(v.u.s, s, n) == 0);
}

/* ---- syntax tree ------------------------------------------------------------------------ */

typedef enum {
    /* statements */
    JN_TEXT,     /* s/slen: template text */
    JN_OUTPUT,   /* {{ a }} */
    JN_IF,       /* if a: kids; else: kids2 (an elif is a JN_IF alone in kids2) */
    JN_FOR,      /* for names in a [if b]: kids; else: kids2 */
    JN_SET,      /* set a (JN_NAME, JN_ATTR or JN_TUPLE of names) = b; or, with b NULL, = rendered kids */
    JN_MACRO,    /* macro s(names = kids2 defaults, NULL when none): kids */
    JN_BREAK,
    JN_CONTINUE,
    JN_BLOCK,    /* kids rendered in place ({% generation %}) */
    /* expressions */
    JN_LITERAL,  /* lit */
    JN_NAME,     /* s */
    JN_ATTR,     /* a.s */
    JN_INDEX,    /* a[b] */
    JN_SLICE,    /* a[b:c:d], each of b c d may be NULL */
    JN_CALL,     /* a(kids, names[i] = kids2[i]) */
    JN_FILTER,   /* a | s(kids, names = kids2) */
    JN_TEST,     /* a is [not: flag] s(kids, names = kids2) */
    JN_NOT,      /* not a */
    JN_NEG,      /* -a */
    JN_POS,      /* +a */
    JN_BINARY,   /* a op b */
    JN_COMPARE,  /* a op b, then the chain c (whose left operand is b) */
    JN_AND,
    JN_OR,
    JN_COND,     /* a if b else c (c may be NULL) */
    JN_LIST,     /* [kids] */
    JN_TUPLE,    /* (kids) */
    JN_DICT,     /* {kids[i]: kids2[i]} */
} jnode_kind;

typedef enum {
    JOP_ADD, JOP_SUB, JOP_MUL, JOP_DIV, JOP_FLOORDIV, JOP_MOD, JOP_POW, JOP_CONCAT,
    JOP_EQ, JOP_NE, JOP_LT, JOP_LE, JOP_GT, JOP_GE, JOP_IN, JOP_NOTIN,
} jinja_op;

typedef struct jnode jnode;
struct jnode {
    uint8_t kind; /* jnode_kind */
    uint8_t op;   /* jinja_op */
    uint8_t flag; /* JN_TEST: negated */
    uint32_t pos; /* byte offset in the (normalised) source, for messages */
    jnode *a, *b, *c, *d;
    jnode **kids;
    size_t nkids;
    jnode **kids2;
    size_t nkids2;
    const char **names; /* NUL-terminated */
    size_t nnames;
    const char *s; /* NUL-terminated */
    size_t slen;
    jv lit;
};

/* Replaces "\r\n" and "\r" by "\n" and drops one trailing newline, as Jinja does before lexing.
 * Returns a NUL-terminated copy from `a`, or NULL when out of memory. */
char *jinja_normalize(jinja_arena *a, const char *src, size_t len, size_t *out_len);

/* Parses normalised source into a JN_BLOCK whose kids are the template's statements. On a syntax
 * error returns NULL with HEARTH_ERR_TEMPLATE and the line and column in *e. */
jnode *jinja_parse(jinja_arena *a, const char *src, size_t len, hearth_err *e);

/* 1-based line and column of byte offset `pos`. */
void jinja_line_col(const char *src, size_t len, size_t pos, int *line, int *col);

/* ---- rendering -------------------------------------------------------------------------- */

typedef struct jinja_scope jinja_scope;

/* A growable string: in the render arena, or on the heap (the final output) when arena is NULL. */
typedef struct {
    char *p;
    size_t len, cap;
    jinja_arena *arena;
} jinja_buf;

typedef struct {
    jinja_arena *mem;      /* values of this render */
    const char *src;       /* the template's source, for line numbers */
    size_t src_len;
    hearth_err *e;
    bool failed;           /* an error was recorded in *e; unwind */
    uint64_t iterations;
    int call_depth;        /* nested macro calls */
    int eval_depth;        /* evaluator recursion */
    uint32_t pos;          /* where evaluation is, for messages */
    jv globals;            /* the context: a JV_DICT */
    jinja_scope *root;
} jinja_ctx;

/* Records a runtime error "template error at line L: ..." (the first one wins); returns false. */
bool jinja_fail(jinja_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records an error whose message is exactly `msg` (raise_exception). */
bool jinja_fail_raw(jinja_ctx *c, const char *msg, size_t n);
/* Allocation from the render arena that records "out of memory" on failure (zeroed; _bytes: not). */
void *jinja_ctx_alloc(jinja_ctx *c, size_t size);
void *jinja_ctx_alloc_bytes(jinja_ctx *c, size_t size);
bool jinja_buf_put(jinja_ctx *c, jinja_buf *b, const char *s, size_t n);
static inline bool jinja_buf_puts(jinja_ctx *c, jinja_buf *b, const char *s) { return jinja_buf_put(c, b, s, strlen(s)); }
bool jinja_buf_printf(jinja_ctx *c, jinja_buf *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The arena buffer as a string value (no copy). */
static inline jv jinja_buf_value(jinja_buf *b) { return jv_str(b->p ? b->p : "", b->len); }

/* Renders the template `root` with `globals` (a JV_DICT) into a heap string the caller frees. */
hearth_status jinja_render(jinja_ctx *c, const jnode *root, char **out, size_t *out_len);

/* ---- values: jinja_value.c ------------------------------------------------------------- */

bool jinja_truthy(jv v);
const char *jinja_type_name(jv v);
/* Python's str(v), appended to b. */
bool jinja_write_str(jinja_ctx *c, jinja_buf *b, jv v);
/* Python's repr(v). */
bool jinja_write_repr(jinja_ctx *c, jinja_buf *b, jv v);
/* str(v) as a value (strings are returned as they are). */
bool jinja_to_string(jinja_ctx *c, jv v, jv *out);
/* json.dumps(v, ensure_ascii, indent (NULL: none), separators, sort_keys). */
typedef struct {
    bool ensure_ascii, sort_keys;
    const char *indent; /* NULL: one line */
    size_t indent_len;
    const char *item_sep, *key_sep; /* NULL: Python's defaults */
} jinja_json_opts;
bool jinja_write_json(jinja_ctx *c, jinja_buf *b, jv v, const jinja_json_opts *o);
/* Python ==. */
bool jinja_equal(jv a, jv b);
/* Python <, as -1/0/1 in *cmp; false (with an error) for unorderable types. */
bool jinja_compare(jinja_ctx *c, jv a, jv b, int *cmp);
/* Converts a parsed JSON tree (a json_value) into values. Strings are borrowed from the tree,
 * which must outlive the render. */
bool jinja_from_json(jinja_ctx *c, const void *json_value, jv *out, int depth);

jv_list *jinja_list_new(jinja_ctx *c, size_t n);
jv jinja_list_value(jv_list *l);
jv jinja_tuple_value(jv_list *l);
static inline jv jv_as_iterator(jv v) { v.len = 2; return v; } /* marks a list as a Jinja iterator */
jv_dict *jinja_dict_new(jinja_ctx *c, size_t cap);
jv jinja_dict_value(jv_dict *d);
/* Sets (replacing) key -> val. Mutates d: only for dicts being built and namespaces. */
bool jinja_dict_set(jinja_ctx *c, jv_dict *d, jv key, jv val);
/* Value of a string key, or NULL. */
const jv *jinja_dict_get(const jv_dict *d, jv key);
const jv *jinja_dict_get_cstr(const jv_dict *d, const char *key);
/* The items of an iterable as a list: lists as they are, dicts' keys, strings' characters,
 * undefined as empty; false (with an error) for other kinds. */
bool jinja_iterate(jinja_ctx *c, jv v, jv_list **out);
/* A copy of s[start:stop] as a new string value. */
bool jinja_new_str(jinja_ctx *c, const char *s, size_t n, jv *out);

/* ---- UTF-8 and Python string helpers ---------------------------------------------------- */

/* Decodes one code point at s[*i] (advancing *i); invalid bytes decode as themselves (one byte). */
uint32_t jinja_utf8_next(const char *s, size_t n, size_t *i);
size_t jinja_utf8_put(uint32_t cp, char out[4]);
size_t jinja_utf8_count(const char *s, size_t n);
/* Byte offset of code point index `k` (clamped to n). */
size_t jinja_utf8_offset(const char *s, size_t n, size_t k);
/* Python's str.isspace for one code point. */
bool jinja_is_space(uint32_t cp);

/* ---- built-ins: jinja_builtins.c ------------------------------------------------------- */

typedef struct {
    const jv *pos;
    size_t npos;
    const char *const *kw; /* names of keyword arguments */
    const jv *kwv;
    size_t nkw;
} jinja_args;

/* Argument `i` by position, else by keyword `name`; NULL when absent. */
const jv *jinja_arg(const jinja_args *a, size_t i, const char *name);

bool jinja_filter(jinja_ctx *c, const char *name, jv v, const jinja_args *a, jv *out);
bool jinja_test(jinja_ctx *c, const char *name, jv v, const jinja_args *a, bool *out);
/* obj.name(args) for strings, dicts, lists and the loop object. */
bool jinja_method(jinja_ctx *c, jv obj, const char *name, const jinja_args *a, jv *out);
bool jinja_call_function(jinja_ctx *c, int fn, const jinja_args *a, jv *out);
/* Python's printf-style `fmt % args` (%s %r %d %i %f %e %g %x %o %c %%, flags, width, precision,
 * %(name)s with a dict). */
bool jinja_percent_format(jinja_ctx *c, jv fmt, jv args, jv *out);
/* The built-in global called `name`, or false. */
bool jinja_lookup_function(const char *name, jv *out);
/* loop.<name>. */
jv jinja_loop_attr(const jinja_loop *l, const char *name);

struct jinja_loop {
    const jv *items;
    size_t n;
    size_t index0;
};

#endif
