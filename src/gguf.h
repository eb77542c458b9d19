/* gguf.h - GGUF v3 reader and writer: typed metadata, tensor table, alignment. */
#ifndef HEARTH_GGUF_H
#define HEARTH_GGUF_H

#include "util.h"

/* Metadata value types, numbered as in the GGUF specification. */
typedef enum {
    GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4, GGUF_I32 = 5,
    GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9, GGUF_U64 = 10,
    GGUF_I64 = 11, GGUF_F64 = 12,
} gguf_vtype;

#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4

/* One metadata entry. Everything is owned by the gguf_ctx (copied out of the file). */
typedef struct {
    char *key;
    gguf_vtype type;     /* GGUF_ARRAY for arrays; then arr_type is the element type */
    gguf_vtype arr_type; /* element type of an array (never GGUF_ARRAY: nested arrays are refused) */
    uint64_t n;          /* number of array elements (arrays only) */
    union {
        uint64_t u64;
        int64_t i64;
        double f64;
        bool b;
    } v;                 /* scalar numbers/bools, widened from their stored type */
    char *str;           /* GGUF_STRING scalar: NUL-terminated (may hold NULs: see str_len) */
    uint64_t str_len;
    void *arr;           /* numeric/bool arrays: n elements of arr_type, little-endian, packed */
    char **strs;         /* string arrays: n NUL-terminated strings */
    uint64_t *str_lens;  /* string arrays: their byte lengths */
} gguf_kv;

typedef struct {
    char *name;
    uint32_t type;                /* ht_type id */
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS];   /* ne[0] varies fastest (reverse of torch order); unused dims = 1 */
    uint64_t offset;              /* from the start of the data section */
    uint64_t nbytes;
    const uint8_t *data;          /* reader: view into the caller's file image (no copy).
                                     writer: the caller's buffer, borrowed until gguf_write_file */
} gguf_tensor;

typedef struct {
    uint32_t version;
    uint64_t alignment;
    gguf_kv *kv;
    uint64_t n_kv;
    gguf_tensor *tensors;
    uint64_t n_tensors;
    uint64_t data_offset; /* reader: byte offset of the data section in the file */
} gguf_ctx;

/* Parses a GGUF image of `size` bytes (v2 and v3). Every count, length, offset and shape is
 * checked against the image before use; tensor data must lie inside it. `data` is borrowed and
 * must outlive the context (tensors point into it). Caller frees with gguf_free. */
hearth_status gguf_read(const uint8_t *data, size_t size, gguf_ctx **out, hearth_err *e);
/* The same from the first `size` bytes of a file of `file_size` bytes (at least the header, up to
 * data_offset): tensors are checked against file_size and their `data` is NULL (the browser's GPU
 * path reads the header alone; the weights go from storage to the GPU). */
hearth_status gguf_read_header(const uint8_t *data, size_t size, uint64_t file_size, gguf_ctx **out, hearth_err *e);
void gguf_free(gguf_ctx *ctx);

/* Lookups are linear (a few hundred keys, ~1000 tensors). Borrowed; NULL when absent. */
const gguf_kv *gguf_find(const gguf_ctx *ctx, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_ctx *ctx, const char *name);

/* Typed getters. Integers convert between integer types when the value fits; floats accept
 * F32/F64. They return false when the key is absent or the type does not fit. */
bool gguf_get_u32(const gguf_ctx *ctx, const char *key, uint32_t *out);
bool gguf_get_i64(const gguf_ctx *ctx, const char *key, int64_t *out);
bool gguf_get_f32(const gguf_ctx *ctx, const char *key, float *out);
bool gguf_get_bool(const gguf_ctx *ctx, const char *key, bool *out);
const char *gguf_get_str(const gguf_ctx *ctx, const char *key); /* borrowed or NULL */
/* Element i of an integer array as int64 (false if absent, not an integer array, or i >= n). */
bool gguf_arr_i64(const gguf_kv *kv, uint64_t i, int64_t *out);
/* Element i of a float (F32/F64) array. */
bool gguf_arr_f64(const gguf_kv *kv, uint64_t i, double *out);

