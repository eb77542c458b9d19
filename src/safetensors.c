/* safetensors.c - reads .safetensors headers (single files and index-sharded sets) into tensor views. */
#include "safetensors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "json.h"
#include "quant.h"

/* Element types of the safetensors format. `type` is the matching ht_type, or -1 when hearth has
 * no such type (the tensor is still readable as raw bytes). Sub-byte types (F4, F6_*) are not
 * listed, so they are rejected as unknown. */
static const struct {
    const char *name;
    uint32_t size;
    int type;
} st_dtypes[] = {
    {"F64", 8, HT_F64},  {"F32", 4, HT_F32},  {"F16", 2, HT_F16}, {"BF16", 2, HT_BF16},
    {"I64", 8, HT_I64},  {"I32", 4, HT_I32},  {"I16", 2, HT_I16}, {"I8", 1, HT_I8},
    {"U64", 8, -1},      {"U32", 4, -1},      {"U16", 2, -1},     {"U8", 1, -1},
    {"BOOL", 1, -1},     {"F8_E4M3", 1, -1},  {"F8_E5M2", 1, -1}, {"F8_E8M0", 1, -1},
};

static int st_dtype_index(const char *name) {
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(st_dtypes[i].name, name) == 0) return (int)i;
    return -1;
}

/* A JSON number that is a non-negative integer below 2^64. Integers above 2^53 may have been
 * rounded by the parser; they are far beyond any file size, so the bounds checks still fail. */
static bool st_uint(const json_value *v, uint64_t *out) {
    double d;
    if (!v || v->type != JSON_NUMBER) return false;
    d = v->number;
    if (!(d >= 0 && d < 18446744073709551616.0) || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
}

/* Fills *t from one header entry; `data`/`data_size` is the byte buffer after the header. */
static hearth_status st_tensor_from_json(st_tensor *t, const char *name, const json_value *info,
                                         const uint8_t *data, uint64_t data_size, hearth_err *e) {
    if (!info || info->type != JSON_OBJECT)
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': header entry is not an object", name);
    const char *dtype = json_get_string(info, "dtype");
    if (!dtype) return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': missing dtype", name);
    int di = st_dtype_index(dtype);
    if (di < 0) return herr(e, HEARTH_ERR_UNSUPPORTED, "tensor '%s': unknown dtype '%.32s'", name, dtype);
    snprintf(t->dtype, sizeof t->dtype, "%s", st_dtypes[di].name);
    t->type = st_dtypes[di].type;

    const json_value *shape = json_get(info, "shape");
    if (!shape || shape->type != JSON_ARRAY)
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': missing or non-array shape", name);
    if (shape->len > ST_MAX_DIMS)
        return herr(e, HEARTH_ERR_UNSUPPORTED, "tensor '%s': %zu dimensions (at most %d supported)", name,
                    shape->len, ST_MAX_DIMS);
    t->n_dims = (uint32_t)shape->len;
    uint64_t n = 1;
    for (size_t i = 0; i < shape->len; i++) {
        if (!st_uint(&shape->items[i], &t->shape[i]))
            return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': shape[%zu] is not a non-negative integer", name, i);
        if (!hu_mul(n, t->shape[i], &n))
            return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': shape product overflows", name);
    }
    t->n_elems = n;
    if (!hu_mul(n, st_dtypes[di].size, &t->nbytes))
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': byte size overflows", name);

    const json_value *offs = json_get(info, "data_offsets");
    uint64_t begin, end;
    if (!offs || offs->type != JSON_ARRAY || offs->len != 2 || !st_uint(&offs->items[0], &begin) ||
        !st_uint(&offs->items[1], &end))
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': data_offsets must be two non-negative integers", name);
    if (begin > end)
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': data_offsets [%llu, %llu] begin after end", name,
                    (unsigned long long)begin, (unsigned long long)end);
    if (end > data_size)
        return herr(e, HEARTH_ERR_FORMAT, "tensor '%s': data_offsets end %llu past the end of the data (%llu bytes)",
                    name, (unsigned long long)end, (unsigned long long)data_size);
    if (end - begin != t->nbytes)
        return herr(e, HEARTH_ERR_FORMAT,
                    "tensor '%s': data_offsets span %llu bytes but shape and dtype %s need %llu", name,
                    (unsigned long long)(end - begin), t->dtype, (unsigned long long)t->nbytes);
    t->data = data + begin;
    return HEARTH_OK;
}

