/* jinja_eval.c - runs a parsed Jinja template: scopes, statements, expressions, macro calls, limits. */
#include "jinja.h"

#include <math.h>
#include <stdlib.h>

/* Variables of one level: the template's top level, one for loop, one macro call. */
struct jinja_scope {
    jinja_scope *parent;
    size_t n, cap;
    const char **names;
    jv *vals;
};

struct jinja_macro {
    const jnode *def;
    jinja_scope *closure;
};

typedef enum { EX_OK, EX_ERR, EX_BREAK, EX_CONTINUE } exec_result;

static bool eval(jinja_ctx *c, jinja_scope *s, const jnode *n, jv *out);
static exec_result exec_body(jinja_ctx *c, jinja_scope *s, jnode *const *kids, size_t n, jinja_buf *out);

/* ---- scopes ----------------------------------------------------------------------------- */

static jinja_scope *scope_new(jinja_ctx *c, jinja_scope *parent) {
    jinja_scope *s = jinja_ctx_alloc(c, sizeof *s);
    if (s) s->parent = parent;
    return s;
}

static bool scope_set(jinja_ctx *c, jinja_scope *s, const char *name, jv v) {
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], name) == 0) {
            s->vals[i] = v;
            return true;
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        const char **nn = jinja_ctx_alloc(c, cap * sizeof *nn);
        jv *nv = jinja_ctx_alloc(c, cap * sizeof *nv);
        if (!nn || !nv) return false;
        if (s->n) {
            memcpy(nn, s->names, s->n * sizeof *nn);
            memcpy(nv, s->vals, s->n * sizeof *nv);
        }
        s->names = nn;
        s->vals = nv;
        s->cap = cap;
    }
    s->names[s->n] = name;
    s->vals[s->n] = v;
    s->n++;
    return true;
}

static jv lookup(jinja_ctx *c, jinja_scope *s, const char *name) {
    for (; s; s = s->parent)
        for (size_t i = s->n; i-- > 0;)
            if (strcmp(s->names[i], name) == 0) return s->vals[i];
    const jv *g = jinja_dict_get_cstr(c->globals.u.dict, name);
    if (g) return *g;
    jv f;
    if (jinja_lookup_function(name, &f)) return f;
    return jv_undef();
}

/* ---- arithmetic ------------------------------------------------------------------------- */

static bool as_number(jv v, double *f, int64_t *i, bool *is_int) {
    if (v.type == JV_INT || v.type == JV_BOOL) {
        *i = v.type == JV_INT ? v.u.i : v.u.b;
        *f = (double)*i;
        *is_int = true;
        return true;
    }
    if (v.type == JV_FLOAT) {
        *f = v.u.f;
        *is_int = false;
        return true;
    }
    return false;
}

static bool bad_operands(jinja_ctx *c, const char *op, jv a, jv b) {
    if (a.type == JV_UNDEFINED || b.type == JV_UNDEFINED)
        return jinja_fail(c, "undefined value used with '%s'", op);
    return jinja_fail(c, "unsupported operand type(s) for %s: '%s' and '%s'", op, jinja_type_name(a), jinja_type_name(b));
}

/* seq * count for strings and lists. */
static bool repeat(jinja_ctx *c, jv seq, int64_t count, jv *out) {
    if (count < 0) count = 0;
    if (seq.type == JV_STRING) {
        if (seq.len && (uint64_t)count > JINJA_MAX_OUTPUT / seq.len) return jinja_fail(c, "string too large");
        size_t total = seq.len * (size_t)count;
        char *p = jinja_ctx_alloc_bytes(c, total + 1);
        if (!p) return false;
        for (int64_t k = 0; k < count; k++) memcpy(p + (size_t)k * seq.len, seq.u.s, seq.len);
        p[total] = 0;
        *out = jv_str(p, total);
        return true;
    }
    size_t n = seq.u.list->n;
    if (n && (uint64_t)count > (JINJA_MAX_MEMORY / sizeof(jv)) / n) return jinja_fail(c, "list too large");
    jv_list *l = jinja_list_new(c, n * (size_t)count);
    if (!l) return false;
    for (int64_t k = 0; k < count; k++)
        if (n) memcpy(l->items + (size_t)k * n, seq.u.list->items, n * sizeof(jv));
    *out = jinja_list_value(l);
    return true;
}

