/* hg_plan.c - plan blobs (plan.h): the record writer, GPU buffers and weight arenas, the kernel registry. */
#include <stdio.h>
#include <stdlib.h>

#include "quant.h"
#include "webgpu/hg_internal.h"
#include "webgpu/wgsl.h"

#define ARENA_CAP ((uint64_t)256 << 20) /* weights smaller than this share arenas of up to this size */

hg_device hg_device_default(void) {
    hg_device d = {0};
    d.max_binding = (uint64_t)128 << 20;
    d.max_buffer = (uint64_t)256 << 20;
    d.max_wg = 65535;
    d.max_storage = 8;
    return d;
}

/* ---- blob writer ------------------------------------------------------------------------------- */

static void blob_reserve(hg_blob *b, size_t extra) {
    if (b->oom || b->len + extra <= b->cap) return;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + extra) nc *= 2;
    uint8_t *np = realloc(b->p, nc);
    if (!np) {
        b->oom = true;
        return;
    }
    b->p = np;
    b->cap = nc;
}

void hg_blob_reset(hg_blob *b, uint32_t kind) {
    b->len = 0;
    b->n_records = 0;
    b->oom = false;
    uint32_t hdr[4] = {HG_PLAN_MAGIC, HG_PLAN_VERSION, kind, 0};
    blob_reserve(b, sizeof hdr);
    if (!b->oom) {
        memcpy(b->p, hdr, sizeof hdr);
        b->len = sizeof hdr;
    }
}