/* Lower-case name of a value type ("u32", "string", ...); "unknown" for other values. */
const char *gguf_vtype_name(gguf_vtype t);

/* ---- writing ---- */

/* An empty context for writing (version 3, alignment 32). Free with gguf_free. */
gguf_ctx *gguf_new(void);
/* Setters add or replace a key. They copy key and values. Return HEARTH_ERR_NOMEM on failure. */
hearth_status gguf_set_u32(gguf_ctx *ctx, const char *key, uint32_t v);
hearth_status gguf_set_i32(gguf_ctx *ctx, const char *key, int32_t v);
hearth_status gguf_set_u64(gguf_ctx *ctx, const char *key, uint64_t v);
hearth_status gguf_set_f32(gguf_ctx *ctx, const char *key, float v);
hearth_status gguf_set_bool(gguf_ctx *ctx, const char *key, bool v);
hearth_status gguf_set_str(gguf_ctx *ctx, const char *key, const char *v);
/* Array of n elements of `arr_type` (a numeric or bool type), `data` packed little-endian. */
hearth_status gguf_set_arr(gguf_ctx *ctx, const char *key, gguf_vtype arr_type, const void *data, uint64_t n);
hearth_status gguf_set_arr_str(gguf_ctx *ctx, const char *key, const char *const *strs, uint64_t n);
/* Scalar of any fixed-size type (not string or array): `value` points at one element encoded as
 * in an array (little-endian; bool = one byte, 0 or 1). Covers the types without a setter above. */
hearth_status gguf_set_scalar(gguf_ctx *ctx, const char *key, gguf_vtype type, const void *value);
/* Adds or replaces kv->key with a deep copy of *kv (which may belong to another context). For
 * string arrays, str_lens may be NULL (then strlen is used). HEARTH_ERR_INVALID_ARG when the entry
 * cannot be written losslessly (integer out of its type's range, bool not 0/1, general.alignment
 * not a u32 power of two, ...). Setting general.alignment also sets ctx->alignment. */
hearth_status gguf_set_kv(gguf_ctx *ctx, const gguf_kv *kv);
/* Copies every key of `src` into ctx (for rewriting a file). */
hearth_status gguf_copy_kv(gguf_ctx *ctx, const gguf_ctx *src);
/* Adds a tensor; `data` (nbytes = ht_row_bytes of the shape) is borrowed until gguf_write_file. */
hearth_status gguf_add_tensor(gguf_ctx *ctx, const char *name, uint32_t type, uint32_t n_dims,
                              const uint64_t *ne, const void *data, hearth_err *e);
/* Writes the whole file (header, metadata, tensor infos, aligned data) as GGUF v3. Tensor data
 * is laid out afresh in table order, each tensor padded to the alignment. Writes to path + ".tmp"
 * and renames on success, so a failed write never leaves a half file under `path`. */
hearth_status gguf_write_file(const gguf_ctx *ctx, const char *path, hearth_err *e);

/* ---- streaming write: tensor data produced while the file is written ---- */

/* Adds a tensor without data: gguf_write_file_cb asks its producer for the bytes when it reaches
 * the tensor (gguf_write_file refuses a context holding such tensors). */
hearth_status gguf_add_tensor_deferred(gguf_ctx *ctx, const char *name, uint32_t type, uint32_t n_dims,
                                       const uint64_t *ne, hearth_err *e);
/* Fills dst (t->nbytes bytes) with the data of tensor number `index` of the context. */
typedef hearth_status (*gguf_tensor_producer)(void *user, uint64_t index, const gguf_tensor *t, void *dst, hearth_err *e);
/* gguf_write_file, with the data of deferred tensors produced one tensor at a time into a single
 * buffer of the largest one's size (all the tensor memory the write holds). Tensors with data
 * are written from it as usual. A producer's error aborts the write (no file is left). */
hearth_status gguf_write_file_cb(const gguf_ctx *ctx, const char *path, gguf_tensor_producer produce, void *user,
                                 hearth_err *e);

#endif