__attribute__((noinline)) static bool binary_op(jinja_ctx *c, int op, jv a, jv b, jv *out) {
    double fa = 0, fb = 0;
    int64_t ia = 0, ib = 0, r;
    bool inta = false, intb = false;
    bool nums = as_number(a, &fa, &ia, &inta) && as_number(b, &fb, &ib, &intb);
    bool ints = nums && inta && intb;
    if ((op == JOP_CONCAT || op == JOP_ADD) && a.type == JV_STRING && b.type == JV_STRING) {
        if (a.len > JINJA_MAX_OUTPUT - b.len) return jinja_fail(c, "string too large");
        char *p = jinja_ctx_alloc_bytes(c, a.len + b.len + 1);
        if (!p) return false;
        if (a.len) memcpy(p, a.u.s, a.len);
        if (b.len) memcpy(p + a.len, b.u.s, b.len);
        p[a.len + b.len] = 0;
        *out = jv_str(p, a.len + b.len);
        return true;
    }
    switch (op) {
    case JOP_CONCAT: {
        jinja_buf buf = {0};
        buf.arena = c->mem;
        if (!jinja_write_str(c, &buf, a) || !jinja_write_str(c, &buf, b)) return false;
        *out = jinja_buf_value(&buf);
        return true;
    }
    case JOP_ADD:
        if (ints) {
            if (__builtin_add_overflow(ia, ib, &r)) return jinja_fail(c, "integer overflow");
            *out = jv_int(r);
        } else if (nums) {
            *out = jv_float(fa + fb);
        } else if (a.type == JV_LIST && b.type == JV_LIST) {
            size_t na = a.u.list->n, nb = b.u.list->n;
            jv_list *l = jinja_list_new(c, na + nb);
            if (!l) return false;
            if (na) memcpy(l->items, a.u.list->items, na * sizeof(jv));
            if (nb) memcpy(l->items + na, b.u.list->items, nb * sizeof(jv));
            *out = jinja_list_value(l);
        } else {
            return bad_operands(c, "+", a, b);
        }
        return true;
    case JOP_SUB:
        if (!nums) return bad_operands(c, "-", a, b);
        if (ints) {
            if (__builtin_sub_overflow(ia, ib, &r)) return jinja_fail(c, "integer overflow");
            *out = jv_int(r);
        } else {
            *out = jv_float(fa - fb);
        }
        return true;
    case JOP_MUL:
        if (ints) {
            if (__builtin_mul_overflow(ia, ib, &r)) return jinja_fail(c, "integer overflow");
            *out = jv_int(r);
            return true;
        }
        if (nums) {
            *out = jv_float(fa * fb);
            return true;
        }
        if ((a.type == JV_STRING || a.type == JV_LIST) && (b.type == JV_INT || b.type == JV_BOOL))
            return repeat(c, a, b.type == JV_INT ? b.u.i : b.u.b, out);
        if ((b.type == JV_STRING || b.type == JV_LIST) && (a.type == JV_INT || a.type == JV_BOOL))
            return repeat(c, b, a.type == JV_INT ? a.u.i : a.u.b, out);
        return bad_operands(c, "*", a, b);
    case JOP_DIV:
        if (!nums) return bad_operands(c, "/", a, b);
        if (fb == 0) return jinja_fail(c, "division by zero");
        *out = jv_float(fa / fb);
        return true;
    case JOP_FLOORDIV:
    case JOP_MOD:
        if (!nums) {
            if (op == JOP_MOD && a.type == JV_STRING) return jinja_percent_format(c, a, b, out);
            return bad_operands(c, op == JOP_MOD ? "%" : "//", a, b);
        }
        if (ints) {
            if (ib == 0) return jinja_fail(c, "integer division or modulo by zero");
            if (ib == -1) { /* avoid INT64_MIN / -1 */
                if (op == JOP_MOD) *out = jv_int(0);
                else if (ia == INT64_MIN) return jinja_fail(c, "integer overflow");
                else *out = jv_int(-ia);
                return true;
            }
            int64_t q = ia / ib, m = ia % ib;
            if (m != 0 && ((m < 0) != (ib < 0))) {
                q--;
                m += ib;
            }
            *out = jv_int(op == JOP_MOD ? m : q);
        } else {
            if (fb == 0) return jinja_fail(c, "float division or modulo by zero");
            double m = fmod(fa, fb);
            if (m != 0 && ((m < 0) != (fb < 0))) m += fb;
            if (m == 0) m = copysign(0.0, fb); /* Python: a zero result takes the divisor's sign */
            *out = jv_float(op == JOP_MOD ? m : floor(fa / fb));
        }
        return true;
    case JOP_POW:
        if (!nums) return bad_operands(c, "**", a, b);
        if (ints && ib >= 0) {
            int64_t acc = 1, base = ia, e = ib;
            while (e > 0) {
                if (e & 1 && __builtin_mul_overflow(acc, base, &acc)) return jinja_fail(c, "integer overflow");
                e >>= 1;
                if (e && __builtin_mul_overflow(base, base, &base)) return jinja_fail(c, "integer overflow");
            }
            *out = jv_int(acc);
        } else {
            if (fa == 0 && fb < 0) return jinja_fail(c, "0.0 cannot be raised to a negative power");
            *out = jv_float(pow(fa, fb));
        }
        return true;
    }
    return jinja_fail(c, "unknown operator");
}