void hg_blob_free(hg_blob *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Starts a record; returns the byte offset of its length word. */
static size_t rec_begin(hg_blob *b, uint32_t tag) {
    blob_reserve(b, 8);
    if (b->oom) return 0;
    size_t at = b->len;
    uint32_t w[2] = {tag, 0};
    memcpy(b->p + b->len, w, 8);
    b->len += 8;
    return at;
}

static void put_u32(hg_blob *b, uint32_t v) {
    blob_reserve(b, 4);
    if (b->oom) return;
    memcpy(b->p + b->len, &v, 4);
    b->len += 4;
}

static void put_u64(hg_blob *b, uint64_t v) {
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_bytes(hg_blob *b, const void *data, size_t n) {
    size_t padded = (n + 3) & ~(size_t)3;
    blob_reserve(b, padded);
    if (b->oom) return;
    if (n) memcpy(b->p + b->len, data, n);
    memset(b->p + b->len + n, 0, padded - n);
    b->len += padded;
}

static void put_str(hg_blob *b, const char *s, size_t n) {
    put_u32(b, (uint32_t)n);
    put_bytes(b, s, n);
}

static void rec_end(hg_blob *b, size_t at) {
    if (b->oom) return;
    uint32_t words = (uint32_t)((b->len - at - 8) / 4);
    memcpy(b->p + at + 4, &words, 4);
    b->n_records++;
    memcpy(b->p + 12, &b->n_records, 4);
}

/* ---- context ----------------------------------------------------------------------------------- */

hearth_status hg_ctx_new(const hg_device *dev, hg_ctx **out, hearth_err *e) {
    *out = NULL;
    hg_ctx *g = calloc(1, sizeof *g);
    if (!g) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    g->dev = dev ? *dev : hg_device_default();
    if (g->dev.max_binding < 4096 || g->dev.max_buffer < 4096 || g->dev.max_wg < 1) {
        free(g);
        return herr(e, HEARTH_ERR_INVALID_ARG, "implausible device limits");
    }
    g->dev.max_binding &= ~(uint64_t)(HG_BIND_ALIGN - 1);
    g->arena = UINT32_MAX;
    hg_blob_reset(&g->plan, HG_BLOB_MODEL);
    hg_blob_reset(&g->step, HG_BLOB_STEP);
    hg_buffer(g, 256, "dummy"); /* buffer 0 */
    if (hg_ctx_failed(g)) {
        hg_ctx_free(g);
        return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    }
    *out = g;
    return HEARTH_OK;
}

void hg_ctx_free(hg_ctx *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->n_up; i++) free(g->ups[i].data);
    free(g->ups);
    free(g->bufs);
    free(g->kernels);
    hg_blob_free(&g->plan);
    hg_blob_free(&g->step);
    free(g);
}

const hg_device *hg_ctx_device(const hg_ctx *g) { return &g->dev; }

hg_ref hg_dummy(const hg_ctx *g) {
    (void)g;
    return (hg_ref){0, 0, 256};
}

bool hg_ctx_failed(const hg_ctx *g) { return g->oom || g->plan.oom || g->step.oom; }

static bool grow(void **p, uint32_t *cap, uint32_t n, size_t elem) {
    if (n < *cap) return true;
    uint32_t nc = *cap ? 2 * *cap : 64;
    void *np = realloc(*p, (size_t)nc * elem);
    if (!np) return false;
    *p = np;
    *cap = nc;
    return true;
}

static uint32_t new_buffer(hg_ctx *g, uint64_t size, const char *label) {
    if (!grow((void **)&g->bufs, &g->cap_bufs, g->n_bufs, sizeof *g->bufs)) {
        g->oom = true;
        return 0;
    }
    hg_bufinfo *b = &g->bufs[g->n_bufs];
    b->size = size;
    snprintf(b->label, sizeof b->label, "%s", label ? label : "");
    return g->n_bufs++;
}

static void add_upload(hg_ctx *g, uint32_t buf, uint64_t off, uint64_t n, uint64_t file_off, const void *data) {
    if (!grow((void **)&g->ups, &g->cap_ups, g->n_up, sizeof *g->ups)) {
        g->oom = true;
        return;
    }
    hg_upload *u = &g->ups[g->n_up];
    u->buf = buf;
    u->off = off;
    u->n = n;
    u->file_off = file_off;
    u->data = NULL;
    u->block = 0;
    u->off2 = 0;
    if (data) {
        u->data = malloc(n ? n : 1);
        if (!u->data) {
            g->oom = true;
            return;
        }
        memcpy(u->data, data, n);
    }
    g->n_up++;
}

static uint64_t round_size(uint64_t n) {
    n = (n + 3) & ~(uint64_t)3;
    return n < 256 ? 256 : n;
}

hg_ref hg_buffer(hg_ctx *g, uint64_t size, const char *label) {
    size = round_size(size);
    uint32_t id = new_buffer(g, size, label);
    return (hg_ref){id, 0, size};
}

hg_ref hg_buffer_data(hg_ctx *g, const void *data, uint64_t n, const char *label) {
    hg_ref r = hg_buffer(g, n, label);
    add_upload(g, r.buf, 0, n, 0, data);
    return r;
}

/* Space in the current arena (a new one when it does not fit); big items get their own buffer. */
static hg_ref place(hg_ctx *g, uint64_t size) {
    uint64_t bind = (size + 3) & ~(uint64_t)3;
    if (bind == 0) bind = 4;
    uint64_t cap = ARENA_CAP < g->dev.max_buffer ? ARENA_CAP : g->dev.max_buffer;
    if (bind > cap / 4) {
        uint32_t id = new_buffer(g, round_size(bind), "weight");
        return (hg_ref){id, 0, bind};
    }
    if (g->arena != UINT32_MAX) {
        uint64_t off = (g->bufs[g->arena].size + HG_BIND_ALIGN - 1) & ~(uint64_t)(HG_BIND_ALIGN - 1);
        if (off + bind <= cap) {
            g->bufs[g->arena].size = off + bind;
            return (hg_ref){g->arena, off, bind};
        }
    }
    g->arena = new_buffer(g, bind, "weights");
    return (hg_ref){g->arena, 0, bind};
}

/* n_blocks quantised blocks of `block` bytes from the file or from data, repacked into the planar
 * layout: quants at buffer offset qoff, f16 scales at soff (plan.h UPLOAD_FILE_PLANAR). */
static void add_upload_planar(hg_ctx *g, uint32_t buf, uint64_t qoff, uint64_t soff, uint64_t n_blocks, uint32_t block,
                              uint64_t file_off, const uint8_t *data) {
    const uint32_t qb = block - 2;
    if (!data) {
        add_upload(g, buf, qoff, n_blocks * block, file_off, NULL);
        if (!g->oom) {
            g->ups[g->n_up - 1].block = block;
            g->ups[g->n_up - 1].off2 = soff;
        }
        return;
    }
    uint8_t *q = malloc(n_blocks * qb + 1), *s = malloc(n_blocks * 2 + 1);
    if (!q || !s) {
        free(q);
        free(s);
        g->oom = true;
        return;
    }
    for (uint64_t k = 0; k < n_blocks; k++) {
        memcpy(s + 2 * k, data + k * block, 2);
        memcpy(q + k * qb, data + k * block + 2, qb);
    }
    add_upload(g, buf, qoff, n_blocks * qb, 0, q);
    add_upload(g, buf, soff, n_blocks * 2, 0, s);
    free(q);
    free(s);
}

hg_ref hg_place_file(hg_ctx *g, uint64_t size, uint64_t file_off) {
    hg_ref r = place(g, size);
    add_upload(g, r.buf, r.off, size, file_off, NULL);
    return r;
}

hg_ref hg_place_data(hg_ctx *g, const void *data, uint64_t size) {
    hg_ref r = place(g, size);
    add_upload(g, r.buf, r.off, size, 0, data);
    return r;
}

hearth_status hg_place_weight_concat(hg_ctx *g, uint32_t type, int64_t n_in, int n, const int64_t *rows,
                                     const uint64_t *file_off, const void *const *data, uint64_t max_part, hg_weight *w,
                                     hearth_err *e) {
    memset(w, 0, sizeof *w);
    if (type != HT_F32 && type != HT_F16 && type != HT_BF16 && type != HT_Q8_0 && type != HT_Q4_0 && !hg_type_wk(type))
        return herr(e, HEARTH_ERR_UNSUPPORTED, "the WebGPU backend has no kernels for weight type %s",
                    ht_type_get(type) ? ht_type_get(type)->name : "?");
    int64_t n_out = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i] <= 0) return herr(e, HEARTH_ERR_FORMAT, "bad weight shape: %lld rows", (long long)rows[i]);
        n_out += rows[i];
    }
    uint64_t rb;
    if (n_in <= 0 || n < 1 || !ht_row_bytes(type, (uint64_t)n_in, &rb))
        return herr(e, HEARTH_ERR_FORMAT, "bad weight shape %lld x %lld", (long long)n_out, (long long)n_in);
    uint64_t limit = max_part ? max_part : g->dev.max_binding;
    if (limit > g->dev.max_binding) limit = g->dev.max_binding;
    /* a part's byte length, rounded up to 4, must fit the limit; byte offsets inside a part are u32 */
    if (limit > ((uint64_t)1 << 31)) limit = (uint64_t)1 << 31;
    int64_t per = (int64_t)((limit - 4) / rb);
    if (per < 1) return herr(e, HEARTH_ERR_TOO_LARGE, "one weight row (%llu bytes) exceeds a GPU binding", (unsigned long long)rb);
    int64_t n_parts = (n_out + per - 1) / per;
    if (n_parts > HG_MAX_PARTS)
        return herr(e, HEARTH_ERR_TOO_LARGE, "a weight needs %lld GPU bindings (at most %d)", (long long)n_parts, HG_MAX_PARTS);
    per = (n_out + n_parts - 1) / n_parts; /* equal parts, so that no part is a sliver */
    w->type = type;
    w->n_in = n_in;
    w->n_out = n_out;
    w->row_bytes = rb;
    /* planar when every row is an even number of blocks and every file range word aligned: then all
     * pieces, quants and scales stay word aligned (and the host repacks pairs of blocks by words) */
    const uint32_t block = type == HT_Q8_0 ? 34 : type == HT_Q4_0 ? 18 : 0;
    const uint64_t nb = (uint64_t)n_in / 32;
    w->planar = block && nb % 2 == 0;
    for (int i = 0; w->planar && i < n; i++)
        if (!(data && data[i]) && file_off[i] % 4) w->planar = false;
    for (int64_t r0 = 0; r0 < n_out; r0 += per) {
        const int64_t cnt = n_out - r0 < per ? n_out - r0 : per;
        const int k = w->n_parts++;
        w->part[k].row0 = r0;
        w->part[k].rows = cnt;
        w->part[k].ref = place(g, (uint64_t)cnt * rb);
        /* the pieces of the source tensors that fall into rows [r0, r0 + cnt) */
        int64_t base = 0;
        for (int i = 0; i < n; base += rows[i], i++) {
            const int64_t lo = r0 > base ? r0 : base, hi = r0 + cnt < base + rows[i] ? r0 + cnt : base + rows[i];
            if (lo >= hi) continue;
            const uint64_t dst = w->part[k].ref.off + (uint64_t)(lo - r0) * rb, src = (uint64_t)(lo - base) * rb;
            const uint64_t bytes = (uint64_t)(hi - lo) * rb;
            if (w->planar) {
                const uint64_t k0 = (uint64_t)(lo - r0) * nb, qb = block - 2u;
                const uint64_t s0 = w->part[k].ref.off + (uint64_t)cnt * nb * qb;
                add_upload_planar(g, w->part[k].ref.buf, w->part[k].ref.off + k0 * qb, s0 + 2 * k0, (uint64_t)(hi - lo) * nb,
                                  block, file_off ? file_off[i] + src : 0,
                                  data && data[i] ? (const uint8_t *)data[i] + src : NULL);
            } else if (data && data[i]) add_upload(g, w->part[k].ref.buf, dst, bytes, 0, (const uint8_t *)data[i] + src);
            else add_upload(g, w->part[k].ref.buf, dst, bytes, file_off[i] + src, NULL);
        }
    }
    return hg_ctx_failed(g) ? herr(e, HEARTH_ERR_NOMEM, "out of memory") : HEARTH_OK;
}