static int st_cmp_tensor(const void *a, const void *b) {
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

/* Appends the image's tensors and keeps set->tensors sorted by name, so st_find is a binary search.
 * On failure the set is left as it was. */
hearth_status st_parse(st_set *set, const uint8_t *data, size_t size, hearth_err *e) {
    if (!set || (!data && size)) return herr(e, HEARTH_ERR_INVALID_ARG, "st_parse: NULL argument");
    if (size < 8) return herr(e, HEARTH_ERR_FORMAT, "file of %zu bytes is too small for a safetensors header", size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | data[i];
    if (hlen > (uint64_t)size - 8)
        return herr(e, HEARTH_ERR_FORMAT, "header length %llu exceeds the file size (%zu bytes)",
                    (unsigned long long)hlen, size);
    hearth_err je;
    json_value *root = json_parse((const char *)data + 8, (size_t)hlen, &je);
    if (!root) return herr(e, je.code, "header: %s", je.msg);
    if (root->type != JSON_OBJECT) {
        json_free(root);
        return herr(e, HEARTH_ERR_FORMAT, "header: not a JSON object");
    }
    const uint8_t *tdata = data + 8 + hlen;
    uint64_t tdata_size = (uint64_t)size - 8 - hlen;

    size_t old_n = set->n_tensors, add = root->len;
    st_tensor *ts = realloc(set->tensors, (old_n + add + 1) * sizeof *ts);
    if (!ts) {
        json_free(root);
        return herr(e, HEARTH_ERR_NOMEM, "out of memory for %zu tensors", old_n + add);
    }
    set->tensors = ts;
    hearth_status st = HEARTH_OK;
    for (size_t i = 0; i < root->len && st == HEARTH_OK; i++) {
        const char *name = root->keys[i];
        if (strcmp(name, "__metadata__") == 0) continue;
        st_tensor *t = &ts[set->n_tensors];
        memset(t, 0, sizeof *t);
        st = st_tensor_from_json(t, name, &root->items[i], tdata, tdata_size, e);
        if (st != HEARTH_OK) break;
        t->name = hu_strndup(name, strlen(name));
        if (!t->name) {
            st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
            break;
        }
        set->n_tensors++;
    }
    json_free(root);
    /* the new tensors [old_n, n) must not repeat a name, among themselves or with earlier files */
    st_tensor *fresh = set->tensors + old_n;
    size_t n_fresh = set->n_tensors - old_n;
    if (st == HEARTH_OK) {
        qsort(fresh, n_fresh, sizeof *fresh, st_cmp_tensor);
        st_set old = {.tensors = set->tensors, .n_tensors = old_n};
        for (size_t i = 0; i < n_fresh && st == HEARTH_OK; i++)
            if ((i > 0 && strcmp(fresh[i - 1].name, fresh[i].name) == 0) || st_find(&old, fresh[i].name))
                st = herr(e, HEARTH_ERR_FORMAT, "tensor '%s' appears twice", fresh[i].name);
    }
    if (st != HEARTH_OK) { /* drop what this call added; the set keeps its earlier tensors */
        for (size_t i = 0; i < n_fresh; i++) free(fresh[i].name);
        set->n_tensors = old_n;
        return st;
    }
    if (old_n) qsort(set->tensors, set->n_tensors, sizeof *set->tensors, st_cmp_tensor);
    return st;
}

const st_tensor *st_find(const st_set *set, const char *name) {
    if (!set || !name) return NULL;
    size_t lo = 0, hi = set->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(set->tensors[mid].name, name);
        if (c == 0) return &set->tensors[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

void st_free(st_set *set) {
    if (!set) return;
    for (size_t i = 0; i < set->n_tensors; i++) free(set->tensors[i].name);
    free(set->tensors);
    for (size_t i = 0; i < set->n_files; i++) hu_file_unmap(&set->files[i]);
    free(set->files);
    free(set);
}

/* "dir/name" in a fresh buffer; caller frees. */
static char *st_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static bool st_is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool st_ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Maps `path` as the set's next file and parses it; messages are prefixed with the path. */
static hearth_status st_add_file(st_set *set, const char *path, hearth_err *e) {
    hu_file *f = &set->files[set->n_files];
    hearth_err fe = {0};
    hearth_status st = hu_file_map(path, f, &fe);
    if (st != HEARTH_OK) return herr(e, st, "%s", fe.msg);
    set->n_files++;
    st = st_parse(set, f->data, f->size, &fe);
    if (st != HEARTH_OK) return herr(e, st, "%s: %s", path, fe.msg);
    return HEARTH_OK;
}

/* A shard name from an index must name a file in the index's own folder. */
static bool st_shard_name_ok(const char *s) {
    return s[0] && !strchr(s, '/') && !strchr(s, '\\') && !strstr(s, "..");
}

static hearth_status st_open_index(st_set *set, const char *index_path, hearth_err *e) {
    char *text = NULL;
    size_t len = 0;
    hearth_status st = hu_read_text(index_path, &text, &len, e);
    if (st != HEARTH_OK) return st;
    hearth_err je;
    json_value *root = json_parse(text, len, &je);
    free(text);
    if (!root) return herr(e, je.code, "%s: %s", index_path, je.msg);
    const json_value *map = json_get(root, "weight_map");
    char *dir = NULL;
    const char **shards = NULL; /* distinct shard names, in order of first appearance */
    size_t n_shards = 0;
    if (!map || map->type != JSON_OBJECT || map->len == 0) {
        st = herr(e, HEARTH_ERR_FORMAT, "%s: missing or empty \"weight_map\" object", index_path);
        goto done;
    }
    shards = malloc(map->len * sizeof *shards);
    const char *slash = strrchr(index_path, '/');
    dir = slash ? hu_strndup(index_path, (size_t)(slash - index_path)) : hu_strndup(".", 1);
    if (!shards || !dir) {
        st = herr(e, HEARTH_ERR_NOMEM, "out of memory reading %s", index_path);
        goto done;
    }
    for (size_t i = 0; i < map->len; i++) {
        const json_value *v = &map->items[i];
        if (v->type != JSON_STRING || strlen(v->str) != v->len || !st_shard_name_ok(v->str)) {
            st = herr(e, HEARTH_ERR_FORMAT, "%s: tensor '%s' has a bad shard name (must be a file name in the same folder)",
                      index_path, map->keys[i]);
            goto done;
        }
        size_t j = 0;
        while (j < n_shards && strcmp(shards[j], v->str) != 0) j++;
        if (j == n_shards) shards[n_shards++] = v->str;
    }
    set->files = calloc(n_shards, sizeof *set->files);
    if (!set->files) {
        st = herr(e, HEARTH_ERR_NOMEM, "out of memory reading %s", index_path);
        goto done;
    }
    for (size_t j = 0; j < n_shards; j++) {
        char *p = st_join(dir, shards[j]);
        st = p ? st_add_file(set, p, e) : herr(e, HEARTH_ERR_NOMEM, "out of memory");
        free(p);
        if (st != HEARTH_OK) goto done;
    }
    /* every tensor of the index must be in the shard the index names */
    for (size_t i = 0; i < map->len; i++) {
        const st_tensor *t = st_find(set, map->keys[i]);
        size_t j = 0;
        while (strcmp(shards[j], map->items[i].str) != 0) j++;
        uintptr_t lo = (uintptr_t)set->files[j].data, hi = lo + set->files[j].size;
        if (!t || (uintptr_t)t->data < lo || (uintptr_t)t->data > hi) {
            st = herr(e, HEARTH_ERR_FORMAT, "%s: tensor '%s' is not in shard %s", index_path, map->keys[i],
                      shards[j]);
            goto done;
        }
    }
done:
    free(shards);
    free(dir);
    json_free(root);
    return st;
}

hearth_status st_open(const char *path, st_set **out, hearth_err *e) {
    if (!out) return herr(e, HEARTH_ERR_INVALID_ARG, "st_open: NULL out");
    *out = NULL;
    if (!path) return herr(e, HEARTH_ERR_INVALID_ARG, "st_open: NULL path");
    struct stat sb;
    if (stat(path, &sb) != 0) return herr(e, HEARTH_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    st_set *set = calloc(1, sizeof *set);
    if (!set) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    hearth_status st;
    if (S_ISDIR(sb.st_mode)) {
        char *single = st_join(path, "model.safetensors");
        char *index = st_join(path, "model.safetensors.index.json");
        if (!single || !index) {
            st = herr(e, HEARTH_ERR_NOMEM, "out of memory");
        } else if (st_is_file(single)) {
            set->files = calloc(1, sizeof *set->files);
            st = set->files ? st_add_file(set, single, e) : herr(e, HEARTH_ERR_NOMEM, "out of memory");
        } else if (st_is_file(index)) {
            st = st_open_index(set, index, e);
        } else {
            st = herr(e, HEARTH_ERR_IO, "%s holds neither model.safetensors nor model.safetensors.index.json", path);
        }
        free(single);
        free(index);
    } else if (st_ends_with(path, ".index.json")) {
        st = st_open_index(set, path, e);
    } else {
        set->files = calloc(1, sizeof *set->files);
        st = set->files ? st_add_file(set, path, e) : herr(e, HEARTH_ERR_NOMEM, "out of memory");
    }
    if (st != HEARTH_OK) {
        st_free(set);
        return st;
    }
    *out = set;
    return HEARTH_OK;
}

/* Safetensors data is little-endian, like every host hearth runs on. Reads go through memcpy
 * because tensor data need not be aligned. */
bool st_to_f32(const st_tensor *t, float *dst) {
    const uint8_t *src = t->data;
    uint64_t n = t->n_elems;
    switch (t->type) {
    case HT_F32:
        if (n) memcpy(dst, src, n * sizeof(float));
        return true;
    case HT_F16:
    case HT_BF16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = t->type == HT_F16 ? hu_f16_to_f32(h) : hu_bf16_to_f32(h);
        }
        return true;
    case HT_F64:
        for (uint64_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            dst[i] = (float)d;
        }
        return true;
    default:
        return false;
    }
}