static bool contains(jinja_ctx *c, jv needle, jv hay, bool *out) {
    switch (hay.type) {
    case JV_STRING:
        if (needle.type != JV_STRING)
            return jinja_fail(c, "'in <string>' requires string as left operand, not %s", jinja_type_name(needle));
        *out = needle.len == 0 || (needle.len <= hay.len && memmem(hay.u.s, hay.len, needle.u.s, needle.len) != NULL);
        return true;
    case JV_LIST:
        *out = false;
        for (size_t i = 0; i < hay.u.list->n && !*out; i++) *out = jinja_equal(hay.u.list->items[i], needle);
        return true;
    case JV_DICT:
    case JV_NAMESPACE: *out = jinja_dict_get(hay.u.dict, needle) != NULL; return true;
    case JV_UNDEFINED: *out = false; return true;
    default: return jinja_fail(c, "argument of type '%s' is not iterable", jinja_type_name(hay));
    }
}

__attribute__((noinline)) static bool compare_op(jinja_ctx *c, int op, jv a, jv b, bool *res) {
    int cmp;
    switch (op) {
    case JOP_EQ: *res = jinja_equal(a, b); return true;
    case JOP_NE: *res = !jinja_equal(a, b); return true;
    case JOP_IN: return contains(c, a, b, res);
    case JOP_NOTIN:
        if (!contains(c, a, b, res)) return false;
        *res = !*res;
        return true;
    default:
        if (!jinja_compare(c, a, b, &cmp)) return false;
        *res = op == JOP_LT ? cmp < 0 : op == JOP_LE ? cmp <= 0 : op == JOP_GT ? cmp > 0 : cmp >= 0;
        return true;
    }
}

static bool is_chain_op(const jnode *n) { return n->kind == JN_BINARY && (n->op == JOP_ADD || n->op == JOP_CONCAT); }

/* A left-leaning chain `x + y ~ z + ...` (how templates build their text): evaluates the operands
 * left to right, then joins them with one copy when all are strings, else folds them pairwise.
 * With `direct`, the result is appended there instead of being made into *out. */
__attribute__((noinline)) static bool eval_chain(jinja_ctx *c, jinja_scope *s, const jnode *n, jinja_buf *direct, jv *out) {
    size_t k = 1;
    for (const jnode *x = n; is_chain_op(x); x = x->a) k++;
    jv local[8];
    const jnode *local_ops[8];
    jv *vals = k <= 8 ? local : jinja_ctx_alloc(c, k * sizeof *vals);
    const jnode **ops = k <= 8 ? local_ops : jinja_ctx_alloc(c, k * sizeof *ops);
    if (!vals || !ops) return false;
    const jnode *x = n;
    for (size_t i = k - 1; i > 0; i--, x = x->a) ops[i] = x; /* ops[i] joins operand i to what is before it */
    if (!eval(c, s, x, &vals[0])) return false;
    bool all_str = vals[0].type == JV_STRING;
    size_t total = vals[0].len;
    for (size_t i = 1; i < k; i++) {
        if (!eval(c, s, ops[i]->b, &vals[i])) return false;
        all_str = all_str && vals[i].type == JV_STRING;
        total += vals[i].len;
    }
    if (all_str) {
        if (total > JINJA_MAX_OUTPUT) return jinja_fail(c, "string too large");
        if (direct) {
            for (size_t i = 0; i < k; i++)
                if (!jinja_buf_put(c, direct, vals[i].u.s, vals[i].len)) return false;
            return true;
        }
        char *p = jinja_ctx_alloc_bytes(c, total + 1);
        if (!p) return false;
        size_t at = 0;
        for (size_t i = 0; i < k; i++) {
            if (vals[i].len) memcpy(p + at, vals[i].u.s, vals[i].len);
            at += vals[i].len;
        }
        p[total] = 0;
        *out = jv_str(p, total);
        return true;
    }
    jv acc = vals[0];
    for (size_t i = 1; i < k; i++) {
        c->pos = ops[i]->pos;
        if (!binary_op(c, ops[i]->op, acc, vals[i], &acc)) return false;
    }
    if (direct) return jinja_write_str(c, direct, acc);
    *out = acc;
    return true;
}