hearth_status hg_place_weight(hg_ctx *g, uint32_t type, int64_t n_in, int64_t n_out, uint64_t file_off,
                              const void *data, uint64_t max_part, hg_weight *w, hearth_err *e) {
    const void *const d[1] = {data};
    return hg_place_weight_concat(g, type, n_in, 1, &n_out, &file_off, d, max_part, w, e);
}

/* ---- kernels ----------------------------------------------------------------------------------- */

static int wgsl_index(const char *name) {
    for (int i = 0; i < hg_wgsl_count; i++)
        if (strcmp(hg_wgsl_files[i].name, name) == 0) return i;
    return -1;
}

/* Libraries prepended to a kernel's file, in order (an `enable` directive must come first). The
 * variants follow the device: lane sums with subgroups when offered, dot4I8Packed when offered. */
static int kernel_libs(const hg_ctx *g, const char *name, const char *libs[5]) {
    const char *lanes = g->dev.subgroups && g->dev.subgroup_min ? "lanes_sg" : "lanes_wg";
    const char *dot = g->dev.dot4 ? "dot_dp4" : "dot_emul";
    if (strcmp(name, "matvec") == 0 || strcmp(name, "matvec_planar") == 0 || strcmp(name, "matvec_q4") == 0) {
        libs[0] = lanes, libs[1] = dot, libs[2] = "wq", libs[3] = "epilogue";
        return 4;
    }
    if (strcmp(name, "matvec_k") == 0) {
        libs[0] = lanes, libs[1] = dot, libs[2] = "wq", libs[3] = "wq_k", libs[4] = "epilogue";
        return 5;
    }
    if (strcmp(name, "matmul_k") == 0) {
        libs[0] = dot, libs[1] = "wq", libs[2] = "wq_k", libs[3] = "epilogue";
        return 4;
    }
    if (strcmp(name, "embed_k") == 0) {
        libs[0] = dot, libs[1] = "wq", libs[2] = "wq_k";
        return 3;
    }
    if (strcmp(name, "matmul") == 0) {
        libs[0] = dot, libs[1] = "wq", libs[2] = "epilogue";
        return 3;
    }
    if (strcmp(name, "embed") == 0) {
        libs[0] = dot, libs[1] = "wq";
        return 2;
    }
    if (strcmp(name, "quant_act") == 0 || strcmp(name, "rmsnorm_q8") == 0 || strcmp(name, "gated_norm_q8") == 0) {
        libs[0] = "q8";
        return 1;
    }
    return 0;
}

/* Blob where definitions go: the plan until it is finished, then the current step. */
static hg_blob *defs(hg_ctx *g) { return g->plan_done ? &g->step : &g->plan; }

static void emit_source(hg_ctx *g, int fi) {
    if (g->source_sent[fi]) return;
    const char *libs[5];
    const int nl = kernel_libs(g, hg_wgsl_files[fi].name, libs);
    size_t total = strlen(hg_wgsl_files[fi].text) + 1;
    for (int i = 0; i < nl; i++) {
        int li = wgsl_index(libs[i]);
        if (li < 0) { /* a planner bug: a library file is missing */
            g->oom = true;
            return;
        }
        total += strlen(hg_wgsl_files[li].text);
    }
    char *s = malloc(total);
    if (!s) {
        g->oom = true;
        return;
    }
    size_t at = 0;
    for (int i = 0; i < nl; i++) {
        const char *t = hg_wgsl_files[wgsl_index(libs[i])].text;
        memcpy(s + at, t, strlen(t));
        at += strlen(t);
    }
    memcpy(s + at, hg_wgsl_files[fi].text, strlen(hg_wgsl_files[fi].text) + 1);
    at += strlen(hg_wgsl_files[fi].text);
    hg_blob *b = defs(g);
    size_t rec = rec_begin(b, HG_REC_SOURCE);
    put_u32(b, (uint32_t)fi);
    put_str(b, s, at);
    rec_end(b, rec);
    free(s);
    g->source_sent[fi] = true;
}