/* ---- indexing ----------------------------------------------------------------------------- */

static jv get_attr(jv obj, const char *name) {
    switch (obj.type) {
    case JV_DICT:
    case JV_NAMESPACE: {
        const jv *v = jinja_dict_get_cstr(obj.u.dict, name);
        return v ? *v : jv_undef();
    }
    case JV_LOOP: return jinja_loop_attr(obj.u.loop, name);
    default: return jv_undef(); /* includes attributes of undefined: lenient, like the brief asks */
    }
}

__attribute__((noinline)) static bool get_item(jinja_ctx *c, jv obj, jv key, jv *out) {
    *out = jv_undef();
    if (obj.type == JV_DICT || obj.type == JV_NAMESPACE) {
        const jv *v = jinja_dict_get(obj.u.dict, key);
        if (v) *out = *v;
        return true;
    }
    if (obj.type == JV_LOOP && key.type == JV_STRING) {
        char name[32];
        if (key.len < sizeof name) {
            memcpy(name, key.u.s, key.len);
            name[key.len] = 0;
            *out = jinja_loop_attr(obj.u.loop, name);
        }
        return true;
    }
    if (key.type != JV_INT && key.type != JV_BOOL) return true;
    int64_t k = key.type == JV_INT ? key.u.i : key.u.b;
    if (obj.type == JV_LIST) {
        int64_t n = (int64_t)obj.u.list->n;
        if (k < 0) k += n;
        if (k >= 0 && k < n) *out = obj.u.list->items[k];
    } else if (obj.type == JV_STRING) {
        int64_t n = (int64_t)jinja_utf8_count(obj.u.s, obj.len);
        if (k < 0) k += n;
        if (k >= 0 && k < n) {
            size_t start = jinja_utf8_offset(obj.u.s, obj.len, (size_t)k), end = start;
            jinja_utf8_next(obj.u.s, obj.len, &end);
            *out = jv_str(obj.u.s + start, end - start);
        }
    }
    (void)c;
    return true;
}

/* Python's slice.indices(): start, stop, step for a sequence of length n. */
static bool slice_bound(jinja_ctx *c, jv v, int64_t n, int64_t step, bool is_start, int64_t *out) {
    if (v.type == JV_NONE || v.type == JV_UNDEFINED) {
        *out = step > 0 ? (is_start ? 0 : n) : (is_start ? n - 1 : -1);
        return true;
    }
    if (v.type != JV_INT && v.type != JV_BOOL) return jinja_fail(c, "slice indices must be integers or None");
    int64_t k = v.type == JV_INT ? v.u.i : v.u.b;
    if (k < 0) {
        k = k < -n ? (step < 0 ? -1 : 0) : k + n;
    } else if (k >= n) {
        k = step < 0 ? n - 1 : n;
    }
    *out = k;
    return true;
}

__attribute__((noinline)) static bool slice(jinja_ctx *c, jv obj, jv vstart, jv vstop, jv vstep, jv *out) {
    int64_t step = 1;
    if (vstep.type == JV_INT || vstep.type == JV_BOOL) step = vstep.type == JV_INT ? vstep.u.i : vstep.u.b;
    else if (vstep.type != JV_NONE && vstep.type != JV_UNDEFINED) return jinja_fail(c, "slice step must be an integer");
    if (step == 0) return jinja_fail(c, "slice step cannot be zero");
    if (step == INT64_MIN) step = -INT64_MAX;
    if (obj.type != JV_STRING && obj.type != JV_LIST) { /* like any failed lookup: undefined */
        *out = jv_undef();
        return true;
    }
    jv_list *items;
    if (!jinja_iterate(c, obj, &items)) return false;
    int64_t n = (int64_t)items->n, start = 0, stop = 0;
    if (!slice_bound(c, vstart, n, step, true, &start) || !slice_bound(c, vstop, n, step, false, &stop)) return false;
    size_t count = 0;
    if (step > 0 && start < stop) count = (size_t)((stop - start - 1) / step + 1);
    if (step < 0 && start > stop) count = (size_t)((start - stop - 1) / (-step) + 1);
    if (obj.type == JV_STRING) {
        jinja_buf b = {0};
        b.arena = c->mem;
        if (!jinja_buf_put(c, &b, "", 0)) return false;
        for (size_t k = 0; k < count; k++) {
            jv ch = items->items[start + (int64_t)k * step];
            if (!jinja_buf_put(c, &b, ch.u.s, ch.len)) return false;
        }
        *out = jinja_buf_value(&b);
        return true;
    }
    jv_list *l = jinja_list_new(c, count);
    if (!l) return false;
    for (size_t k = 0; k < count; k++) l->items[k] = items->items[start + (int64_t)k * step];
    *out = jinja_list_value(l);
    return true;
}