uint32_t hg_kernel(hg_ctx *g, const char *name, const char *consts) {
    char key[96];
    snprintf(key, sizeof key, "%s|%s", name, consts ? consts : "");
    for (uint32_t i = 0; i < g->n_kernels; i++)
        if (strcmp(g->kernels[i].key, key) == 0) return i;
    int fi = wgsl_index(name);
    if (fi < 0 || fi >= HG_MAX_SOURCES) { /* a planner bug: the kernel file does not exist */
        g->oom = true;
        return 0;
    }
    if (!grow((void **)&g->kernels, &g->cap_kernels, g->n_kernels, sizeof *g->kernels)) {
        g->oom = true;
        return 0;
    }
    emit_source(g, fi);
    uint32_t id = g->n_kernels++;
    snprintf(g->kernels[id].key, sizeof g->kernels[id].key, "%s", key);
    hg_blob *b = defs(g);
    size_t at = rec_begin(b, HG_REC_KERNEL);
    put_u32(b, id);
    put_u32(b, (uint32_t)fi);
    const char *c = consts ? consts : "";
    put_str(b, c, strlen(c));
    rec_end(b, at);
    return id;
}

/* ---- plan and steps ---------------------------------------------------------------------------- */

const uint8_t *hg_finish_plan(hg_ctx *g, size_t *len) {
    if (!g->plan_done) {
        hg_blob *b = &g->plan;
        for (uint32_t i = 0; i < g->n_bufs; i++) {
            size_t at = rec_begin(b, HG_REC_BUFFER);
            put_u32(b, i);
            put_u32(b, 0);
            put_u64(b, round_size(g->bufs[i].size));
            put_str(b, g->bufs[i].label, strlen(g->bufs[i].label));
            rec_end(b, at);
        }
        for (uint32_t i = 0; i < g->n_up; i++) {
            const hg_upload *u = &g->ups[i];
            size_t at = rec_begin(b, u->data ? HG_REC_UPLOAD_DATA : u->block ? HG_REC_UPLOAD_FILE_PLANAR : HG_REC_UPLOAD_FILE);
            put_u32(b, u->buf);
            put_u32(b, u->data ? 0 : u->block);
            put_u64(b, u->off);
            if (u->block && !u->data) {
                put_u64(b, u->off2);
                put_u64(b, u->file_off);
                put_u64(b, u->n / u->block);
            } else if (u->data) {
                put_u32(b, (uint32_t)u->n);
                put_bytes(b, u->data, u->n);
            } else {
                put_u64(b, u->file_off);
                put_u64(b, u->n);
            }
            rec_end(b, at);
        }
        for (uint32_t i = 0; i < g->n_up; i++) free(g->ups[i].data);
        g->n_up = 0;
        g->plan_done = true;
    }
    *len = g->plan.oom ? 0 : g->plan.len;
    return g->plan.oom ? NULL : g->plan.p;
}

void hg_step_begin(hg_ctx *g) {
    hg_blob_reset(&g->step, HG_BLOB_STEP);
    g->n_dispatch = 0;
}

const uint8_t *hg_step_end(hg_ctx *g, size_t *len) {
    *len = hg_ctx_failed(g) ? 0 : g->step.len;
    return hg_ctx_failed(g) ? NULL : g->step.p;
}

int hg_step_dispatches(const hg_ctx *g) { return g->n_dispatch; }

void hg_write(hg_ctx *g, hg_ref dst, uint64_t off, const void *data, uint32_t n) {
    hg_blob *b = &g->step;
    size_t at = rec_begin(b, HG_REC_WRITE);
    put_u32(b, dst.buf);
    put_u32(b, 0);
    put_u64(b, dst.off + off);
    put_u32(b, n);
    put_bytes(b, data, n);
    rec_end(b, at);
}

void hg_clear(hg_ctx *g, hg_ref r) {
    hg_blob *b = &g->step;
    size_t at = rec_begin(b, HG_REC_CLEAR);
    put_u32(b, r.buf);
    put_u32(b, 0);
    put_u64(b, r.off);
    put_u64(b, r.size);
    rec_end(b, at);
}

void hg_copy(hg_ctx *g, hg_ref src, uint64_t src_off, hg_ref dst, uint64_t dst_off, uint64_t size) {
    hg_blob *b = &g->step;
    size_t at = rec_begin(b, HG_REC_COPY);
    put_u32(b, src.buf);
    put_u32(b, dst.buf);
    put_u64(b, src.off + src_off);
    put_u64(b, dst.off + dst_off);
    put_u64(b, size);
    rec_end(b, at);
}

void hg_read(hg_ctx *g, hg_ref r, uint64_t off, uint64_t size, uint32_t what) {
    hg_blob *b = &g->step;
    size_t at = rec_begin(b, HG_REC_READ);
    put_u32(b, r.buf);
    put_u32(b, what);
    put_u64(b, r.off + off);
    put_u64(b, size);
    rec_end(b, at);
}

void hg_dispatch(hg_ctx *g, const hg_disp *d, uint32_t wx, uint32_t wy, uint32_t wz) {
    if (wx == 0 || wy == 0 || wz == 0) return; /* nothing to do */
    if (wx > g->dev.max_wg || wy > g->dev.max_wg || wz > g->dev.max_wg || d->n_params > HG_MAX_PARAMS) {
        g->oom = true; /* a planner bug: reported as a failed build */
        return;
    }
    hg_blob *b = &g->step;
    size_t at = rec_begin(b, HG_REC_DISPATCH);
    put_u32(b, d->kernel);
    put_u32(b, wx);
    put_u32(b, wy);
    put_u32(b, wz);
    put_u32(b, d->n_params);
    put_u32(b, d->n_binds);
    for (uint32_t i = 0; i < d->n_params; i++) put_u32(b, d->params[i]);
    for (uint32_t i = 0; i < d->n_binds; i++) {
        put_u32(b, d->binds[i].buf);
        put_u32(b, 0);
        put_u64(b, d->binds[i].off);
        put_u64(b, d->binds[i].size);
    }
    rec_end(b, at);
    g->n_dispatch++;
}