/* ---- calls -------------------------------------------------------------------------------- */

/* Evaluates the arguments of a call, filter or test node. */
static bool eval_args(jinja_ctx *c, jinja_scope *s, const jnode *n, jinja_args *a) {
    memset(a, 0, sizeof *a);
    jv *pos = NULL, *kwv = NULL;
    if (n->nkids) {
        pos = jinja_ctx_alloc(c, n->nkids * sizeof(jv));
        if (!pos) return false;
        for (size_t i = 0; i < n->nkids; i++)
            if (!eval(c, s, n->kids[i], &pos[i])) return false;
    }
    if (n->nkids2) {
        kwv = jinja_ctx_alloc(c, n->nkids2 * sizeof(jv));
        if (!kwv) return false;
        for (size_t i = 0; i < n->nkids2; i++)
            if (!eval(c, s, n->kids2[i], &kwv[i])) return false;
    }
    a->pos = pos;
    a->npos = n->nkids;
    a->kw = n->names;
    a->kwv = kwv;
    a->nkw = n->nkids2;
    return true;
}

static bool call_macro(jinja_ctx *c, const jinja_macro *m, const jinja_args *a, jv *out) {
    const jnode *def = m->def;
    if (c->call_depth >= JINJA_MAX_CALL_DEPTH)
        return jinja_fail(c, "macro calls nested too deeply (more than %d)", JINJA_MAX_CALL_DEPTH);
    if (a->npos > def->nnames)
        return jinja_fail(c, "macro '%s' takes not more than %zu argument(s)", def->s, def->nnames);
    for (size_t k = 0; k < a->nkw; k++) {
        bool known = false;
        for (size_t i = 0; i < def->nnames && !known; i++) known = strcmp(def->names[i], a->kw[k]) == 0;
        if (!known) return jinja_fail(c, "macro '%s' takes no keyword argument '%s'", def->s, a->kw[k]);
    }
    jinja_scope *ms = scope_new(c, m->closure);
    if (!ms) return false;
    for (size_t i = 0; i < def->nnames; i++) {
        jv v = jv_undef();
        bool have = false;
        if (i < a->npos) {
            v = a->pos[i];
            have = true;
        }
        for (size_t k = 0; k < a->nkw; k++) {
            if (strcmp(def->names[i], a->kw[k]) == 0) {
                if (have) return jinja_fail(c, "macro '%s' got multiple values for argument '%s'", def->s, a->kw[k]);
                v = a->kwv[k];
                have = true;
            }
        }
        if (!have && def->kids2[i] && !eval(c, ms, def->kids2[i], &v)) return false;
        if (!scope_set(c, ms, def->names[i], v)) return false;
    }
    jinja_buf b = {0};
    b.arena = c->mem;
    c->call_depth++;
    exec_result r = exec_body(c, ms, def->kids, def->nkids, &b);
    c->call_depth--;
    if (r == EX_ERR) return false;
    *out = jinja_buf_value(&b);
    return true;
}

__attribute__((noinline)) static bool eval_call(jinja_ctx *c, jinja_scope *s, const jnode *n, jv *out) {
    jinja_args a;
    const jnode *callee = n->a;
    if (callee->kind == JN_ATTR) { /* obj.method(...) */
        jv obj;
        if (!eval(c, s, callee->a, &obj)) return false;
        if (obj.type == JV_DICT || obj.type == JV_NAMESPACE) {
            const jv *f = jinja_dict_get_cstr(obj.u.dict, callee->s);
            if (f && f->type == JV_MACRO) {
                if (!eval_args(c, s, n, &a)) return false;
                c->pos = n->pos;
                return call_macro(c, f->u.macro, &a, out);
            }
        }
        if (!eval_args(c, s, n, &a)) return false;
        c->pos = n->pos;
        return jinja_method(c, obj, callee->s, &a, out);
    }
    jv f;
    if (!eval(c, s, callee, &f) || !eval_args(c, s, n, &a)) return false;
    c->pos = n->pos;
    if (f.type == JV_MACRO) return call_macro(c, f.u.macro, &a, out);
    if (f.type == JV_FUNCTION) return jinja_call_function(c, f.u.fn, &a, out);
    if (f.type == JV_UNDEFINED && callee->kind == JN_NAME) return jinja_fail(c, "'%s' is undefined", callee->s);
    return jinja_fail(c, "'%s' object is not callable", jinja_type_name(f));
}

/* ---- expressions -------------------------------------------------------------------------- */

static bool eval_inner(jinja_ctx *c, jinja_scope *s, const jnode *n, jv *out) {
    jv a, b;
    switch ((jnode_kind)n->kind) {
    case JN_LITERAL: *out = n->lit; return true;
    case JN_NAME: *out = lookup(c, s, n->s); return true;
    case JN_ATTR:
        if (!eval(c, s, n->a, &a)) return false;
        *out = get_attr(a, n->s);
        return true;
    case JN_INDEX:
        if (!eval(c, s, n->a, &a) || !eval(c, s, n->b, &b)) return false;
        return get_item(c, a, b, out);
    case JN_SLICE: {
        jv st = jv_none(), sp = jv_none(), step = jv_none();
        if (!eval(c, s, n->a, &a)) return false;
        if (n->b && !eval(c, s, n->b, &st)) return false;
        if (n->c && !eval(c, s, n->c, &sp)) return false;
        if (n->d && !eval(c, s, n->d, &step)) return false;
        c->pos = n->pos;
        return slice(c, a, st, sp, step, out);
    }
    case JN_CALL: return eval_call(c, s, n, out);
    case JN_FILTER: {
        jinja_args args;
        if (!eval(c, s, n->a, &a) || !eval_args(c, s, n, &args)) return false;
        c->pos = n->pos;
        return jinja_filter(c, n->s, a, &args, out);
    }
    case JN_TEST: {
        jinja_args args;
        bool r;
        if (!eval(c, s, n->a, &a) || !eval_args(c, s, n, &args)) return false;
        c->pos = n->pos;
        if (!jinja_test(c, n->s, a, &args, &r)) return false;
        *out = jv_bool(n->flag ? !r : r);
        return true;
    }
    case JN_NOT:
        if (!eval(c, s, n->a, &a)) return false;
        *out = jv_bool(!jinja_truthy(a));
        return true;
    case JN_NEG:
    case JN_POS:
        if (!eval(c, s, n->a, &a)) return false;
        c->pos = n->pos;
        if (a.type == JV_BOOL) a = jv_int(a.u.b);
        if (a.type == JV_INT) {
            if (n->kind == JN_NEG && a.u.i == INT64_MIN) return jinja_fail(c, "integer overflow");
            *out = jv_int(n->kind == JN_NEG ? -a.u.i : a.u.i);
        } else if (a.type == JV_FLOAT) {
            *out = jv_float(n->kind == JN_NEG ? -a.u.f : a.u.f);
        } else {
            return jinja_fail(c, "bad operand type for unary %c: '%s'", n->kind == JN_NEG ? '-' : '+', jinja_type_name(a));
        }
        return true;
    case JN_BINARY:
        if (is_chain_op(n)) return eval_chain(c, s, n, NULL, out);
        if (!eval(c, s, n->a, &a) || !eval(c, s, n->b, &b)) return false;
        c->pos = n->pos;
        return binary_op(c, n->op, a, b, out);
    case JN_COMPARE: {
        if (!eval(c, s, n->a, &a)) return false;
        for (const jnode *k = n; k; k = k->c) {
            bool r;
            if (!eval(c, s, k->b, &b)) return false;
            c->pos = k->pos;
            if (!compare_op(c, k->op, a, b, &r)) return false;
            if (!r) {
                *out = jv_bool(false);
                return true;
            }
            a = b;
        }
        *out = jv_bool(true);
        return true;
    }
    case JN_AND:
    case JN_OR:
        if (!eval(c, s, n->a, &a)) return false;
        if (jinja_truthy(a) == (n->kind == JN_OR)) {
            *out = a;
            return true;
        }
        return eval(c, s, n->b, out);
    case JN_COND:
        if (!eval(c, s, n->b, &b)) return false;
        if (jinja_truthy(b)) return eval(c, s, n->a, out);
        if (n->c) return eval(c, s, n->c, out);
        *out = jv_undef();
        return true;
    case JN_LIST:
    case JN_TUPLE: {
        jv_list *l = jinja_list_new(c, n->nkids);
        if (!l) return false;
        for (size_t i = 0; i < n->nkids; i++)
            if (!eval(c, s, n->kids[i], &l->items[i])) return false;
        *out = n->kind == JN_TUPLE ? jinja_tuple_value(l) : jinja_list_value(l);
        return true;
    }
    case JN_DICT: {
        jv_dict *d = jinja_dict_new(c, n->nkids);
        if (!d) return false;
        for (size_t i = 0; i < n->nkids; i++) {
            if (!eval(c, s, n->kids[i], &a) || !eval(c, s, n->kids2[i], &b)) return false;
            if (!jinja_dict_set(c, d, a, b)) return false;
        }
        *out = jinja_dict_value(d);
        return true;
    }
    default: break;
    }
    c->pos = n->pos;
    return jinja_fail(c, "not an expression");
}

static bool eval(jinja_ctx *c, jinja_scope *s, const jnode *n, jv *out) {
    if (c->failed) return false;
    if (++c->eval_depth > JINJA_MAX_EVAL_DEPTH) {
        c->eval_depth--;
        c->pos = n->pos;
        return jinja_fail(c, "template recursion too deep");
    }
    uint32_t saved = c->pos;
    c->pos = n->pos;
    bool ok = eval_inner(c, s, n, out);
    c->eval_depth--;
    if (ok) c->pos = saved;
    return ok;
}

/* ---- statements --------------------------------------------------------------------------- */

/* Binds loop or set targets: one name takes the value; several unpack a sequence. */
static bool assign_names(jinja_ctx *c, jinja_scope *s, const char *const *names, size_t n, jv v) {
    if (n == 1) return scope_set(c, s, names[0], v);
    jv_list *items;
    if (v.type == JV_UNDEFINED) return jinja_fail(c, "cannot unpack an undefined value");
    if (!jinja_iterate(c, v, &items)) return false;
    if (items->n != n)
        return jinja_fail(c, "%s values to unpack (expected %zu, got %zu)", items->n > n ? "too many" : "not enough", n,
                          items->n);
    for (size_t i = 0; i < n; i++)
        if (!scope_set(c, s, names[i], items->items[i])) return false;
    return true;
}

static exec_result exec_for(jinja_ctx *c, jinja_scope *s, const jnode *n, jinja_buf *out) {
    jv it;
    jv_list *items;
    if (!eval(c, s, n->a, &it)) return EX_ERR;
    c->pos = n->pos;
    if (!jinja_iterate(c, it, &items)) return EX_ERR;
    jinja_scope *ls = scope_new(c, s);
    if (!ls) return EX_ERR;
    if (n->b) { /* for x in xs if cond: filter first, so loop.index/length count what is kept */
        jv_list *kept = jinja_list_new(c, items->n);
        if (!kept) return EX_ERR;
        size_t k = 0;
        for (size_t i = 0; i < items->n; i++) {
            jv cond;
            if (++c->iterations > JINJA_MAX_ITERATIONS) {
                jinja_fail(c, "too many loop iterations (more than %llu)", JINJA_MAX_ITERATIONS);
                return EX_ERR;
            }
            if (!assign_names(c, ls, n->names, n->nnames, items->items[i]) || !eval(c, ls, n->b, &cond)) return EX_ERR;
            if (jinja_truthy(cond)) kept->items[k++] = items->items[i];
        }
        kept->n = k;
        items = kept;
    }
    jinja_loop *loop = jinja_ctx_alloc(c, sizeof *loop);
    if (!loop) return EX_ERR;
    loop->items = items->items;
    loop->n = items->n;
    jv lv = {JV_LOOP, 0, {0}};
    lv.u.loop = loop;
    bool completed = false;
    for (size_t i = 0; i < items->n; i++) {
        if (++c->iterations > JINJA_MAX_ITERATIONS) {
            c->pos = n->pos;
            jinja_fail(c, "too many loop iterations (more than %llu)", JINJA_MAX_ITERATIONS);
            return EX_ERR;
        }
        loop->index0 = i;
        c->pos = n->pos;
        ls->n = 0; /* each iteration starts afresh: what one sets, the next does not see */
        if (!scope_set(c, ls, "loop", lv) || !assign_names(c, ls, n->names, n->nnames, items->items[i])) return EX_ERR;
        exec_result r = exec_body(c, ls, n->kids, n->nkids, out);
        if (r == EX_ERR) return EX_ERR;
        if (r == EX_OK) completed = true;
        if (r == EX_BREAK) break;
    }
    /* Jinja runs the else block unless some iteration ran to the end of the body (an iteration
     * left by break or continue does not count) */
    if (!completed && n->nkids2) return exec_body(c, s, n->kids2, n->nkids2, out);
    return EX_OK;
}

static exec_result exec_set(jinja_ctx *c, jinja_scope *s, const jnode *n) {
    jv v;
    if (n->b) {
        if (!eval(c, s, n->b, &v)) return EX_ERR;
    } else {
        jinja_buf b = {0};
        b.arena = c->mem;
        exec_result r = exec_body(c, s, n->kids, n->nkids, &b);
        if (r != EX_OK) {
            if (r != EX_ERR) jinja_fail(c, "break and continue cannot leave a set block");
            return EX_ERR;
        }
        v = jinja_buf_value(&b);
    }
    const jnode *t = n->a;
    c->pos = n->pos;
    if (t->kind == JN_ATTR) {
        jv obj;
        if (!eval(c, s, t->a, &obj)) return EX_ERR;
        if (obj.type != JV_NAMESPACE) {
            jinja_fail(c, "cannot assign attribute on non-namespace object '%s'", t->a->s);
            return EX_ERR;
        }
        return jinja_dict_set(c, obj.u.dict, jv_str(t->s, t->slen), v) ? EX_OK : EX_ERR;
    }
    return assign_names(c, s, t->names, t->nnames, v) ? EX_OK : EX_ERR;
}

static exec_result exec_one(jinja_ctx *c, jinja_scope *s, const jnode *n, jinja_buf *out) {
    jv v;
    switch ((jnode_kind)n->kind) {
    case JN_TEXT: return jinja_buf_put(c, out, n->s, n->slen) ? EX_OK : EX_ERR;
    case JN_OUTPUT:
        if (is_chain_op(n->a)) return eval_chain(c, s, n->a, out, NULL) ? EX_OK : EX_ERR;
        if (!eval(c, s, n->a, &v)) return EX_ERR;
        c->pos = n->pos;
        return jinja_write_str(c, out, v) ? EX_OK : EX_ERR;
    case JN_IF:
        if (!eval(c, s, n->a, &v)) return EX_ERR;
        if (jinja_truthy(v)) return exec_body(c, s, n->kids, n->nkids, out);
        return exec_body(c, s, n->kids2, n->nkids2, out);
    case JN_FOR: return exec_for(c, s, n, out);
    case JN_SET: return exec_set(c, s, n);
    case JN_MACRO: {
        jinja_macro *m = jinja_ctx_alloc(c, sizeof *m);
        if (!m) return EX_ERR;
        m->def = n;
        m->closure = s;
        v.type = JV_MACRO;
        v.len = 0;
        v.u.macro = m;
        return scope_set(c, s, n->s, v) ? EX_OK : EX_ERR;
    }
    case JN_BREAK: return EX_BREAK;
    case JN_CONTINUE: return EX_CONTINUE;
    case JN_BLOCK: return exec_body(c, s, n->kids, n->nkids, out);
    default: break;
    }
    c->pos = n->pos;
    jinja_fail(c, "not a statement");
    return EX_ERR;
}

static exec_result exec_body(jinja_ctx *c, jinja_scope *s, jnode *const *kids, size_t n, jinja_buf *out) {
    if (c->failed) return EX_ERR;
    if (++c->eval_depth > JINJA_MAX_EVAL_DEPTH) {
        c->eval_depth--;
        jinja_fail(c, "template recursion too deep");
        return EX_ERR;
    }
    exec_result r = EX_OK;
    for (size_t i = 0; i < n && r == EX_OK; i++) {
        c->pos = kids[i]->pos;
        r = exec_one(c, s, kids[i], out);
    }
    c->eval_depth--;
    return r;
}

hearth_status jinja_render(jinja_ctx *c, const jnode *root, char **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (c->globals.type != JV_DICT) {
        jv_dict *d = jinja_dict_new(c, 0);
        if (!d) return HEARTH_ERR_NOMEM;
        c->globals = jinja_dict_value(d);
    }
    c->root = scope_new(c, NULL);
    if (!c->root) return c->e ? c->e->code : HEARTH_ERR_TEMPLATE;
    jinja_buf b = {0}; /* on the heap: it becomes the caller's string */
    exec_result r = exec_body(c, c->root, root->kids, root->nkids, &b);
    if (r == EX_OK && !jinja_buf_put(c, &b, "", 0)) r = EX_ERR;
    if (r == EX_OK && !b.p) {
        b.p = malloc(1);
        if (!b.p) {
            jinja_fail(c, "out of memory");
            r = EX_ERR;
        } else {
            b.p[0] = 0;
        }
    }
    if (r != EX_OK) {
        free(b.p);
        if (!c->failed) herr(c->e, HEARTH_ERR_TEMPLATE, "template error: break or continue outside a loop");
        return HEARTH_ERR_TEMPLATE;
    }
    *out = b.p;
    *out_len = b.len;
    return HEARTH_OK;
}
